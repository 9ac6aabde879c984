#!/usr/bin/env bash
# valgrind_memcheck.sh: with the VALGRIND=1 build (build/valgrind), memcheck
# sees scmalloc's heap: a planted use-after-free, a one-byte overflow and a
# leak are each reported. The same program on the plain build shows why the
# annotations matter: memcheck then sees no heap block and reports nothing.
# valgrind replaces every malloc it finds unless told to leave user code
# alone (--soname-synonyms=somalloc=nouserintercepts); scmalloc's own
# statistics prove that it, not valgrind, served the blocks.
# SCTEST: variants=release timeout=120
# shellcheck source=test/preload/common.sh
. "$(dirname "$0")/common.sh"

command -v valgrind >/dev/null || skip "valgrind is not installed"
VG_LIB_DIR=$(cd "$(dirname "$SC_LIB")" && pwd)/valgrind
[ -f "$VG_LIB_DIR/libscmalloc.so" ] || skip "no VALGRIND=1 build in $VG_LIB_DIR (make VALGRIND=1 BUILDDIR=build/valgrind)"

cat >"$SC_TMP/planted.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void)
{
    char *p = malloc(64);
    strcpy(p, "hello");
    free(p);
    volatile char c = p[3];          /* use after free */
    char *q = malloc(100);
    q[100] = 1;                      /* one byte past the block */
    char *leak = malloc(777);        /* never freed */
    leak[0] = 1;
    char *big = malloc(3 << 20);     /* never freed: a huge block */
    big[0] = 1;
    free(q);
    printf("done %d\n", c);
    return 0;
}
C
cc -O0 -g -fno-builtin "$SC_TMP/planted.c" -o "$SC_TMP/planted" || fail "cannot build the planted program"

VG="valgrind --soname-synonyms=somalloc=nouserintercepts"
SCMALLOC_CONF=stats_print:true LD_PRELOAD="$VG_LIB_DIR/libscmalloc.so" $VG --leak-check=full "$SC_TMP/planted" \
    >"$SC_TMP/vg.out" 2>"$SC_TMP/vg.err"
grep -Eq "^small [1-9]" "$SC_TMP/vg.err" || fail "scmalloc did not serve the program under valgrind: $(grep -m2 '^small' "$SC_TMP/vg.err")"
grep -q "Invalid read of size 1" "$SC_TMP/vg.err" || fail "memcheck did not report the use after free: $(grep -m3 '==' "$SC_TMP/vg.err")"
grep -q "Invalid write of size 1" "$SC_TMP/vg.err" || fail "memcheck did not report the overflow"
grep -q "777 bytes in 1 blocks are definitely lost" "$SC_TMP/vg.err" || fail "memcheck did not report the leak"
# Not "still reachable" through the allocator's own descriptors (valgrind.h).
grep -q "3,145,728 bytes in 1 blocks are definitely lost" "$SC_TMP/vg.err" || fail "memcheck did not report the huge leak"
grep -q "free'd" "$SC_TMP/vg.err" || fail "memcheck did not say where the block was freed"

SCMALLOC_CONF=stats_print:true LD_PRELOAD="$SC_LIB" $VG "$SC_TMP/planted" >"$SC_TMP/plain.out" 2>"$SC_TMP/plain.err"
grep -Eq "^small [1-9]" "$SC_TMP/plain.err" || fail "scmalloc (plain build) did not serve the program under valgrind"
if grep -q "Invalid read" "$SC_TMP/plain.err"; then
    fail "memcheck saw the plain build's heap too: the test proves nothing about the annotations"
fi
echo "memcheck on the VALGRIND=1 build: use-after-free, overflow and leak reported; plain build: none"
