"""Unit tests of the concurrency section (standard library only).

    python3 -m unittest discover -s bench/report -p 'test_*.py'
"""
import copy
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import concurrency_report  # noqa: E402
import make_report  # noqa: E402

# The records of a real `make bench-concurrency` run (committed with docs/benchmarks/CONCURRENCY.md).
with open(os.path.join(HERE, "..", "..", "docs", "benchmarks", "concurrency.jsonl")) as f:
    REAL = [json.loads(line) for line in f if line.strip()]


def spread(values):
    values = sorted(values)
    return {"median": values[len(values) // 2], "low": values[0], "high": values[-1], "q1": values[0],
            "q3": values[-1], "count": len(values)}


def with_ratios(build_speedup, build_peer, cli_speedup, batch_peer, recall_difference=0.0, cli_recall=0.955):
    records = copy.deepcopy(REAL)
    build, search = records
    build["edgevec_2_speedup"] = spread(build_speedup)
    build["edgevec_2_over_hnswlib_2"] = spread(build_peer)
    build["recall_difference"] = recall_difference
    search["cli_ef16_speedup"] = spread(cli_speedup)
    search["cli_ef16_recall"] = cli_recall
    search["edgevec_2_over_hnswlib_2"] = spread(batch_peer)
    return records


class ConcurrencyGoalsTests(unittest.TestCase):
    def test_the_committed_run_gives_five_goals_with_its_figures(self):
        goals = concurrency_report.concurrency_goals(REAL)
        self.assertEqual([g["id"] for g in goals], ["threads-build-speedup", "threads-build-recall",
                                                   "threads-build-hnswlib", "threads-search-speedup",
                                                   "threads-search-hnswlib"])
        self.assertAlmostEqual(goals[0]["value"], REAL[0]["edgevec_2_speedup"]["median"])
        self.assertAlmostEqual(goals[4]["value"], REAL[1]["edgevec_2_over_hnswlib_2"]["median"])

    def test_each_threshold_decides_its_goal(self):
        met = concurrency_report.concurrency_goals(with_ratios([1.7, 2.0, 2.1], [0.7, 0.75, 0.9], [1.9] * 3,
                                                               [1.1, 1.25, 1.3]))
        self.assertEqual([g["met"] for g in met], [True, True, True, True, True])
        missed = concurrency_report.concurrency_goals(with_ratios([1.5, 1.55, 2.0], [0.7, 0.85, 0.9], [1.7] * 3,
                                                                  [1.1, 1.15, 1.3], recall_difference=-0.006))
        self.assertEqual([g["met"] for g in missed], [False, False, False, False, False])
        self.assertIn("1.55 (1.50–2.00)", missed[0]["measured"])

    def test_the_cli_goal_needs_recall_095_at_ef16(self):
        goals = concurrency_report.concurrency_goals(with_ratios([2] * 3, [0.7] * 3, [2.2] * 3, [1.3] * 3,
                                                                 cli_recall=0.949))
        self.assertFalse(goals[3]["met"])

    def test_a_report_run_without_hnswlib_one_thread_renders(self):
        records = copy.deepcopy(REAL)
        del records[0]["seconds"]["hnswlib-1"]
        records[0]["hnswlib_2_speedup"] = None
        goals = concurrency_report.concurrency_goals(records)
        md, text = concurrency_report.concurrency_section(records, goals, make_report.goals_section,
                                                          make_report.md_table)
        self.assertNotIn("add_items(num_threads=1)", md)
        self.assertIn("goal (issue 22)", md)
        self.assertIn("concurrency", text)
        self.assertIn("**Threads**", concurrency_report.concurrency_summary(records, goals))

    def test_builds_timed_in_the_search_rotation_say_so(self):
        records = copy.deepcopy(REAL)
        md, _ = concurrency_report.concurrency_section(records, [], make_report.goals_section, make_report.md_table)
        self.assertIn("each pass builds once", md)
        records[0]["timed_in"] = "bench/search/run.py --thread-builds minilm"
        records[0]["passes"] = 3
        md, _ = concurrency_report.concurrency_section(records, [], make_report.goals_section, make_report.md_table)
        self.assertIn("timed in the search experiment's build rotation", md)
        self.assertIn("each of its 3 repetitions", md)

    def test_missing_records_give_no_goals_and_say_so(self):
        self.assertEqual(concurrency_report.concurrency_goals(None), [])
        self.assertEqual(concurrency_report.concurrency_goals(REAL[:1]), [])
        md, _ = concurrency_report.concurrency_section([], [], make_report.goals_section, make_report.md_table)
        self.assertIn("No concurrency results", md)
        self.assertIsNone(concurrency_report.concurrency_summary([], []))


if __name__ == "__main__":
    unittest.main()
