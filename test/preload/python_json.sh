#!/usr/bin/env bash
# python_json.sh: Debian's /usr/bin/python3 under scmalloc builds a large
# generated structure (nested dicts, lists, strings, floats), takes a JSON
# round trip, checks equality and prints a hash of the dump and counts.
# The output must be identical with and without scmalloc preloaded.
# SCTEST: variants=release,debug timeout=180
# shellcheck source=test/preload/common.sh
. "$(dirname "$0")/common.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || skip "no $PY (Debian's python3 package is not installed)"

cat >"$SC_TMP/roundtrip.py" <<'PY'
import hashlib, json, random, sys
rng = random.Random(20240229)
def word():
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyzäöüß€漢") for _ in range(rng.randint(1, 24)))
def node(depth):
    k = rng.random()
    if depth > 5 or k < 0.3:
        return rng.choice([rng.randint(-10**12, 10**12), rng.random() * 1e6, word(), None, True])
    if k < 0.65:
        return [node(depth + 1) for _ in range(rng.randint(0, 5))]
    return {word(): node(depth + 1) for _ in range(rng.randint(0, 5))}
data = {"records": [node(0) for _ in range(int(sys.argv[1]))]}
text = json.dumps(data, sort_keys=True, ensure_ascii=False)
back = json.loads(text)
assert back == data, "round trip changed the data"
again = json.dumps(back, sort_keys=True, ensure_ascii=False)
assert again == text
# churn: many short-lived objects of many sizes
junk = [bytearray(rng.randint(1, 300000)) for _ in range(300)]
strings = {i: word() * rng.randint(1, 50) for i in range(100000)}
del junk
print(len(text), hashlib.sha256(text.encode()).hexdigest(), len(strings))
PY

N=6000
"$PY" "$SC_TMP/roundtrip.py" $N >"$SC_TMP/expected" 2>"$SC_TMP/expected.err" \
    || fail "python3 without preload failed: $(tail -3 "$SC_TMP/expected.err")"
sc_run "$PY" "$SC_TMP/roundtrip.py" $N >"$SC_TMP/actual" 2>"$SC_TMP/actual.err" \
    || fail "python3 under scmalloc failed (exit $?): $(tail -3 "$SC_TMP/actual.err")"
[ -s "$SC_TMP/actual.err" ] && fail "python3 under scmalloc wrote to stderr: $(head -3 "$SC_TMP/actual.err")"
same_output "python3 JSON round trip" "$SC_TMP/expected" "$SC_TMP/actual"
check_stats_on_stderr "python3" "$PY" -c 'import json; print(len(json.dumps(list(range(100000)))))'
echo "python3 JSON round trip: $(cat "$SC_TMP/actual")"
