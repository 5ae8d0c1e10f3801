#!/usr/bin/env python3
"""Filtered-search experiment (issue 21): on MiniLM-Debian's five filtered
workloads, EdgeVec's filtered search against its own unfiltered search, hnswlib's
`filter` argument and post-filtering, side by side.

Per workload (DATA/filtered/NAME.filters: one filter per query line, and
NAME_gt.ivecs: the exact filtered top 10), at ef 64 (--ef), k 10, one thread:

- edgevec: `edgevec search --filters NAME.filters --json` on an index built here
  with `edgevec build --metadata DATA/meta.tsv` (cosine, M 16, efConstruction
  200, seed 42: the search experiment's parameters). q/s is what the CLI times
  inside (the query loop only, filter evaluation included; not the process
  start or the index load), after an untimed warm-up of 100 queries.
- edgevec-unfiltered: the same index and queries without a filter, same ef.
- hnswlib: `knn_query(..., filter=callable)` with one thread, the callable a
  list's `__getitem__` over the filter's matching labels (the cheapest Python
  callable: no Python frame per call). It is called for every node the search
  visits, which costs about 11 ms per query here, so hnswlib answers only the
  first --hnswlib-queries queries (200 by default); queries sharing a filter
  go in one batch call.
- postfilter: EdgeVec unfiltered with k × --post-factor (10: k 100, so ef 100),
  then the non-matching ids dropped and the first 10 kept. Its q/s is the
  search's (dropping, a bitmap test per id, is not timed).

Pairing: each pass runs the four engines one after another on a workload, the
order rotating pass by pass, after one untimed warm-up round; --passes passes
(hnswlib in the first --hnswlib-passes of them).
Ratios (edgevec ÷ edgevec-unfiltered, edgevec ÷ hnswlib) are the median of the
per-pass ratios with their range. Recall@10 is |results ∩ ground truth| / 10
averaged over the queries; `short` counts the queries with fewer than 10
results. Masks for hnswlib and post-filtering come from this script's own
evaluator of the filter language over meta.tsv (typed as `edgevec build` types
it); every ground-truth id is checked to satisfy its filter.

    .venv-bench/bin/python bench/filtered/run.py --edgevec .build-cli/release/edgevec \\
        --data ../shared/data/minilm-debian --work .build-work/filtered --out .build-work/report/filtered.json \\
        [--hnswlib-index .build-work/search/minilm/minilm.hnswlib] [--passes 5] [--quick]

Without the data (base.fvecs, query.fvecs, meta.tsv, filtered/) it prints
"skipped: ..." and writes {"skipped": reason} to --out.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import json
import re
import shlex
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "search"))
import paired  # noqa: E402
from run import read_vecs  # noqa: E402

K = 10
M = 16
EF_CONSTRUCTION = 200
WORKLOADS = ["own-section", "games", "all-small", "scripting", "not-optional"]
ENGINES = ["edgevec", "edgevec-unfiltered", "hnswlib", "postfilter"]


def log(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- metadata and filters

def read_meta(path):
    """meta.tsv as columns typed the way `edgevec build --metadata` types them:
    {name: (type, values)}; numbers as float64 with NaN for missing, bools as
    a dict-free pair (present, value), strings as an object array with None."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = lines[0].rstrip("\r").split("\t")
    cells = [line.rstrip("\r").split("\t") for line in lines[1:]]
    columns = {}
    number = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$")
    integer = re.compile(r"^[+-]?[0-9]+$")
    for c, name in enumerate(header):
        raw = [row[c] for row in cells]
        present = [v for v in raw if v != ""]
        if present and all(integer.match(v) and abs(int(v)) <= 2 ** 53 - 1 for v in present):
            kind = "number"
        elif present and all(number.match(v) for v in present):
            kind = "number"
        elif present and all(v.lower() in ("true", "false") for v in present):
            kind = "bool"
        else:
            kind = "string"
        if kind == "number":
            values = np.array([float(v) if v != "" else np.nan for v in raw])
        elif kind == "bool":
            values = np.array([None if v == "" else v.lower() == "true" for v in raw], dtype=object)
        else:
            values = np.array([None if v == "" else v for v in raw], dtype=object)
        columns[name] = (kind, values)
    return columns, len(cells)


TOKEN = re.compile(r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)'
                   r'|(?P<op><=|>=|!=|=|<|>|\(|\)|,)|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))')
KEYWORDS = {"AND", "OR", "NOT", "IN", "BETWEEN", "CONTAINS", "IS", "NULL", "TRUE", "FALSE"}


def tokenize(text):
    out, i = [], 0
    while i < len(text):
        if text[i:].strip() == "":
            break
        m = TOKEN.match(text, i)
        if not m:
            raise ValueError(f"cannot read filter at {i + 1}: {text!r}")
        i = m.end()
        if m.group("string") is not None:
            out.append(("value", re.sub(r"\\(.)", r"\1", m.group("string")[1:-1])))
        elif m.group("number") is not None:
            out.append(("value", float(m.group("number"))))
        elif m.group("op") is not None:
            out.append(("op", m.group("op")))
        else:
            word = m.group("word")
            if word.upper() in ("TRUE", "FALSE"):
                out.append(("value", word.upper() == "TRUE"))
            elif word.upper() in KEYWORDS:
                out.append(("kw", word.upper()))
            else:
                out.append(("field", word))
    return out


class FilterEvaluator:
    """The filter language (docs/FILTERS.md) over typed columns, as numpy masks.
    Enough of it for the workloads and more: AND, OR, NOT, parentheses,
    comparisons, [NOT] IN, BETWEEN, IS [NOT] NULL (no lists: TSV has none)."""

    def __init__(self, columns, n):
        self.columns, self.n = columns, n

    def mask(self, text):
        self.tokens, self.i = tokenize(text), 0
        result = self.expr()
        if self.i != len(self.tokens):
            raise ValueError(f"trailing tokens in {text!r}")
        return result

    def peek(self, kind=None, value=None):
        if self.i >= len(self.tokens):
            return False
        k, v = self.tokens[self.i]
        return (kind is None or k == kind) and (value is None or v == value)

    def take(self, kind=None, value=None):
        if not self.peek(kind, value):
            raise ValueError(f"expected {kind} {value} at token {self.i}")
        self.i += 1
        return self.tokens[self.i - 1][1]

    def expr(self):
        out = self.conj()
        while self.peek("kw", "OR"):
            self.take()
            out = out | self.conj()
        return out

    def conj(self):
        out = self.unary()
        while self.peek("kw", "AND"):
            self.take()
            out = out & self.unary()
        return out

    def unary(self):
        if self.peek("kw", "NOT"):
            self.take()
            return ~self.unary()
        if self.peek("op", "("):
            self.take()
            out = self.expr()
            self.take("op", ")")
            return out
        return self.cond()

    def compare(self, field, op, literal):
        kind, values = self.columns.get(field, ("missing", None))
        none = np.zeros(self.n, dtype=bool)
        if kind == "missing":
            return none
        if isinstance(literal, bool):
            if kind != "bool" or op not in ("=", "!="):
                return none
            present = np.array([v is not None for v in values])
            equal = np.array([v is literal for v in values])
            return equal if op == "=" else present & ~equal
        if isinstance(literal, float):
            if kind != "number":
                return none
            with np.errstate(invalid="ignore"):
                return {"=": values == literal, "!=": (values != literal) & ~np.isnan(values),
                        "<": values < literal, "<=": values <= literal,
                        ">": values > literal, ">=": values >= literal}[op]
        if kind != "string":
            return none
        present = np.array([v is not None for v in values])
        # Python compares str by code point: the byte order of UTF-8.
        test = {"=": lambda v: v == literal, "!=": lambda v: v != literal, "<": lambda v: v < literal,
                "<=": lambda v: v <= literal, ">": lambda v: v > literal, ">=": lambda v: v >= literal}[op]
        return present & np.array([v is not None and test(v) for v in values])

    def cond(self):
        field = self.take("field")
        if self.peek("kw", "IS"):
            self.take()
            negated = bool(self.peek("kw", "NOT")) and self.take() == "NOT"
            self.take("kw", "NULL")
            kind, values = self.columns.get(field, ("missing", None))
            absent = np.ones(self.n, dtype=bool) if kind == "missing" else np.array(
                [v is None or (isinstance(v, float) and np.isnan(v)) for v in values])
            return ~absent if negated else absent
        negated = False
        if self.peek("kw", "NOT"):
            self.take()
            negated = True
        if self.peek("kw", "IN"):
            self.take()
            self.take("op", "(")
            literals = [self.take("value")]
            while self.peek("op", ","):
                self.take()
                literals.append(self.take("value"))
            self.take("op", ")")
            hit = np.zeros(self.n, dtype=bool)
            typed = np.zeros(self.n, dtype=bool)
            for lit in literals:
                hit |= self.compare(field, "=", lit)
                typed |= self.compare(field, "=", lit) | self.compare(field, "!=", lit)
            return typed & ~hit if negated else hit
        if self.peek("kw", "BETWEEN"):
            self.take()
            low = self.take("value")
            self.take("kw", "AND")
            high = self.take("value")
            return self.compare(field, ">=", low) & self.compare(field, "<=", high)
        op = self.take("op")
        return self.compare(field, op, self.take("value"))


# ---------------------------------------------------------------- engines

def edgevec_search(edgevec, index, queries, work, tag, ef, k, filters=None, groundtruth=None):
    """One `edgevec search --json`: (q/s, JSON object, ids or None)."""
    out = os.path.join(work, f"{tag}.ivecs")
    cmd = [edgevec, "search", "--threads", "1", "--index", index, "--queries", queries, "--k", str(k), "--ef", str(ef),
           "--warm-up", "100", "--json", "--quiet", "--output", out]
    if filters:
        cmd += ["--filters", filters]
    if groundtruth:
        cmd += ["--groundtruth", groundtruth]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed: {run.stderr.strip()}")
    obj = json.loads(run.stdout.strip().splitlines()[-1])
    return obj["qps"], obj, read_vecs(out, np.int32), cmd


def recall_and_short(ids, gt, rows=None):
    rows = range(len(ids)) if rows is None else rows
    hits = short = 0
    for q in rows:
        got = [i for i in ids[q][:K] if i >= 0]
        short += len(got) < K
        hits += len(set(got) & set(int(x) for x in gt[q][:K]))
    return hits / (len(rows) * K), short


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edgevec", default=os.path.join(ROOT, ".build-cli", "release", "edgevec"))
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "minilm-debian"))
    parser.add_argument("--work", default=os.path.join(ROOT, ".build-work", "filtered"))
    parser.add_argument("--out", default=os.path.join(ROOT, ".build-work", "report", "filtered.json"))
    parser.add_argument("--hnswlib-index", help="hnswlib save_index of base.fvecs (cosine, M 16, efConstruction 200)")
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--ef", type=int, default=64)
    parser.add_argument("--post-factor", type=int, default=10)
    parser.add_argument("--hnswlib-queries", type=int, default=200)
    parser.add_argument("--hnswlib-passes", type=int,
                        help="passes hnswlib takes part in, the first ones (default --passes; make report: 3, its "
                             "filter callback costs about 8 s a pass and its ratios judge no goal)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--quick", action="store_true", help="2 passes, hnswlib on 50 queries")
    args = parser.parse_args()
    if args.quick:
        args.passes, args.hnswlib_queries = min(args.passes, 2), min(args.hnswlib_queries, 50)
    args.hnswlib_passes = min(args.passes, args.hnswlib_passes or args.passes)
    started = time.time()
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    data = args.data
    needed = [os.path.join(data, f) for f in ("base.fvecs", "query.fvecs", "meta.tsv")] + [
        os.path.join(data, "filtered", f"{w}{ext}") for w in args.workloads.split(",") for ext in (".filters", "_gt.ivecs")]
    missing = [p for p in needed if not os.path.isfile(p)]
    if missing:
        reason = f"no MiniLM-Debian metadata and filtered workloads at {data} (missing {missing[0]})"
        print(f"skipped: {reason}")
        with open(args.out, "w") as f:
            json.dump({"skipped": reason}, f)
        return
    base_path, query_path = os.path.join(data, "base.fvecs"), os.path.join(data, "query.fvecs")
    queries = read_vecs(query_path, np.float32)
    n = os.path.getsize(base_path) // (4 + 4 * queries.shape[1])

    # Masks of every distinct filter, checked against the ground truth.
    columns, rows = read_meta(os.path.join(data, "meta.tsv"))
    if rows != n:
        raise RuntimeError(f"meta.tsv has {rows} rows for {n} vectors")
    evaluator = FilterEvaluator(columns, n)
    workloads = {}
    masks = {}
    for w in args.workloads.split(","):
        with open(os.path.join(data, "filtered", f"{w}.filters"), encoding="utf-8") as f:
            texts = f.read().splitlines()
        gt = read_vecs(os.path.join(data, "filtered", f"{w}_gt.ivecs"), np.int32)
        for t in set(texts):
            if t not in masks:
                masks[t] = evaluator.mask(t)
        for q, t in enumerate(texts):
            if not all(masks[t][i] for i in gt[q][:K]):
                raise RuntimeError(f"{w}: query {q}: a ground-truth id does not satisfy {t!r}: evaluator bug")
        counts = np.array([int(masks[t].sum()) for t in texts])
        workloads[w] = {"texts": texts, "gt": gt, "counts": counts}
        log(f"{w}: {len(set(texts))} distinct filters, selectivity {counts.mean() / n:.4f} "
            f"({counts.min() / n:.4f}–{counts.max() / n:.4f})")

    # EdgeVec: built here with metadata (the search experiment's index has none).
    index = os.path.join(args.work, f"minilm-{n}-meta.edgevec")
    build = [args.edgevec, "build", "--input", base_path, "--output", index, "--metric", "cosine", "--m", str(M),
             "--ef-construction", str(EF_CONSTRUCTION), "--seed", "42", "--threads", "1", "--metadata",
             os.path.join(data, "meta.tsv"), "--quiet"]
    t = time.perf_counter()
    out = subprocess.run(build, capture_output=True, text=True)
    build_wall = time.perf_counter() - t
    if out.returncode != 0:
        raise RuntimeError(f"{shlex.join(build)}: {out.stderr.strip()}")
    build_seconds = float(re.search(r", ([\d.]+) s, ", out.stdout).group(1))
    log(f"edgevec build --metadata: {build_seconds:.1f} s inserting, {build_wall:.1f} s wall")

    # hnswlib: the search experiment's index when given, else built here (2 threads; same M, efConstruction).
    import hnswlib
    base = None
    h = hnswlib.Index(space="cosine", dim=queries.shape[1])
    t = time.perf_counter()
    hnswlib_source = None
    if args.hnswlib_index and os.path.isfile(args.hnswlib_index):
        h.load_index(args.hnswlib_index, max_elements=n)
        hnswlib_source = args.hnswlib_index
        if h.get_current_count() != n:     # e.g. a QUICK search run's smoke-set index
            log(f"{args.hnswlib_index} holds {h.get_current_count()} vectors, not {n}: building one here")
            h = hnswlib.Index(space="cosine", dim=queries.shape[1])
            hnswlib_source = None
    if hnswlib_source is None:
        base = read_vecs(base_path, np.float32)
        h.init_index(max_elements=n, M=M, ef_construction=EF_CONSTRUCTION, random_seed=100)
        h.add_items(base, np.arange(n), num_threads=2)
        hnswlib_source = "built here (2 threads)"
        del base
    if h.get_current_count() != n:
        raise RuntimeError(f"hnswlib index holds {h.get_current_count()} vectors, not {n}")
    hnswlib_seconds = time.perf_counter() - t
    h.set_num_threads(1)
    h.set_ef(args.ef)
    allowed = {t: m.tolist() for t, m in masks.items()}
    hq = min(args.hnswlib_queries, len(queries))

    def run_hnswlib(w, count):
        texts = workloads[w]["texts"]
        groups = {}
        for q in range(count):
            groups.setdefault(texts[q], []).append(q)
        labels = np.full((count, K), -1, dtype=np.int64)
        start = time.perf_counter()
        for text, qs in groups.items():
            check = allowed[text].__getitem__
            try:
                labels[qs] = h.knn_query(queries[qs], k=K, num_threads=1, filter=check)[0]
            except RuntimeError:       # fewer than k found for some query: one at a time
                for q in qs:
                    try:
                        labels[q] = h.knn_query(queries[q:q + 1], k=K, num_threads=1, filter=check)[0][0]
                    except RuntimeError:
                        pass
        return count / (time.perf_counter() - start), labels

    def run(engine, w, keep):
        files = os.path.join(data, "filtered", w)
        if engine == "edgevec":
            qps, obj, ids, cmd = edgevec_search(args.edgevec, index, query_path, args.work, f"{w}-filtered",
                                                args.ef, K, files + ".filters", files + "_gt.ivecs")
            keep.setdefault("edgevec_json_recall", obj["recall"])
            keep.setdefault("edgevec_ids", ids)
            keep.setdefault("commands", {})["edgevec"] = shlex.join(cmd)
        elif engine == "edgevec-unfiltered":
            qps, _, _, cmd = edgevec_search(args.edgevec, index, query_path, args.work, "unfiltered", args.ef, K)
            keep.setdefault("commands", {})["edgevec-unfiltered"] = shlex.join(cmd)
        elif engine == "postfilter":
            qps, obj, ids, cmd = edgevec_search(args.edgevec, index, query_path, args.work, "post",
                                                args.ef, K * args.post_factor)
            keep.setdefault("post_ids", ids)
            keep.setdefault("post_ef", obj["ef"])
            keep.setdefault("commands", {})["postfilter"] = shlex.join(cmd)
        else:
            qps, labels = run_hnswlib(w, hq)
            keep.setdefault("hnswlib_ids", labels)
        return qps

    # Untimed warm-up round, then the timed passes.
    first = args.workloads.split(",")[0]
    for engine in ENGINES:
        if engine == "hnswlib":
            run_hnswlib(first, min(hq, 50))
        else:
            run(engine, first, {})
    qps = {w: {e: [] for e in ENGINES} for w in workloads}
    kept = {w: {} for w in workloads}
    for p in range(args.passes):
        for wi, w in enumerate(workloads):
            for engine in paired.rotation(ENGINES, p + wi):
                if engine != "hnswlib" or p < args.hnswlib_passes:
                    qps[w][engine].append(run(engine, w, kept[w]))
        log(f"pass {p + 1}/{args.passes}: " + ", ".join(
            f"{w} {qps[w]['edgevec'][-1]:.0f}/{qps[w]['edgevec-unfiltered'][-1]:.0f}" for w in workloads)
            + " q/s filtered/unfiltered")

    results = {}
    for w, wl in workloads.items():
        gt, texts, k = wl["gt"], wl["texts"], kept[w]
        recall, short = recall_and_short(k["edgevec_ids"], gt)
        recall_sub, _ = recall_and_short(k["edgevec_ids"], gt, range(hq))
        if abs(recall - k["edgevec_json_recall"]) > 1e-9:
            raise RuntimeError(f"{w}: recall {recall} from the results file, {k['edgevec_json_recall']} from --json")
        # Every EdgeVec id must satisfy its query's filter.
        for q, t in enumerate(texts):
            if not all(masks[t][i] for i in k["edgevec_ids"][q] if i >= 0):
                raise RuntimeError(f"{w}: query {q}: EdgeVec returned an id outside {t!r}")
        h_recall, h_short = recall_and_short(k["hnswlib_ids"], gt)
        post = np.full((len(queries), K), -1, dtype=np.int64)
        for q, t in enumerate(texts):
            hits = [i for i in k["post_ids"][q] if i >= 0 and masks[t][i]][:K]
            post[q, :len(hits)] = hits
        p_recall, p_short = recall_and_short(post, gt)
        spread = lambda e: paired.spread(qps[w][e])
        results[w] = {
            "filter": texts[0] if len(set(texts)) == 1 else f"{len(set(texts))} distinct filters, e.g. {texts[0]}",
            "selectivity": float(wl["counts"].mean() / n), "selectivity_min": float(wl["counts"].min() / n),
            "selectivity_max": float(wl["counts"].max() / n),
            "edgevec": {"recall": recall, "recall_hnswlib_queries": recall_sub, "short": short,
                        "qps": spread("edgevec"), "qps_passes": qps[w]["edgevec"]},
            "edgevec_unfiltered": {"qps": spread("edgevec-unfiltered"), "qps_passes": qps[w]["edgevec-unfiltered"]},
            "filtered_over_unfiltered": paired.spread(paired.paired_ratios(qps[w]["edgevec"],
                                                                           qps[w]["edgevec-unfiltered"])),
            "hnswlib": {"recall": h_recall, "short": h_short, "queries": hq, "qps": spread("hnswlib"),
                        "qps_passes": qps[w]["hnswlib"]},
            "edgevec_over_hnswlib": paired.spread(paired.paired_ratios(qps[w]["edgevec"], qps[w]["hnswlib"])),
            "postfilter": {"recall": p_recall, "short": p_short, "k": K * args.post_factor, "ef": k["post_ef"],
                           "qps": spread("postfilter"), "qps_passes": qps[w]["postfilter"]},
            "commands": k["commands"],
        }
    record = {"experiment": "filtered", "dataset": "minilm", "n": int(n), "dim": int(queries.shape[1]),
              "queries": int(len(queries)), "ef": args.ef, "k": K, "passes": args.passes,
              "post_factor": args.post_factor, "hnswlib_queries": hq, "hnswlib_passes": args.hnswlib_passes,
              "hnswlib_index": hnswlib_source,
              "hnswlib_load_seconds": hnswlib_seconds, "hnswlib_version": getattr(hnswlib, "__version__", None),
              "build": {"command": shlex.join(build), "insert_seconds": build_seconds, "wall_seconds": build_wall},
              "seconds": time.time() - started, "command": shlex.join([sys.executable] + sys.argv),
              "workloads": results}
    with open(args.out, "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
    print(table(record))
    print(f"wrote {args.out} ({record['seconds']:.0f} s)")


def table(record):
    """A plain-text table of the record (also what the report shows)."""
    rows = [["workload", "select.", "EdgeVec R@10", "short", "q/s", "unfilt. q/s", "filt÷unfilt",
             "hnswlib R@10", "short", "q/s", "post R@10", "short", "q/s"]]
    for w, r in record["workloads"].items():
        e, u, h, p = r["edgevec"], r["edgevec_unfiltered"], r["hnswlib"], r["postfilter"]
        ratio = r["filtered_over_unfiltered"]
        rows.append([w, f"{r['selectivity'] * 100:.2f}%", f"{e['recall']:.4f}", str(e["short"]),
                     f"{e['qps']['median']:.0f}", f"{u['qps']['median']:.0f}",
                     f"{ratio['median']:.2f} ({ratio['low']:.2f}–{ratio['high']:.2f})",
                     f"{h['recall']:.4f}", str(h["short"]), f"{h['qps']['median']:.0f}",
                     f"{p['recall']:.4f}", str(p["short"]), f"{p['qps']['median']:.0f}"])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(wd) if i == 0 else c.rjust(wd) for i, (c, wd) in enumerate(zip(row, widths)))
                     for row in rows)


if __name__ == "__main__":
    main()
