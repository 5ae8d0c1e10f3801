"""Unit tests of make_report's record handling (standard library only).

    python3 -m unittest discover -s bench/report -p 'test_*.py'
"""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_report  # noqa: E402


def cell(reps, **extra):
    r = {"experiment": "insert", "target": "wasm-node", "allocator": "arena", "api": "single",
         "data": "uniform", "n": 100000, "repetitions": reps, "median_us_per_vector": sorted(reps)[len(reps) // 2] if reps else None,
         "allocs_per_insert": None, "peak_bytes": 10, "command": "run A"}
    r.update(extra)
    return r


def read_back(record):
    """`record` written by json.dumps (NaN included, as the benchmark scripts write it) and read by make_report."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.write(json.dumps(record) + "\n")
    try:
        (r,) = make_report.read_jsonl(f.name)
        return r
    finally:
        os.unlink(f.name)


class PoolRunsTests(unittest.TestCase):
    def test_single_records_pass_through_unchanged(self):
        a = cell([3.0, 1.0, 2.0])
        b = cell([5.0], api="batch100")
        self.assertEqual(make_report.pool_runs([a, b]), [a, b])

    def test_same_cell_from_two_runs_is_pooled(self):
        a = cell([3.0, 1.0, 2.0], interleaved={"ratios": [1.0], "single_us_per_vector": [2.0],
                                                "batch_us_per_vector": [2.0], "ratio": 1.0})
        b = cell([10.0, 11.0], peak_bytes=30, allocs_per_insert=0.5, command="run B",
                 interleaved={"ratios": [1.2], "single_us_per_vector": [2.4],
                              "batch_us_per_vector": [2.0], "ratio": 1.2})
        (r,) = make_report.pool_runs([a, b])
        self.assertEqual(r["repetitions"], [3.0, 1.0, 2.0, 10.0, 11.0])
        self.assertEqual(r["median_us_per_vector"], 3.0)
        self.assertEqual(r["peak_bytes"], 30)
        self.assertEqual(r["allocs_per_insert"], 0.5)   # the run that counted
        self.assertEqual(r["runs"], 2)
        self.assertEqual(r["command"], "run A ; run B")
        self.assertEqual(r["interleaved"]["ratios"], [1.0, 1.2])
        self.assertEqual(r["interleaved"]["ratio"], 1.1)
        self.assertEqual(a["repetitions"], [3.0, 1.0, 2.0])  # inputs untouched

    def test_count_only_records_lend_their_counts(self):
        # An older counter without byte totals: the worker's NaN, read back as missing.
        timed = read_back(cell([3.0, 1.0, 2.0], allocated_bytes=float("nan")))
        counts = cell([], median_us_per_vector=None, allocs_per_insert=0.25, allocated_bytes=4096,
                      command="run C")
        orphan = cell([], median_us_per_vector=None, allocs_per_insert=0.5, api="batch1000")
        (r,) = make_report.pool_runs([counts, timed, orphan])
        self.assertEqual(r["repetitions"], [3.0, 1.0, 2.0])
        self.assertEqual(r["median_us_per_vector"], 2.0)
        self.assertEqual(r["allocs_per_insert"], 0.25)
        self.assertEqual(r["allocated_bytes"], 4096)
        self.assertEqual(r["runs"], 1)

    def test_paired_ratio_needs_the_same_repetitions(self):
        p = make_report.paired_ratio({"repetitions": [2.0, 4.0, 9.0]}, {"repetitions": [1.0, 2.0, 3.0]})
        self.assertEqual((p["median"], p["low"], p["high"]), (2.0, 2.0, 3.0))
        self.assertIsNone(make_report.paired_ratio({"repetitions": [2.0, 4.0, 6.0]}, {"repetitions": [1.0, 2.0]}))

    def test_goals_judge_cells_on_per_repetition_ratios(self):
        # The machine slows down in repetition 3 for both cells: the ratio of medians (3.0 / 2.0 = 1.5) would
        # miss the goal, the per-repetition ratios (1.4, 1.4, 1.4) meet it.
        wasm = cell([1.4, 2.8, 14.0], api="batch1000", target="wasm-node", allocator="arena")
        wasm["median_us_per_vector"] = 3.0
        native = cell([1.0, 2.0, 10.0], api="batch1000", target="native-swift", allocator="arena")
        native["median_us_per_vector"] = 2.0
        g = next(g for g in make_report.evaluate_goals([wasm, native], [], False) if g["id"] == "wasm-batch-vs-native")
        self.assertAlmostEqual(g["value"], 1.4)
        self.assertTrue(g["met"])
        self.assertIn("1.40 (1.40–1.40)", g["measured"])


class AllocationGoalTests(unittest.TestCase):
    @staticmethod
    def verdict(arena_reserved, system_reserved=0, arena_amortised=0.001):
        def record(allocator, per, reserved):
            r = {"experiment": "native-allocs", "target": "native-swift", "allocator": allocator, "api": "single",
                 "data": "uniform", "n": 12000, "n_from": 2000, "calls_at_n_from": 100,
                 "calls_at_n": 100 + round(per * 10000), "allocs_per_insert": per}
            if reserved is not None:
                r["reserved_calls"] = reserved
            return r
        allocs = [record("arena", arena_amortised, arena_reserved), record("system", 0.002, system_reserved)]
        goals = make_report.evaluate_goals([], [], False, allocs)
        return next(g for g in goals if g["id"] == "native-allocations")

    def test_steady_state_is_judged_on_reserved_inserts(self):
        g = self.verdict(arena_reserved=0)
        self.assertTrue(g["met"])
        self.assertIn("0 calls in 12,000 inserts", g["measured"])
        self.assertFalse(self.verdict(arena_reserved=1)["met"])

    def test_without_a_reserved_run_the_amortised_rule_applies(self):
        self.assertTrue(self.verdict(arena_reserved=None, system_reserved=None)["met"])
        self.assertFalse(self.verdict(arena_reserved=None, system_reserved=None, arena_amortised=0.01)["met"])



class ChurnTests(unittest.TestCase):
    @staticmethod
    def churn(difference16, qps64, memory, remove_over_insert):
        ef = lambda d, q: {"recall_churned": 0.95 + d, "recall_fresh": 0.95, "recall_difference": d,
                           "qps_churned": 100 * q, "qps_fresh": 100, "qps_ratio": q, "qps_ratio_range": [q - 0.1, q + 0.1]}
        edgevec = {"remove_us": 300, "insert_us": 300 / remove_over_insert, "remove_over_insert": remove_over_insert,
                   "insert_calls": "one per vector", "memory_ratio": memory, "memory_churned": int(1000 * memory),
                   "memory_fresh": 1000, "ef": {"16": ef(difference16, 1.0), "64": ef(0.0, qps64)}}
        hnswlib = {"remove_us": 1, "insert_us": 900, "remove_over_insert": 0.001,
                   "insert_calls": "one add_items per round, 2 threads", "ef": {"16": ef(-0.02, 1.0)}}
        return {"dataset": "minilm", "n": 50000, "dim": 384, "queries": 1000, "rounds": 10, "remove": 5000,
                "passes": 5, "engines": {"edgevec": edgevec, "hnswlib": hnswlib}}

    def test_goals_follow_the_thresholds(self):
        met = {g["id"]: g["met"] for g in make_report.churn_goals(self.churn(-0.005, 0.95, 1.1, 0.7))}
        self.assertEqual(met, {"churn-recall-ef16": True, "churn-recall-ef64": True, "churn-qps-ef16": True,
                               "churn-qps-ef64": True, "churn-memory": True, "churn-remove-cost": True})
        missed = {g["id"]: g["met"] for g in make_report.churn_goals(self.churn(-0.02, 0.85, 1.2, 2.5))}
        self.assertFalse(any(missed[k] for k in ("churn-recall-ef16", "churn-qps-ef64", "churn-memory",
                                                 "churn-remove-cost")))
        self.assertTrue(missed["churn-recall-ef64"] and missed["churn-qps-ef16"])

    def test_no_churn_no_goals_and_a_missing_note(self):
        self.assertEqual(make_report.churn_goals(None), [])
        md, _ = make_report.churn_section(None, [])
        self.assertIn("churn.json` is missing", md)

    def test_section_lists_both_engines_without_a_batched_ratio(self):
        data = self.churn(-0.003, 0.98, 1.0, 0.6)
        md, _ = make_report.churn_section(data, make_report.churn_goals(data))
        self.assertIn("| edgevec | 16 | 0.9470 | 0.9500 | -0.0030 |", md)
        self.assertIn("| hnswlib | 900 |", md.replace("| hnswlib | 1 | 900 |", "| hnswlib | 900 |"))
        self.assertIn("one add_items per round, 2 threads | – |", md)
        self.assertIn("goal (issue 20)", md)


def paired_search(ratio, low, high, passes=7):
    return {"experiment": "search", "kind": "paired", "dataset": "minilm", "measure": "qps", "a": "edgevec-native",
            "b": "hnswlib", "target": 0.95, "ratio": ratio, "low": low, "high": high, "passes": passes}


class PreviousRunTests(unittest.TestCase):
    def test_nothing_to_compare(self):
        current = {"quick": False, "records": [paired_search(1.3, 1.2, 1.4)]}
        self.assertIsNone(make_report.previous_run_section(None, current)[1])
        self.assertIsNone(make_report.previous_run_section({"quick": True, "records": current["records"]}, current)[1],
                          "a QUICK report is not compared with a full one")
        self.assertEqual(make_report.reproducibility_line(None), "")

    def test_counts_and_the_ratios_outside(self):
        previous = {"quick": False, "versions": {"edgevec_commit": "abcdef0123"}, "generated": "then",
                    "records": [paired_search(1.3, 1.2, 1.4), dict(paired_search(2.0, 1.9, 2.1), target=0.9)]}
        current = {"quick": False, "records": [paired_search(1.35, 1.25, 1.45), dict(paired_search(2.5, 2.3, 2.6),
                                                                                         target=0.9)]}
        md, s = make_report.previous_run_section(previous, current)
        self.assertEqual((s["compared"], s["inside"], s["overlap"]), (2, 1, 1))
        self.assertIn("`abcdef0`", md)
        self.assertIn("**1 of 2** medians lie inside", md)
        self.assertIn("at 0.9", md, "the ratio outside is listed")
        self.assertNotIn("at 0.95 |", md, "the one inside is not")
        self.assertIn("| **no** |", md)
        self.assertIn("1 of 2 paired ratios inside", make_report.reproducibility_line(s))

if __name__ == "__main__":
    unittest.main()


def search_records(ratio_runs, build_runs):
    """A minimal paired search run on MiniLM: the records bench/search/run.py writes."""
    common = {"experiment": "search", "dataset": "minilm", "dataset_label": "MiniLM-Debian", "n": 50000,
              "dim": 384, "queries": 1000, "metric": "cosine", "tune_queries": [0, 500],
              "report_queries": [500, 1000]}
    ordered = sorted(ratio_runs)
    qps = {"kind": "paired", "measure": "qps", "a": "edgevec-native", "b": "hnswlib", "target": 0.95,
           "ratio": ordered[len(ordered) // 2], "low": ordered[0], "high": ordered[-1], "q1": ordered[0],
           "q3": ordered[-1], "passes": len(ordered), "runs": ratio_runs}
    ordered = sorted(build_runs)
    build = {"kind": "paired", "measure": "build_seconds", "a": "edgevec-native", "b": "hnswlib", "target": None,
             "ratio": ordered[len(ordered) // 2], "low": ordered[0], "high": ordered[-1], "q1": ordered[0],
             "q3": ordered[-1], "passes": len(ordered), "runs": build_runs}
    builds = [{"kind": "build", "engine": e, "build_mode": m, "build_seconds": s}
              for e, m, s in (("edgevec-native", "single", 15.0), ("hnswlib", "single", 22.0),
                              ("hnswlib", "batch", 30.0))]
    return [dict(common, **r) for r in [qps, build] + builds]


class PairedSearchTests(unittest.TestCase):
    def goal(self, search, gid):
        return next(g for g in make_report.evaluate_goals([], search, False) if g["id"] == gid)

    def test_the_qps_goal_reads_the_median_of_per_pass_ratios_with_its_range(self):
        g = self.goal(search_records([1.10, 1.25, 1.21, 1.30, 1.22], [0.7, 0.68, 0.72]), "minilm-qps")
        self.assertEqual(g["value"], 1.22)
        self.assertTrue(g["met"])
        self.assertIn("1.220 (1.100–1.300)", g["measured"])
        self.assertIn("500 report queries", g["measured"])
        g = self.goal(search_records([1.10, 1.15, 1.19, 1.30, 1.25], [0.7]), "minilm-qps")
        self.assertFalse(g["met"], "a median below 1.2 misses the goal whatever the best pass says")

    def test_the_build_goal_reads_the_paired_repetitions(self):
        g = self.goal(search_records([1.2], [0.70, 0.66, 0.91]), "minilm-build")
        self.assertEqual(g["value"], 0.70)       # worse than the 15/22 = 0.68 of the medians: paired wins
        self.assertIn("0.70 (0.66–0.91)", g["measured"])

    def test_a_build_ratio_of_fewer_than_three_repetitions_is_context_in_the_insert_goal(self):
        search = search_records([1.2], [0.70, 0.66, 0.72])
        synthetic = [dict(r, dataset="synthetic128", dataset_label="synthetic", n=100000, dim=128, metric="l2")
                     for r in search_records([1.2], [0.95]) if r["kind"] != "paired" or r["measure"] != "qps"]
        g = self.goal(search + synthetic, "native-single-vs-hnswlib")
        self.assertTrue(g["met"], "the one-build 0.95 is shown, not judged")
        self.assertEqual(g["value"], 0.70)
        self.assertIn("context, not judged (built fewer than 3 times): synthetic (n=100,000, 128-d l2) 0.95",
                      g["measured"])
        self.assertEqual([d.get("context") for d in g["detail"]], [None, True])
        g = self.goal(search + [dict(r, passes=3) if r["kind"] == "paired" else r for r in synthetic],
                      "native-single-vs-hnswlib")
        self.assertFalse(g["met"], "with three repetitions it is judged")

    def test_conclusions_state_the_figure_and_its_spread(self):
        lines = make_report.search_conclusions(search_records([1.10, 1.25, 1.21], [0.7]))
        self.assertEqual(len(lines), 1)
        self.assertIn("1.21 (1.10–1.25) × hnswlib's", lines[0])
        self.assertIn("3 per-pass ratios", lines[0])
