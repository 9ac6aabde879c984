#!/usr/bin/env bash
# prof.sh: heap profiling, read back by google-pprof (Debian's
# google-perftools). test/preload/prof_sites.c allocates from functions with
# known live and total bytes; with SCMALLOC_CONF=prof:true it dumps a
# profile through sc_ctl("prof.dump") and another at exit. Checks:
#   - both files exist: the named one, and <prof_prefix>.<pid>.<seq>.heap;
#   - google-pprof --text attributes the live bytes to each site within
#     sampling error (one sample per 16 KiB on average: about 4 standard
#     deviations of margin), the freed site has no live bytes, and
#     --alloc_space gives its total;
#   - no scmalloc frame heads a backtrace (the allocator's own frames are
#     cut), and --collapsed gives main;site stacks for flame graphs;
#   - python3 running under the preload with prof on writes a final profile
#     that pprof reads.
# SCTEST: variants=release,debug,secure timeout=240
# shellcheck source=test/preload/common.sh
. "$(dirname "$0")/common.sh"

PPROF=$(command -v google-pprof || command -v pprof || true)
[ -n "$PPROF" ] || skip "no google-pprof (apt-get install google-perftools)"
command -v cc >/dev/null || skip "no cc"

LIBDIR=$(dirname "$SC_LIB")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$SC_TMP/prof_sites
cc -O1 -g -pthread -fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc -fno-builtin-free \
    -I"$ROOT/include" "$(dirname "$0")/prof_sites.c" -o "$BIN" -L"$LIBDIR" -lscmalloc \
    -Wl,-rpath,"$LIBDIR" 2>"$SC_TMP/build.err" || fail "cc failed: $(head -5 "$SC_TMP/build.err")"

cd "$SC_TMP" || fail "no $SC_TMP"
SCMALLOC_CONF=prof:true,prof_sample:16384,prof_prefix:$SC_TMP/final "$BIN" "$SC_TMP/named.heap" \
    2>"$SC_TMP/run.err" || fail "prof_sites exited $?: $(tail -3 "$SC_TMP/run.err")"
[ -s "$SC_TMP/named.heap" ] || fail "prof.dump wrote no named.heap"
final=$(ls "$SC_TMP"/final.*.heap 2>/dev/null)
[ "$(echo "$final" | wc -w)" = 1 ] || fail "expected one final.<pid>.<seq>.heap, found: '$final'"
case $final in */final.[0-9]*.[0-9]*.heap) ;; *) fail "final profile named $final" ;; esac
head -1 "$SC_TMP/named.heap" | grep -q '^heap profile: .* @ heap_v2/16384$' \
    || fail "bad header: $(head -1 "$SC_TMP/named.heap")"
grep -q '^MAPPED_LIBRARIES:' "$SC_TMP/named.heap" || fail "no MAPPED_LIBRARIES section"

# pprof --text lines: flat flat% sum% cum cum% name; MB there means MiB.
"$PPROF" --text "$BIN" "$SC_TMP/named.heap" >"$SC_TMP/inuse.txt" 2>"$SC_TMP/pprof.err" \
    || fail "google-pprof --text failed: $(tail -3 "$SC_TMP/pprof.err")"
"$PPROF" --text --alloc_space "$BIN" "$SC_TMP/named.heap" >"$SC_TMP/alloc.txt" 2>>"$SC_TMP/pprof.err" \
    || fail "google-pprof --alloc_space failed"
"$PPROF" --collapsed "$BIN" "$SC_TMP/named.heap" >"$SC_TMP/collapsed.txt" 2>>"$SC_TMP/pprof.err" \
    || fail "google-pprof --collapsed failed"

# Fails unless the flat MiB of function $2 in $1 is within $4 (a fraction)
# of $3 MiB.
check_site() { # file, function, expected MiB, tolerance
    local got
    got=$(awk -v f="$2" '$6 == f { print $1 }' "$1")
    [ -n "$got" ] || { cat "$1" >&2; fail "$2 missing from $(basename "$1")"; }
    awk -v g="$got" -v e="$3" -v t="$4" 'BEGIN { exit !(g >= e * (1 - t) && g <= e * (1 + t)) }' \
        || { cat "$1" >&2; fail "$2: $got MiB in $(basename "$1"), expected $3 +- $(awk -v t="$4" 'BEGIN{print t*100}')%"; }
    echo "$2: $got MiB (expected $3)"
}
check_site "$SC_TMP/inuse.txt" site_big 24 0.12
check_site "$SC_TMP/inuse.txt" site_small 7.63 0.18
check_site "$SC_TMP/inuse.txt" site_aligned 8 0.18
check_site "$SC_TMP/inuse.txt" site_grow 8 0.30
check_site "$SC_TMP/inuse.txt" site_thread 4 0.25
check_site "$SC_TMP/alloc.txt" site_temp 48.83 0.10
if awk '$6 == "site_temp" && $1 > 0.5 { found = 1 } END { exit !found }' "$SC_TMP/inuse.txt"; then
    fail "site_temp freed everything but has live bytes: $(grep site_temp "$SC_TMP/inuse.txt")"
fi
if grep -Eq '(sc_|alloc_slow|prof_|_Unwind)' "$SC_TMP/inuse.txt"; then
    fail "scmalloc's own frames in the profile: $(grep -E '(sc_|alloc_slow|prof_|_Unwind)' "$SC_TMP/inuse.txt" | head -3)"
fi
grep -Eq ';main(<[0-9a-f]+>)?;site_big(<[0-9a-f]+>)? [0-9]+$' "$SC_TMP/collapsed.txt" \
    || fail "--collapsed has no main;site_big stack: $(head -3 "$SC_TMP/collapsed.txt")"
if command -v dot >/dev/null; then
    "$PPROF" --svg "$BIN" "$SC_TMP/named.heap" >"$SC_TMP/heap.svg" 2>>"$SC_TMP/pprof.err" \
        || fail "google-pprof --svg failed"
    grep -q site_big "$SC_TMP/heap.svg" || fail "--svg output does not name site_big"
fi
"$PPROF" --text "$BIN" "$final" >"$SC_TMP/final.txt" 2>>"$SC_TMP/pprof.err" \
    || fail "google-pprof cannot read the final profile"
grep -q site_big "$SC_TMP/final.txt" || fail "final profile has no site_big"

# A real program: python3 (no frame pointers; libgcc's unwinder reads .eh_frame).
PY=/usr/bin/python3
if [ -x "$PY" ]; then
    rm -f "$SC_TMP"/py.*.heap
    # PYTHONMALLOC=malloc: every object through malloc, not pymalloc's arenas.
    PYTHONMALLOC=malloc SCMALLOC_CONF=prof:true,prof_prefix:$SC_TMP/py sc_run "$PY" -c \
        'd = {i: str(i) * 10 for i in range(300000)}; print(len(d))' >"$SC_TMP/py.out" 2>"$SC_TMP/py.err" \
        || fail "python3 with prof:true exited $?: $(tail -3 "$SC_TMP/py.err")"
    pyheap=$(ls "$SC_TMP"/py.*.heap 2>/dev/null | head -1)
    [ -n "$pyheap" ] || fail "python3 with prof:true wrote no profile"
    # At exit python has freed the dict: its bytes show in --alloc_space.
    "$PPROF" --text --alloc_space "$PY" "$pyheap" >"$SC_TMP/py.txt" 2>>"$SC_TMP/pprof.err" \
        || fail "google-pprof cannot read python3's profile"
    total=$(sed -n 's/^Total: \([0-9.]*\) MB$/\1/p' "$SC_TMP/py.txt")
    awk -v t="${total:-0}" 'BEGIN { exit !(t >= 40) }' \
        || fail "python3 profile: ${total:-?} MB allocated, expected the dict's 40+ MB: $(head -3 "$SC_TMP/py.txt")"
    # The backtraces go through python's own frames and are symbolized: its
    # interpreter entry holds most of the bytes (cumulative column). The
    # leaf names are not checked: Debian's python3 is stripped, so a static
    # allocation function takes the name of the exported one before it,
    # and which ones the random samples hit changes from run to run.
    awk '$6 == "PyEval_EvalCode" && $5 + 0 >= 50 { found = 1 } END { exit !found }' "$SC_TMP/py.txt" \
        || fail "python3 profile: PyEval_EvalCode does not hold half of the bytes: $(head -8 "$SC_TMP/py.txt" | tr '\n' '|')"
    echo "python3: profile total $total MB allocated; top: $(sed -n 2,4p "$SC_TMP/py.txt" | awk '{print $6}' | tr '\n' ' ')"
fi
