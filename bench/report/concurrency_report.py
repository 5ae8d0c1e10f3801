"""REPORT.md's concurrency part (issue 22) from bench/concurrency/run.py's JSON
lines: goals, the section's tables and the conclusion line. Standard library
only, so that `make test-report` tests it without the benchmark venv.
"""
from filtered_report import _goal, _span

BUILD_SPEEDUP_GOAL = 1.6       # edgevec build --threads 2 ÷ --threads 1, wall
BUILD_RECALL_GOAL = 0.005      # recall@10 at ef 64, 2 threads against 1
BUILD_PEER_GOAL = 0.8          # edgevec --threads 2 time ÷ hnswlib add_items(num_threads=2)
SEARCH_SPEEDUP_GOAL = 1.8      # edgevec search --threads 2 ÷ --threads 1 q/s, ef 16
SEARCH_PEER_GOAL = 1.2         # batch search, 2 threads each, q/s at recall 0.95
CLI_EF = 16


def _records(records):
    """(build, search) records, or (None, None)."""
    by_kind = {r.get("kind"): r for r in records or []}
    return by_kind.get("build"), by_kind.get("search")


def _median(s):
    return s["median"] if s else None


def _passes(s, unit="passes"):
    return f"median of {s['count'] if s else 0} paired {unit}"


def concurrency_goals(records):
    """Issue 22's goals on this machine's 2 cores."""
    build, search = _records(records)
    if not build or not search:
        return []
    speedup, peer = build["edgevec_2_speedup"], build["edgevec_2_over_hnswlib_2"]
    unit = "parts" if build.get("paired_by") == "part" else "passes"
    difference = build.get("recall_difference")
    cli, cli_recall, batch = search["cli_ef16_speedup"], search["cli_ef16_recall"], search["edgevec_2_over_hnswlib_2"]
    return [
        _goal("threads-build-speedup", f"`edgevec build --threads 2` ≥ {BUILD_SPEEDUP_GOAL} × faster than `--threads 1`",
              f"{_span(speedup)} ×, {_passes(speedup, unit)}", bool(speedup) and speedup["median"] >= BUILD_SPEEDUP_GOAL,
              value=_median(speedup), threshold=BUILD_SPEEDUP_GOAL),
        _goal("threads-build-recall", f"recall@10 at ef 64 of the 2-thread build within {BUILD_RECALL_GOAL} of one thread",
              "not measured" if difference is None else
              f"{difference:+.4f} ({_median(build['recall_ef64']['edgevec-2']):.4f} against "
              f"{_median(build['recall_ef64']['edgevec-1']):.4f})",
              None if difference is None else abs(difference) <= BUILD_RECALL_GOAL,
              value=difference, threshold=BUILD_RECALL_GOAL),
        _goal("threads-build-hnswlib", f"`--threads 2` build time ≤ {BUILD_PEER_GOAL} × hnswlib's `add_items` with "
              "`num_threads=2`", f"{_span(peer)}, {_passes(peer, unit)}",
              bool(peer) and peer["median"] <= BUILD_PEER_GOAL, value=_median(peer), threshold=BUILD_PEER_GOAL),
        _goal("threads-search-speedup", f"`edgevec search --threads 2` ≥ {SEARCH_SPEEDUP_GOAL} × the q/s of "
              f"`--threads 1` at ef {CLI_EF} (recall@10 ≥ 0.95)",
              f"{_span(cli)} × at recall@10 {cli_recall:.4f}, {_passes(cli)}",
              bool(cli) and cli["median"] >= SEARCH_SPEEDUP_GOAL and cli_recall >= 0.95,
              value=_median(cli), threshold=SEARCH_SPEEDUP_GOAL),
        _goal("threads-search-hnswlib", f"batch search with 2 threads ≥ {SEARCH_PEER_GOAL} × hnswlib's `knn_query` "
              f"with `num_threads=2` (q/s at recall {search['target_recall']})", f"{_span(batch)}, {_passes(batch)}",
              bool(batch) and batch["median"] >= SEARCH_PEER_GOAL, value=_median(batch), threshold=SEARCH_PEER_GOAL),
    ]


def concurrency_section(records, goals, goals_section, md_table):
    """(markdown, plain text) of the section; the table helpers come from make_report."""
    build, search = _records(records)
    if not build or not search:
        return ("*No concurrency results: `.build-work/report/concurrency.jsonl` is missing or incomplete "
                "(`bench/concurrency/run.py` did not run, or found no MiniLM-Debian data).*\n", "concurrency: missing")
    names = {"edgevec-1": "`edgevec build --threads 1`", "edgevec-2": "`edgevec build --threads 2`",
             "hnswlib-1": "hnswlib `add_items(num_threads=1)`", "hnswlib-2": "hnswlib `add_items(num_threads=2)`"}
    build_rows = [[names[n], _span(s), _span(build["recall_ef64"].get(n), 4) if n in build["recall_ef64"] else ""]
                  for n, s in build["seconds"].items()]
    search_names = {"edgevec-1": "EdgeVec `ev_search_batch`, 1 thread", "edgevec-2": "EdgeVec `ev_search_batch`, 2 threads",
                    "hnswlib-1": "hnswlib `knn_query(num_threads=1)`", "hnswlib-2": "hnswlib `knn_query(num_threads=2)`"}
    search_rows = [[search_names[n], _span(s, 0)] for n, s in search["qps_at_target"].items()]
    cli = search["cli_ef16_qps"]
    search_rows += [[f"`edgevec search --threads {t} --ef {CLI_EF}` (recall@10 {search['cli_ef16_recall']:.4f})",
                     _span(cli[t], 0)] for t in ("1", "2")]
    passes = build.get("passes", "?")
    where = (f"timed in the search experiment's build rotation (`bench/search/run.py --thread-builds minilm`): each "
             f"of its {passes} repetitions builds once with each engine, mode and thread count, the order rotating, "
             "and the 1-thread EdgeVec build is the search's own"
             + ("; each build is timed part by part (`edgevec build --part-times`, hnswlib one `add_items` per part "
                "of 10,000 vectors), and a build ratio is the median of the ratios of the same part in the two "
                "builds of one repetition" if build.get("paired_by") == "part" else "")
             if build.get("timed_in") else
             f"each pass builds once with each engine and thread count, the order rotating ({passes} passes)")
    md = [f"MiniLM-Debian, 50,000 × 384, cosine, M 16, efConstruction 200, on this machine's 2 cores "
          f"(`bench/concurrency/run.py`). **Build**: {where}; EdgeVec's time is the insert time `edgevec build` "
          "prints (the file read and write left out), hnswlib's the `add_items` call. **Search**, batch form for "
          f"both: the queries ({search.get('queries', '?')}) in one call at each ef of {search['efs']}, the "
          f"engines taking turns at each ef, {search.get('passes', '?')} passes after a warm-up sweep; each pass's "
          f"curve is interpolated at recall@10 {search['target_recall']}. The CLI's own `--threads` is timed by the "
          f"CLI around its query loop, after 1,000 warm-up queries, the two settings alternating. Ratios are "
          f"medians of per-pass ratios with their range. Command: `{build.get('command', 'bench/concurrency/run.py')}`.\n",
          md_table(["build", "seconds", "recall@10 at ef 64"], build_rows, ["l", "r", "r"]) + "\n",
          md_table(["search", f"q/s at recall@10 {search['target_recall']}"], search_rows, ["l", "r"]) + "\n",
          ("hnswlib's own gain from a second thread, for scale: "
           + "; ".join(f"{what} {_span(s)} ×" for what, s in (("build", build.get("hnswlib_2_speedup")),
                                                              ("search", search.get("hnswlib_2_speedup"))) if s)
           + ". Both engines can gain more than 2 × on this virtual machine: read speed-ups as this machine's.\n")
          if build.get("hnswlib_2_speedup") or search.get("hnswlib_2_speedup") else "",
          "Goals of issue 22 (concurrency):\n", goals_section(goals, "goal (issue 22)")]
    text = ("concurrency (MiniLM, 2 threads):\n"
            + "\n".join(f"  {g['goal']}: {g['measured']} [{'met' if g['met'] else 'NOT met'}]" for g in goals))
    return "\n".join(md), text


def concurrency_summary(records, goals):
    """The conclusion line, or None."""
    build, search = _records(records)
    if not build or not search:
        return None
    met = [g for g in goals if g["met"]]
    return (f"- **Threads** (MiniLM, 2 cores): `edgevec build --threads 2` is {_span(build['edgevec_2_speedup'])} × "
            f"faster than one thread and takes {_span(build['edgevec_2_over_hnswlib_2'])} × hnswlib's 2-thread "
            f"`add_items` time; batch search on 2 threads answers {_span(search['edgevec_2_over_hnswlib_2'])} × "
            f"hnswlib's 2-thread `knn_query` q/s at recall {search['target_recall']}, and `edgevec search --threads 2` "
            f"{_span(search['cli_ef16_speedup'])} × `--threads 1` at ef {CLI_EF}; {len(met)} of {len(goals)} goals met.")
