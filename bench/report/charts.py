"""The report's charts, drawn by matplotlib as SVG (bench/report/make_report.py calls these).

Each function takes the records make_report.py already holds, writes one SVG file and returns its
path, or None when there is nothing to draw. The output is deterministic for the same input and
matplotlib version: fixed svg.hashsalt, text kept as text (svg.fonttype none), no date metadata.
Figures are about 1,000 px wide and at most 1,000 px tall (inches at 96 px per inch).
"""
import math

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.patheffects import Normal, Stroke  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, MultipleLocator, NullLocator  # noqa: E402

from make_report import API_ORDER, ENGINE_ORDER, PEERS, TARGET_ORDER, TARGET_RECALL  # noqa: E402

COLORS = {"edgevec-native": "#d62728", "edgevec-wasm": "#ff7f0e", "hnswlib": "#1f77b4", "faiss": "#2ca02c",
          "usearch": "#9467bd"}
ALLOCATOR_ORDER = ("system", "dlmalloc", "jemalloc", "arena", "n/a")
ALLOCATOR_COLORS = {"system": "#4477aa", "dlmalloc": "#66ccee", "jemalloc": "#ee6677", "arena": "#228833",
                    "n/a": "#bbbbbb"}
ALLOCATOR_LABELS = {"system": "system malloc (glibc)", "dlmalloc": "dlmalloc (wasi-libc)", "jemalloc": "jemalloc",
                    "arena": "bump arena", "n/a": "no allocator choice"}
API_HATCHES = {"single": "", "batch100": "////", "batch1000": "xxxx", "batch": "...."}
API_LABELS = {"single": "one insert per call", "batch100": "batches of 100", "batch1000": "batches of 1,000",
              "batch": "one batch call"}
TARGET_LABELS = {"native-swift": "native-\nswift", "native-swift-sse": "native-\nswift-sse", "native-c": "native-c",
                 "wasm-node": "wasm-\nnode", "wasm-chromium": "wasm-\nchromium"}
SINGLE_LINE, BATCH_LINE = (0, (5, 3)), (0, (1, 2))
HALO = [Stroke(linewidth=3, foreground="white", alpha=0.8), Normal()]
RECALL_LINES = (0.90, TARGET_RECALL, 0.99)
INSERT_TITLE = ("Insert: µs per vector, 128-d, M 16, efConstruction 200 (median; log scale; lower is faster)")
SEARCH_SUBTITLE = "one thread, M 16, efConstruction 200, k 10; points are ef values"
WIDTH_IN = 10.4      # 998 px at 96 px per inch
MAX_HEIGHT_IN = 10.0  # 960 px
RC = {"svg.hashsalt": "edgevec-report", "svg.fonttype": "none", "font.family": "sans-serif",
      "font.size": 9, "axes.titlesize": 10, "figure.titlesize": 13, "legend.fontsize": 8.5,
      "hatch.linewidth": 0.8, "axes.spines.top": False, "axes.spines.right": False}


def human(v, _pos=None):
    if v >= 1e6:
        return f"{v / 1e6:g}M"
    if v >= 1e3:
        return f"{v / 1e3:g}k"
    return f"{v:g}"


def _nice_below(v):
    """The largest 1, 2 or 5 times a power of ten at most v."""
    e = math.floor(math.log10(v))
    return max(m * 10.0 ** k for k in (e - 1, e) for m in (1, 2, 5) if m * 10.0 ** k <= v)


def _nice_above(v):
    e = math.floor(math.log10(v))
    return min(m * 10.0 ** k for k in (e, e + 1) for m in (1, 2, 5) if m * 10.0 ** k >= v)


def _log_axis(axis):
    axis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
    axis.set_major_formatter(FuncFormatter(human))
    axis.set_minor_locator(NullLocator())


def _save(fig, path):
    with matplotlib.rc_context(RC):
        fig.savefig(path, format="svg", metadata={"Date": None})
    return path


def _ordered(keys, order):
    return [k for k in order if k in keys] + sorted(k for k in keys if k not in order)


# ---------------------------------------------------------------- recall against queries/s

def recall_qps_chart(path, title, per_engine):
    """per_engine: {engine: [rows with recall_at_10, qps, ef, optionally qps_low and qps_high]}. x recall@10,
    y queries/s (log), one line per engine, dashed lines at recall 0.90, 0.95 (bold) and 0.99."""
    curves = {}
    for engine, rows in per_engine.items():
        pts = sorted((r for r in rows if r.get("recall_at_10") is not None and r.get("qps")),
                     key=lambda r: (r.get("ef") or 0, r["recall_at_10"]))
        if pts:
            curves[engine] = pts
    if not curves:
        return None
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, 5.6), layout="constrained")
        ax = fig.add_subplot()
        recalls = [r["recall_at_10"] for rows in curves.values() for r in rows]
        qps = [v for rows in curves.values() for r in rows
               for v in (r["qps"], r.get("qps_low"), r.get("qps_high")) if v]
        x0 = math.floor((min(min(recalls), 0.9) - 0.01) * 100) / 100
        x0 = max(0.0, x0)
        span = 1.0 - x0
        ax.set_xlim(x0, 1.0 + 0.015 * span)
        ax.xaxis.set_major_locator(MultipleLocator(0.01 if span <= 0.12 else 0.02 if span <= 0.3 else 0.05 if span <= 0.6
                                                   else 0.1))
        ax.set_yscale("log")
        ax.set_ylim(min(qps) / 1.2, max(qps) * 1.2)
        _log_axis(ax.yaxis)
        ax.grid(True, which="major", color="#e5e5e5", linewidth=0.8)
        ax.set_axisbelow(True)

        lines = [x for x in RECALL_LINES if x0 < x <= 1.0]
        for x in lines:
            target = x == TARGET_RECALL
            line = ax.axvline(x, color="#444" if target else "#999", linestyle=(0, (5, 3)),
                              linewidth=1.8 if target else 1.0, zorder=1)
            line.set_gid(f"recall-{x:.2f}")
        top = ax.secondary_xaxis("top")
        top.xaxis.set_major_locator(FixedLocator(lines))
        top.xaxis.set_major_formatter(FuncFormatter(
            lambda v, _pos: f"recall {v:.2f}" if abs(v - TARGET_RECALL) < 1e-9 else f"{v:.2f}"))
        top.tick_params(length=0, labelcolor="#555")
        for label, x in zip(top.get_xticklabels(), lines):
            if x == TARGET_RECALL:
                label.set_fontweight("bold")
                label.set_color("#222")

        for engine in _ordered(curves, ENGINE_ORDER):
            rows = curves[engine]
            color = COLORS.get(engine, "#333333")
            xs = [r["recall_at_10"] for r in rows]
            ys = [r["qps"] for r in rows]
            ax.plot(xs, ys, color=color, linewidth=2, marker="o", markersize=4, label=engine, zorder=3)
            spread = [(r["recall_at_10"], r["qps"], r.get("qps_low"), r.get("qps_high")) for r in rows
                      if r.get("qps_low") is not None or r.get("qps_high") is not None]
            if spread:
                ax.errorbar([s[0] for s in spread], [s[1] for s in spread],
                            yerr=[[max(s[1] - (s[2] if s[2] is not None else s[1]), 0) for s in spread],
                                  [max((s[3] if s[3] is not None else s[1]) - s[1], 0) for s in spread]],
                            fmt="none", ecolor=color, elinewidth=0.8, capsize=2, alpha=0.7, zorder=2)
        handles, labels = ax.get_legend_handles_labels()
        handles.append(Line2D([], [], color="#444", linestyle=(0, (5, 3)), linewidth=1.8))
        labels.append(f"recall {TARGET_RECALL:.2f}")
        if any(r.get("qps_low") is not None or r.get("qps_high") is not None for rows in curves.values() for r in rows):
            handles.append(Line2D([], [], color="#777", marker="|", markersize=8, linestyle="none"))
            labels.append("spread across passes")
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        ax.set_xlabel("recall@10 (right is more accurate)")
        ax.set_ylabel("queries/s, one thread (log scale; up is faster)")
        ax.set_title(SEARCH_SUBTITLE, fontsize=9, color="#555")
        fig.suptitle(title)
        return _save(fig, path)


# ---------------------------------------------------------------- insert matrix

def _spread(ys, gap):
    """ys (axes fractions, sorted) moved apart by at least gap, kept within [0, 1] where they fit."""
    out = list(ys)
    for i in range(1, len(out)):
        out[i] = max(out[i], out[i - 1] + gap)
    if out and out[-1] > 1.0:
        out[-1] = 1.0
        for i in range(len(out) - 2, -1, -1):
            out[i] = min(out[i], out[i + 1] - gap)
    return out


def insert_chart(path, insert_records):
    """Small multiples of the insert matrix: one panel per (data, n), rows n and columns data, a shared log
    y axis of µs per vector. EdgeVec's cells are bars grouped by target, coloured by allocator and hatched by
    API; the peers (hnswlib, faiss, usearch) are reference lines (dashed: one add per vector, dotted: batch)."""
    recs = []
    for r in insert_records:
        v = r.get("median_us_per_vector")
        if v is not None and v > 0 and r.get("data") is not None and r.get("n") is not None:
            recs.append(dict(r, allocator=r.get("allocator") or "n/a"))
    if not recs:
        return None
    datas = _ordered({r["data"] for r in recs}, ("constant", "uniform"))
    ns = sorted({r["n"] for r in recs})
    cells = {(r["data"], r["n"], r["target"], r["allocator"], r["api"]): r["median_us_per_vector"] for r in recs}
    ours = [r for r in recs if r["target"] not in PEERS]
    peers = sorted((r for r in recs if r["target"] in PEERS),
                   key=lambda r: (PEERS.index(r["target"]), r["api"] != "single", r["api"]))

    # One x slot per (target, allocator, api) found in any panel, the same in every panel.
    slots, groups, x = [], [], 0.0
    for target in _ordered({r["target"] for r in ours}, TARGET_ORDER):
        start = x
        allocs = _ordered({r["allocator"] for r in ours if r["target"] == target}, ALLOCATOR_ORDER)
        for allocator in allocs:
            apis = _ordered({r["api"] for r in ours if r["target"] == target and r["allocator"] == allocator},
                            API_ORDER)
            for api in apis:
                slots.append((x, target, allocator, api))
                x += 1
            x += 0.35
        groups.append((target, (start + x - 1.35) / 2))
        x += 1.0
    values = [r["median_us_per_vector"] for r in recs]
    ylo, yhi = _nice_below(min(values) / 1.25), max(values) * 1.3

    rows, cols = len(ns), len(datas)
    height = min(MAX_HEIGHT_IN, 1.9 + 2.65 * rows)
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, height), layout="constrained")
        fig.get_layout_engine().set(w_pad=0.1, h_pad=0.04, wspace=0.04, hspace=0.06)
        axes = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
        present = {(r["data"], r["n"]) for r in recs}
        missing_any = False
        peer_labels = []
        for i, n in enumerate(ns):
            for j, data in enumerate(datas):
                ax = axes[i][j]
                ax.set_yscale("log")
                ax.set_ylim(ylo, yhi)
                _log_axis(ax.yaxis)
                ax.set_xlim(-0.8, (slots[-1][0] if slots else 0.0) + 0.8)
                ax.set_xticks([c for _, c in groups], [TARGET_LABELS.get(t, t) for t, _ in groups])
                ax.tick_params(axis="x", length=0)
                ax.grid(True, axis="y", which="major", color="#e5e5e5", linewidth=0.8)
                ax.set_axisbelow(True)
                if j == 0:
                    ax.set_ylabel("µs per vector")
                if (data, n) not in present:
                    ax.set_title(f"{data} data, N = {n:,}: not measured", color="#777")
                    ax.text(0.5, 0.5, "not measured", transform=ax.transAxes, ha="center", va="center",
                            color="#999")
                    continue
                ax.set_title(f"{data} data, N = {n:,}")
                ax.set_gid(f"panel-{data}-{n}")
                for sx, target, allocator, api in slots:
                    v = cells.get((data, n, target, allocator, api))
                    if v is None:
                        missing_any = True
                        ax.plot([sx], [ylo * 1.12], marker="x", markersize=4, color="#999", linestyle="none")
                        continue
                    ax.bar(sx, v - ylo, bottom=ylo, width=0.86, color=ALLOCATOR_COLORS.get(allocator, "#777777"),
                           hatch=API_HATCHES.get(api, ""), edgecolor="white", linewidth=0.4)
                marks = []
                for r in peers:
                    if (r["data"], r["n"]) == (data, n):
                        v, single = r["median_us_per_vector"], r["api"] == "single"
                        ax.axhline(v, color="#222", linestyle=SINGLE_LINE if single else BATCH_LINE, linewidth=1.1,
                                   zorder=4, path_effects=HALO)
                        marks.append((v, r["target"] if single else f"{r['target']} {r['api']}"))
                marks.sort()
                labels = []
                for v, text in marks:
                    frac = (math.log10(v) - math.log10(ylo)) / (math.log10(yhi) - math.log10(ylo))
                    labels.append(ax.annotate(text, xy=(1.0, frac), xycoords="axes fraction", xytext=(1.015, frac),
                                              textcoords="axes fraction", va="center", ha="left", fontsize=8,
                                              annotation_clip=False,
                                              arrowprops=dict(arrowstyle="-", color="#888", linewidth=0.5,
                                                              shrinkA=0, shrinkB=1)))
                peer_labels.append((ax, labels))
        # The bottom row keeps the target names; the rows above share them.
        for j in range(cols):
            for i in range(rows):
                axes[i][j].tick_params(axis="x", labelbottom=(i == rows - 1))

        # Legend: one row per kind (allocators, APIs, peers), in columns.
        kinds = [[Patch(facecolor=ALLOCATOR_COLORS.get(a, "#777777"), label=ALLOCATOR_LABELS.get(a, a))
                  for a in _ordered({r["allocator"] for r in ours}, ALLOCATOR_ORDER)],
                 [Patch(facecolor="#aaaaaa", edgecolor="white", hatch=API_HATCHES.get(a, ""),
                        label=API_LABELS.get(a, a)) for a in _ordered({r["api"] for r in ours}, API_ORDER)], []]
        if any(r["api"] == "single" for r in peers):
            kinds[2].append(Line2D([], [], color="#222", linestyle=SINGLE_LINE, linewidth=1.1,
                                   label="peer, one add per vector"))
        if any(r["api"] != "single" for r in peers):
            kinds[2].append(Line2D([], [], color="#222", linestyle=BATCH_LINE, linewidth=1.1,
                                   label="peer, one call for all vectors"))
        if missing_any:
            kinds[2].append(Line2D([], [], color="#999", marker="x", markersize=4, linestyle="none",
                                   label="not measured"))
        kinds = [k for k in kinds if k]
        ncol = max(len(k) for k in kinds)
        blank = Patch(visible=False, label="")
        handles = [k[c] if c < len(k) else blank for c in range(ncol) for k in kinds]
        fig.legend(handles=handles, labels=[h.get_label() for h in handles], loc="outside lower center",
                   ncol=ncol, frameon=False, handlelength=2.2, columnspacing=2.0)
        fig.suptitle(INSERT_TITLE)

        # The peers' labels sit right of each panel, moved apart where their lines are close.
        fig.draw_without_rendering()
        for ax, labels in peer_labels:
            if not labels:
                continue
            gap = 8 * 1.25 * fig.dpi / 72 / max(ax.get_window_extent().height, 1.0)
            ys = _spread([a.xy[1] for a in labels], gap)
            for a, y in zip(labels, ys):
                a.set_position((1.015, y))
        return _save(fig, path)
