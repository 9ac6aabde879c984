#!/bin/sh
# Builds the libFuzzer harness into build/fuzz/ and runs it for FUZZ_SECONDS
# (default 60) over a fresh copy of test/fuzz/corpus. Ends with the line
#   fuzz: N runs, 0 crashes
# and status 0, or names the crash files and fails.
#
#   FUZZ_SECONDS=60   how long libFuzzer runs
#   FUZZ_ASAN=1       the AddressSanitizer variant (see README.md)
#   FUZZ_ARGS="..."   more libFuzzer flags (for example -seed=1 -runs=100000)
#   FUZZ_CC=clang     a clang with libFuzzer (-fsanitize=fuzzer); $CC is
#                     not used (it is often cc or gcc)
set -eu
cd "$(dirname "$0")/../.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_ASAN=${FUZZ_ASAN:-0}
FUZZ_ARGS=${FUZZ_ARGS:-}
CC=${FUZZ_CC:-clang}

BASE=build/fuzz
if [ "$FUZZ_ASAN" = 1 ]; then OUT=$BASE/asan; else OUT=$BASE; fi
BIN=$OUT/fuzz_ops
mkdir -p "$OUT"

COMMON="-g -O1 -std=gnu11 -DSC_DEBUG=2 -Isrc -Iinclude -pthread -fno-sanitize-recover=all
-fsanitize-coverage-ignorelist=test/fuzz/coverage_ignore.txt"
LIBFLAGS="-fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc -fno-builtin-free"

# glibc names that src/ defines as aliases of (or beside) the sc_ functions.
GLIBC_NAMES="malloc free calloc realloc reallocarray posix_memalign aligned_alloc memalign
valloc pvalloc malloc_usable_size free_sized free_aligned_sized cfree malloc_trim
malloc_stats mallopt mallinfo mallinfo2 __libc_malloc __libc_free __libc_calloc
__libc_realloc __libc_memalign __libc_valloc __libc_pvalloc __posix_memalign"

# The address of the global symbol $2 in binary $1.
symaddr() { nm -g --defined-only "$1" | awk -v s="$2" '$3 == s { print $1; exit }'; }

stale() {
    [ ! -x "$BIN" ] && return 0
    [ -n "$(find src include test/fuzz/fuzz_ops.c test/fuzz/coverage_ignore.txt test/fuzz/run.sh -newer "$BIN" -type f 2>/dev/null | head -n 1)" ]
}

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "fuzz: $CC not found; needs clang with libFuzzer (Debian: apt-get install clang libclang-rt-14-dev)" >&2
    exit 1
fi
build_failed() {
    echo "fuzz: building $BIN failed (needs clang with libFuzzer: Debian clang libclang-rt-14-dev)" >&2
    exit 1
}

if stale; then
    echo "fuzz: building $BIN"
    if [ "$FUZZ_ASAN" = 1 ]; then
        SAN="-fsanitize=fuzzer,address,undefined"
        rm -rf "$OUT/obj" && mkdir -p "$OUT/obj"
        LOCALIZE=""
        for s in $GLIBC_NAMES; do LOCALIZE="$LOCALIZE --localize-symbol=$s"; done
        for f in src/*.c; do
            o=$OUT/obj/$(basename "$f" .c).o
            # shellcheck disable=SC2086
            $CC $COMMON $LIBFLAGS $SAN -c "$f" -o "$o" || build_failed
            # shellcheck disable=SC2086
            objcopy $LOCALIZE "$o" || build_failed
        done
        # None of the glibc names may stay global in scmalloc's objects.
        left=$(nm -g --defined-only "$OUT"/obj/*.o | awk -v names="$GLIBC_NAMES" '
            BEGIN { n = split(names, a); for (i = 1; i <= n; i++) want[a[i]] = 1 }
            NF == 3 && ($3 in want) { print $3 }')
        if [ -n "$left" ]; then
            echo "fuzz: still global after objcopy: $left; not running" >&2; exit 1
        fi
        # shellcheck disable=SC2086
        $CC $COMMON $SAN test/fuzz/fuzz_ops.c "$OUT"/obj/*.o -o "$BIN.tmp" || build_failed
        # ASan must own malloc; scmalloc only the sc_ names.
        m=$(symaddr "$BIN.tmp" malloc); i=$(symaddr "$BIN.tmp" __interceptor_malloc)
        if [ -z "$m" ] || [ "$m" != "$i" ]; then
            echo "fuzz: malloc ($m) is not ASan's interceptor ($i); not running" >&2; exit 1
        fi
    else
        SAN="-fsanitize=fuzzer,undefined"
        # shellcheck disable=SC2086
        $CC $COMMON $LIBFLAGS $SAN test/fuzz/fuzz_ops.c src/*.c -o "$BIN.tmp" || build_failed
        # scmalloc must be the malloc of the whole process.
        m=$(symaddr "$BIN.tmp" malloc); s=$(symaddr "$BIN.tmp" sc_malloc)
        if [ -z "$m" ] || [ "$m" != "$s" ]; then
            echo "fuzz: malloc ($m) is not scmalloc's sc_malloc ($s); not running" >&2; exit 1
        fi
    fi
    mv "$BIN.tmp" "$BIN"
fi

rm -rf "$OUT/corpus" "$OUT/artifacts"
cp -R test/fuzz/corpus "$OUT/corpus"
mkdir -p "$OUT/artifacts"
LOG=$OUT/fuzz.log

echo "fuzz: running $BIN for ${FUZZ_SECONDS}s (log: $LOG)"
set +e
# shellcheck disable=SC2086
"$BIN" -max_total_time="$FUZZ_SECONDS" -timeout=30 -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$OUT/artifacts/" $FUZZ_ARGS "$OUT/corpus" >"$LOG" 2>&1
status=$?
set -e

runs=$(awk '/^stat::number_of_executed_units/ { n = $NF } END { print n + 0 }' "$LOG")
grep -E '^#[0-9]+ +DONE|^Done ' "$LOG" | tail -n 2 || true
crashes=$(find "$OUT/artifacts" -type f | wc -l | tr -d ' ')
if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    echo "fuzz: libFuzzer exited with status $status; end of $LOG:"
    tail -n 50 "$LOG"
    find "$OUT/artifacts" -type f | sed 's/^/fuzz: reproducer: /'
    [ "$crashes" -ne 0 ] || crashes=1
    echo "fuzz: $runs runs, $crashes crashes (replay: FUZZ_OPS_TRACE=1 $BIN <reproducer>)"
    exit 1
fi
echo "fuzz: $runs runs, 0 crashes"
