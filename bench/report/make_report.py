#!/usr/bin/env python3
"""Turns the benchmark JSON lines into docs/benchmarks/: REPORT.md, SVG charts
and results.json (every record plus the goals evaluation).

    python3 bench/report/make_report.py --in .build-work/report --out docs/benchmarks [--quick]

Reads IN/search.jsonl (bench/search/run.py) and IN/insert.jsonl
(bench/insert/run.py), IN/churn.json (bench/churn/run.py) and IN/filtered.json
(bench/filtered/run.py; its section is bench/report/filtered_report.py) and
IN/concurrency.jsonl (bench/concurrency/run.py; bench/report/concurrency_report.py);
any may be missing, and the report says so. Standard
library only, except the charts: bench/report/charts.py draws them with
matplotlib; without matplotlib the report has no charts and says so. Also
prints the main tables on stdout.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "search"))
import paired  # noqa: E402  (bench/search/paired.py: per-pass ratios and their spread)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import filtered_report  # noqa: E402  (issue 21's filtered-search section)
import concurrency_report  # noqa: E402  (issue 22's threads section)
import compare_runs  # noqa: E402  (this run's ratios against the previous report's ranges)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PEERS = ("hnswlib", "faiss", "usearch")
ENGINE_ORDER = ("edgevec-native", "edgevec-wasm", "hnswlib", "faiss", "usearch")
TARGET_ORDER = ("native-swift", "native-swift-sse", "native-c", "wasm-node", "wasm-chromium", "hnswlib", "faiss", "usearch")
API_ORDER = ("single", "batch100", "batch1000", "batch")
DATASET_TITLES = {"minilm": "MiniLM-Debian (384-d, cosine)", "synthetic128": "synthetic clustered 128-d (l2)"}
TARGET_RECALL = 0.95


# ---------------------------------------------------------------- input

def read_jsonl(path):
    """The records of a JSON-lines file, or None when it is missing. NaN and ±Infinity, which Python's json
    writes for a figure a worker could not compute (e.g. JavaScript's undefined - undefined), read as None:
    missing, like any other figure not measured."""
    records = []
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line, parse_constant=lambda _: None))
            except ValueError as error:
                print(f"warning: {path}:{number}: not JSON ({error})", file=sys.stderr)
    return records


def pool_runs(insert):
    """One record per cell: records of the same cell from separate runs of bench/insert/run.py (the same
    (target, allocator, api, data, n) more than once in insert.jsonl) are pooled: their repetitions are
    joined in file order and the median recomputed, as are the interleaved single/batch runs; peaks are the
    maximum, counts and byte totals (the same in every run) the first that has them. `runs` says how many
    records were pooled and `command` lists each run's command. Records of `run.py --count-only` (counts,
    no repetitions) only lend their counts; a cell with no timed record is left out."""
    cells = {}
    for r in insert:
        key = (r["target"], r["allocator"], r["api"], r["data"], r["n"])
        cells.setdefault(key, []).append(r)
    pooled = []
    for key, group in cells.items():
        timed = [g for g in group if g.get("repetitions")]
        if not timed:
            print(f"warning: insert.jsonl: {key} has counts but no timed record; left out", file=sys.stderr)
            continue
        if len(group) == 1:
            pooled.append(group[0])
            continue
        group = timed + [g for g in group if not g.get("repetitions")]
        r = dict(group[0])
        r["repetitions"] = [x for g in group for x in g["repetitions"]]
        r["median_us_per_vector"] = round(statistics.median(r["repetitions"]), 3)
        for key in ("peak_bytes", "wasm_memory_bytes"):
            values = [g[key] for g in group if g.get(key) is not None]
            if values:
                r[key] = max(values)
        for key in ("allocs_per_insert", "frees_per_insert", "allocated_bytes", "allocations_source",
                    "bytes_allocated", "jemalloc_allocated_bytes", "arena_reserved_bytes"):
            r[key] = next((g[key] for g in group if g.get(key) is not None), r.get(key))
        inter = [g["interleaved"] for g in group if g.get("interleaved")]
        if inter:
            x = dict(inter[0])
            for key in ("single_us_per_vector", "batch_us_per_vector", "ratios"):
                x[key] = [v for i in inter for v in i[key]]
            x["ratio"] = round(statistics.median(x["ratios"]), 4)
            r["interleaved"] = x
        r["runs"] = len(timed)
        r["command"] = " ; ".join(dict.fromkeys(g["command"] for g in group))
        pooled.append(r)
    return pooled


def file_time(path):
    try:
        return datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC")
    except OSError:
        return None


def command_output(command):
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=60)
        text = (out.stdout or out.stderr).strip()
        return text.splitlines()[0] if text else None
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info():
    info = {"cpu": None, "cores": os.cpu_count(), "memory_gib": None, "kernel": platform.release(),
            "os": None, "machine": platform.machine()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["memory_gib"] = round(int(line.split()[1]) / 1048576, 1)
    except OSError:
        pass
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    info["os"] = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = line
                    break
    except OSError:
        pass
    info["simd"] = ", ".join(f for f in ("avx512f", "avx2", "fma") if re.search(r"\b%s\b" % f, flags)) or None
    return info


def versions(search_meta):
    v = {"swift": command_output(["swift", "--version"]),
         "node": command_output(["node", "--version"]),
         "chromium": command_output(["chromium", "--version"]) if shutil.which("chromium") else None,
         "python": platform.python_version()}
    peers = (search_meta or {}).get("versions") or {}
    if not peers:
        try:
            from importlib import metadata
            for name in ("numpy", "hnswlib", "faiss-cpu", "usearch"):
                try:
                    peers[name] = metadata.version(name)
                except metadata.PackageNotFoundError:
                    peers[name] = None
        except ImportError:
            pass
    v.update(peers)
    commit = command_output(["git", "-C", ROOT, "rev-parse", "HEAD"])
    # The report's own outputs do not make the measured code dirty.
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no", "--", ".",
                            ":(exclude)docs/benchmarks"],
                           capture_output=True, text=True).stdout.strip() if commit else ""
    v["edgevec_commit"] = (commit or "unknown") + (" (with uncommitted changes)" if dirty else "")
    return v


# ---------------------------------------------------------------- helpers

def fmt(value, digits=2, none="–"):
    if value is None:
        return none
    if isinstance(value, float) and not math.isfinite(value):
        return none
    return f"{value:,.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def md_table(header, rows, align=None):
    align = align or ["l"] + ["r"] * (len(header) - 1)
    marks = {"l": "---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks[a] for a in align) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)


def text_table(header, rows):
    widths = [max(len(str(x)) for x in [h] + [r[i] for r in rows]) for i, h in enumerate(header)]
    out = ["  ".join(str(h).ljust(w) if i == 0 else str(h).rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    for row in rows:
        out.append("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                             for i, (c, w) in enumerate(zip(row, widths))))
    return "\n".join(out)


# ---------------------------------------------------------------- search analysis

def curves(search):
    """{dataset: {engine: [records sorted by ef]}}"""
    out = {}
    for r in search:
        if r.get("kind") == "curve":
            out.setdefault(r["dataset"], {}).setdefault(r["engine"], []).append(r)
    for per in out.values():
        for rows in per.values():
            rows.sort(key=lambda r: r["ef"])
    return out


def builds(search):
    out = {}
    for r in search:
        if r.get("kind") == "build":
            out.setdefault(r["dataset"], {})[(r["engine"], r["build_mode"])] = r
    return out


def paired_records(search, measure="qps"):
    """{dataset: {(a, b, target): record}} of the search experiment's paired
    ratios (bench/search/paired.py: median of per-pass ratios, with range)."""
    out = {}
    for r in search:
        if r.get("kind") == "paired" and r.get("measure") == measure:
            out.setdefault(r["dataset"], {})[(r["a"], r["b"], r["target"])] = r
    return out


def at_recall_records(search):
    """{dataset: {(engine, target): record}}: each engine's q/s interpolated at the target recall, per pass."""
    out = {}
    for r in search:
        if r.get("kind") == "at_recall":
            out.setdefault(r["dataset"], {})[(r["engine"], r["target"])] = r
    return out


def with_range(r, key="ratio", digits=2):
    """"1.14 (1.09–1.16)": a paired record's median and its range over passes."""
    if not r or r.get(key) is None:
        return "–"
    low, high = ("low", "high") if key == "ratio" else (f"{key}_low", f"{key}_high")
    if r.get(low) is None or r.get(high) is None:
        return f"{r[key]:,.{digits}f}"
    if r.get("passes") == 1:
        return f"{r[key]:,.{digits}f} (one run: no spread)"
    return f"{r[key]:,.{digits}f} ({r[low]:,.{digits}f}–{r[high]:,.{digits}f})"


# ---------------------------------------------------------------- insert analysis

def insert_index(insert):
    return {(r["target"], r["allocator"], r["api"], r["data"], r["n"]): r for r in insert}


def biggest_batch(index, target, allocator, data, n):
    for api in ("batch", "batch1000", "batch100"):
        r = index.get((target, allocator, api, data, n))
        if r:
            return r
    return None


def best_peer(insert, api, data, n):
    api_class = "single" if api == "single" else "batch"
    best = None
    for r in insert:
        if r["target"] in PEERS and r["data"] == data and r["n"] == n:
            peer_class = "single" if r["api"] == "single" else "batch"
            if peer_class == api_class and r.get("median_us_per_vector") is not None:
                if best is None or r["median_us_per_vector"] < best["median_us_per_vector"]:
                    best = r
    return best


def same_allocator(wasm_allocator):
    """The native allocator compared with a wasm one: arena with arena; the
    platform's system malloc (wasi-libc dlmalloc) with the native system malloc."""
    return {"arena": "arena", "dlmalloc": "system"}.get(wasm_allocator, wasm_allocator)


# ---------------------------------------------------------------- goals

def goal(gid, text, measured, met, detail, value=None, threshold=None):
    return {"id": gid, "goal": text, "measured": measured, "met": met, "detail": detail,
            "value": value, "threshold": threshold}


def paired_ratio(a, b, key="repetitions"):
    """Median over repetitions of a[r] / b[r] (a paired.spread dict with the
    range), or None: both cells ran in the same repetition, close in time, so a
    machine that drifts between fast and slow phases moves both sides together."""
    ra, rb = a.get(key) or [], b.get(key) or []
    if not isinstance(ra, list) or not isinstance(rb, list) or len(ra) != len(rb):
        return None  # not from the same repetitions (e.g. pooled from different runs)
    return paired.spread(paired.paired_ratios(ra, rb))


def cell_ratio(a, b):
    """a ÷ b for two insert cells: (value, paired spread or None). The value is
    the median of per-repetition ratios where the cells ran in the same
    repetitions, else the ratio of their medians."""
    p = paired_ratio(a, b)
    return (p["median"] if p else a["median_us_per_vector"] / b["median_us_per_vector"]), p


def ratio_text(value, p):
    return f"{value:.2f}" + (f" ({p['low']:.2f}–{p['high']:.2f})" if p else " (unpaired)")


def ratio_detail(cell, value, p):
    """A goal's detail entry for one cell: its ratio and, when paired, the range over repetitions."""
    return {"cell": cell, "ratio": round(value, 3), "paired": p is not None,
            "low": p and round(p["low"], 3), "high": p and round(p["high"], 3)}


GOAL_BUILD_REPETITIONS = 3     # paired build repetitions a search-experiment build ratio needs to count in a goal


def evaluate_goals(insert, search, quick, allocs=None):
    goals = []
    idx = insert_index(insert or [])
    cells = sorted({(r["data"], r["n"]) for r in insert or []})

    # 1. wasm single <= 1.05 x wasm batch per vector. The verdict reads the interleaved
    # comparison (single and batch100 alternating chunk by chunk in one process) where the
    # run made one: the separate cells' medians drift by more than the 5% asked about.
    rows = []
    for target in ("wasm-node", "wasm-chromium"):
        for allocator in ("dlmalloc", "arena"):
            for data, n in cells:
                single = idx.get((target, allocator, "single", data, n))
                batch = biggest_batch(idx, target, allocator, data, n)
                if single and batch:
                    inter = (single.get("interleaved") or {}).get("ratio")
                    rows.append((f"{target}:{allocator} {data} n={n}", *cell_ratio(single, batch), inter,
                                 batch["api"]))
    if rows:
        judge_interleaved = all(x[3] is not None for x in rows)
        verdict = (lambda x: x[3]) if judge_interleaved else (lambda x: x[1])
        worst = max(rows, key=verdict)
        worst_cells = max(rows, key=lambda x: x[1])
        if judge_interleaved:
            measured = (f"single ÷ batch100, interleaved in chunks of 100: worst {worst[3]:.3f} ({worst[0]}), "
                        f"median {statistics.median(x[3] for x in rows):.3f} over {len(rows)} cells; "
                        f"the separate cells, paired per repetition: worst {ratio_text(*worst_cells[1:3])} "
                        f"({worst_cells[0]} ÷ {worst_cells[4]}), median {statistics.median(x[1] for x in rows):.2f}")
        else:
            measured = (f"single ÷ batch, paired per repetition: worst {ratio_text(*worst[1:3])} ({worst[0]} ÷ "
                        f"{worst[4]}), median {statistics.median(x[1] for x in rows):.2f} over {len(rows)} cells")
        detail = [dict(ratio_detail(f"{c} (÷{api})", v, p), interleaved_ratio=i) for c, v, p, i, api in rows]
        goals.append(goal("wasm-single-vs-batch", "wasm single insert ≤ 1.05 × wasm batch per vector",
                          measured, all(verdict(x) <= 1.05 for x in rows), detail,
                          value=verdict(worst), threshold=1.05))
    else:
        goals.append(goal("wasm-single-vs-batch", "wasm single insert ≤ 1.05 × wasm batch per vector",
                          "not measured (no wasm rows in insert.jsonl)", None, []))

    # 2. wasm batch <= 1.5 x native per vector, same allocator.
    rows = []
    for target in ("wasm-node", "wasm-chromium"):
        for allocator in ("arena", "dlmalloc"):
            for data, n in cells:
                batch = biggest_batch(idx, target, allocator, data, n)
                if not batch:
                    continue
                native = idx.get(("native-swift", same_allocator(allocator), batch["api"], data, n))
                if native:
                    rows.append((f"{target}:{allocator} vs native-swift:{same_allocator(allocator)} {batch['api']} "
                                 f"{data} n={n}", *cell_ratio(batch, native), data))
    if rows:
        worst = max(rows, key=lambda x: x[1])
        per_data = "; ".join(f"{d}: {min(x[1] for x in rows if x[3] == d):.2f}–"
                             f"{max(x[1] for x in rows if x[3] == d):.2f}" for d in sorted({x[3] for x in rows}))
        goals.append(goal("wasm-batch-vs-native", "wasm batch ≤ 1.5 × native per vector (same allocator)",
                          f"wasm ÷ native, paired per repetition: worst {ratio_text(*worst[1:3])} ({worst[0]}), "
                          f"median {statistics.median(x[1] for x in rows):.2f} over {len(rows)} cells; "
                          f"cells per data set: {per_data}",
                          all(x[1] <= 1.5 for x in rows),
                          [ratio_detail(c, v, p) for c, v, p, _ in rows],
                          value=worst[1], threshold=1.5))
    else:
        goals.append(goal("wasm-batch-vs-native", "wasm batch ≤ 1.5 × native per vector (same allocator)",
                          "not measured (insert.jsonl lacks wasm or native-swift batch rows)", None, []))

    # 3. native single insert <= 0.8 x hnswlib's per insert.
    rows = []
    for allocator in ("system", "jemalloc", "arena"):
        for data, n in cells:
            ours = idx.get(("native-swift", allocator, "single", data, n))
            peer = idx.get(("hnswlib", "n/a", "single", data, n))
            if ours and peer:
                rows.append((allocator, f"native-swift:{allocator} {data} n={n}", *cell_ratio(ours, peer)))
    detail = [ratio_detail(c, v, p) for _, c, v, p in rows]
    # The search experiment's builds are single inserts too (system malloc, one add per vector on both sides),
    # alternated and paired per repetition. A data set built fewer than GOAL_BUILD_REPETITIONS times (make
    # report's synthetic set: one) is context, shown and not judged.
    build_rows, context_rows = [], []
    pairs = paired_records(search or [], "build_seconds")
    for dataset, per in builds(search or []).items():
        ours_b, peer_b = per.get(("edgevec-native", "single")), per.get(("hnswlib", "single"))
        if ours_b and peer_b:
            label = (f"search-experiment build, {ours_b.get('dataset_label', dataset)} "
                     f"(n={ours_b['n']:,}, {ours_b['dim']}-d {ours_b['metric']})")
            r = pairs.get(dataset, {}).get(("edgevec-native", "hnswlib", None))
            p = {"median": r["ratio"], "low": r["low"], "high": r["high"]} if r else None
            row = ("system", label, p["median"] if p else ours_b["build_seconds"] / peer_b["build_seconds"], p)
            judged = not r or r.get("repetitions", r.get("passes", 0)) >= GOAL_BUILD_REPETITIONS
            (build_rows if judged else context_rows).append(row)
            detail.append(dict(ratio_detail(label, *row[2:]), **({} if judged else {"context": True})))
    system_rows = [x for x in rows + build_rows if x[0] == "system"]
    if system_rows:
        worst = max(system_rows, key=lambda x: x[2])
        others = {a: max((x for x in rows if x[0] == a), key=lambda x: x[2]) for a in {x[0] for x in rows}}
        parts = []
        if rows:
            parts.append("insert matrix, native-swift ÷ hnswlib single, paired per repetition, worst per allocator: "
                         + ", ".join(f"{a} {ratio_text(*x[2:])}" for a, x in sorted(others.items())))
        if build_rows:
            parts.append("search-experiment builds (one add per vector, system malloc): "
                         + ", ".join(f"{label.split(', ', 1)[1]} {ratio_text(v, p)}" for _, label, v, p in build_rows))
        if context_rows:
            parts.append(f"context, not judged (built fewer than {GOAL_BUILD_REPETITIONS} times): "
                         + ", ".join(f"{label.split(', ', 1)[1]} {v:.2f}" for _, label, v, _ in context_rows))
        goals.append(goal("native-single-vs-hnswlib", "native single insert ≤ 0.8 × hnswlib's per insert",
                          f"worst {ratio_text(*worst[2:])} (system malloc, every cell); " + "; ".join(parts),
                          all(x[2] <= 0.8 for x in system_rows), detail, value=worst[2], threshold=0.8))
    else:
        goals.append(goal("native-single-vs-hnswlib", "native single insert ≤ 0.8 × hnswlib's per insert",
                          "not measured", None, detail))

    # 4. allocations per insert, native, in steady state: allocs.jsonl (bench/report/native_allocs.py: the
    # difference of two sizes, so the first growth steps of an empty index cancel out), else the insert
    # matrix's counts (from an empty index, growth included) at its largest n, else (system only) the
    # package-benchmark thresholds.
    def native_rows(records, allocator):
        return [r for r in records or [] if r["target"] in ("native-swift", "native-c")
                and r["allocator"] == allocator and r["api"] == "single" and r.get("allocs_per_insert") is not None]

    def largest_n(rows):
        top = max((r["n"] for r in rows), default=None)
        return [r for r in rows if r["n"] == top]
    arena, system = native_rows(allocs, "arena"), native_rows(allocs, "system")
    arena_source = source = "LD_PRELOAD call counter, difference of two sizes"
    if not arena:
        arena, arena_source = largest_n(native_rows(insert, "arena")), "insert matrix, from an empty index"
    if not system:
        system, source = largest_n(native_rows(insert, "system")), "insert matrix, from an empty index"
    if not system:
        system = thresholds_allocations()
        source = "Benchmarks/Thresholds (package-benchmark malloc counts, system allocator)"
    parts, met = [], True
    # Steady state proper: inserts into room reserved beforehand (`edgevec bench --reserve`).
    steady = [r for r in arena + system if r.get("reserved_calls") is not None]
    if arena:
        worst = max(r["allocs_per_insert"] for r in arena)
        example = next((r for r in arena if r.get("calls_at_n") is not None), None)
        extra = (f" = {example['calls_at_n'] - example['calls_at_n_from']} calls in "
                 f"{example['n'] - example['n_from']:,} inserts (arena chunk refills and the doubling steps "
                 f"of buffers of 64 KiB or more, which have allocations of their own), so all other inserts make "
                 f"none" if example else "")
        arena_steady = [r for r in steady if r["allocator"] == "arena"]
        if arena_steady:
            calls = max(r["reserved_calls"] for r in arena_steady)
            n = min(r["n"] for r in arena_steady)
            parts.append(f"arena, steady state (room reserved with reserveCapacity, both data sets): {calls} calls "
                         f"in {n:,} inserts; while growing from empty: {worst:.4f} calls per insert "
                         f"amortised{extra} ({arena_source})")
            met = met and calls == 0
        else:
            parts.append(f"arena: {worst:.4f} calls per insert amortised{extra} ({arena_source})")
            # Without a reserved run: fewer than one call per 200 inserts, i.e. only growth refills.
            met = met and worst < 0.005
    else:
        parts.append("arena: not measured natively in this run")
        met = None
    if system:
        worst = max(r["allocs_per_insert"] for r in system)
        system_steady = [r for r in steady if r["allocator"] != "arena"]
        reserved = (f"; steady state (room reserved): {max(r['reserved_calls'] for r in system_steady)} calls "
                    f"in {min(r['n'] for r in system_steady):,} inserts (system and jemalloc)"
                    if system_steady else "")
        parts.append(f"system: up to {worst:.4f} calls per insert amortised ({source}){reserved}")
        if met is not None:
            met = met and worst <= 1
    else:
        parts.append("system: not measured")
        met = None
    goals.append(goal("native-allocations", "bump arena 0 malloc calls per insert in steady state natively, "
                      "system ≤ 1 amortised", "; ".join(parts), met,
                      [{"cell": f"{r.get('target')}:{r.get('allocator')} {r.get('data', '')} n={r.get('n')}",
                        "allocs_per_insert": r["allocs_per_insert"],
                        "reserved_calls": r.get("reserved_calls")} for r in arena + system]))

    # 5. MiniLM search and build against hnswlib.
    label = "MiniLM" + (" smoke subset (QUICK run: not the goal's data)" if quick else "")
    text = "MiniLM native single-thread at recall@10 ≥ 0.95: qps ≥ 1.2 × hnswlib's"
    key = ("edgevec-native", "hnswlib", TARGET_RECALL)
    r = paired_records(search or []).get("minilm", {}).get(key)
    t = paired_records(search or [], "qps_tune_half").get("minilm", {}).get(key)
    if r and r.get("ratio") is not None:
        goals.append(goal("minilm-qps", text,
                          f"{label}: {with_range(r, digits=3)} × (median of {r['passes']} per-pass ratios, range), "
                          f"interpolated at recall 0.95 on the {r['report_queries'][1] - r['report_queries'][0]} "
                          "report queries, which did not tune the ef grid"
                          + (f"; on the {t['tune_queries'][1] - t['tune_queries'][0]} tune queries: "
                             f"{with_range(t, digits=3)} ×" if t and t.get("ratio") is not None else ""),
                          r["ratio"] >= 1.2,
                          {k: r[k] for k in ("ratio", "low", "high", "q1", "q3", "runs")},
                          value=r["ratio"], threshold=1.2))
    else:
        goals.append(goal("minilm-qps", text, "not measured (no MiniLM paired search, or recall 0.95 not bracketed)",
                          None, {}))
    b_all = builds(search or []).get("minilm", {})
    ours_b = b_all.get(("edgevec-native", "single"))
    hs, hb = b_all.get(("hnswlib", "single")), b_all.get(("hnswlib", "batch"))
    if ours_b and (hs or hb):
        # One add per vector on both sides, paired by repetition (builds alternate); the batch build once.
        pair = paired_records(search or [], "build_seconds").get("minilm", {}).get(
            ("edgevec-native", "hnswlib", None))
        rs = pair["ratio"] if pair else (ratio(ours_b["build_seconds"], hs["build_seconds"]) if hs else None)
        rb = ratio(ours_b["build_seconds"], hb["build_seconds"]) if hb else None
        worst = max(x for x in (rs, rb) if x is not None)
        goals.append(goal("minilm-build", "MiniLM build time (single thread) ≤ 0.8 × hnswlib's",
                          f"{label}: ours {ours_b['build_seconds']:.2f} s (one add per vector, median) = "
                          + (f"{with_range(pair)} × hnswlib one add per vector (median of {pair['passes']} "
                             + (f"ratios of the same part of the two builds, {pair['repetitions']} repetitions of "
                                f"{pair['passes'] // pair['repetitions']} parts" if pair.get("paired_by") == "part"
                                else "paired repetitions") + ", range)" if pair else
                             f"{fmt(rs)} × hnswlib one add per vector ({fmt(hs and hs['build_seconds'])} s)")
                          + f", {fmt(rb)} × hnswlib one batch call ({fmt(hb and hb['build_seconds'])} s)",
                          worst <= 0.8, {"vs_single": rs, "vs_batch": rb}, value=worst, threshold=0.8))
    else:
        goals.append(goal("minilm-build", "MiniLM build time (single thread) ≤ 0.8 × hnswlib's",
                          "not measured (no MiniLM builds)", None, {}))
    return goals


def churn_goals(churn):
    """Issue 20's goals from bench/churn/run.py's JSON: EdgeVec after the churn against a fresh build."""
    e = (churn or {}).get("engines", {}).get("edgevec")
    if not e:
        return []
    goals = []
    smoke = "smoke subset (QUICK run: not the goal's data): " if churn["dataset"].endswith("-smoke") else ""
    for ef, m in e["ef"].items():
        d = m["recall_difference"]
        goals.append(goal(f"churn-recall-ef{ef}", f"recall@10 at ef {ef} after churn within 0.01 of a fresh build",
                          f"{smoke}{m['recall_churned']:.4f} churned, {m['recall_fresh']:.4f} fresh ({d:+.4f})",
                          d >= -0.01, {"churned": m["recall_churned"], "fresh": m["recall_fresh"]},
                          value=d, threshold=-0.01))
    for ef, m in e["ef"].items():
        low, high = m["qps_ratio_range"]
        goals.append(goal(f"churn-qps-ef{ef}", f"q/s at ef {ef} after churn ≥ 0.9 × a fresh build",
                          f"{smoke}{m['qps_ratio']:.3f} ({low:.3f}–{high:.3f}), median of {churn['passes']} paired passes",
                          m["qps_ratio"] >= 0.9, {"low": low, "high": high}, value=m["qps_ratio"], threshold=0.9))
    if "memory_ratio" in e:
        goals.append(goal("churn-memory", "allocatedBytes after churn ≤ 1.15 × a fresh build",
                          f"{smoke}{e['memory_ratio']:.3f} ({e['memory_churned']:,} ÷ {e['memory_fresh']:,} bytes)",
                          e["memory_ratio"] <= 1.15, {}, value=e["memory_ratio"], threshold=1.15))
    goals.append(goal("churn-remove-cost", "a remove costs ≤ 2 × an insert, amortised",
                      f"{smoke}{e['remove_over_insert']:.2f} ({e['remove_us']:.0f} µs per remove, "
                      f"{e['insert_us']:.0f} µs per insert, one call each)",
                      e["remove_over_insert"] <= 2, {}, value=e["remove_over_insert"], threshold=2))
    return goals


def churn_section(churn, goals):
    """REPORT.md's churn section: per engine and ef, churned against fresh; then issue 20's goals."""
    if not churn:
        return ("*No churn results: `.build-work/report/churn.json` is missing (`bench/churn/run.py` did not "
                "run).*\n", "churn: missing")
    rows = []
    for engine, e in churn["engines"].items():
        for ef, m in e["ef"].items():
            low, high = m["qps_ratio_range"]
            rows.append([engine, ef, f"{m['recall_churned']:.4f}", f"{m['recall_fresh']:.4f}",
                         f"{m['recall_difference']:+.4f}", f"{m['qps_ratio']:.3f} ({low:.3f}–{high:.3f})",
                         fmt(e.get("memory_ratio"), 3)])
    # hnswlib's inserts run batched on several threads (it is the quality peer): no per-call ratio.
    costs = [[engine, f"{e['remove_us']:.0f}", f"{e['insert_us']:.0f}", e["insert_calls"],
              f"{e['remove_over_insert']:.2f}" if e["insert_calls"] == "one per vector" else "–"]
             for engine, e in churn["engines"].items()]
    md = [f"{churn['dataset']}, {churn['n']:,} × {churn['dim']}, cosine, M 16, efConstruction 200: "
          f"{churn['rounds']} rounds of removing {churn['remove']:,} random live vectors and adding the removed "
          "rows' vectors back under new ids (`bench/churn/run.py`). Each engine's churned index is compared with a "
          "fresh build of the same live set: "
          + ("the index the search experiment built, loaded twice (one copy churns). "
             if all(e.get("fresh_index", "").endswith((".edgevec", ".hnswlib")) for e in churn["engines"].values())
             else "an index of the rows built by the script, saved and loaded twice (one copy churns). ")
          + "Searches: k 10, one thread, after a warm-up pass; "
          f"{churn['passes']} passes per index and ef, the four indexes taking turns, the order rotating; the q/s "
          "ratio is the median of per-pass ratios (churned ÷ fresh) with their range. Recall@10 against the exact "
          f"ground truth of all {churn['queries']:,} queries (no ef was tuned here). hnswlib: `mark_deleted`, then "
          "`add_items(replace_deleted=True)`; its memory is preallocated and does not move.\n",
          md_table(["engine", "ef", "recall@10 churned", "fresh", "difference", "q/s churned ÷ fresh",
                    "memory churned ÷ fresh"], rows, ["l", "r", "r", "r", "r", "r", "r"]) + "\n",
          md_table(["engine", "µs per remove", "µs per insert", "inserts", "remove ÷ insert"], costs,
                   ["l", "r", "r", "l", "r"]) + "\n",
          "Goals of issue 20:\n", goals_section(goals, "goal (issue 20)")]
    text = "churn:\n" + text_table(["engine", "ef", "churned", "fresh", "diff", "q/s ratio", "memory"], rows)
    return "\n".join(md), text


def thresholds_allocations():
    """The system allocator's mallocs per insert from Benchmarks/Thresholds (p90 per iteration)."""
    folder = os.path.join(ROOT, "Benchmarks", "Thresholds")
    out = []
    for name, per in (("insert-128d-into-10k", 1), ("insert-128d-build-2k-from-empty", 2000)):
        path = os.path.join(folder, f"EdgeVecBenchmarks.{name}.p90.json")
        try:
            with open(path) as f:
                count = json.load(f)["mallocCountTotal"]
        except (OSError, ValueError, KeyError):
            continue
        out.append({"target": "native-swift (package-benchmark)", "allocator": "system", "data": name,
                    "n": per, "allocs_per_insert": count / per})
    return out


# ---------------------------------------------------------------- report sections

def search_sections(search, quick, charts=()):
    """charts: the chart files written; a dataset's chart is embedded only when it is among them."""
    md, text = [], []
    c = curves(search)
    b = builds(search)
    skipped = [r for r in search if r.get("kind") == "skipped"]
    for r in skipped:
        md.append(f"**{r['dataset']} skipped:** {r['reason']}\n")
        text.append(f"{r['dataset']} skipped: {r['reason']}")
    for dataset in [d for d in ("minilm", "synthetic128") if d in c] + [d for d in c if d not in DATASET_TITLES]:
        per = c[dataset]
        any_row = next(iter(per.values()))[0]
        label = any_row.get("dataset_label", dataset)
        engines = [e for e in ENGINE_ORDER if e in per]
        md.append(f"### {label}: {any_row['n']:,} × {any_row['dim']}, {any_row['queries']:,} queries, "
                  f"{any_row['metric']}\n")
        if any_row.get("generator"):
            g = any_row["generator"]
            md.append(f"Generated by `bench/search/run.py`: {g['clusters']} Gaussian clusters, each a random "
                      f"{g['intrinsic']}-dimensional subspace (spread 1 → 0.5 along its axes) plus isotropic noise "
                      f"(sd {g.get('noise', 0.05)}), numpy `default_rng({g['seed']})`; exact ground truth in "
                      f"float64.\n")
        if f"recall-qps-{dataset}.svg" in charts:
            md.append(f"![recall@10 against queries/s, {label}](recall-qps-{dataset}.svg)\n")
            md.append("*Up and to the right is better (faster, more accurate): compare the engines where their curves "
                      "cross the bold dashed 0.95 line.*\n")
        targets = sorted({r["target"] for r in search if r.get("kind") == "at_recall"}) or [TARGET_RECALL]
        at = at_recall_records(search).get(dataset, {})
        first = per[engines[0]][0]
        passes = first.get("passes")
        tuned = first.get("tune_queries"), first.get("report_queries")
        if all(tuned):
            md.append(f"Queries {tuned[0][0]}–{tuned[0][1] - 1} chose the ef values (tuning); queries "
                      f"{tuned[1][0]}–{tuned[1][1] - 1} were measured, and every figure below is theirs. After an "
                      f"untimed pass of every engine at every ef of its grid (the efs around its own crossings of the "
                      f"targets), {passes} timed rounds each swept the grids, the engines timing an ef taking turns "
                      "there (the order rotating): each pass of one engine has a partner pass of the other in the same "
                      "round, seconds away, and the rounds spread over minutes, so the range shows the machine's slow "
                      "phases too." + (
                          " Many short passes rather than a few long ones: with one distribution for both runs, a "
                          f"second run's median of {passes} passes falls outside this run's range of {passes} with "
                          f"probability {compare_runs.chance_outside(passes, passes) * 100:.1f} % "
                          "(bench/report/compare_runs.py); more than that is drift between the runs."
                          if isinstance(passes, int) and passes >= 2 else "") + "\n")
        rows = []
        for e in engines:
            rows.append([e] + [with_range(at.get((e, t)), "qps", 0) if at.get((e, t), {}).get("reached")
                               else "not reached" for t in targets])
        md.append(f"Queries/s at recall@10 = {', '.join(f'{t:.2f}' for t in targets)}, interpolated in each pass "
                  "(log q/s linear in recall between the ef values around the target; where even ef = k = 10 is "
                  "above the target, the q/s at ef 10); median and range over the passes. One thread, every query "
                  "answered alone:\n")
        md.append(md_table(["engine"] + [f"q/s at {t:.2f}" for t in targets], rows) + "\n")
        text.append(f"\n{label} ({any_row['n']:,} x {any_row['dim']}, {any_row['metric']}): q/s at recall@10 "
                    f"(median (range) of passes)")
        text.append(text_table(["engine"] + [f"at {t:.2f}" for t in targets], rows))

        pairs = paired_records(search).get(dataset, {})
        rows = []
        for (x, y, t) in sorted({(x, y, None) for x, y, _ in pairs},
                                key=lambda k: (ENGINE_ORDER.index(k[0]), ENGINE_ORDER.index(k[1]))):
            rows.append([f"{x} ÷ {y}"] + [with_range(pairs.get((x, y, t))) for t in targets])
        if rows:
            md.append("Paired ratios of queries/s at the same recall: the median of the per-pass ratios, and their "
                      "range (above 1: the first engine is faster):\n")
            md.append(md_table(["engines"] + [f"at {t:.2f}" for t in targets], rows) + "\n")
            text.append("paired q/s ratios at equal recall (median (range) of per-pass ratios):")
            text.append(text_table(["engines"] + [f"at {t:.2f}" for t in targets], rows))
        tune = paired_records(search, "qps_tune_half").get(dataset, {})
        rows = [[f"{x} ÷ {y}"] + [with_range(tune.get((x, y, t))) for t in targets]
                for (x, y, _) in sorted({(x, y, None) for x, y, _ in tune},
                                        key=lambda k: (ENGINE_ORDER.index(k[0]), ENGINE_ORDER.index(k[1])))]
        if rows:
            any_t = next(iter(tune.values()))
            md.append(f"The same ratios on the {any_t['tune_queries'][1] - any_t['tune_queries'][0]} tune queries "
                      f"({any_t.get('passes') or '?'} passes), as a cross-check: the range above covers timing noise "
                      "only, and the difference between the two halves shows how much the choice of queries moves a "
                      "ratio at fixed recall (at equal ef the engines' recall differs by a few thousandths, which "
                      "shifts where each crosses the target):\n")
            md.append(md_table(["engines"] + [f"at {t:.2f}" for t in targets], rows) + "\n")
            text.append("the same on the tune queries (cross-check):")
            text.append(text_table(["engines"] + [f"at {t:.2f}" for t in targets], rows))

        detail = []
        for e in engines:
            for r in per[e]:
                detail.append([e, r["ef"], fmt(r.get("recall_tune"), 4), f"{r['recall_at_10']:.4f}",
                               with_range(r, "qps", 0), r.get("repeat", 1),
                               " ".join(f"{q:,.0f}" for q in r.get("qps_runs", []))])
        md.append("<details><summary>Every ef measured: recall on the tune and report queries, q/s per pass"
                  "</summary>\n")
        md.append(md_table(["engine", "ef", "recall@10 (tune)", "recall@10 (report)", "q/s (median, range)",
                            "query set × per pass", "q/s of each pass"], detail,
                           ["l", "r", "r", "r", "r", "r", "l"]) + "\n")
        md.append("</details>\n")

        # Build time and size.
        bs = b.get(dataset, {})
        ref = bs.get(("hnswlib", "single"))
        rows, text_rows = [], []
        for (engine, mode), r in sorted(bs.items(), key=lambda kv: (ENGINE_ORDER.index(kv[0][0])
                                                                      if kv[0][0] in ENGINE_ORDER else 9, kv[0][1])):
            what = {"single": "one add per vector", "batch": "one call, all vectors"}[mode]
            rows.append([engine, what, fmt(r["build_seconds"], 2), fmt(r["us_per_insert"], 1),
                         fmt(ratio(r["build_seconds"], ref and ref["build_seconds"])),
                         ", ".join(f"{x:.2f}" for x in r.get("build_runs", []))])
            text_rows.append([engine, mode, fmt(r["build_seconds"], 2), fmt(r["us_per_insert"], 1),
                              fmt(ratio(r["build_seconds"], ref and ref["build_seconds"]))])
        if rows:
            reserved = any(r.get("reserves_capacity") for (engine, _), r in bs.items() if engine.startswith("edgevec"))
            md.append("Build time, one thread (insert calls only; hnswlib preallocates `max_elements`, "
                      + ("EdgeVec reserves room for all vectors first (`reserveCapacity`, in the time), "
                         "faiss and usearch grow as they go" if reserved else "EdgeVec, faiss and usearch grow "
                                                                              "as they go")
                      + "; EdgeVec wasm is `dist/edgevec.mjs` in Node, one `db.insert` per vector):\n")
            md.append(md_table(["engine", "API", "seconds (median)", "µs per vector", "÷ hnswlib one add",
                                "runs (s)"], rows) + "\n")
            wasm_build = bs.get(("edgevec-wasm", "single"))
            if wasm_build and wasm_build.get("identical_to_native") is not None:
                same = wasm_build["identical_to_native"]
                md.append(f"The index the wasm build saves is {'byte for byte' if same else 'not'} the file "
                          "the native CLI built" + ("." if same else
                          ": float distances can differ in the last bits between the native kernels (FMA, wider "
                          "vectors, another summation order) and simd128, which changes some neighbour choices "
                          "(Tests/CrossPlatform requires byte-identical files only for data whose distances are "
                          "exact in float32). The wasm curve above searches the native file.") + "\n")
            text.append("build, one thread:")
            text.append(text_table(["engine", "mode", "seconds", "µs/vector", "/hnswlib single"], text_rows))

        rows = []
        for e in engines:
            r = per[e][0]
            rows.append([e, fmt(r.get("bytes_per_vector"), 0), fmt(r.get("memory_bytes_per_vector"), 0),
                         r.get("memory_source", "")])
        raw = any_row["dim"] * 4
        md.append(f"Bytes per vector (the raw float32 vector is {raw:,} bytes):\n")
        md.append(md_table(["engine", "index file / serialized bytes per vector", "memory bytes per vector",
                            "how memory was measured"], rows, ["l", "r", "r", "l"]) + "\n")
    return "\n".join(md), "\n".join(text)


def insert_sections(insert, insert_path, charts=()):
    if insert is None:
        return ("*No insert matrix: `.build-work/report/insert.jsonl` is missing (the `bench-insert` make target "
                "did not run or does not exist yet).*\n", "insert matrix: missing (no insert.jsonl)")
    if not insert:
        return "*insert.jsonl is empty.*\n", "insert matrix: empty"
    idx = insert_index(insert)
    md = [f"Source: `insert.jsonl`, written {file_time(insert_path) or '?'}. µs per vector (median of the "
          "repetitions); allocation calls per insert and the MiB those calls asked for during the N inserts "
          "(growth steps and arena chunks included), counted in one untimed run per cell from an empty index: "
          "wasm with the allocation-counter build, natively under an LD_PRELOAD counter "
          "(`bench/report/malloc_count.c`; jemalloc's mallocx included); `–` where not counted (the peers); "
          "peak memory; ratios are medians of per-repetition ratios with their range (the cells of a repetition "
          "ran minutes apart at most); `÷ best peer`: against the fastest of hnswlib, faiss and usearch with the "
          "same kind of "
          "API (single against single, any batch against the peers' one-call batch), same data and n; "
          "`÷ native`: against native-swift with the same allocator (wasm dlmalloc against native system "
          "malloc) and API. Allocators: natively glibc malloc (`system`), jemalloc and the bump arena; in wasm "
          "wasi-libc's dlmalloc and the bump arena. There is no jemalloc cell for wasm: jemalloc needs an "
          "operating system (mmap, threads) and has no port to `wasm32-unknown-none`, where memory only grows "
          "by `memory.grow`.\n"]
    if "insert-matrix.svg" in charts:
        md.append("![insert matrix: µs per vector for every target, allocator and API](insert-matrix.svg)\n")
        md.append("*Lower is faster: compare EdgeVec's bars with the peers' lines (dashed: one add per vector, "
                  "dotted: one call for all), and the colours (allocators) within each target.*\n")
    text = []
    groups = sorted({(r["data"], r["n"]) for r in insert}, key=lambda g: (g[1], g[0]))
    for data, n in groups:
        cell = [r for r in insert if r["data"] == data and r["n"] == n]
        cell.sort(key=lambda r: (TARGET_ORDER.index(r["target"]) if r["target"] in TARGET_ORDER else 99,
                                 r["allocator"], API_ORDER.index(r["api"]) if r["api"] in API_ORDER else 9))
        rows = []
        for r in cell:
            peer = best_peer(insert, r["api"], data, n)
            native_alloc = same_allocator(r["allocator"])
            native = idx.get(("native-swift", native_alloc, r["api"], data, n))
            us = r.get("median_us_per_vector")
            allocated = r.get("allocated_bytes")
            rows.append([r["target"], r["allocator"], r["api"], fmt(us, 1),
                         fmt(r.get("allocs_per_insert"), 3),
                         fmt(allocated / 1048576 if allocated is not None else None, 1),
                         fmt(r["peak_bytes"] / 1048576 if r.get("peak_bytes") else None, 1),
                         (ratio_text(*cell_ratio(r, peer)) + f" {peer['target']}") if peer and us else "–",
                         ratio_text(*cell_ratio(r, native)) if native and us and r is not native
                         else "–"])
        md.append(f"#### {data} data, n = {n:,}\n")
        md.append(md_table(["target", "allocator", "API", "µs/vector", "allocs/insert", "MiB allocated", "peak MiB",
                            "÷ best peer", "÷ native"], rows) + "\n")
        text.append(f"\ninsert, {data} data, n = {n:,} (µs per vector; / best peer of the same API kind)")
        text.append(text_table(["target", "alloc", "api", "µs/vec", "allocs/ins", "MiB alloc", "peak MiB", "/peer",
                                "/native"],
                               rows))
    return "\n".join(md), "\n".join(text)


def allocs_section(allocs):
    if not allocs:
        return "", ""
    reserved = all(r.get("reserved_calls") is not None for r in allocs)
    rows = [[r["allocator"], r["data"], f"{r['calls_at_n_from']:,}", f"{r['calls_at_n']:,}",
             f"{r['allocs_per_insert']:.4f}"] + ([f"{r['reserved_calls']:,}"] if reserved else [])
            for r in allocs]
    n1, n2 = allocs[0]["n_from"], allocs[0]["n"]
    md = (f"Allocation calls of `edgevec bench --api single` (128-d) counted by an LD_PRELOAD library "
          f"(`bench/report/malloc_count.c`: malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign, and jemalloc's mallocx and rallocx) "
          f"at n = {n1:,} and n = {n2:,}; the difference divided by {n2 - n1:,} is what the inserts themselves "
          f"call, buffer growth and arena chunks included (start-up, data generation and output cancel out)."
          + (f" Steady state: `edgevec bench --reserve` reserves room for the {n2:,} vectors first "
             f"(`reserveCapacity`, as hnswlib's `max_elements`), and the counter is read around the inserts "
             f"alone (second run of the process)." if reserved else "") + "\n\n"
          + md_table(["allocator", "data", f"calls, n = {n1:,}", f"calls, n = {n2:,}", "calls per insert"]
                     + ([f"calls in {n2:,} inserts after reserveCapacity"] if reserved else []), rows)
          + "\n")
    text = "\nnative allocation calls per insert (amortised):\n" + text_table(
        ["allocator", "data", f"n={n1}", f"n={n2}", "per insert"] + (["reserved"] if reserved else []), rows)
    return md, text


def interposer_section(interposer, insert):
    """package-benchmark's malloc-interposer against the matrix's LD_PRELOAD counts, cell by cell."""
    if not interposer:
        return "", ""
    idx = insert_index(insert or [])
    rows, agree = [], True
    apis = ["single", "batch100", "batch1000"]
    for r in sorted(interposer, key=lambda r: (r["allocator"] != "system", r["data"],
                                               apis.index(r["api"]) if r["api"] in apis else 9)):
        cell = idx.get(("native-swift", r["allocator"], r["api"], r["data"], r["n"]))
        ours = cell.get("allocs_per_insert") if cell else None
        calls = round(ours * r["n"]) if ours is not None else None
        agree = agree and calls == r["calls"]
        rows.append([r["allocator"], r["data"], r["api"], f"{r['calls']:,}", fmt(calls, 0) if calls is not None else "–",
                     f"{r['allocs_per_insert']:.3f}"])
    n = interposer[0]["n"]
    md = (f"\nCross-check with package-benchmark's malloc-interposer (ordo-one/benchmark): the `matrix-*` "
          f"benchmarks of `Benchmarks/` insert the matrix's N = {n:,} cells (same data, M, efConstruction) "
          f"through the Swift API and count the malloc calls of the inserts alone "
          f"(`Benchmarks/alloc-check.sh counts`). "
          + ("The two counters agree on every cell." if agree else "**The two counters disagree** on some cells.")
          + "\n\n"
          + md_table(["allocator", "data", "API", f"interposer: calls in {n:,} inserts",
                      "LD_PRELOAD counter (matrix)", "calls per insert"], rows) + "\n")
    text = "\nmalloc-interposer cross-check (calls in the N inserts):\n" + text_table(
        ["allocator", "data", "api", "interposer", "LD_PRELOAD", "per insert"], rows)
    return md, text


def search_conclusions(search):
    """One sentence per data set: EdgeVec's paired q/s ratios at recall 0.95 against each other engine."""
    out = []
    tune = paired_records(search or [], "qps_tune_half")
    for dataset, pairs in sorted(paired_records(search or []).items()):
        def part(b, what):
            r = pairs.get(("edgevec-native", b, TARGET_RECALL))
            t = tune.get(dataset, {}).get(("edgevec-native", b, TARGET_RECALL))
            return (f"{with_range(r)} × {what}" + (f" ({t['ratio']:.2f} on the tune queries)"
                                                  if t and t.get("ratio") is not None else "")
                    if r and r.get("ratio") is not None else None)
        peers = [p for p in (part("hnswlib", "hnswlib's"), part("faiss", "faiss's"), part("usearch", "usearch's"))
                 if p]
        wasm = pairs.get(("edgevec-native", "edgevec-wasm", TARGET_RECALL))
        any_r = next(iter(pairs.values()))
        label = any_r.get("dataset_label", dataset)
        passes = max(r.get("passes") or 0 for r in pairs.values())
        if not peers:
            continue
        sentence = f"- **Search, {label}**: at recall@10 0.95, EdgeVec native answers " + ", ".join(peers) + " queries/s"
        if wasm and wasm.get("ratio") is not None:
            sentence += f", and {with_range(wasm)} × EdgeVec wasm's"
        sentence += (f" (one thread; median and range of {passes} per-pass ratios, measured on queries that did "
                     "not tune the ef grid).")
        out.append(sentence)
    return out


def summary(insert, search, goals, churn=None):
    """The report's first section: a few plain sentences, each with its figure and its spread."""
    out = search_conclusions(search)
    e = (churn or {}).get("engines", {}).get("edgevec")
    if e:
        parts = [f"ef {ef} {m['recall_difference']:+.4f} recall@10 and {m['qps_ratio']:.2f} × the q/s "
                 f"({m['qps_ratio_range'][0]:.2f}–{m['qps_ratio_range'][1]:.2f})" for ef, m in e["ef"].items()]
        h = churn["engines"].get("hnswlib")
        out.append(f"- **Churn** ({churn['rounds']} rounds of removing and re-adding {churn['remove']:,} of "
                   f"{churn['n']:,} MiniLM vectors): against a fresh build of the same vectors, EdgeVec is at "
                   + "; ".join(parts)
                   + (f", with {e['memory_ratio']:.3f} × the memory" if "memory_ratio" in e else "")
                   + f"; a remove costs {e['remove_over_insert']:.2f} × an insert"
                   + (". hnswlib after the same churn: " + "; ".join(
                       f"ef {ef} {m['recall_difference']:+.4f}" for ef, m in h["ef"].items()) if h else "")
                   + ".")
    _, total, boundary, alloc_ratio, compute, _ = insert_factors(insert)
    inter = [r["interleaved"]["ratio"] for r in insert or [] if r.get("target") == "wasm-node" and r.get("interleaved")]

    def span(rows):
        vals = [r[-1] if isinstance(r, tuple) else r for r in rows]
        return f"{statistics.median(vals):.2f} (median of {len(vals)} cells, {min(vals):.2f}–{max(vals):.2f})"
    if total:
        out.append(f"- **The seed question**: a single insert in wasm (Node) takes {span(total)} × the native one, "
                   "not 8.5×. "
                   + (f"One call per vector costs {span(inter)} × the same inserts in batches (interleaved in one "
                      "process), " if inter else
                      f"One call per vector costs {span(boundary)} × the same inserts in batches, " if boundary else "")
                   + (f"dlmalloc {span(alloc_ratio)} × the bump arena; " if alloc_ratio else "")
                   + (f"what remains is compute: wasm batch ÷ native batch {span(compute)}." if compute else ""))
    judged = [g for g in goals if g["met"] is not None]
    if judged:
        missed = [g for g in judged if not g["met"]]
        out.append(f"- **Goals of issue 4**: {len(judged) - len(missed)} of {len(judged)} met"
                   + ("; not met: " + "; ".join(f"{g['goal']} (measured {g['value']:.2f})" if g.get("value")
                                                 is not None else g["goal"] for g in missed) if missed else "")
                   + ". Search and build ratios above are medians of ratios paired within a pass or repetition, "
                   "with their range; the wasm ratios are medians over cells, with the cells' range.")
    return "\n".join(out) + "\n"


def insert_factors(insert):
    """The ratios that take the wasm slowdown apart, per (data, n[, allocator]) cell of wasm-node, each the
    median of per-repetition ratios: total (wasm single ÷ native single), boundary (wasm single ÷ wasm batch),
    compute (wasm batch ÷ native batch), alloc_ratio (dlmalloc ÷ arena in wasm), arena_native (system ÷ arena
    natively)."""
    idx = insert_index(insert or [])
    cells = sorted({(r["data"], r["n"]) for r in insert or []})
    total, boundary, alloc_ratio, compute, arena_native = [], [], [], [], []
    for data, n in cells:
        for allocator in ("dlmalloc", "arena"):
            single = idx.get(("wasm-node", allocator, "single", data, n))
            batch = biggest_batch(idx, "wasm-node", allocator, data, n)
            nat_single = idx.get(("native-swift", same_allocator(allocator), "single", data, n))
            nat_batch = idx.get(("native-swift", same_allocator(allocator), batch["api"], data, n)) if batch else None
            if single and nat_single:
                total.append((data, n, allocator, cell_ratio(single, nat_single)[0]))
            if single and batch:
                boundary.append((data, n, allocator, cell_ratio(single, batch)[0]))
            if batch and nat_batch:
                compute.append((data, n, allocator, cell_ratio(batch, nat_batch)[0]))
        d = idx.get(("wasm-node", "dlmalloc", "single", data, n))
        a = idx.get(("wasm-node", "arena", "single", data, n))
        if d and a:
            alloc_ratio.append((data, n, cell_ratio(d, a)[0]))
        ns = idx.get(("native-swift", "system", "single", data, n))
        na = idx.get(("native-swift", "arena", "single", data, n))
        if ns and na:
            arena_native.append((data, n, cell_ratio(ns, na)[0]))

    return cells, total, boundary, alloc_ratio, compute, arena_native


def conclusions(insert, search, goals):
    """Plain statements computed from the data; each says how sure it is."""
    out = ["What the data says about the published 8.5× wasm slowdown (single inserts in wasm against native):\n"]
    idx = insert_index(insert or [])

    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    cells, total, boundary, alloc_ratio, compute, arena_native = insert_factors(insert)

    search_ratio = []   # (dataset, target, native ÷ wasm q/s at that recall, paired per pass)
    for dataset, pairs in paired_records(search or []).items():
        for (a, b, t), r in sorted(pairs.items(), key=lambda kv: kv[0][2] or 0):
            if (a, b) == ("edgevec-native", "edgevec-wasm") and r.get("ratio") is not None:
                search_ratio.append((dataset, t, r["ratio"]))

    def extra_per_call(records):
        """Where interleaved single ÷ batch exceeds the goal: what a single call costs beyond the same insert
        in a batch, in µs (median per cell of the interleaved runs), and what those inserts cost."""
        limit = next((g["threshold"] for g in goals if g["id"] == "wasm-single-vs-batch"), None)
        if limit is None:
            return ""
        extra, cost, labels = [], [], []
        for r in records:
            i = r.get("interleaved")
            if not i or i["ratio"] <= limit:
                continue
            extra.append(statistics.median(s - b for s, b in zip(i["single_us_per_vector"], i["batch_us_per_vector"])))
            cost.append(statistics.median(i["batch_us_per_vector"]))
            labels.append(f"{r['target']}:{r['allocator']} {r['data']} n={r['n']}")
        if not extra:
            return ""
        return (f" Where the interleaved ratio exceeds {limit:g} ({'; '.join(labels)}), a single call costs "
                f"{min(extra):.2f}–{max(extra):.2f} µs more than the same insert in a batch, against inserts of "
                f"{min(cost):.1f}–{max(cost):.1f} µs: a fixed cost per call that shows only where inserts are cheapest.")

    def span(rows, k=-1):
        vals = [r[k] for r in rows]
        return f"{min(vals):.2f}–{max(vals):.2f} (median {statistics.median(vals):.2f}, {len(vals)} cells)"

    if not insert:
        out.append("- **The wasm slowdown cannot be attributed from this run**: the insert matrix is missing. "
                   + (f"The search experiment alone shows native / wasm queries/s of {span(search_ratio)} on the "
                      f"same index files: wasm runs the same graph walk {statistics.median(r[2] for r in search_ratio):.1f}"
                      f" × slower with no allocation and one call per query, which points at the compute in wasm "
                      f"rather than at inserts' allocation or copying." if search_ratio else ""))
        return "\n".join(out) + "\n"

    if total:
        worst = max(r[3] for r in total)
        out.append(f"- **Overall wasm ÷ native, single inserts** (the published 8.5× is this ratio): "
                   f"{span(total)}. Per cell: " + "; ".join(
                       f"{d} n={n} {a} {v:.2f}" for d, n, a, v in total) + ".")
        if worst < 8.5 / 2:
            out.append(f"- **The published 8.5× is not reproduced** by the current code on this machine (largest "
                       f"ratio {worst:.2f}). Whatever produced it is gone or was specific to that measurement, so "
                       "these data cannot say which hypothesis explained the old figure; they say which factors "
                       "matter for the gap that remains.")
    if boundary:
        inter = [r["interleaved"]["ratio"] for r in insert if r.get("interleaved")]
        b = med(inter) if inter else med([r[3] for r in boundary])
        verdict = ("so crossing the JS↔wasm boundary once per vector, and copying each vector in, costs little: "
                   "**the boundary/copy hypothesis is not supported**" if b <= 1.10 else
                   "so per-call overhead (crossing into wasm and copying each vector) is a **real part** of the "
                   "slowdown" if b <= 1.5 else
                   "so per-call overhead (boundary crossing and copying) is **a large part** of the slowdown")
        out.append(f"- **Boundary crossing and copying**: wasm single ÷ wasm batch (the same work with one call "
                   f"per batch instead of per vector) is {span(boundary)}"
                   + (f"; interleaved chunk by chunk in one process it is {min(inter):.3f}–{max(inter):.3f} "
                      f"(median {med(inter):.3f}, {len(inter)} cells)" if inter else "")
                   + f", {verdict}." + extra_per_call(insert))
    if alloc_ratio:
        a = med([r[2] for r in alloc_ratio])
        counted = [r["allocs_per_insert"] for r in insert if r["target"].startswith("wasm")
                   and r.get("allocs_per_insert") is not None and r["api"] == "single"]
        note = (f" The counting build sees {min(counted):.3f}–{max(counted):.3f} allocations per single insert in "
                f"wasm." if counted else " (Allocation counts in wasm were not measured.)")
        verdict = ("**allocation is not the cause**" if abs(a - 1) <= 0.10 else
                   "the allocator **matters somewhat**" if abs(a - 1) <= 0.3 else "the allocator **matters a lot**")
        out.append(f"- **Allocation**: wasm dlmalloc ÷ wasm bump arena, single inserts: {span(alloc_ratio)}: "
                   f"{verdict}.{note}")
    if arena_native:
        out.append(f"- Natively, system malloc ÷ bump arena (single inserts): {span(arena_native)}.")
    if compute:
        v = med([r[3] for r in compute])
        verdict = ("so once call overhead and allocation are out of the picture, **the remaining gap is the "
                   "compute itself in wasm** (profiled, see Notes: the distance kernel and the beam-search "
                   "loop are both slower in wasm, 128-bit simd128 without FMA against AVX-512 with FMA, and "
                   "V8's code for the scalar parts)" if v > 1.5 else
                   "so the compute in wasm is close to native" if v <= 1.25 else
                   "so **most of the remaining gap is the compute itself in wasm**")
        out.append(f"- **Compute**: wasm batch ÷ native batch, same allocator: {span(compute)}, {verdict}.")
        kinds = sorted({r[0] for r in compute})
        if len(kinds) > 1:
            per_kind = {k: med([r[3] for r in compute if r[0] == k]) for k in kinds}
            lo, hi = min(per_kind, key=per_kind.get), max(per_kind, key=per_kind.get)
            if per_kind[hi] > 1.25 * per_kind[lo]:
                out.append(f"- **The compute gap depends on the data**: wasm batch ÷ native batch is "
                           f"{per_kind[lo]:.2f} on {lo} data and {per_kind[hi]:.2f} on {hi} data (medians). The "
                           "graph walks are the same in both (same code, same data); with constant data every vector is in cache, so "
                           "the walk is pure compute, where wasm's narrower SIMD and V8's code cost the most, "
                           "while on uniform data cache misses, which cost both alike, take a larger share "
                           "(see the profiles under Notes).")
    # Control: native with 4-lane SSE kernels without FMA (what simd128 has) against the same wasm batches.
    width, narrow = [], []
    for data, n in cells:
        batch = biggest_batch(idx, "wasm-node", "dlmalloc", data, n)
        sse = idx.get(("native-swift-sse", "system", batch["api"], data, n)) if batch else None
        best = idx.get(("native-swift", "system", batch["api"], data, n)) if batch else None
        if batch and sse:
            width.append((data, n, cell_ratio(batch, sse)[0]))
        if sse and best:
            narrow.append((data, n, cell_ratio(sse, best)[0]))
    if width:
        per_data = "; ".join(f"{d}: {min(r[2] for r in width if r[0] == d):.2f}–"
                             f"{max(r[2] for r in width if r[0] == d):.2f}" for d in sorted({r[0] for r in width}))
        above = [r for r in compute if r[3] > 1.5]
        verdict = ("so even at equal SIMD width part of the gap is V8's code, not only the vector width"
                   if max(r[2] for r in width) > 1.5 else
                   "at equal SIMD width wasm is within 1.5 × native, so **what exceeds 1.5 × against the default "
                   "build is the width of the vector unit** (16 lanes with FMA natively against 4 without)"
                   if above else "at equal SIMD width wasm is within 1.5 × native")
        out.append(f"- **SIMD width** (control target `native-swift-sse`: the same native build with its 4-lane "
                   f"SSE kernels, no FMA, as in wasm's simd128; `EDGEVEC_KERNELS=sse`): wasm-node batch ÷ "
                   f"native-SSE batch (dlmalloc against system malloc) {span(width)}, per data set {per_data}; "
                   + (f"native SSE ÷ native default {span(narrow)}; " if narrow else "") + f"{verdict}.")
    if search_ratio:
        ends = []
        for dataset in sorted({r[0] for r in search_ratio}):
            rows = sorted((r for r in search_ratio if r[0] == dataset), key=lambda r: r[1])
            ends.append(f"{dataset}: {rows[0][2]:.2f} at recall {rows[0][1]:.2f}, {rows[-1][2]:.2f} at recall "
                        f"{rows[-1][1]:.2f}")
        out.append(f"- **Cross-check from search** (no allocation, one call per query, identical index files, paired "
                   f"per pass): native ÷ wasm queries/s {span(search_ratio)}; " + "; ".join(ends) + ". A larger "
                   "ratio at low recall (small ef) would fit a fixed per-call cost (the JavaScript wrapper also "
                   "builds the result objects) on top of slower code per distance; the search gap is the same kind "
                   "of gap as the insert gap.")
    constant = [r for r in total if r[0] == "constant"]
    uniform = [r for r in total if r[0] == "uniform"]
    if constant and uniform:
        out.append(f"- **Data**: the same ratio is {span(constant)} on constant data (every vector identical, all "
                   f"distances tie) and {span(uniform)} on uniform data; "
                   + ("the degenerate data set exaggerates the gap." if med([r[3] for r in constant]) >
                      1.2 * med([r[3] for r in uniform]) else "the data set does not change the picture much."))
    out.append("- **Uncertainty**: a 2-core shared VM; every figure is a median of alternating repetitions, and "
               "differences under about 10 % between neighbouring runs should not be read as real. Ratios are "
               "more stable than absolute times because both sides of a ratio ran within the same minutes.")
    return "\n".join(out) + "\n"


def previous_run_section(previous, current):
    """REPORT.md's comparison with the report this one replaces (the `results.json` in the output directory):
    (markdown, summary dict or None). Nothing to compare when there is none, or one of the two is a QUICK run."""
    if not previous:
        return "No earlier report in the output directory to compare with.\n", None
    if bool(previous.get("quick")) != bool(current.get("quick")):
        return "The earlier report in the output directory is of the other size (QUICK or not): not compared.\n", None
    rows = compare_runs.compare(previous, current)
    if not rows:
        return "The earlier report shares no paired ratio with this one.\n", None
    commit = (previous.get("versions") or {}).get("edgevec_commit")
    s = dict(compare_runs.summary(rows), previous_commit=commit)
    md = [f"This run's paired ratios against the report it replaces (commit `{(commit or '?')[:7]}`, generated "
          f"{previous.get('generated') or '?'}; `python3 bench/report/compare_runs.py` on the two `results.json`): "
          f"**{s['inside']} of {s['compared']}** medians lie inside the earlier run's ranges, and "
          f"**{s['overlap']} of {s['compared']}** pairs of ranges overlap; the medians moved by "
          f"{s['median_move'] * 100:.1f} % (median), {s['max_move'] * 100:.1f} % at most. Noise alone sets what to "
          f"expect: if both runs drew their per-pass ratios from one distribution, about "
          f"{s['outside_expected']:.1f} medians would still fall outside (a median of 15 passes lands outside the "
          f"range of 15 earlier ones 0.2 % of the time, of 7 and 7 7 %, of 3 and 3 39 %) and about "
          f"{s['disjoint_expected']:.1f} pairs of "
          "ranges would be disjoint. More misses than that are drift between the runs, which a run's range does "
          "not cover; the code may also differ between the two commits.\n"]
    outside = [[name, f"{a[0]:.3f} ({a[1]:.3f}–{a[2]:.3f})", f"{b[0]:.3f} ({b[1]:.3f}–{b[2]:.3f})",
                f"{(b[0] / a[0] - 1) * 100:+.1f} %", "yes" if overlap else "**no**"]
               for name, a, b, inside, overlap in rows if not inside]
    if outside:
        md.append(md_table(["ratio", "earlier run", "this run", "moved", "ranges overlap"], outside,
                           ["l", "r", "r", "r", "l"]) + "\n")
    return "\n".join(md), s


def reproducibility_line(s):
    """The conclusions' line on the comparison with the previous report ("" without one)."""
    if not s:
        return ""
    return (f"- **Against the previous report**: {s['inside']} of {s['compared']} paired ratios inside its ranges "
            f"(pass noise alone would leave about {s['outside_expected']:.1f} outside), {s['overlap']} of "
            f"{s['compared']} ranges overlapping (about {s['disjoint_expected']:.1f} disjoint by chance); medians "
            f"moved by {s['median_move'] * 100:.1f} % (median), {s['max_move'] * 100:.1f} % at most.\n")


def goals_section(goals, title="goal (issue 4)"):
    rows = []
    for g in goals:
        verdict = {True: "**met**", False: "**not met**", None: "not measured"}[g["met"]]
        rows.append([g["goal"], g["measured"], verdict])
    return md_table([title, "measured", "verdict"], rows, ["l", "l", "l"]) + "\n"


# ---------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in", dest="inp", default=os.path.join(ROOT, ".build-work", "report"))
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "benchmarks"))
    parser.add_argument("--quick", action="store_true", help="label the report as a QUICK (smoke) run")
    parser.add_argument("--note", action="append", default=[], help="a line for the report's notes (repeatable)")
    parser.add_argument("--started", type=float,
                        help="when `make report` started (seconds since the epoch): REPORT.md then states the "
                             "wall time from there to its writing")
    args = parser.parse_args()
    wall = time.time() - args.started if args.started else None

    search_path = os.path.join(args.inp, "search.jsonl")
    insert_path = os.path.join(args.inp, "insert.jsonl")
    allocs_path = os.path.join(args.inp, "allocs.jsonl")
    churn_path = os.path.join(args.inp, "churn.json")
    churn = None
    if os.path.isfile(churn_path):
        with open(churn_path) as f:
            churn = json.load(f)
    filtered_path = os.path.join(args.inp, "filtered.json")
    filtered = None
    if os.path.isfile(filtered_path):
        with open(filtered_path) as f:
            filtered = json.load(f)
    concurrency_path = os.path.join(args.inp, "concurrency.jsonl")
    concurrency = read_jsonl(concurrency_path) or []
    alloc_records = read_jsonl(allocs_path) or []
    allocs = [r for r in alloc_records if r.get("experiment") == "native-allocs"]
    interposer = [r for r in alloc_records if r.get("experiment") == "interposer-allocs"]
    search = read_jsonl(search_path)
    insert = read_jsonl(insert_path)
    insert_records = pool_runs([r for r in insert or [] if r.get("experiment") == "insert"])
    if insert is not None:
        insert = insert_records
    search = [r for r in search or [] if r.get("experiment") == "search"] if search is not None else None
    meta = next((r for r in search or [] if r.get("kind") == "meta"), None)
    quick = args.quick or bool(meta and meta.get("quick"))

    machine = machine_info()
    ver = versions(meta)
    goals = evaluate_goals(insert, search, quick, allocs)
    goals_churn = churn_goals(churn)
    goals_filtered = filtered_report.filtered_goals(filtered)
    goals_threads = concurrency_report.concurrency_goals(concurrency)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    os.makedirs(args.out, exist_ok=True)
    records = ((search or []) + (insert or []) + allocs
               + ([dict(churn, experiment="churn")] if churn else [])
               + ([filtered] if filtered and not filtered.get("skipped") else [])
               + [dict(r, experiment="concurrency") for r in concurrency])
    # The report this run replaces, read before it is overwritten (a second run checks the first one's ranges).
    previous = None
    try:
        with open(os.path.join(args.out, "results.json")) as f:
            previous = json.load(f)
    except (OSError, ValueError):
        pass
    previous_md, reproducibility = previous_run_section(previous, {"quick": quick, "records": records})

    # Charts (matplotlib; without it the report has none and says so).
    charts, charts_note = [], ""
    try:
        import charts as charting
    except ImportError as error:
        charting = None
        charts_note = (f"*No charts: the Python that ran make_report.py has no matplotlib ({error}); "
                       "`make bench-insert-venv` installs it in `.venv-bench`.*\n")
        print(f"warning: no charts: {error}", file=sys.stderr)
    if charting:
        for dataset, per in curves(search or []).items():
            label = next(iter(per.values()))[0].get("dataset_label", dataset)
            written = charting.recall_qps_chart(os.path.join(args.out, f"recall-qps-{dataset}.svg"),
                                                f"Recall@10 vs queries/s: {label}", per)
            if written:
                charts.append(os.path.basename(written))
        if insert and charting.insert_chart(os.path.join(args.out, "insert-matrix.svg"), insert):
            charts.append("insert-matrix.svg")

    search_md, search_text = search_sections(search or [], quick, charts) if search else (
        "*No search results: `.build-work/report/search.jsonl` is missing.*\n", "search: missing")
    insert_md, insert_text = insert_sections(insert, insert_path, charts)
    allocs_md, allocs_text = allocs_section(allocs)
    cross_md, cross_text = interposer_section(interposer, insert)
    allocs_md, allocs_text = allocs_md + cross_md, allocs_text + cross_text
    churn_md, churn_text = churn_section(churn, goals_churn)
    filtered_md, filtered_text = filtered_report.filtered_section(filtered, goals_filtered, goals_section, md_table,
                                                                  text_table)
    filtered_line = filtered_report.filtered_summary(filtered, goals_filtered)
    threads_md, threads_text = concurrency_report.concurrency_section(concurrency, goals_threads, goals_section,
                                                                      md_table)
    threads_line = concurrency_report.concurrency_summary(concurrency, goals_threads)

    md = [f"# EdgeVec benchmark report{' (QUICK smoke run)' if quick else ''}\n",
          f"Generated {now} by `make report{' QUICK=1' if quick else ''}` (`bench/report/make_report.py`). "
          + ("A QUICK run uses the 5,000-vector MiniLM smoke subset, 10,000 synthetic vectors, 3 passes per ef "
             "and a small insert matrix: its numbers check the pipeline and are **not** the goals' figures.\n"
             if quick else ("Numbers in this file come from the runs described under Notes, on the machine "
                            "below.\n" if args.note else
                            "Numbers in this file come from one run of the whole pipeline on the machine below.\n")),
          *([f"Total wall time: {wall:.0f} s\n"] if wall is not None else []),
          *([charts_note] if charts_note else []),
          "## Conclusions\n",
          summary(insert, search, goals, churn) + (filtered_line + "\n" if filtered_line else "")
          + (threads_line + "\n" if threads_line else "") + reproducibility_line(reproducibility),
          "## Machine\n",
          md_table(["machine", ""], [["CPU", machine["cpu"] or "?"], ["cores", machine["cores"]],
                              ["SIMD", machine["simd"] or "?"],
                              ["memory", f"{machine['memory_gib']} GiB" if machine["memory_gib"] else "?"],
                              ["kernel", machine["kernel"]], ["OS", machine["os"] or "?"]], ["l", "l"]) + "\n",
          "A shared 2-core virtual machine: timings are noisy, so every comparison is paired. Search: rounds "
          "sweep each engine's ef grid (the efs around its own crossings of the targets), the engines timing an ef "
          "taking turns there after warm-up passes, each pass's curve is "
          "interpolated at the target recall, and a ratio is the median of the per-pass ratios, shown with their "
          "range. Inserts: "
          "every repetition runs every cell once, the order rotating, and the wasm single-vs-batch goal "
          "alternates single inserts and batches of 100 chunk by chunk in one process. Read ratios, not "
          "absolute figures: the machine's speed drifts by tens of percent within minutes.\n",
          "## Versions\n",
          md_table(["component", "version"], [["EdgeVec commit", ver["edgevec_commit"]], ["Swift", ver["swift"] or "?"],
                              ["Node.js", ver["node"] or "?"], ["Chromium", ver["chromium"] or "not installed"],
                              ["Python", ver["python"]], ["numpy", ver.get("numpy") or "?"],
                              ["hnswlib", ver.get("hnswlib") or "?"], ["faiss-cpu", ver.get("faiss-cpu") or "?"],
                              ["usearch", ver.get("usearch") or "?"]], ["l", "l"]) + "\n",
          "## Reproduce\n",
          "```sh\nmake report" + (" QUICK=1" if quick else "") + "   # installs what it needs, then runs all of the below\n"
          "make bench-insert" + (" QUICK=1" if quick else "") + "   # the insert matrix -> .build-work/report/insert.jsonl\n"
          ".venv-bench/bin/python bench/search/run.py --edgevec .build-cli/release/edgevec --dist dist \\\n"
          "    --data ../shared/data/minilm-debian" + (" --quick" if quick else "") +
          "   # -> .build-work/report/search.jsonl\n"
          ".venv-bench/bin/python bench/churn/run.py --dist dist --data ../shared/data/minilm-debian"
          + (" --quick" if quick else "") + " \\\n    --edgevec-index .build-work/search/minilm/minilm-*.edgevec "
          "--hnswlib-index .build-work/search/minilm/minilm.hnswlib --out .build-work/report/churn.json\n"
          ".venv-bench/bin/python bench/filtered/run.py --edgevec .build-cli/release/edgevec --data "
          "../shared/data/minilm-debian" + (" --quick" if quick else "") + " \\\n    --hnswlib-index "
          ".build-work/search/minilm/minilm.hnswlib --out .build-work/report/filtered.json   # or: make bench-filtered\n"
          ".venv-bench/bin/python bench/concurrency/run.py --edgevec .build-cli/release/edgevec --dist dist \\\n"
          "    --data ../shared/data/minilm-debian --build-engines edgevec-1,edgevec-2,hnswlib-2 --queries report \\\n"
          "    --query-repeats 6 --out .build-work/report/concurrency.jsonl   # make bench-concurrency: the longer form\n"
          ".venv-bench/bin/python bench/report/make_report.py --in .build-work/report --out "
          + (".build-work/report" + " --quick" if quick else "docs/benchmarks") + "\n```\n",
          "Every record in `results.json` carries the exact command that produced it (`command`).\n"
          + (f"\nSearch experiment command: `{meta['command']}` ({meta['date']}, {meta['seconds']:.0f} s).\n"
             if meta else ""),
          "## Goals\n", goals_section(goals),
          "## Against the previous report\n", previous_md,
          "## Search: recall@10 against queries/s\n",
          "All engines: one thread (`OMP_NUM_THREADS=1`, `set_num_threads(1)`, `threads=1`), M 16, "
          "efConstruction 200, k 10, in one script (`bench/search/run.py`). A pass answers every report query once "
          "(or the set a few times over, so that a pass lasts at least 0.1 s), one query after another, from one "
          "call: EdgeVec native through `bench/search/search_pass.c`, a C loop over `ev_search` in `libedgevec.so`; "
          "EdgeVec wasm in a Node process that stays alive (`bench/search/wasm_worker.mjs`, a loop over "
          "`db.search(q, 10, { ef })` on the index file the native CLI built, timed inside Node after 3,000 "
          "warm-up searches so that V8 has tiered the module up); the peers through their batch search with one "
          "thread, which loops over the queries in C++. No engine pays an interpreter call per query. EdgeVec "
          "wasm's build time is a separate build of the same index in Node (`bench/search/wasm_build.mjs`: "
          "`db.reserve(n)`, one `db.insert` per vector). Cosine on MiniLM: EdgeVec `cosine`, hnswlib `cosine`, "
          "faiss `METRIC_INNER_PRODUCT` (the vectors are unit-norm), usearch `cos`; the synthetic set uses "
          "squared L2 everywhere. ef is raised to k = 10 by every engine. The method follows ann-benchmarks' "
          "recall–throughput curves, compared at fixed recall rather than at equal ef (the engines' ef values do "
          "not mean the same recall).\n",
          search_md,
          "## Churn: remove and re-add\n", churn_md,
          "## Filtered search\n", filtered_md,
          "## Threads: parallel build and batch search\n", threads_md,
          "## Insert matrix\n", insert_md,
          "### Native allocation calls per insert\n" if allocs_md else "", allocs_md,
          "## Analysis: the published 8.5× wasm slowdown\n",
          conclusions(insert, search, goals)]
    if args.note:
        md.append("## Notes\n")
        md.extend(f"- {n}" for n in args.note)
        md.append("")
    report = "\n".join(md)
    with open(os.path.join(args.out, "REPORT.md"), "w") as f:
        f.write(report)

    results = {"generated": now, "quick": quick, "wall_seconds": wall, "machine": machine, "versions": ver,
               "goals": goals + goals_churn + goals_filtered + goals_threads,
               "notes": args.note, "sources": {"search": search_path if search is not None else None,
                                               "insert": insert_path if insert is not None else None,
                                               "allocs": allocs_path if allocs else None,
                                               "churn": churn_path if churn else None,
                                               "filtered": filtered_path if filtered else None,
                                               "concurrency": concurrency_path if concurrency else None},
               "reproducibility": reproducibility,
               "records": records}
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
        f.write("\n")

    # stdout: the main tables.
    print(search_text)
    print(insert_text)
    if allocs_text:
        print(allocs_text)
    print(churn_text)
    print(filtered_text)
    print(threads_text)
    print("\ngoals (issues 4, 20, 21 and 22):")
    for g in goals + goals_churn + goals_filtered + goals_threads:
        verdict = {True: "MET", False: "NOT MET", None: "not measured"}[g["met"]]
        print(f"  [{verdict}] {g['goal']}\n      {g['measured']}")
    print(f"\nwrote {os.path.join(args.out, 'REPORT.md')}, " + ", ".join(["results.json"] + charts))


if __name__ == "__main__":
    main()
