#!/usr/bin/env bash
# python_regrtest.sh: part of CPython's own regression suite (Debian's
# libpython3.11-testsuite) under scmalloc with PYTHONMALLOC=malloc, so that
# every Python object is a malloc/free: containers, strings and bytes,
# json, re, pickle, struct, compression, gc and weakrefs, memoryview and
# mmap, sorting, numbers, csv, sqlite3, hashlib, ctypes, tracemalloc, the
# C API tests, threads and queues, codecs, XML, the tokenizer and the AST,
# archives, generators and fork (thousands of tests, in two worker
# processes, which inherit the preload).
# A test file that fails under scmalloc runs again without the preload:
# if it fails there too (a quirk of the machine), it is named and left
# out; every other test file must pass under scmalloc. In the secure
# variant only (canaries, zeroing and the debug checks catch more than the
# release build would).
# SCTEST: variants=secure timeout=600
# shellcheck source=test/preload/common.sh
. "$(dirname "$0")/common.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || skip "no $PY"
"$PY" -c "import test.libregrtest, test.test_list" 2>/dev/null \
    || skip "no CPython test suite (apt-get install libpython3.11-testsuite)"

WANTED="test_list test_dict test_set test_bytes test_unicode test_json test_re test_collections
test_heapq test_array test_deque test_itertools test_functools test_pickle test_struct test_zlib
test_bz2 test_lzma test_gc test_weakref test_memoryview test_mmap test_sort test_tuple test_long
test_float test_fractions test_math test_csv test_sqlite3 test_hashlib test_thread test_queue
test_ctypes test_tracemalloc test_capi test_threading_local test_codecs test_unicodedata
test_xml_etree test_xml_etree_c test_pyexpat test_ast test_tokenize test_dataclasses test_descr
test_exceptions test_random test_zipfile test_tarfile test_gzip test_difflib test_generators
test_coroutines test_copy test_marshal test_fork1"
# Only the test files this Python has.
"$PY" -m test --list-tests >"$SC_TMP/all" 2>/dev/null || fail "python3 -m test --list-tests failed"
tests=()
for t in $WANTED; do grep -qx "$t" "$SC_TMP/all" && tests+=("$t"); done
[ ${#tests[@]} -ge 20 ] || skip "the test suite has only ${#tests[@]} of the chosen test files"

export HOME=$SC_TMP LC_ALL=C.UTF-8 PYTHONMALLOC=malloc PYTHONDONTWRITEBYTECODE=1
cd "$SC_TMP" || fail "no $SC_TMP"

# The test files that regrtest names as failed (its summary lists them,
# several to a line, after "N test(s) failed:" and the like).
failed_in() {
    awk '/tests? failed/ || /test crashed/ || /failed \(env changed\)/ {f = 1; next}
         f && /^    test_/ {for (i = 1; i <= NF; i++) print $i; next}
         {f = 0}' "$1" | sort -u
}

# Under scmalloc first. A test file that fails there runs again without the
# preload: if it fails there too, it is a quirk of the machine, named and
# left out; any other failure is scmalloc's. (Running the whole list
# without the preload first, as this test once did, doubled its time.)
sc_run "$PY" -m test -j2 -q "${tests[@]}" >"$SC_TMP/sc.log" 2>&1
status=$?
grep -Eq "^(Tests result|Result): " "$SC_TMP/sc.log" || fail "regrtest under scmalloc gave no result: exit $status, $(tail -3 "$SC_TMP/sc.log" | tr '\n' ' ')"
failed_in "$SC_TMP/sc.log" >"$SC_TMP/sc.failed"
left=() ours=()
if [ -s "$SC_TMP/sc.failed" ]; then
    mapfile -t again <"$SC_TMP/sc.failed"
    "$PY" -m test -j2 -q "${again[@]}" >"$SC_TMP/plain.log" 2>&1
    grep -Eq "^(Tests result|Result): " "$SC_TMP/plain.log" || fail "regrtest without preload gave no result: $(tail -3 "$SC_TMP/plain.log")"
    failed_in "$SC_TMP/plain.log" >"$SC_TMP/plain.failed"
    for t in "${again[@]}"; do
        if grep -qx "$t" "$SC_TMP/plain.failed"; then left+=("$t"); else ours+=("$t"); fi
    done
elif [ $status -ne 0 ] || ! grep -Eq "^(Tests result|Result): SUCCESS" "$SC_TMP/sc.log"; then
    ours=("(no file named) exit $status: $(tail -2 "$SC_TMP/sc.log" | tr '\n' ' ')")
fi
if [ ${#ours[@]} -gt 0 ]; then
    grep -h "scmalloc" "$SC_TMP/sc.log" | head -3 >&2
    fail "regrtest under scmalloc failed, and passes without the preload: ${ours[*]}"
fi
run=$((${#tests[@]} - ${#left[@]}))
[ $run -ge 20 ] || skip "${#tests[@]} test files, of which ${#left[@]} fail without the preload too"
check_stats_on_stderr "python3" "$PY" -c "pass"
summary=$(grep -E "^(Total tests:|Total duration)" "$SC_TMP/sc.log" | head -1)
echo "python regrtest: $run test files pass under scmalloc (${summary:-no total line})${left[*]:+; failing without the preload too, left out: ${left[*]}}"
