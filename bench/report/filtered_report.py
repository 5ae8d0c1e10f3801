"""REPORT.md's filtered-search part (issue 21) from bench/filtered/run.py's JSON:
goals, the section's table and the conclusion line. Standard library only, so
that `make test-report` tests it without the benchmark venv.
"""

RECALL_GOAL = 0.95
RATIO_GOAL = 0.5


def _goal(gid, text, measured, met, value=None, threshold=None):
    return {"id": gid, "goal": text, "measured": measured, "met": met, "detail": {},
            "value": value, "threshold": threshold}


def _span(s, digits=2):
    """'0.82 (0.78–0.85)' from a paired.spread dict (median, low, high, count)."""
    if not s:
        return "–"
    if s.get("count", 0) < 2:
        return f"{s['median']:,.{digits}f} (one pass: no spread)"
    return f"{s['median']:,.{digits}f} ({s['low']:,.{digits}f}–{s['high']:,.{digits}f})"


def filtered_goals(rec):
    """Per workload: recall@10 ≥ 0.95 with exactly 10 results for every query, and q/s ≥ 0.5 × unfiltered."""
    if not rec or rec.get("skipped"):
        return []
    goals = []
    ef, queries = rec["ef"], rec["queries"]
    for w, r in rec["workloads"].items():
        e, ratio = r["edgevec"], r["filtered_over_unfiltered"]
        ok = e["recall"] >= RECALL_GOAL and e["short"] == 0
        goals.append(_goal(f"filtered-recall-{w}", f"{w}: recall@10 ≥ {RECALL_GOAL} at ef {ef}, exactly 10 results "
                           "for every query",
                           f"{e['recall']:.4f}; {queries - e['short']:,} of {queries:,} queries with 10 results",
                           ok, value=e["recall"], threshold=RECALL_GOAL))
        goals.append(_goal(f"filtered-qps-{w}", f"{w}: q/s ≥ {RATIO_GOAL} × unfiltered q/s at ef {ef}",
                           f"{_span(ratio)}, median of {ratio['count'] if ratio else 0} paired passes "
                           f"({e['qps']['median']:,.0f} ÷ {r['edgevec_unfiltered']['qps']['median']:,.0f} q/s)",
                           bool(ratio) and ratio["median"] >= RATIO_GOAL,
                           value=ratio["median"] if ratio else None, threshold=RATIO_GOAL))
    return goals


def filtered_section(rec, goals, goals_section, md_table, text_table):
    """(markdown, plain text) of the section; the table helpers come from make_report."""
    if not rec:
        return ("*No filtered-search results: `.build-work/report/filtered.json` is missing "
                "(`bench/filtered/run.py` did not run).*\n", "filtered: missing")
    if rec.get("skipped"):
        return f"*Skipped: {rec['skipped']}.*\n", f"filtered: skipped ({rec['skipped']})"
    rows, text_rows = [], []
    for w, r in rec["workloads"].items():
        e, u, h, p = r["edgevec"], r["edgevec_unfiltered"], r["hnswlib"], r["postfilter"]
        sel = (f"{r['selectivity'] * 100:.2f} %" if r["selectivity_min"] == r["selectivity_max"] else
               f"{r['selectivity'] * 100:.2f} % ({r['selectivity_min'] * 100:.2f}–{r['selectivity_max'] * 100:.1f})")
        rows.append([w, sel, f"{e['recall']:.4f} ({e['recall_hnswlib_queries']:.4f})", str(e["short"]),
                     f"{e['qps']['median']:,.0f}", f"{u['qps']['median']:,.0f}", _span(r["filtered_over_unfiltered"]),
                     f"{h['recall']:.4f}", str(h["short"]), f"{h['qps']['median']:,.0f}",
                     _span(r["edgevec_over_hnswlib"], 1),
                     f"{p['recall']:.4f}", str(p["short"]), f"{p['qps']['median']:,.0f}"])
        text_rows.append([w, f"{e['recall']:.4f}", e["short"], f"{e['qps']['median']:.0f}",
                          f"{r['filtered_over_unfiltered']['median']:.2f}", f"{h['recall']:.4f}",
                          f"{h['qps']['median']:.0f}", f"{p['recall']:.4f}", p["short"], f"{p['qps']['median']:.0f}"])
    b = rec["build"]
    md = [f"MiniLM-Debian, {rec['n']:,} × {rec['dim']}, cosine, M 16, efConstruction 200, k 10, ef {rec['ef']}, one "
          "thread, the five workloads of `filtered/` (one filter per query, exact filtered ground truth; "
          "`bench/filtered/run.py`). **EdgeVec**: `edgevec search --filters NAME.filters --json` on an index built "
          f"with `--metadata meta.tsv` in this step ({b['insert_seconds']:.1f} s of inserts, {b['wall_seconds']:.1f} s "
          "with reading and saving); q/s is timed by the CLI around its query loop (filter evaluation included, "
          "process start and index load not; the index keeps the bitmap of the filter it evaluated last, so a query "
          "whose filter is the previous query's, as in four of the five workloads, does not evaluate it again) after 100 untimed queries. **Unfiltered**: the same index, queries and "
          f"ef without a filter. **hnswlib**: `knn_query(filter=...)`, one thread, a Python callable (a list's "
          "`__getitem__`) that hnswlib calls for every node it visits; it costs milliseconds per query, so hnswlib "
          f"answers the first {rec['hnswlib_queries']:,} queries only (EdgeVec's recall on those in parentheses). "
          f"**Post-filter**: EdgeVec unfiltered with k = {rec['post_factor'] * rec['k']} (ef raised to it), "
          "non-matching ids dropped (not timed), the first 10 kept. Every pass runs the four on a workload one after "
          f"another, the order rotating, after a warm-up round; {rec['passes']} pass{'es' if rec['passes'] != 1 else ''}"
          + (f" (hnswlib in the first {rec['hnswlib_passes']})"
             if rec.get("hnswlib_passes", rec["passes"]) < rec["passes"] else "") + "; "
          "ratios are the median of the "
          "per-pass ratios with their range. *short*: queries with fewer than 10 results. "
          f"hnswlib's index: {rec['hnswlib_index']}.\n",
          md_table(["workload", "selectivity", "EdgeVec recall@10", "short", "q/s", "unfiltered q/s",
                    "filtered ÷ unfiltered", "hnswlib recall@10", "short", "q/s", "EdgeVec ÷ hnswlib q/s",
                    "post-filter recall@10", "short", "q/s"], rows,
                   ["l"] + ["r"] * 13) + "\n",
          "Goals of issue 21 (filtered search):\n", goals_section(goals, "goal (issue 21)")]
    text = "filtered (ef %d):\n" % rec["ef"] + text_table(
        ["workload", "recall", "short", "q/s", "÷unfilt", "hnswlib", "q/s", "post", "short", "q/s"], text_rows)
    return "\n".join(md), text


def filtered_summary(rec, goals):
    """The conclusion line, or None."""
    if not rec or rec.get("skipped") or not rec.get("workloads"):
        return None
    ws = rec["workloads"]
    recalls = [r["edgevec"]["recall"] for r in ws.values()]
    short = sum(r["edgevec"]["short"] for r in ws.values())
    ratios = {w: r["filtered_over_unfiltered"]["median"] for w, r in ws.items() if r["filtered_over_unfiltered"]}
    met = [g for g in goals if g["met"]]
    h_qps = [r["hnswlib"]["qps"]["median"] for r in ws.values()]
    post_short = {w: r["postfilter"]["short"] for w, r in ws.items()}
    return (f"- **Filtered search** (MiniLM, {len(ws)} workloads of {min(r['selectivity'] for r in ws.values()) * 100:.2f}"
            f"–{max(r['selectivity'] for r in ws.values()) * 100:.1f} % selectivity, ef {rec['ef']}): EdgeVec's "
            f"recall@10 is {min(recalls):.4f}–{max(recalls):.4f}, "
            + ("every query got 10 results" if short == 0 else f"{short} queries got fewer than 10")
            + "; its q/s filtered ÷ unfiltered is "
            + ", ".join(f"{w} {v:.2f}" for w, v in ratios.items())
            + f" (goal ≥ {RATIO_GOAL}); {len(met)} of {len(goals)} goals met. hnswlib's `filter` callback from Python: "
            f"recall@10 {min(r['hnswlib']['recall'] for r in ws.values()):.4f}–"
            f"{max(r['hnswlib']['recall'] for r in ws.values()):.4f} at {min(h_qps):,.0f}–{max(h_qps):,.0f} q/s; "
            f"post-filtering k × {rec['post_factor']}: fewer than 10 results for "
            + ", ".join(f"{w} {n}" for w, n in post_short.items()) + f" of {rec['queries']:,} queries.")
