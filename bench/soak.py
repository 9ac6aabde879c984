#!/usr/bin/python3
"""Soak: run bench/bin/soak for a long time under scmalloc (and glibc for
comparison), sampling RSS every second, and tell whether RSS levels off.

    /usr/bin/python3 bench/soak.py [--seconds 600] [--lib build/libscmalloc.so]
                                   [--allocators scmalloc,glibc] [--out bench/results]

The allocators run side by side (same machine, same time), each in its own
process. Writes OUT/soak.csv (allocator, second, rss_kb) and OUT/soak.png,
and prints per allocator the RSS at 40-60% of the run and over the last 20%:
RSS "levels off" when the latter is within 10% of the former. Exit status 1
if scmalloc's RSS does not level off or a run fails.
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--lib", default=os.path.join(ROOT, "build", "libscmalloc.so"))
    ap.add_argument("--allocators", default="scmalloc,glibc")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()

    subprocess.run(["make", "-s", "-C", HERE, "bin/soak"], check=True)
    libs = {"scmalloc": os.path.abspath(args.lib), "glibc": None,
            "jemalloc": "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
            "mimalloc": "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2",
            "tcmalloc": "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"}
    procs = {}
    for name in args.allocators.split(","):
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        if libs.get(name):
            if not os.path.exists(libs[name]):
                print(f"{name}: absent ({libs[name]})")
                continue
            env["LD_PRELOAD"] = libs[name]
        procs[name] = subprocess.Popen([os.path.join(HERE, "bin", "soak"), "-d", str(args.seconds)],
                                       env=env, stdout=subprocess.PIPE, text=True)
    samples, failed = {}, False
    for name, p in procs.items():
        out, _ = p.communicate()
        if p.returncode != 0:
            print(f"{name}: soak exited {p.returncode}")
            failed = True
        samples[name] = [(int(m.group(1)), int(m.group(2)))
                         for m in re.finditer(r"sample t=(\d+) rss_kb=(\d+)", out)]

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "soak.csv"), "w") as f:
        f.write("allocator,second,rss_kb\n")
        for name, s in samples.items():
            for t, rss in s:
                f.write(f"{name},{t},{rss}\n")

    verdict_ok = True
    for name, s in samples.items():
        if len(s) < 10:
            print(f"{name}: too few samples")
            verdict_ok = verdict_ok and name != "scmalloc"
            continue
        n = len(s)
        mid = [r for _, r in s[int(n * 0.4):int(n * 0.6)]]
        end = [r for _, r in s[int(n * 0.8):]]
        m, e = sum(mid) / len(mid), sum(end) / len(end)
        ok = e <= m * 1.10
        print(f"{name}: RSS {m / 1024:.1f} MiB at 40-60% of the run, {e / 1024:.1f} MiB over the last 20%: "
              f"{'levels off' if ok else 'still growing'} (max {max(r for _, r in s) / 1024:.1f} MiB)")
        if name == "scmalloc":
            verdict_ok = ok

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for name, s in samples.items():
            ax.plot([t for t, _ in s], [r / 1024 for _, r in s], label=name)
        ax.set_xlabel("seconds")
        ax.set_ylabel("RSS (MiB)")
        ax.set_title(f"soak: stable live heap, shifting size mix, {args.seconds} s")
        ax.set_ylim(bottom=0)
        ax.legend()
        fig.tight_layout()
        fig.savefig(os.path.join(args.out, "soak.png"), dpi=100)
        print(f"wrote {os.path.join(args.out, 'soak.csv')} and soak.png")
    except ImportError:
        print("matplotlib absent: no plot (make bench-setup installs it)")
    return 1 if failed or not verdict_ok else 0


if __name__ == "__main__":
    sys.exit(main())
