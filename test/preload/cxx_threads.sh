#!/usr/bin/env bash
# cxx_threads.sh: a C++ program (g++ -O2 -pthread, test/preload/cxx_churn.cpp)
# with 8 std::threads churning std::string / std::map / std::unordered_map
# and handing strings across threads prints a checksum; it must be the same
# with and without scmalloc preloaded.
# SCTEST: variants=release,debug,ubsan timeout=180
# shellcheck source=test/preload/common.sh
. "$(dirname "$0")/common.sh"

command -v g++ >/dev/null || skip "no g++"
BIN=$SC_TMP/cxx_churn
g++ -O2 -pthread "$(dirname "$0")/cxx_churn.cpp" -o "$BIN" 2>"$SC_TMP/build.err" \
    || fail "g++ failed: $(head -5 "$SC_TMP/build.err")"

"$BIN" >"$SC_TMP/expected" || fail "cxx_churn without preload exited $?"
sc_run "$BIN" >"$SC_TMP/actual" 2>"$SC_TMP/actual.err" \
    || fail "cxx_churn under scmalloc exited $?: $(tail -3 "$SC_TMP/actual.err")"
[ -s "$SC_TMP/actual.err" ] && fail "cxx_churn under scmalloc wrote to stderr: $(head -3 "$SC_TMP/actual.err")"
same_output "C++ std::thread churn" "$SC_TMP/expected" "$SC_TMP/actual"
check_stats_on_stderr "cxx_churn" "$BIN" 2
echo "C++ churn: $(cat "$SC_TMP/actual")"
