#!/usr/bin/python3
"""Benchmark runner of scmalloc: the same workloads under scmalloc, glibc,
jemalloc, mimalloc and tcmalloc, side by side.

    /usr/bin/python3 bench/run.py [options]

      --quick            rough run (~2 minutes): smaller sizes, 3 repetitions
      --ci               every workload once at tiny sizes under scmalloc only;
                         checks exit codes and self-checks, no timing; exit 1
                         on any failure or when the library is missing
      --reps N           repetitions per workload and allocator (default 5;
                         --quick: 3); medians are reported
      --threads LIST     thread counts of the scaling runs (default
                         1,2,4,8,16; --quick: 1,2,4)
      --allocators LIST  subset of scmalloc,glibc,jemalloc,mimalloc,tcmalloc
                         (default all; --ci: scmalloc); also scmalloc-secure
                         and scmalloc-prof (scmalloc with the option on: their
                         ratio to scmalloc is the option's cost), and
                         scmalloc-plain (both off, for a SECURE=1 --lib)
      --workloads LIST   subset of the workloads (default all; names as in
                         the table, or a prefix such as micro)
      --lib PATH         libscmalloc.so to preload (default build/libscmalloc.so)
      --out DIR          results directory (default bench/results)
      --no-callgrind     skip the instruction counts
      --no-scaling       skip the thread-scaling runs
      --scaling-only     only the thread-scaling runs (no workload table, no
                         instruction counts)
      --peer-dir DIR     take the peers' libraries from DIR (file names as
                         Debian installs them; versions from DIR/versions.txt,
                         lines "package version") instead of the installed
                         packages: for a machine where they cannot be installed
      --prebuilt         do not build bench/bin (it must be there already)
      --label TEXT       a line for latest.md (where the run was made, which
                         commit when the tree has no .git)
      --timeout S        seconds before one run is killed (default 600;
                         --quick and --ci: 120)

Scaling runs (larson, mixed, micro -S 64 over the --threads list, fixed
work per thread) take min(reps, 3) repetitions (--quick: 1). Instruction
counts: callgrind on micro -t 1 -S 16 / -S 64, N and 2N pairs.

Every allocator is put in front of glibc with LD_PRELOAD ("glibc" is no
preload); one that is not installed, or whose library does not load, is
reported absent. Runs are interleaved: for each workload, repetition 1
runs every allocator, then repetition 2 runs every allocator again, and so
on (the order rotates each repetition). Wall time and peak RSS (ru_maxrss
from wait4) are measured here; throughput and workload figures come from
the RESULT line each workload prints. A run that exits non-zero (the
workloads check their data), is killed, or prints no RESULT is a failure:
it shows as FAIL, with a command that reproduces it, and run.py exits 1.

Outputs in --out: latest.md (tables, ratios, machine), latest.csv
(medians, one row per workload x allocator), latest_runs.csv (every run),
and PNG plots (time_ratio.png, rss_ratio.png, scaling_*.png) when
python3-matplotlib is installed. The tables are printed on stdout too.
"""

import argparse
import csv
import datetime
import math
import os
import platform
import random
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
BIN = os.path.join(BENCH, "bin")
SPAWN = os.path.join(BIN, "spawn")
PYTHON = "/usr/bin/python3"      # Debian's, not whatever python3 is first in PATH
SQLITE = "/usr/bin/sqlite3"
GXX = "/usr/bin/g++"
LIBDIR = "/usr/lib/x86_64-linux-gnu"

ALL_ALLOCATORS = ["scmalloc", "glibc", "jemalloc", "mimalloc", "tcmalloc"]
# scmalloc with options, only when named in --allocators: their ratios to
# plain scmalloc are the cost of the option.
SCMALLOC_VARIANTS = {
    "scmalloc-secure": "secure:true",
    "scmalloc-prof": "prof:true,prof_final:false",
    "scmalloc-bg": "background_thread:true",
    # with --lib of a make SECURE=1 build: that build with secure off
    "scmalloc-plain": "secure:false,prof:false",
}
PEERS = {
    # name: (Debian package, library file name)
    "jemalloc": ("libjemalloc2", "libjemalloc.so.2"),
    "mimalloc": ("libmimalloc2.0", "libmimalloc.so.2"),
    "tcmalloc": ("libtcmalloc-minimal4", "libtcmalloc_minimal.so.4"),
}

# ---------------------------------------------------------------- workloads
#
# Each workload: name -> dict(kind, args per size, note). kind "bin" runs
# bench/bin/<prog>; "python", "sqlite" and "gxx" run the real programs. Sizes:
# full (make bench), quick (make bench-quick), ci (make bench-ci).


def _b(prog, full, quick, ci, note):
    return {"kind": "bin", "prog": prog, "full": full, "quick": quick, "ci": ci, "note": note}


WORKLOADS = {
    "churn": _b("churn", "-n 20m", "-n 2m", "-n 20000 -k 1000",
                "1 thread, 8..512 B skewed, random lifetimes"),
    "larson": _b("larson", "-t 4 -n 2m", "-t 4 -n 200k", "-t 4 -n 5000 -k 500",
                 "4 threads, 8..1000 B, 10% freed by another thread"),
    "prodcons": _b("prodcons", "-p 2 -c 2 -n 4m", "-p 2 -c 2 -n 500k", "-p 2 -c 2 -n 10000",
                   "2 producers allocate, 2 consumers free"),
    "falseshare": _b("falseshare", "-t 2 -n 20m", "-t 2 -n 2m", "-t 2 -n 1000 -r 2",
                     "2 threads writing 8 B objects; shared_lines counts shared cache lines"),
    "mixed": _b("mixed", "-t 4 -n 100k", "-t 4 -n 30k", "-t 4 -n 2000 -k 200",
                "4 threads, 8 B..64 KiB log-uniform + 1% 256 KiB..1 MiB"),
    "realloc": _b("realloc", "-r 4 -A 4m -D 16m", "-r 2", "-r 1 -A 64k -D 256k",
                  "4 interleaved buffers grown by doubling and by +16 B"),
    "large": _b("large", "-n 600", "-n 60", "-n 10 -M 2m",
                "64 KiB..64 MiB blocks, every page touched; rss_after_free_kb"),
    "frag": _b("frag", "-n 2m", "-n 1m", "-n 20000",
               "2M objects 16..128 B, free 90%, refill with 200..400 B"),
    "threads": _b("threads", "-n 10000", "-n 1000", "-n 40 -b 100",
                  "short-lived threads, 400 blocks each, 4 at a time"),
}
for _s, _nfull, _nquick in ((16, "40m", "4m"), (64, "40m", "4m"), (1024, "40m", "4m"), (65536, "4m", "500k")):
    for _t in (1, 2):
        _lab = {16: "16", 64: "64", 1024: "1k", 65536: "64k"}[_s]
        WORKLOADS["micro-%s-%dt" % (_lab, _t)] = _b(
            "micro", "-t %d -S %d -n %s" % (_t, _s, _nfull), "-t %d -S %d -n %s" % (_t, _s, _nquick),
            "-t %d -S %d -n 10000" % (_t, _s), "malloc/free pair of %d B, %d thread(s)" % (_s, _t))
WORKLOADS["python"] = {"kind": "python", "full": 100000, "quick": 15000, "ci": 2000, "env": {},
                       "note": "/usr/bin/python3 bench/py_work.py (pymalloc on)"}
WORKLOADS["python-malloc"] = {"kind": "python", "full": 100000, "quick": 15000, "ci": 2000,
                              "env": {"PYTHONMALLOC": "malloc"},
                              "note": "the same with PYTHONMALLOC=malloc"}
WORKLOADS["sqlite"] = {"kind": "sqlite", "full": 200000, "quick": 25000, "ci": 2000,
                       "note": "/usr/bin/sqlite3 :memory: inserts, indexes, joins, updates"}
WORKLOADS["gxx"] = {"kind": "gxx", "full": 4, "quick": 1, "ci": 1,
                    "note": "/usr/bin/g++ -O1 builds a generated C++ program (std::map, std::sort, "
                            "std::string over N distinct types), which then runs; its output checked"}

# Thread-scaling runs: per-thread work is fixed, the --threads list varies.
SCALING = {
    "larson": {"prog": "larson", "full": "-n 300k", "quick": "-n 100k", "ci": "-n 2000 -k 200",
               "metric": "ops_per_sec"},
    "mixed": {"prog": "mixed", "full": "-n 25k -k 1000", "quick": "-n 15k -k 1000", "ci": "-n 500 -k 100",
              "metric": "ops_per_sec"},
    "micro-64": {"prog": "micro", "full": "-S 64 -n 10m", "quick": "-S 64 -n 2m", "ci": "-S 64 -n 10000",
                 "metric": "ops_per_sec"},
}

# callgrind: pairs N of the micro runs (N and 2N are run)
CG_PAIRS = {"full": 200000, "quick": 20000, "ci": 1000}

# Workload figures (from RESULT lines) shown in their own table.
EXTRA_METRICS = [
    ("falseshare", "shared_lines"),
    ("large", "rss_live_kb"),
    ("large", "rss_after_free_kb"),
    ("frag", "rss_full_kb"),
    ("frag", "rss_after_free_kb"),
    ("frag", "rss_refill_kb"),
    ("frag", "rss_end_kb"),
    ("threads", "rss_end_kb"),
    ("realloc", "double_secs"),
    ("realloc", "step_secs"),
] + [("micro-%s-%dt" % (s, t), "ns_per_pair") for s in ("16", "64", "1k", "64k") for t in (1, 2)]

# ------------------------------------------------------------- sqlite input


def sqlite_script(n):
    """SQL text and the exact output it must produce (checked by the runner)."""
    rows = []
    for x in range(1, n + 1):
        k = (x * 7919) % 1000
        name = "n%010d" % ((x * 2654435761) % 4294967291)
        payload = "p" * (10 + (x * 31) % 300) + str(x)
        rows.append((x, k, name, payload))
    out = []
    lines = ["PRAGMA cache_size=-65536;",
             "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, name TEXT, payload TEXT);"]
    for i in range(0, n, 1000):
        lines.append("BEGIN;")
        for (x, k, name, payload) in rows[i:i + 1000]:
            lines.append("INSERT INTO t VALUES(%d,%d,'%s','%s');" % (x, k, name, payload))
        lines.append("COMMIT;")
    lines.append("CREATE INDEX ix_k ON t(k);")
    lines.append("CREATE INDEX ix_name ON t(name);")
    lines.append("SELECT count(*), sum(k), sum(length(payload)) FROM t;")
    out.append("%d|%d|%d" % (n, sum(r[1] for r in rows), sum(len(r[3]) for r in rows)))
    counts = {}
    for r in rows:
        counts[r[1]] = counts.get(r[1], 0) + 1
    lines.append("SELECT k, count(*) FROM t GROUP BY k ORDER BY count(*) DESC, k LIMIT 3;")
    for k, c in sorted(counts.items(), key=lambda kc: (-kc[1], kc[0]))[:3]:
        out.append("%d|%d" % (k, c))
    lines.append("SELECT count(*) FROM t a JOIN t b ON a.k = b.k AND a.id < b.id WHERE a.id % 97 = 0;")
    by_k = {}
    for r in rows:
        by_k.setdefault(r[1], []).append(r[0])
    join = 0
    for r in rows:
        if r[0] % 97 == 0:
            join += sum(1 for i in by_k[r[1]] if i > r[0])
    out.append("%d" % join)
    lines.append("SELECT count(DISTINCT name), min(name), max(name) FROM t;")
    names = [r[2] for r in rows]
    out.append("%d|%s|%s" % (len(set(names)), min(names), max(names)))
    lines.append("UPDATE t SET payload = payload || 'xyz' WHERE k % 3 = 0;")
    lines.append("DELETE FROM t WHERE k % 5 = 0;")
    kept = [r for r in rows if r[1] % 5 != 0]
    lines.append("SELECT count(*), sum(length(payload)) FROM t;")
    out.append("%d|%d" % (len(kept), sum(len(r[3]) + (3 if r[1] % 3 == 0 else 0) for r in kept)))
    lines.append("SELECT sum(length(name)) FROM (SELECT name FROM t ORDER BY payload DESC, id);")
    out.append("%d" % sum(len(r[2]) for r in kept))
    lines.append("SELECT group_concat(id) FROM (SELECT id FROM t ORDER BY name LIMIT 5);")
    out.append(",".join(str(r[0]) for r in sorted(kept, key=lambda r: r[2])[:5]))
    return "\n".join(lines) + "\n", "\n".join(out) + "\n"

# ------------------------------------------------------------- g++ input


def cxx_program(n):
    """C++ source of a program with n functions, each over a type of its own
    (so g++ instantiates std::map, std::vector and std::sort n times), and
    the exact output it must print, computed here the same way."""
    rnd = random.Random(4242)
    mask = (1 << 64) - 1
    src = ["#include <algorithm>", "#include <cstdio>", "#include <map>", "#include <string>", "#include <vector>", ""]
    calls = []
    total = 0
    for i in range(n):
        k, a, b, c = 20 + rnd.randrange(60), rnd.randrange(1, 1000), rnd.randrange(7, 97), rnd.randrange(1, 10 ** 6)
        src += ["struct T%d { std::string v; int tag; };" % i,
                "static unsigned long f%d()" % i,
                "{",
                "    std::map<int, T%d> m;" % i,
                "    for (int j = 0; j < %d; j++) m[(j * %d) %% %d] = T%d{std::to_string(j * %d), j};" % (k, a, b, i, c),
                "    std::vector<std::pair<int, T%d>> v(m.begin(), m.end());" % i,
                "    std::sort(v.begin(), v.end(), [](const auto &x, const auto &y) { return x.second.v < y.second.v; });",
                "    unsigned long s = 0;",
                "    for (const auto &p : v) s = s * 31 + (unsigned long)p.first + p.second.v.size() + (unsigned long)p.second.tag;",
                "    return s;",
                "}",
                ""]
        calls.append("    s = s * 1000003ul + f%d();" % i)
        m = {}
        for j in range(k):
            m[(j * a) % b] = (str(j * c), j)    # later keys overwrite, as map::operator[] does
        f = 0
        for key, (val, tag) in sorted(m.items(), key=lambda kv: kv[1][0]):
            f = (f * 31 + key + len(val) + tag) & mask
        total = (total * 1000003 + f) & mask
    src += ["int main()", "{", "    unsigned long s = 0;"] + calls + ['    std::printf("%lu\\n", s);', "    return 0;", "}"]
    return "\n".join(src) + "\n", "%d\n" % total

# ------------------------------------------------------------- allocators


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:
        return ""


PEER_DIR = None          # --peer-dir


def find_peer(name):
    pkg, fname = PEERS[name]
    if PEER_DIR:
        path = os.path.join(PEER_DIR, fname)
        return (path if os.path.exists(path) else None), pkg
    for line in sh("dpkg -L %s 2>/dev/null" % pkg).splitlines():
        if line.endswith("/" + fname):
            return line, pkg
    path = os.path.join(LIBDIR, fname)
    return (path if os.path.exists(path) else None), pkg


def peer_version(pkg):
    if PEER_DIR:
        try:
            for line in open(os.path.join(PEER_DIR, "versions.txt")):
                f = line.split()
                if len(f) == 2 and f[0] == pkg:
                    return f[1] + " (from %s)" % PEER_DIR
        except OSError:
            pass
        return "(version unknown, from %s)" % PEER_DIR
    return sh("dpkg-query -W -f '${Version}' %s 2>/dev/null" % pkg)


def preload_works(lib):
    """The dynamic loader only warns when a preload fails; make sure it is mapped."""
    env = dict(os.environ, LD_PRELOAD=lib)
    try:
        r = subprocess.run(["/bin/cat", "/proc/self/maps"], env=env, capture_output=True, text=True, timeout=30)
    except Exception as e:
        return False, str(e)
    real = os.path.realpath(lib)
    if real in r.stdout or lib in r.stdout:
        return True, ""
    return False, (r.stderr.strip().splitlines() or ["library not mapped"])[-1]


def discover(names, scmalloc_lib):
    """name -> dict(lib, status, version); lib None means no preload (glibc)."""
    res = {}
    for name in names:
        if name == "glibc":
            res[name] = {"lib": None, "status": "ok", "version": "glibc " + platform.libc_ver()[1],
                         "path": "(no preload)"}
            continue
        if name == "scmalloc" or name in SCMALLOC_VARIANTS:
            lib, pkg = os.path.abspath(scmalloc_lib), None
            if not os.path.exists(lib):
                res[name] = {"lib": None, "status": "absent (%s not found)" % lib, "version": "", "path": lib}
                continue
            ver = ""
            hdr = os.path.join(ROOT, "include", "scmalloc.h")
            if os.path.exists(hdr):
                for line in open(hdr):
                    if "SCMALLOC_VERSION" in line and '"' in line:
                        ver = line.split('"')[1]
            git = sh("git -C %s describe --always --dirty 2>/dev/null" % shlex.quote(ROOT))
            ver = "scmalloc %s%s" % (ver, (" (git %s)" % git) if git else "")
        else:
            lib, pkg = find_peer(name)
            if not lib:
                res[name] = {"lib": None, "status": "absent (package %s not installed)" % pkg, "version": "",
                             "path": ""}
                continue
            ver = "%s %s" % (pkg, peer_version(pkg))
        ok, why = preload_works(lib)
        res[name] = {"lib": lib, "status": "ok" if ok else "absent (does not preload: %s)" % why,
                     "version": ver, "path": lib}
        if name in SCMALLOC_VARIANTS:
            res[name]["env"] = {"SCMALLOC_CONF": SCMALLOC_VARIANTS[name]}
            res[name]["version"] += " with SCMALLOC_CONF=" + SCMALLOC_VARIANTS[name]
    return res

# ------------------------------------------------------------- running


class Run:
    __slots__ = ("workload", "alloc", "rep", "ok", "why", "wall", "rss", "result", "cmd", "threads")


def run_one(argv, alloc_lib, extra_env, timeout, stdin_path=None, check_output=None, need_result=True):
    """Runs argv once; returns (ok, why, wall seconds, peak rss KiB, RESULT dict, repro string)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.update(extra_env or {})
    if alloc_lib:
        env["LD_PRELOAD"] = alloc_lib
    repro = " ".join(["%s=%s" % (k, shlex.quote(v)) for k, v in
                      sorted((extra_env or {}).items()) + ([("LD_PRELOAD", alloc_lib)] if alloc_lib else [])]
                     + [shlex.quote(a) for a in argv])
    if stdin_path:
        repro += " < " + shlex.quote(stdin_path)
    # bin/spawn (static) forks and execs argv and reports wall time and
    # ru_maxrss: wait4 here would count python's own RSS, which Linux
    # carries across execve into the child's ru_maxrss.
    fd, resfile = tempfile.mkstemp(prefix="spawn-", suffix=".txt")
    os.close(fd)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        fin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        p = subprocess.Popen([SPAWN, resfile] + argv, env=env, stdin=fin, stdout=out, stderr=err,
                             start_new_session=True)
        killed = []

        def kill():
            killed.append(1)
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        timer = threading.Timer(timeout, kill)
        timer.start()
        p.wait()
        timer.cancel()
        if stdin_path:
            fin.close()
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    info = {}
    try:
        with open(resfile) as f:
            for kv in f.read().split():
                k, v = kv.split("=", 1)
                info[k] = v
    except (OSError, ValueError):
        pass
    os.unlink(resfile)
    status = int(info.get("status", -1))
    wall = float(info.get("wall_s", 0))
    rss = int(info.get("maxrss_kb", 0))
    result = {}
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            for kv in line.split()[1:]:
                if "=" in kv:
                    k, v = kv.split("=", 1)
                    result[k] = v
    if "minflt" in info:
        result["minor_faults"] = info["minflt"]   # from wait4, like the peak RSS
    why = ""
    if killed:
        why = "timed out after %ds" % timeout
    elif status < 0:
        why = "spawn failed (exit %s)" % p.returncode
    elif os.WIFSIGNALED(status):
        why = "killed by signal %d (%s)" % (os.WTERMSIG(status), signal.Signals(os.WTERMSIG(status)).name)
    elif os.WEXITSTATUS(status) != 0:
        why = "exit status %d" % os.WEXITSTATUS(status)
    elif need_result and not result:
        why = "no RESULT line"
    elif check_output is not None and stdout != check_output:
        why = "wrong output"
    if why:
        tail = " | ".join(stderr.strip().splitlines()[-3:])
        if tail:
            why += ": " + tail[:300]
    return (not why), why, wall, rss, result, repro


_generated = set()


def workload_cmd(name, size, workdir):
    """argv, extra env, stdin path, expected stdout."""
    w = WORKLOADS[name]
    if w["kind"] == "bin":
        return [os.path.join(BIN, w["prog"])] + w[size].split(), {}, None, None
    if w["kind"] == "python":
        return [PYTHON, os.path.join(BENCH, "py_work.py"), str(w[size])], dict(w["env"]), None, None
    n = w[size]
    if w["kind"] == "gxx":
        # g++ (with cc1plus, as and ld under it) builds the program, which
        # then runs: the peak RSS is the largest of them, cc1plus's.
        path = os.path.join(workdir, "gxx_%d.cc" % n)
        exe = os.path.join(workdir, "gxx_%d.bin" % n)
        if path not in _generated:
            _generated.add(path)
            text, expected = cxx_program(n)
            with open(path, "w") as f:
                f.write(text)
            with open(path + ".expected", "w") as f:
                f.write(expected)
        return (["/bin/sh", "-c", '"$1" -O1 -o "$2" "$3" && "$2"', "sh", GXX, exe, path], {}, None,
                open(path + ".expected").read())
    path = os.path.join(workdir, "sqlite_%d.sql" % n)
    exp_path = path + ".expected"
    if path not in _generated:          # once per invocation, so it never goes stale
        _generated.add(path)
        sql, expected = sqlite_script(n)
        with open(path, "w") as f:
            f.write(sql)
        with open(exp_path, "w") as f:
            f.write(expected)
    return [SQLITE, "-batch", ":memory:"], {}, path, open(exp_path).read()


def workload_available(name):
    kind = WORKLOADS[name]["kind"]
    if kind == "python" and not os.path.exists(PYTHON):
        return "%s not installed (apt-get install python3)" % PYTHON
    if kind == "sqlite" and not os.path.exists(SQLITE):
        return "%s not installed (apt-get install sqlite3)" % SQLITE
    if kind == "gxx" and not os.path.exists(GXX):
        return "%s not installed (apt-get install g++)" % GXX
    return ""


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def fnum(v, digits=3):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    a = abs(v)
    if a >= 1e9:
        return "%.2fG" % (v / 1e9)
    if a >= 1e6:
        return "%.2fM" % (v / 1e6)
    if a >= 1e4:
        return "%.0fk" % (v / 1e3)
    if a >= 100:
        return "%.0f" % v
    return ("%%.%dg" % digits) % v


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines)


def log(msg):
    print(msg, file=sys.stderr, flush=True)

# ------------------------------------------------------------- callgrind


def callgrind_self_cost_outside(path, exclude_obj):
    """Sum of the self cost (Ir) of every function whose object file is not
    exclude_obj, read from a callgrind output file (the cost line after a
    calls= line is the inclusive cost of that call and is skipped)."""
    names = {}
    cur = None
    skip = False
    total = 0
    with open(path) as f:
        for line in f:
            c = line[:1]
            if c.isdigit() or c in "+-*":
                if skip:
                    skip = False
                    continue
                parts = line.split()
                if len(parts) > 1 and cur != exclude_obj:
                    total += int(parts[1])
            elif line.startswith("ob=") or line.startswith("cob="):
                # object names are compressed: "(id) name" defines, "(id)" refers;
                # ob= and cob= share the ids
                m = re.match(r"c?ob=(\((\d+)\))?\s*(.*)", line.rstrip("\n"))
                if m.group(2) and m.group(3):
                    names[m.group(2)] = m.group(3)
                if line.startswith("ob="):
                    name = m.group(3) or names.get(m.group(2), "")
                    cur = os.path.realpath(name) if name else name
            elif line.startswith("calls="):
                skip = True
    return total


def callgrind_ir(argv, lib, workdir, timeout, extra_env=None):
    """Instructions executed outside the benchmark binary itself (allocator,
    libc, loader), from callgrind's per-function self costs."""
    if not shutil.which("valgrind"):
        return None, "valgrind not installed"
    outf = os.path.join(workdir, "callgrind.out")
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.update(extra_env or {})
    if lib:
        env["LD_PRELOAD"] = lib          # valgrind hands its environment to the client
    cmd = ["valgrind", "--tool=callgrind", "--trace-children=no", "--callgrind-out-file=" + outf] + argv
    try:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    if r.returncode != 0 or not os.path.exists(outf):
        return None, "exit %d: %s" % (r.returncode, " | ".join(r.stderr.strip().splitlines()[-2:])[:200])
    me = os.path.realpath(argv[0])
    total = callgrind_self_cost_outside(outf, me)
    os.unlink(outf)
    return total, ""


# ------------------------------------------------------------- main


def page_cost():
    """bench/pagecost's line (fault, touch, copy, moved... in us per page), or None."""
    try:
        r = subprocess.run([os.path.join(BIN, "pagecost")], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def main():
    ap = argparse.ArgumentParser(description="scmalloc benchmark runner (see the docstring)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--ci", action="store_true")
    ap.add_argument("--reps", type=int)
    ap.add_argument("--threads")
    ap.add_argument("--allocators")
    ap.add_argument("--workloads")
    ap.add_argument("--lib", default=os.path.join(ROOT, "build", "libscmalloc.so"))
    ap.add_argument("--out", default=os.path.join(BENCH, "results"))
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--no-scaling", action="store_true")
    ap.add_argument("--timeout", type=int)
    ap.add_argument("--scaling-only", action="store_true")
    ap.add_argument("--peer-dir")
    ap.add_argument("--prebuilt", action="store_true")
    ap.add_argument("--label")
    a = ap.parse_args()
    global PEER_DIR
    PEER_DIR = os.path.abspath(a.peer_dir) if a.peer_dir else None
    if a.scaling_only and a.no_scaling:
        ap.error("--scaling-only and --no-scaling exclude each other")

    size = "ci" if a.ci else ("quick" if a.quick else "full")
    reps = 1 if a.ci else (a.reps if a.reps else (3 if a.quick else 5))
    timeout = a.timeout or (120 if (a.quick or a.ci) else 600)
    threads = [int(x) for x in (a.threads or ("1,2,4" if a.quick else "1,2,4,8,16")).split(",") if x]
    names = (a.allocators.split(",") if a.allocators else (["scmalloc"] if a.ci else list(ALL_ALLOCATORS)))
    for n in names:
        if n not in ALL_ALLOCATORS and n not in SCMALLOC_VARIANTS:
            ap.error("unknown allocator %s (known: %s)" % (n, ",".join(ALL_ALLOCATORS + list(SCMALLOC_VARIANTS))))
    wl = list(WORKLOADS)
    if a.workloads:
        want = a.workloads.split(",")
        wl = [w for w in WORKLOADS if any(w == x or w.startswith(x) for x in want)]
        if not wl:
            ap.error("no workload matches %s" % a.workloads)

    if a.scaling_only:
        wl = []
    if not a.prebuilt:
        r = subprocess.run(["make", "-s", "-C", BENCH], capture_output=True, text=True)
        if r.returncode != 0:
            log(r.stdout + r.stderr)
            log("bench: building the workloads failed")
            return 2

    os.makedirs(a.out, exist_ok=True)
    workdir = os.path.join(a.out, "work")
    os.makedirs(workdir, exist_ok=True)
    allocs = discover(names, a.lib)
    present = [n for n in names if allocs[n]["status"] == "ok"]
    for n in names:
        log("allocator %-9s %s %s" % (n, allocs[n]["status"], allocs[n]["path"] or ""))

    if a.ci:
        return run_ci(wl, allocs, names, workdir, timeout)

    started = datetime.datetime.now()
    load_start = os.getloadavg()
    a.pagecost = page_cost()
    runs = []
    failed = {}            # (workload, alloc) -> Run
    for w in wl:
        unavailable = workload_available(w)
        if unavailable:
            log("%-16s skipped: %s" % (w, unavailable))
            continue
        argv, env, stdin_path, expected = workload_cmd(w, size, workdir)
        for rep in range(reps):
            order = present[rep % len(present):] + present[:rep % len(present)] if present else []
            for n in order:
                if (w, n) in failed:
                    continue
                ok, why, wall, rss, result, repro = run_one(
                    argv, allocs[n]["lib"], dict(env or {}, **allocs[n].get("env", {})), timeout, stdin_path, expected,
                    need_result=WORKLOADS[w]["kind"] not in ("sqlite", "gxx"))
                x = Run()
                x.workload, x.alloc, x.rep, x.ok, x.why, x.wall, x.rss, x.result, x.cmd, x.threads = \
                    w, n, rep, ok, why, wall, rss, result, repro, None
                runs.append(x)
                log("%-16s %-9s rep %d  %s" % (w, n, rep + 1, ("%.3fs %dKiB" % (wall, rss)) if ok else "FAIL " + why))
                if not ok:
                    failed[(w, n)] = x

    scaling = []
    scale_reps = 1 if size == "quick" else min(reps, 3)
    if not a.no_scaling:
        for sname, s in SCALING.items():
            if a.workloads and not any(sname == x or sname.startswith(x) or s["prog"].startswith(x)
                                       for x in a.workloads.split(",")):
                continue
            for t in threads:
                argv = [os.path.join(BIN, s["prog"]), "-t", str(t)] + s[size].split()
                for rep in range(scale_reps):
                    order = present[rep % len(present):] + present[:rep % len(present)] if present else []
                    for n in order:
                        if ("scale-" + sname, n, t) in failed:
                            continue
                        ok, why, wall, rss, result, repro = run_one(argv, allocs[n]["lib"], allocs[n].get("env", {}),
                                                                    timeout)
                        x = Run()
                        x.workload, x.alloc, x.rep, x.ok, x.why, x.wall, x.rss, x.result, x.cmd, x.threads = \
                            "scale-" + sname, n, rep, ok, why, wall, rss, result, repro, t
                        scaling.append(x)
                        log("scale-%-10s %-9s t=%-3d rep %d  %s" % (sname, n, t, rep + 1,
                            fnum(float(result.get(s["metric"], 0))) + " ops/s" if ok else "FAIL " + why))
                        if not ok:
                            failed[("scale-" + sname, n, t)] = x

    cg = {}
    if not a.no_callgrind and not a.scaling_only and (not a.workloads or any("micro".startswith(x) or x.startswith("micro")
                                                       for x in a.workloads.split(","))):
        npairs = CG_PAIRS[size]
        for n in present:
            for sz in (16, 64):
                base = [os.path.join(BIN, "micro"), "-t", "1", "-S", str(sz)]
                venv = allocs[n].get("env")
                ir1, e1 = callgrind_ir(base + ["-n", str(npairs)], allocs[n]["lib"], workdir, timeout, venv)
                ir2, e2 = callgrind_ir(base + ["-n", str(2 * npairs)], allocs[n]["lib"], workdir, timeout, venv)
                if ir1 is not None and ir2 is not None:
                    cg[(n, sz)] = (ir2 - ir1) / npairs
                    log("callgrind %-9s %3d B  %.1f instructions/pair" % (n, sz, cg[(n, sz)]))
                else:
                    cg[(n, sz)] = "error: " + (e1 or e2)
                    log("callgrind %-9s %3d B  %s" % (n, sz, cg[(n, sz)]))

    finished = datetime.datetime.now()
    report(a, size, reps, threads, names, allocs, present, wl, runs, scaling, cg, failed,
           started, finished, load_start, os.getloadavg())
    return 1 if failed else 0


def run_ci(wl, allocs, names, workdir, timeout):
    bad = 0
    for n in names:
        if allocs[n]["status"] != "ok":
            print("FAIL %-16s %-9s %s" % ("-", n, allocs[n]["status"]))
            bad += 1
    for w in wl:
        unavailable = workload_available(w)
        if unavailable:
            print("SKIP %-16s %s" % (w, unavailable))
            continue
        argv, env, stdin_path, expected = workload_cmd(w, "ci", workdir)
        for n in names:
            if allocs[n]["status"] != "ok":
                continue
            ok, why, wall, rss, result, repro = run_one(argv, allocs[n]["lib"], env, timeout, stdin_path, expected,
                                                        need_result=WORKLOADS[w]["kind"] not in ("sqlite", "gxx"))
            print("%s %-16s %-9s%s" % ("ok  " if ok else "FAIL", w, n, "" if ok else "  " + why + "\n     repro: " + repro),
                  flush=True)
            bad += not ok
    # the scaling programs at more threads than cores
    for sname, s in SCALING.items():
        argv = [os.path.join(BIN, s["prog"]), "-t", "8"] + s["ci"].split()
        for n in names:
            if allocs[n]["status"] != "ok":
                continue
            ok, why, wall, rss, result, repro = run_one(argv, allocs[n]["lib"], {}, timeout)
            print("%s %-16s %-9s%s" % ("ok  " if ok else "FAIL", "scale-%s-t8" % sname, n,
                                       "" if ok else "  " + why + "\n     repro: " + repro), flush=True)
            bad += not ok
    print("bench-ci: %s" % ("all passed" if not bad else "%d failure(s)" % bad))
    return 1 if bad else 0

# ------------------------------------------------------------- report


def report(a, size, reps, threads, names, allocs, present, wl, runs, scaling, cg, failed,
           started, finished, load_start, load_end):
    base = "scmalloc" if "scmalloc" in present else ("glibc" if "glibc" in present else (present[0] if present else None))
    peers = [n for n in present if n != base]

    def cell(w, n):
        rs = [x for x in runs if x.workload == w and x.alloc == n]
        if not rs:
            return None
        if (w, n) in failed:
            return {"status": "FAIL", "n": len(rs)}
        res = {"status": "ok", "n": len(rs),
               "wall": median([x.wall for x in rs]), "rss": median([x.rss for x in rs])}
        ops = [float(x.result["ops_per_sec"]) for x in rs if "ops_per_sec" in x.result]
        res["ops"] = median(ops) if ops else None
        flt = [float(x.result["minor_faults"]) for x in rs if "minor_faults" in x.result]
        res["faults"] = median(flt) if flt else None
        for key in {k for (ww, k) in EXTRA_METRICS if ww == w}:
            vals = [float(x.result[key]) for x in rs if key in x.result]
            res[key] = median(vals) if vals else None
        return res

    cells = {(w, n): cell(w, n) for w in wl for n in present}
    done_wl = [w for w in wl if any(cells[(w, n)] for n in present)]

    def ratio(w, n, key):
        c, b = cells.get((w, n)), cells.get((w, base))
        if not c or not b or c["status"] != "ok" or b["status"] != "ok" or not b[key]:
            return None
        return c[key] / b[key]

    def val(w, n, key, fmt):
        c = cells.get((w, n))
        if c is None:
            return "-"
        if c["status"] != "ok":
            return "**FAIL**"
        return fmt(c[key]) if c.get(key) is not None else "-"

    md = []
    md.append("# scmalloc benchmarks (%s run)" % size)
    md.append("")
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    md.append("- date: %s (took %s)" % (started.strftime("%Y-%m-%d %H:%M:%S"),
                                        str(finished - started).split(".")[0]))
    md.append("- machine: nproc %d, %s, %s, kernel %s, %s" % (os.cpu_count(), cpu, mem, platform.release(),
                                                             sh("gcc --version | head -1")))
    md.append("- load average at start / end: %.2f / %.2f (a shared, noisy machine: read small differences as noise)"
              % (load_start[0], load_end[0]))
    md.append("- what a 4 KiB page costs here, microseconds (bench/pagecost, run once before the workloads): %s"
              % (getattr(a, "pagecost", None) or "not measured"))
    md.append("- repetitions: %d per workload and allocator, interleaved; medians shown (scaling runs: %d)"
              % (reps, 1 if size == "quick" else min(reps, 3)))
    md.append("- command: `%s`" % " ".join(shlex.quote(x) for x in sys.argv))
    if a.label:
        md.append("- label: %s" % a.label)
    md.append("")
    md.append(md_table(["allocator", "status", "version", "library"],
                       [[n, allocs[n]["status"], allocs[n]["version"] or "-", allocs[n]["path"] or "-"]
                        for n in names]))
    md.append("")
    if base != "scmalloc":
        md.append("**scmalloc is absent: ratios are relative to %s instead.**" % base)
        md.append("")
    md.append("Ratios: peer / %s, of median wall time and of median peak RSS. Above 1: %s is faster "
              "(or smaller); below 1: the peer is." % (base, base))
    md.append("")

    if done_wl:   # none with --scaling-only
        # summary
        rows = []
        macro = [w for w in done_wl if not w.startswith("micro")]
        for n in peers:
            tr = [ratio(w, n, "wall") for w in done_wl]
            rr = [ratio(w, n, "rss") for w in done_wl]
            rows.append([n, fnum(geomean(tr)), fnum(geomean(rr)),
                         fnum(geomean([ratio(w, n, "wall") for w in macro])),
                         fnum(geomean([ratio(w, n, "rss") for w in macro])), sum(1 for x in tr if x)])
        md.append("## Summary: geometric means over the workloads")
        md.append("")
        md.append(md_table(["peer", "time ratio vs " + str(base), "peak RSS ratio vs " + str(base),
                            "time ratio, no micro-*", "peak RSS ratio, no micro-*", "workloads compared"], rows))
        md.append("")
        md.append("(The micro-* runs hold almost no memory, so their RSS ratios mostly compare the "
                  "allocators' fixed start-up footprint; the no-micro columns leave them out.)")
        md.append("")

        # time
        hdr = ["workload"] + ["%s s" % n for n in present] + ["%s/%s" % (n, base) for n in peers]
        rows = []
        for w in done_wl:
            rows.append([w] + [val(w, n, "wall", lambda v: "%.3f" % v) for n in present]
                        + [fnum(ratio(w, n, "wall")) for n in peers])
        rows.append(["**geomean**"] + ["" for _ in present]
                    + ["**%s**" % fnum(geomean([ratio(w, n, "wall") for w in done_wl])) for n in peers])
        md.append("## Wall time (median seconds) and time ratios")
        md.append("")
        md.append(md_table(hdr, rows))
        md.append("")

        # rss
        hdr = ["workload"] + ["%s MiB" % n for n in present] + ["%s/%s" % (n, base) for n in peers]
        rows = []
        for w in done_wl:
            rows.append([w] + [val(w, n, "rss", lambda v: "%.1f" % (v / 1024)) for n in present]
                        + [fnum(ratio(w, n, "rss")) for n in peers])
        rows.append(["**geomean**"] + ["" for _ in present]
                    + ["**%s**" % fnum(geomean([ratio(w, n, "rss") for w in done_wl])) for n in peers])
        md.append("## Peak RSS (median MiB, ru_maxrss) and RSS ratios")
        md.append("")
        md.append(md_table(hdr, rows))
        md.append("")

        # page faults
        rows = [[w] + [val(w, n, "faults", fnum) for n in present] for w in done_wl
                if any(cells[(w, n)] and cells[(w, n)].get("faults") is not None for n in present)]
        if rows:
            md.append("## Minor page faults (median; each is a trap and, for a fresh page, a page to zero)")
            md.append("")
            md.append(md_table(["workload"] + present, rows))
            md.append("")

        # throughput
        rows = [[w] + [val(w, n, "ops", fnum) for n in present] for w in done_wl
                if any(cells[(w, n)] and cells[(w, n)].get("ops") for n in present)]
        if rows:
            md.append("## Throughput (median ops/s, as the workload reports it; higher is better)")
            md.append("")
            md.append(md_table(["workload"] + present, rows))
            md.append("")

        # workload figures
        rows = []
        for (w, key) in EXTRA_METRICS:
            if w in done_wl:
                rows.append(["%s %s" % (w, key)] + [val(w, n, key, fnum) for n in present])
        if rows:
            md.append("## Workload figures (medians; RSS in KiB from /proc/self/statm; lower is better)")
            md.append("")
            md.append(md_table(["figure"] + present, rows))
            md.append("")

    # callgrind
    if cg:
        md.append("## Instructions per malloc/free pair (callgrind, 1 thread)")
        md.append("")
        md.append("Instructions executed outside the benchmark binary (the allocator, and libc "
                  "for glibc): (Ir(2N pairs) - Ir(N pairs)) / N with `micro -t 1 -S size`, N = %d." % CG_PAIRS[size])
        md.append("")
        md.append(md_table(["size"] + present,
                           [["%d B" % sz] + [fnum(cg.get((n, sz)), 4) if not isinstance(cg.get((n, sz)), str)
                                             else cg[(n, sz)] for n in present] for sz in (16, 64)]))
        md.append("")

    # scaling
    scal = {}
    if scaling:
        md.append("## Thread scaling (median aggregate ops/s; fixed work per thread)")
        md.append("")
        for sname, s in SCALING.items():
            rows = []
            for t in threads:
                row = ["%d" % t]
                for n in present:
                    rs = [x for x in scaling if x.workload == "scale-" + sname and x.alloc == n and x.threads == t]
                    if not rs:
                        row.append("-")
                        continue
                    if ("scale-" + sname, n, t) in failed:
                        row.append("**FAIL**")
                        continue
                    v = median([float(x.result[s["metric"]]) for x in rs if s["metric"] in x.result])
                    scal[(sname, n, t)] = v
                    row.append(fnum(v))
                rows.append(row)
            if any(r[1:] != ["-"] * len(present) for r in rows):
                md.append("%s (`%s -t T %s`)" % (sname, s["prog"], s[size]))
                md.append("")
                md.append(md_table(["threads"] + present, rows))
                md.append("")

    # failures
    md.append("## Failures")
    md.append("")
    if failed:
        for key, x in failed.items():
            md.append("- %s under %s%s: %s  \n  reproduce: `%s`" % (
                x.workload, x.alloc, (" (t=%d)" % x.threads) if x.threads else "", x.why, x.cmd))
    else:
        md.append("none")
    md.append("")

    # workloads
    rows = []
    if done_wl:
        md.append("## Workloads")
        md.append("")
    for w in done_wl:
        W = WORKLOADS[w]
        if W["kind"] == "bin":
            cmd = "bench/bin/%s %s" % (W["prog"], W[size])
        elif W["kind"] == "python":
            cmd = "%s%s bench/py_work.py %d" % ("".join("%s=%s " % kv for kv in W["env"].items()), PYTHON, W[size])
        elif W["kind"] == "gxx":
            cmd = "%s -O1 -o gxx_%d.bin bench/results/work/gxx_%d.cc && ./gxx_%d.bin" % (GXX, W[size], W[size], W[size])
        else:
            cmd = "%s -batch :memory: < bench/results/work/sqlite_%d.sql" % (SQLITE, W[size])
        rows.append([w, W["note"], "`%s`" % cmd])
    if rows:
        md.append(md_table(["workload", "what", "command"], rows))
        md.append("")

    plots = make_plots(a.out, base, peers, present, done_wl, ratio, scal, threads, size)
    if plots:
        md.append("## Plots")
        md.append("")
        for p in plots:
            md.append("![%s](%s)" % (p, p))
        md.append("")

    text = "\n".join(md)
    with open(os.path.join(a.out, "latest.md"), "w") as f:
        f.write(text)

    with open(os.path.join(a.out, "latest.csv"), "w", newline="") as f:
        keys = sorted({k for (_, k) in EXTRA_METRICS})
        cw = csv.writer(f)
        cw.writerow(["section", "workload", "allocator", "threads", "status", "runs", "wall_s_median",
                     "peak_rss_kb_median", "ops_per_sec_median", "time_ratio_vs_" + str(base),
                     "rss_ratio_vs_" + str(base)] + keys + ["instr_per_pair", "minor_faults_median"])
        for w in done_wl:
            for n in present:
                c = cells.get((w, n))
                if not c:
                    continue
                ok = c["status"] == "ok"
                cw.writerow(["main", w, n, "", c["status"], c["n"],
                             "%.6f" % c["wall"] if ok else "", "%d" % c["rss"] if ok else "",
                             "%.1f" % c["ops"] if ok and c.get("ops") else "",
                             "%.4f" % ratio(w, n, "wall") if ratio(w, n, "wall") else "",
                             "%.4f" % ratio(w, n, "rss") if ratio(w, n, "rss") else ""]
                            + [("%g" % c[k]) if ok and c.get(k) is not None else "" for k in keys]
                            + ["", "%d" % c["faults"] if ok and c.get("faults") is not None else ""])
        for (sname, n, t), v in sorted(scal.items()):
            cw.writerow(["scaling", sname, n, t, "ok", "", "", "", "%.1f" % v, "", ""] + ["" for _ in keys] + ["", ""])
        for (n, sz), v in sorted(cg.items()):
            cw.writerow(["callgrind", "micro-%d" % sz, n, 1, "ok" if not isinstance(v, str) else v,
                         "", "", "", "", "", ""] + ["" for _ in keys] + ["%.1f" % v if not isinstance(v, str) else "", ""])
    with open(os.path.join(a.out, "latest_runs.csv"), "w", newline="") as f:
        cw = csv.writer(f)
        cw.writerow(["workload", "allocator", "threads", "rep", "ok", "wall_s", "peak_rss_kb", "ops_per_sec",
                     "why", "command", "result"])
        for x in runs + scaling:
            cw.writerow([x.workload, x.alloc, x.threads or "", x.rep + 1, int(x.ok), "%.6f" % x.wall, x.rss,
                         x.result.get("ops_per_sec", ""), x.why, x.cmd,
                         " ".join("%s=%s" % kv for kv in x.result.items())])
    print(text)
    log("wrote %s/latest.md, latest.csv, latest_runs.csv%s" % (a.out, (", " + ", ".join(plots)) if plots else ""))


def make_plots(out, base, peers, present, wl, ratio, scal, threads, size):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("python3-matplotlib is not installed (make bench-setup): no plots")
        return []
    files = []
    colors = {"scmalloc": "#d62728", "glibc": "#7f7f7f", "jemalloc": "#1f77b4", "mimalloc": "#2ca02c",
              "tcmalloc": "#ff7f0e"}
    for key, title, fname in (("wall", "time", "time_ratio.png"), ("rss", "peak RSS", "rss_ratio.png")):
        if not peers or not wl:
            break
        fig, ax = plt.subplots(figsize=(min(16, 4 + 0.5 * len(wl)), 5.5))
        width = 0.8 / len(peers)
        for i, n in enumerate(peers):
            xs = [j + (i - (len(peers) - 1) / 2) * width for j, w in enumerate(wl) if ratio(w, n, key)]
            ys = [ratio(w, n, key) for w in wl if ratio(w, n, key)]
            # bars start at 1, so they point up where the baseline wins and down where it loses
            ax.bar(xs, [y - 1 for y in ys], width, bottom=1, label=n, color=colors.get(n))
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xticks(range(len(wl)))
        ax.set_xticklabels(wl, rotation=60, ha="right", fontsize=8)
        ax.set_yscale("log")
        vals = [ratio(w, n, key) for w in wl for n in peers if ratio(w, n, key)]
        if vals:
            lo = math.floor(math.log2(min(vals + [1.0])))
            hi = math.ceil(math.log2(max(vals + [1.0])))
            ticks = [2.0 ** k for k in range(lo, hi + 1)]
            ax.set_ylim(ticks[0] / 1.1, ticks[-1] * 1.1)
            ax.set_yticks(ticks)
            ax.set_yticklabels(["%g" % t for t in ticks])
            ax.minorticks_off()
        ax.set_ylabel("%s: peer / %s (above 1: %s better)" % (title, base, base))
        ax.set_title("%s ratio to %s per workload (%s run)" % (title, base, size))
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out, fname), dpi=110)
        plt.close(fig)
        files.append(fname)
    for sname in SCALING:
        if not any(k[0] == sname for k in scal):
            continue
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for n in present:
            xs = [t for t in threads if (sname, n, t) in scal]
            if xs:
                ax.plot(xs, [scal[(sname, n, t)] for t in xs], marker="o", label=n, color=colors.get(n))
        ax.set_xscale("log", base=2)
        ax.set_xticks(threads)
        ax.set_xticklabels([str(t) for t in threads])
        ax.set_xlabel("threads (machine has %d CPUs)" % os.cpu_count())
        ax.set_ylabel("ops/s (aggregate)")
        ax.set_ylim(bottom=0)
        ax.set_title("%s: throughput vs threads (%s run)" % (sname, size))
        ax.legend(fontsize=8)
        fig.tight_layout()
        fname = "scaling_%s.png" % sname.replace("-", "")
        fig.savefig(os.path.join(out, fname), dpi=110)
        plt.close(fig)
        files.append(fname)
    return files


if __name__ == "__main__":
    sys.exit(main())
