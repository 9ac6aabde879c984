"""Real-program workload: Debian's /usr/bin/python3 doing allocation-heavy work.

    /usr/bin/python3 bench/py_work.py [N]      (N: records, default 200000)

Builds a list of N dict records (strings, lists, nested dicts), a dict
index over them, sorts, groups, does a JSON round trip and checks that
the result equals the original; deletes half and rebuilds. Exits non-zero
if any check fails. Prints one line:
    RESULT workload=python ops=N secs=S ops_per_sec=R
Run it with PYTHONMALLOC=malloc to send every object to malloc (otherwise
pymalloc serves objects up to 512 bytes itself).
"""
import json
import sys
import time


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    t0 = time.perf_counter()
    recs = []
    for i in range(n):
        recs.append({
            "id": i,
            "name": "user-%07d" % i,
            "tags": ["t%d" % (i % 7), "g%d" % (i % 13), "x" * (i % 40)],
            "score": (i * 2654435761) % 1000003 / 7.0,
            "meta": {"k": i % 101, "parent": i // 3, "s": str(i)[::-1]},
        })
    index = {r["name"]: r for r in recs}
    assert len(index) == n
    groups = {}
    for r in recs:
        groups.setdefault(r["meta"]["k"], []).append(r["id"])
    assert sum(len(v) for v in groups.values()) == n
    by_score = sorted(recs, key=lambda r: (r["score"], r["id"]))
    assert len(by_score) == n and all(by_score[i]["score"] <= by_score[i + 1]["score"] for i in range(n - 1))

    text = json.dumps(recs)
    back = json.loads(text)
    if back != recs:
        print("python: json round trip mismatch", file=sys.stderr)
        sys.exit(2)

    # churn: drop every other record, rebuild strings, join
    del recs[::2]
    for r in recs:
        r["name"] = r["name"].upper() + "-" + "-".join(r["tags"])
        r["tags"].append(str(r["id"] * 3))
    joined = "\n".join(r["name"] for r in recs)
    if joined.count("\n") != len(recs) - 1 or len(recs) != n // 2:
        print("python: churn check failed", file=sys.stderr)
        sys.exit(2)
    words = {}
    for w in joined.split("-"):
        words[w] = words.get(w, 0) + 1
    if sum(words.values()) != joined.count("-") + 1:
        print("python: word count check failed", file=sys.stderr)
        sys.exit(2)
    secs = time.perf_counter() - t0
    print("RESULT workload=python ops=%d secs=%.6f ops_per_sec=%.1f" % (n, secs, n / secs))


if __name__ == "__main__":
    main()
