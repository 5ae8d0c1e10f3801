"""Unit tests of compare_runs (standard library only)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_runs  # noqa: E402


def results(search_ratio, churn_ratio, threads_median):
    return {"records": [
        {"experiment": "search", "kind": "paired", "dataset": "minilm", "measure": "qps", "a": "edgevec-native",
         "b": "hnswlib", "target": 0.95, "ratio": search_ratio, "low": search_ratio - 0.1, "high": search_ratio + 0.1},
        {"experiment": "churn", "engines": {"edgevec": {"ef": {"16": {"qps_ratio": churn_ratio,
                                                                       "qps_ratio_range": [0.9, 1.1]}}}}},
        {"experiment": "concurrency", "kind": "build",
         "edgevec_2_speedup": {"median": threads_median, "low": 2.0, "high": 2.4, "count": 3},
         "edgevec_2_over_hnswlib_2": {"median": 0.7, "low": 0.7, "high": 0.7, "count": 1}},
        {"experiment": "search", "kind": "curve", "ratio": 5}]}


class CompareRunsTests(unittest.TestCase):
    def test_inside_and_outside_are_told_apart(self):
        rows = compare_runs.compare(results(1.3, 1.0, 2.2), results(1.45, 1.05, 2.5))
        verdict = {name: inside for name, _, _, inside, _ in rows}
        overlap = {name: o for name, *_, o in rows}
        self.assertEqual(len(rows), 3)   # a single pass has no range: left out
        self.assertFalse(verdict["search minilm qps edgevec-native / hnswlib at 0.95"])
        self.assertTrue(verdict["churn edgevec ef 16 q/s churned / fresh"])
        self.assertFalse(verdict["threads build edgevec_2_speedup"])
        # 1.2–1.4 against 1.35–1.55 overlap although the second median lies outside.
        self.assertTrue(overlap["search minilm qps edgevec-native / hnswlib at 0.95"])
        self.assertTrue(overlap["threads build edgevec_2_speedup"])   # both 2.0–2.4

    def test_disjoint_ranges(self):
        rows = compare_runs.compare(results(1.3, 1.0, 2.2), results(1.6, 1.0, 2.2))
        overlap = {name: o for name, *_, o in rows}
        self.assertFalse(overlap["search minilm qps edgevec-native / hnswlib at 0.95"])   # 1.2–1.4 vs 1.5–1.7
        self.assertTrue(overlap["churn edgevec ef 16 q/s churned / fresh"])

    def test_noise_expectations(self):
        # All 5 of one sample below all 5 of the other, or the reverse: 2 of the C(10, 5) = 252 orders.
        self.assertAlmostEqual(compare_runs.chance_disjoint(5, 5), 2 / 252)
        self.assertAlmostEqual(compare_runs.chance_disjoint(3, 3), 2 / 20)
        # The median of 5 new draws outside the range of 5 old ones: about 17 %; of 3 and 3, about 40 %.
        self.assertAlmostEqual(compare_runs.chance_outside(5, 5), 0.167, delta=0.015)
        self.assertAlmostEqual(compare_runs.chance_outside(3, 3), 0.40, delta=0.02)
        self.assertLess(compare_runs.chance_outside(9, 9), compare_runs.chance_outside(5, 5))

    def test_only_ratios_of_both_runs_are_compared(self):
        second = results(1.3, 1.0, 2.2)
        second["records"] = second["records"][:1]
        self.assertEqual(len(compare_runs.compare(results(1.3, 1.0, 2.2), second)), 1)


if __name__ == "__main__":
    unittest.main()
