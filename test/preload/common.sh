# shellcheck shell=bash
# common.sh: sourced by the test/preload scripts.
#
# test/run.sh sets: SC_LIB (the libscmalloc.so under test), SC_RUN (the
# build's scmalloc-run wrapper; empty when a debug or UBSan build has none,
# and then LD_PRELOAD names SC_LIB directly), SC_TMP
# (a scratch directory of this test's own) and SC_VARIANT. Exit codes: 0
# passed, 1 failed (with a line saying why), 77 skipped (with the reason).

set -u

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }

if [ -z "${SC_LIB:-}" ] || [ ! -f "$SC_LIB" ]; then
    fail "SC_LIB does not name the library (got '${SC_LIB:-}')"
fi
SC_TMP=${SC_TMP:-$(mktemp -d)}
mkdir -p "$SC_TMP"

# Runs a command with scmalloc preloaded, through the build's scmalloc-run.
sc_run() {
    if [ -n "${SC_RUN:-}" ]; then
        "$SC_RUN" "$@"
    else
        LD_PRELOAD="$SC_LIB" "$@"
    fi
}

# Fails unless two files are identical, showing the first differences.
same_output() { # what, expected file, actual file
    if ! cmp -s "$2" "$3"; then
        echo "--- $1: output without preload vs. with scmalloc:" >&2
        diff "$2" "$3" | head -20 >&2
        fail "$1: output differs under scmalloc"
    fi
}

# Fails unless the command ran with scmalloc in the process: with
# SCMALLOC_CONF=stats_print:true its statistics must reach stderr at exit.
# Also shows that the statistics go to stderr and leave stdout alone.
check_stats_on_stderr() { # what, command...
    local what=$1
    shift
    SCMALLOC_CONF=stats_print:true sc_run "$@" >"$SC_TMP/stats.out" 2>"$SC_TMP/stats.err" \
        || fail "$what: exit status $? with SCMALLOC_CONF=stats_print:true"
    grep -q allocated "$SC_TMP/stats.err" \
        || fail "$what: no statistics on stderr with SCMALLOC_CONF=stats_print:true (scmalloc not preloaded?)"
    if grep -q allocated "$SC_TMP/stats.out"; then
        fail "$what: statistics went to stdout"
    fi
}
