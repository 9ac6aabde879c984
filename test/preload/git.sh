#!/usr/bin/env bash
# git.sh: git under scmalloc (every git subprocess inherits the preload)
# initialises a repository, adds generated files, commits twice, repacks
# (pack-objects runs threads), and shows `git log --stat`, `git fsck` and
# `git count-objects`. With fixed names and dates the hashes are the same,
# so the output must be identical to the run without preload.
# SCTEST: variants=release,debug,ubsan timeout=180
# shellcheck source=test/preload/common.sh
. "$(dirname "$0")/common.sh"

GIT=/usr/bin/git
[ -x "$GIT" ] || skip "no $GIT"

export HOME=$SC_TMP/home GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="Test Author" GIT_AUTHOR_EMAIL=author@example.org
export GIT_COMMITTER_NAME="Test Committer" GIT_COMMITTER_EMAIL=committer@example.org
export GIT_AUTHOR_DATE="2024-01-02T03:04:05+00:00" GIT_COMMITTER_DATE="2024-01-02T03:04:05+00:00"
export LC_ALL=C TZ=UTC
mkdir -p "$HOME"

# A deterministic tree: 300 files of generated text in 10 directories.
make_files() { # dir, generation
    mkdir -p "$1"/d0{0,1,2,3,4,5,6,7,8,9}
    awk -v gen="$2" -v dir="$1" 'BEGIN {
        r = 12345 + gen
        for (f = 0; f < 300; f++) {
            path = sprintf("%s/d%02d/file%03d.txt", dir, f % 10, f)
            lines = 20 + f % 50
            for (l = 0; l < lines; l++) {
                r = (r * 1103515245 + 12345) % 2147483648
                printf("line %d of %d: %d %s\n", l, f, r, substr("the quick brown fox jumps over the lazy dog", 1 + r % 30)) > path
            }
            close(path)
        }
    }'
}

run_git() { # dir, runner...
    local dir=$1
    shift
    rm -rf "$dir"
    mkdir -p "$dir"
    (
        cd "$dir" || exit 1
        "$@" "$GIT" init -q -b main . && make_files . 0 &&
        "$@" "$GIT" add . && "$@" "$GIT" commit -q -m "first: generated files" &&
        make_files . 1 && "$@" "$GIT" rm -q -f d03/file003.txt &&
        "$@" "$GIT" add . && "$@" "$GIT" commit -q -m "second: regenerated" &&
        "$@" "$GIT" gc -q --aggressive &&
        "$@" "$GIT" log --stat &&
        "$@" "$GIT" fsck --full --strict 2>&1 &&
        "$@" "$GIT" count-objects -v | grep -v -e '^size' &&
        "$@" "$GIT" rev-parse HEAD HEAD~1 'HEAD^{tree}'
    )
}

run_git "$SC_TMP/plain" >"$SC_TMP/expected" 2>"$SC_TMP/expected.err" \
    || fail "git without preload failed: $(tail -3 "$SC_TMP/expected.err")"
run_git "$SC_TMP/preload" sc_run >"$SC_TMP/actual" 2>"$SC_TMP/actual.err" \
    || fail "git under scmalloc failed: $(tail -3 "$SC_TMP/actual.err")"
[ -s "$SC_TMP/actual.err" ] && fail "git under scmalloc wrote to stderr: $(head -3 "$SC_TMP/actual.err")"
grep -q "300 files changed" "$SC_TMP/expected" || fail "git log --stat lacks the first commit's stat: $(head -5 "$SC_TMP/expected")"
same_output "git" "$SC_TMP/expected" "$SC_TMP/actual"
check_stats_on_stderr "git" "$GIT" -C "$SC_TMP/preload" log --oneline
echo "git: $(wc -l <"$SC_TMP/actual") identical lines; HEAD $(tail -3 "$SC_TMP/actual" | head -1)"
