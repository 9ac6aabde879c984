#!/usr/bin/env bash
# early_ctor.sh: a program whose library allocates in its constructor,
# before scmalloc's constructor has run (test/preload/early_ctor.c): every
# early block keeps its bytes and its usable size, under the preload as
# without it.
# SCTEST: variants=release,debug,ubsan,secure timeout=60
# shellcheck source=test/preload/common.sh
. "$(dirname "$0")/common.sh"

command -v cc >/dev/null || skip "no cc"
SRC=$(dirname "$0")/early_ctor.c
cc -O1 -g -fPIC -shared -fno-builtin -DEARLY_LIB "$SRC" -o "$SC_TMP/libearly.so" 2>"$SC_TMP/build.err" \
    || fail "cc (library) failed: $(head -5 "$SC_TMP/build.err")"
cc -O1 -g -fno-builtin "$SRC" -o "$SC_TMP/early" -L"$SC_TMP" -learly -Wl,-rpath,"$SC_TMP" 2>"$SC_TMP/build.err" \
    || fail "cc (program) failed: $(head -5 "$SC_TMP/build.err")"

"$SC_TMP/early" >"$SC_TMP/plain.out" 2>&1 || fail "without preload: $(head -3 "$SC_TMP/plain.out")"
sc_run "$SC_TMP/early" >"$SC_TMP/sc.out" 2>&1 || fail "under scmalloc: $(head -3 "$SC_TMP/sc.out")"
check_stats_on_stderr "early" "$SC_TMP/early"
cat "$SC_TMP/sc.out"
