#!/usr/bin/env bash
# stats_picture.sh: tools/scmalloc-stats.py draws a real JSON statistics
# dump as a PNG. The dump comes from test/preload/stats_dump.c (4 threads,
# small, large and huge blocks, part of them freed) running under scmalloc
# and calling sc_stats_print with "J". Checks: the dump holds at least the
# bytes the program says it still holds; the PNG starts with the PNG
# signature and its IHDR gives plausible dimensions, also when the dump
# comes on standard input; and a truncated dump, JSON that is not
# scmalloc's, a dump missing a field and the text format (stats_print:true)
# each make the tool exit 1 with a message, writing no PNG.
# SCTEST: variants=release,debug timeout=120
# shellcheck source=test/preload/common.sh
. "$(dirname "$0")/common.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
TOOL=$HERE/../../tools/scmalloc-stats.py
PY=/usr/bin/python3
[ -x "$PY" ] || skip "no $PY (Debian's python3 package is not installed)"
"$PY" -c 'import matplotlib' 2>/dev/null \
    || skip "python3-matplotlib is not installed (make bench-setup installs it)"
CC=${CC:-cc}
command -v "$CC" >/dev/null || skip "no C compiler ($CC)"
# matplotlib's cache and config stay in this test's scratch directory
export MPLCONFIGDIR=$SC_TMP/mpl

BIN=$SC_TMP/stats_dump
"$CC" -O1 -g -Wall -fno-builtin-malloc -fno-builtin-free -pthread "$HERE/stats_dump.c" -o "$BIN" -ldl \
    2>"$SC_TMP/build.err" || fail "$CC failed: $(head -5 "$SC_TMP/build.err")"

JSON=$SC_TMP/stats.json
sc_run "$BIN" "$JSON" >"$SC_TMP/dump.out" 2>"$SC_TMP/dump.err" \
    || fail "stats_dump under scmalloc exited $?: $(tail -3 "$SC_TMP/dump.err")"
live=$(sed -n 's/^live //p' "$SC_TMP/dump.out")
[ -n "$live" ] || fail "stats_dump printed no 'live BYTES' line"

# The dump is scmalloc's and describes this program's heap.
"$PY" - "$JSON" "$live" <<'PY' || fail "the dump does not describe stats_dump's heap"
import json, sys
d = json.load(open(sys.argv[1]))["scmalloc"]
live = int(sys.argv[2])
s = d["stats"]
problems = []
if s["allocated"] < live:
    problems.append(f"allocated {s['allocated']} < the {live} bytes the program holds")
if d["huge"]["count"] < 4:
    problems.append(f"{d['huge']['count']} huge blocks, want 4")
if s["small_allocated"] == 0 or s["large_allocated"] == 0:
    problems.append("no small or no large bytes")
if not d["arenas"] or not any(b["curslabs"] for a in d["arenas"] for b in a["bins"]):
    problems.append("no arena with slabs")
for p in problems:
    print("FAIL: " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY

# Fails unless the file is a PNG whose IHDR says 600..5000 by 400..5000.
check_png() { # what, file
    [ -s "$2" ] || fail "$1: no PNG written"
    "$PY" - "$2" <<'PY' || fail "$1: $2 is not a plausible PNG"
import struct, sys
data = open(sys.argv[1], "rb").read(33)
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit(f"FAIL: no PNG signature: {data[:8]!r}")
length, kind, width, height = struct.unpack(">I4sII", data[8:24])
if kind != b"IHDR" or length != 13:
    sys.exit(f"FAIL: first chunk is {kind!r} ({length} bytes), want IHDR")
if not (600 <= width <= 5000 and 400 <= height <= 5000):
    sys.exit(f"FAIL: implausible size {width}x{height}")
print(f"{width}x{height}")
PY
}

PNG=$SC_TMP/stats.png
"$PY" "$TOOL" "$JSON" -o "$PNG" 2>"$SC_TMP/tool.err" \
    || fail "scmalloc-stats.py exited $?: $(tail -3 "$SC_TMP/tool.err")"
size=$(check_png "scmalloc-stats.py STATS.json" "$PNG")
"$PY" "$TOOL" - -o "$SC_TMP/stdin.png" <"$JSON" 2>"$SC_TMP/tool.err" \
    || fail "scmalloc-stats.py - (standard input) exited $?: $(tail -3 "$SC_TMP/tool.err")"
check_png "scmalloc-stats.py - (standard input)" "$SC_TMP/stdin.png" >/dev/null

# Inputs that are not a scmalloc JSON dump.
head -c "$(($(wc -c <"$JSON") / 2))" "$JSON" >"$SC_TMP/bad_truncated.json"
echo '{"jemalloc": {"version": "5.3.0", "stats": {"allocated": 1}}}' >"$SC_TMP/bad_foreign.json"
"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
del d["scmalloc"]["stats"]["mapped"]
json.dump(d, open(sys.argv[2], "w"))' "$JSON" "$SC_TMP/bad_nomapped.json" || fail "could not edit the dump"
SCMALLOC_CONF=stats_print:true sc_run "$BIN" "$SC_TMP/ignored.json" >/dev/null 2>"$SC_TMP/bad_text.json" \
    || fail "stats_dump with stats_print:true exited $?"
grep -q '^___ scmalloc' "$SC_TMP/bad_text.json" || fail "no text statistics with stats_print:true"
for bad in truncated foreign nomapped text; do
    out=$SC_TMP/bad_$bad.png
    "$PY" "$TOOL" "$SC_TMP/bad_$bad.json" -o "$out" 2>"$SC_TMP/bad_$bad.err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "scmalloc-stats.py on a $bad dump: exit status $rc, want 1"
    grep -q 'is not a scmalloc JSON statistics dump' "$SC_TMP/bad_$bad.err" \
        || fail "scmalloc-stats.py on a $bad dump: no clear message: $(head -3 "$SC_TMP/bad_$bad.err")"
    [ -e "$out" ] && fail "scmalloc-stats.py on a $bad dump wrote $out"
done

echo "stats picture: $size PNG from a dump of $(wc -c <"$JSON") bytes ($live live bytes);" \
    "truncated, foreign, incomplete and text dumps refused"
