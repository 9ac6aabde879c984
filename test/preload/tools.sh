#!/usr/bin/env bash
# tools.sh: everyday Debian tools under scmalloc, each doing real work on
# generated data, with output that must be byte for byte what the same
# command prints without the preload: sort with four threads and a small
# buffer (merges of temporary files), sort -u | uniq -c, mawk counting
# words in an associative array, perl building and sorting a hash of
# 200k keys, bash with associative arrays, xz with four threads
# (compress and decompress: blocks of MiBs, freed by other threads), zstd
# and bzip2 round trips, and tar creating and listing an archive.
# Compression levels are moderate and xz's blocks 1 MiB (so that its four
# threads each have some): at xz -6, zstd -19 and bzip2 -9 the test spent
# most of its 57 s in the compressors' own arithmetic, and xz, whose -6
# blocks are 24 MiB, used one thread for the 10 MB of data.
# A tool that is not installed is skipped alone, named on the summary line;
# if none is there, the test says SKIP.
# SCTEST: variants=release,debug,ubsan,secure timeout=240
# shellcheck source=test/preload/common.sh
. "$(dirname "$0")/common.sh"

export LC_ALL=C TZ=UTC
DATA=$SC_TMP/data.txt
# 200k lines "word<N> <number> <text>" from a fixed LCG: the same each run.
awk 'BEGIN {
    r = 2024
    for (i = 0; i < 200000; i++) {
        r = (r * 1103515245 + 12345) % 2147483648
        printf("w%d %d %s\n", r % 5000, r % 100000, substr("lorem ipsum dolor sit amet consectetur adipiscing elit", 1 + r % 40))
    }
}' >"$DATA" || fail "generating the data failed"

ran=() skipped=()
# Runs "$@" (a shell snippet reading $DATA and writing stdout) without and
# with the preload and compares the outputs. Every command of the snippet
# runs under the preload in the second run (bash -c inherits LD_PRELOAD).
check() { # name, needed program, snippet
    local name=$1 prog=$2 snippet=$3
    if ! command -v "$prog" >/dev/null; then
        skipped+=("$name")
        return
    fi
    DATA=$DATA TMPDIR=$SC_TMP bash -c "$snippet" >"$SC_TMP/$name.expected" 2>"$SC_TMP/$name.expected.err" \
        || fail "$name without preload failed: $(tail -3 "$SC_TMP/$name.expected.err")"
    [ -s "$SC_TMP/$name.expected" ] || fail "$name printed nothing without preload"
    DATA=$DATA TMPDIR=$SC_TMP sc_run bash -c "$snippet" >"$SC_TMP/$name.actual" 2>"$SC_TMP/$name.actual.err" \
        || fail "$name under scmalloc failed (exit $?): $(tail -3 "$SC_TMP/$name.actual.err")"
    [ -s "$SC_TMP/$name.actual.err" ] && fail "$name under scmalloc wrote to stderr: $(head -3 "$SC_TMP/$name.actual.err")"
    same_output "$name" "$SC_TMP/$name.expected" "$SC_TMP/$name.actual"
    ran+=("$name")
}

check sort sort 'sort --parallel=4 -S 2M -k3,3 -k2,2n -k1,1 "$DATA" | md5sum'
check uniq sort 'cut -d" " -f1 "$DATA" | sort -u | wc -l; cut -d" " -f3 "$DATA" | sort | uniq -c | sort -k1,1nr -k2 | head -20'
check mawk mawk 'mawk "{ n[\$1]++; s[\$1] += \$2 } END { for (k in n) print k, n[k], s[k] }" "$DATA" | sort | md5sum'
check perl perl 'perl -ne "chomp; my @f = split / /; \$h{\$f[0] . q(/) . \$f[1]} .= \$f[2]; END { my \$x = 0; for my \$k (sort keys %h) { \$x = (\$x * 31 + length(\$h{\$k})) % 1000000007 } print scalar(keys %h), q( ), \$x, qq(\n) }" "$DATA"'
check bash bash 'declare -A c; while read -r w n t; do c[$w]=$(( ${c[$w]:-0} + 1 )); done < <(head -30000 "$DATA"); for k in "${!c[@]}"; do echo "$k ${c[$k]}"; done | sort | md5sum'
check xz xz 'xz -T4 -3 --block-size=1MiB -c "$DATA" > "$TMPDIR/d.xz" && xz -T4 -d -c "$TMPDIR/d.xz" | md5sum && xz -l "$TMPDIR/d.xz" | tail -1 | tr -s " " | cut -d" " -f2-4'
check zstd zstd 'zstd -q -T4 -9 -c "$DATA" | zstd -q -d -c | md5sum'
check bzip2 bzip2 'bzip2 -3 -c "$DATA" | bzip2 -d -c | md5sum'
check tar tar 'mkdir -p "$TMPDIR/tree" && split -l 2000 "$DATA" "$TMPDIR/tree/part." && tar -C "$TMPDIR" --sort=name --mtime=@0 --owner=0 --group=0 -cf - tree | md5sum && tar -C "$TMPDIR" -cf - tree | tar -tf - | sort | tail -3'

[ ${#ran[@]} -gt 0 ] || skip "none of the tools is installed (${skipped[*]})"
# (not sort or mawk: they close stderr before the exit handlers run)
check_stats_on_stderr "perl" perl -e "my %h; \$h{\$_} = 1 for 1 .. 1000; print scalar(keys %h)"
echo "tools: identical output under scmalloc from ${ran[*]}${skipped:+; not installed: ${skipped[*]}}"
