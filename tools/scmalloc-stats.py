#!/usr/bin/python3
"""scmalloc-stats: draws scmalloc's JSON statistics dump as one PNG.

    scmalloc-stats.py STATS.json -o OUT.png
    scmalloc-stats.py - -o OUT.png          (the dump on standard input)

STATS.json is the whole output of sc_stats_print(write_cb, opaque, "J")
(include/scmalloc.h; schema in src/stats.c, print_json). The text format
that SCMALLOC_CONF=stats_print:true prints at exit is not accepted; add
stats_print_opts:J to get JSON there.

The figure (PNG, Agg backend, no display needed) has three panels under a
title with the version, page and chunk size and the number of arenas:

  (a) small size classes, summed over the arenas: bytes in live regions
      (curregs * size; regions held in thread caches count as live, as in
      scmalloc's "allocated") beside the bytes of the slabs holding them
      (curslabs * slab_size, the class's share of "active"), log scale,
      with the slabs' fill percentage above each pair. Classes without
      slabs are left out.
  (b) per arena: active, dirty and retained pages (stacked), with the
      bytes of live small and large blocks marked on each bar. Huge blocks
      belong to no arena and are not in this panel.
  (c) the whole heap: allocated (split into small / large / huge), active,
      resident, mapped, dirty, retained and metadata, in KiB/MiB/GiB.

Needs python3-matplotlib (Debian). Exit status: 0 written; 1 the input is
not a scmalloc JSON dump, or reading, drawing or writing failed (one line
on stderr says why); 2 bad command line.
"""
import argparse
import importlib.util
import json
import math
import sys

PROG = "scmalloc-stats"

# The fields this tool reads; print_json writes more (counters of requests,
# fills, flushes, locks), which the picture does not need.
TOP_FIELDS = ("page_size", "chunk_size", "narenas")
STATS_FIELDS = ("allocated", "active", "resident", "mapped", "dirty", "retained",
                "metadata", "small_allocated", "large_allocated", "huge_allocated")
HUGE_FIELDS = ("count", "allocated")
ARENA_FIELDS = ("index", "nthreads", "active", "dirty", "retained",
                "small_allocated", "large_allocated")
BIN_FIELDS = ("size", "nregs", "slab_size", "curregs", "curslabs")

UNITS = (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10))


class DumpError(Exception):
    """The input is not a scmalloc JSON statistics dump."""


# ---- reading and checking ----------------------------------------------------

def _object(value, where):
    if not isinstance(value, dict):
        raise DumpError(f"{where} is not an object")
    return value


def _counts(obj, fields, where):
    """Checks that obj has each field as a non-negative integer."""
    for name in fields:
        if name not in obj:
            raise DumpError(f"{where}.{name} is missing")
        v = obj[name]
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise DumpError(f"{where}.{name} is not a non-negative integer: {v!r}")


def load_dump(text):
    """Parses and checks a dump; returns its "scmalloc" object."""
    try:
        doc = json.loads(text)
    except ValueError as e:
        if text.lstrip().startswith("___ scmalloc"):
            raise DumpError("this is the text format (what stats_print:true prints at exit); "
                            "the JSON comes from sc_stats_print with \"J\", or at exit "
                            "with SCMALLOC_CONF=stats_print:true,stats_print_opts:J") from None
        raise DumpError(f"not JSON ({e})") from None
    if not isinstance(doc, dict) or "scmalloc" not in doc:
        raise DumpError('no top-level "scmalloc" object')
    d = _object(doc["scmalloc"], "scmalloc")
    if not isinstance(d.get("version"), str):
        raise DumpError("scmalloc.version is missing or not a string")
    _counts(d, TOP_FIELDS, "scmalloc")
    if d["page_size"] == 0 or d["page_size"] & (d["page_size"] - 1):
        raise DumpError(f"scmalloc.page_size is not a power of two: {d['page_size']}")
    _counts(_object(d.get("stats"), "scmalloc.stats"), STATS_FIELDS, "scmalloc.stats")
    _counts(_object(d.get("huge"), "scmalloc.huge"), HUGE_FIELDS, "scmalloc.huge")
    if not isinstance(d.get("options", {}), dict):
        raise DumpError("scmalloc.options is not an object")
    arenas = d.get("arenas")
    if not isinstance(arenas, list):
        raise DumpError("scmalloc.arenas is missing or not a list")
    for i, a in enumerate(arenas):
        where = f"scmalloc.arenas[{i}]"
        _counts(_object(a, where), ARENA_FIELDS, where)
        bins = a.get("bins")
        if not isinstance(bins, list):
            raise DumpError(f"{where}.bins is missing or not a list")
        for j, b in enumerate(bins):
            bwhere = f"{where}.bins[{j}]"
            _counts(_object(b, bwhere), BIN_FIELDS, bwhere)
            if b["size"] == 0:
                raise DumpError(f"{bwhere}.size is 0")
    return d


def size_classes(d):
    """Per small size class, summed over the arenas, in size order: a list
    of dicts with size, allocated (bytes in live regions), slab_bytes
    (bytes of the slabs holding them), curregs, capacity (regions those
    slabs hold)."""
    by_size = {}
    for a in d["arenas"]:
        for b in a["bins"]:
            c = by_size.setdefault(b["size"], {"size": b["size"], "allocated": 0,
                                               "slab_bytes": 0, "curregs": 0, "capacity": 0})
            c["allocated"] += b["curregs"] * b["size"]
            c["slab_bytes"] += b["curslabs"] * b["slab_size"]
            c["curregs"] += b["curregs"]
            c["capacity"] += b["curslabs"] * b["nregs"]
    return [by_size[s] for s in sorted(by_size)]


# ---- units -------------------------------------------------------------------

def human(n):
    """Bytes as a short text: 512 B, 3.5 KiB, 120 MiB, 1.02 GiB."""
    for name, size in UNITS:
        if n >= size:
            v = n / size
            return f"{v:.3g} {name}" if v < 1000 else f"{v:.0f} {name}"
    return f"{n} B"


def axis_unit(largest):
    """The unit (name, bytes) for an axis whose largest value is given."""
    for name, size in UNITS:
        if largest >= size:
            return name, size
    return "bytes", 1


# ---- drawing -----------------------------------------------------------------

COLORS = {
    "allocated": "#1f77b4", "small": "#1f77b4", "large": "#6baed6", "huge": "#c6dbef",
    "slabs": "#ff7f0e", "active": "#2ca02c", "dirty": "#d62728", "retained": "#9e9e9e",
    "resident": "#ff7f0e", "mapped": "#8c564b", "metadata": "#9467bd",
}


def draw_classes(ax, d, mticker):
    classes = size_classes(d)
    used = [c for c in classes if c["slab_bytes"] or c["allocated"]]
    if not used:
        shown = f"none of {len(classes)} classes has slabs"
    elif len(used) == len(classes):
        shown = f"all {len(classes)} classes"
    else:
        shown = f"the {len(used)} of {len(classes)} classes that have slabs"
    ax.set_title(f"(a) small size classes, all arenas: live bytes and the slabs holding them ({shown})",
                 loc="left", fontsize=11)
    if not used:
        ax.text(0.5, 0.5, "no small blocks", ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    xs = range(len(used))
    width = 0.4
    alloc = [c["allocated"] for c in used]
    slabs = [c["slab_bytes"] for c in used]
    ax.bar([x - width / 2 for x in xs], alloc, width, color=COLORS["allocated"],
           label="live regions (curregs \u00d7 size)")
    ax.bar([x + width / 2 for x in xs], slabs, width, color=COLORS["slabs"],
           label="slabs holding them (curslabs \u00d7 slab_size)")
    ax.set_yscale("log")
    top = max(max(alloc), max(slabs))
    bottom = min(v for v in alloc + slabs if v > 0)
    # log2 range of the bars, plus headroom above the tallest one for the
    # percentages and the legend; ticks at powers of two, at most ~8,
    # labelled in KiB/MiB/GiB, the lowest one at or below the shortest bar
    lo = bottom.bit_length() - 1
    head = 1.5 + 0.3 * (top.bit_length() - lo)
    hi = top.bit_length() + head
    step = max(1, math.ceil((hi - lo) / 8))
    ticks = [1 << k for k in range(lo - lo % step, int(hi) + 1, step)]
    ax.set_ylim(ticks[0], top * 2 ** head)
    ax.yaxis.set_major_locator(mticker.FixedLocator(ticks))
    ax.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: human(int(v))))
    ax.yaxis.set_minor_locator(mticker.NullLocator())
    ax.set_ylabel("bytes (log scale)")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([str(c["size"]) for c in used], rotation=90, fontsize=8)
    ax.set_xlabel("size class (bytes)")
    ax.set_xlim(-0.7, len(used) - 0.3)
    for x, c in zip(xs, used):
        if c["capacity"]:
            fill = 100.0 * c["curregs"] / c["capacity"]
            ax.text(x, max(c["slab_bytes"], c["allocated"]) * 1.25, f"{fill:.0f}%",
                    ha="center", va="bottom", fontsize=7, color="#444444")
    ax.grid(axis="y", color="#dddddd")
    ax.set_axisbelow(True)
    ax.legend(loc="upper left", fontsize=9, ncol=2, title="percent: regions of the slabs in use",
              title_fontsize=8)


def draw_arenas(ax, d):
    arenas = d["arenas"]
    ax.set_title("(b) per arena: pages (huge blocks are in no arena)", loc="left", fontsize=11)
    if not arenas:
        ax.text(0.5, 0.5, "no arena in use", ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    parts = ("active", "dirty", "retained")
    largest = max(sum(a[p] for p in parts) for a in arenas)
    uname, usize = axis_unit(largest)
    xs = list(range(len(arenas)))
    bottom = [0.0] * len(arenas)
    for p in parts:
        vals = [a[p] / usize for a in arenas]
        ax.bar(xs, vals, 0.7, bottom=bottom, color=COLORS[p], label=p)
        bottom = [b + v for b, v in zip(bottom, vals)]
    live = [(a["small_allocated"] + a["large_allocated"]) / usize for a in arenas]
    ax.scatter(xs, live, marker="_", s=400 if len(arenas) <= 16 else 80, linewidths=2.5,
               color="black", zorder=3, label="live small + large blocks")
    every = max(1, -(-len(arenas) // 24))
    ax.set_xticks(xs[::every])
    ax.set_xticklabels([str(a["index"]) for a in arenas][::every], fontsize=8)
    ax.set_xlabel("arena")
    ax.set_ylabel(uname)
    ax.set_ylim(0, largest / usize * 1.3)
    ax.grid(axis="y", color="#dddddd")
    ax.set_axisbelow(True)
    ax.legend(loc="upper right", fontsize=8, ncol=2)


def draw_heap(ax, d):
    s = d["stats"]
    ax.set_title("(c) the whole heap", loc="left", fontsize=11)
    rows = ("allocated", "active", "resident", "mapped", "dirty", "retained", "metadata")
    largest = max(max(s[r] for r in rows), 1024)  # an empty heap gets a KiB axis
    uname, usize = axis_unit(largest)
    ys = list(range(len(rows)))
    # allocated, split by kind of block
    left = 0.0
    for kind in ("small", "large", "huge"):
        v = s[f"{kind}_allocated"] / usize
        ax.barh(0, v, 0.6, left=left, color=COLORS[kind], label=f"{kind} ({human(s[f'{kind}_allocated'])})")
        left += v
    for y, r in zip(ys[1:], rows[1:]):
        ax.barh(y, s[r] / usize, 0.6, color=COLORS[r])
    for y, r in zip(ys, rows):
        ax.text(s[r] / usize + largest / usize * 0.01, y, human(s[r]), va="center", fontsize=9)
    ax.set_yticks(ys)
    ax.set_yticklabels(rows)
    ax.invert_yaxis()
    ax.set_xlim(0, largest / usize * 1.25)
    ax.set_xlabel(uname)
    ax.grid(axis="x", color="#dddddd")
    ax.set_axisbelow(True)
    ax.legend(loc="lower right", fontsize=8, title="allocated", title_fontsize=8)


def draw(d, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker as mticker

    fig = plt.figure(figsize=(14, 10), dpi=100)
    grid = fig.add_gridspec(2, 2, height_ratios=(1.1, 1), width_ratios=(1, 1.15))
    draw_classes(fig.add_subplot(grid[0, :]), d, mticker)
    draw_arenas(fig.add_subplot(grid[1, 0]), d)
    draw_heap(fig.add_subplot(grid[1, 1]), d)
    s, h = d["stats"], d["huge"]
    fig.suptitle(f"scmalloc {d['version']}: page {human(d['page_size'])}, "
                 f"chunk {human(d['chunk_size'])}, {len(d['arenas'])} arenas in use "
                 f"of {d['narenas']}, {h['count']} huge blocks; "
                 f"allocated {human(s['allocated'])}, resident {human(s['resident'])}",
                 fontsize=13)
    opts = d.get("options") or {}
    if opts:
        text = "options: " + ", ".join(f"{k}={json.dumps(v)}" for k, v in opts.items())
        fig.text(0.01, 0.005, text, fontsize=7, color="#555555", va="bottom", wrap=True)
    fig.tight_layout(rect=(0, 0.025, 1, 0.97))
    fig.savefig(out, format="png")
    plt.close(fig)


# ---- command line ------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(
        prog=PROG, description="Draw scmalloc's JSON statistics (sc_stats_print with \"J\") as a PNG.")
    ap.add_argument("stats", metavar="STATS.json", help='the JSON dump; "-" reads standard input')
    ap.add_argument("-o", "--output", metavar="OUT.png", required=True, help="the PNG to write")
    args = ap.parse_args(argv)

    name = "standard input" if args.stats == "-" else args.stats
    try:
        if args.stats == "-":
            text = sys.stdin.read()
        else:
            with open(args.stats, encoding="utf-8") as f:
                text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        print(f"{PROG}: cannot read {name}: {e}", file=sys.stderr)
        return 1
    try:
        d = load_dump(text)
    except DumpError as e:
        print(f"{PROG}: {name} is not a scmalloc JSON statistics dump "
              f"(sc_stats_print with \"J\"): {e}", file=sys.stderr)
        return 1
    if importlib.util.find_spec("matplotlib") is None:
        print(f"{PROG}: matplotlib is missing (Debian: apt-get install python3-matplotlib)",
              file=sys.stderr)
        return 1
    try:
        draw(d, args.output)
    except OSError as e:
        print(f"{PROG}: cannot write {args.output}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
