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
        self.assertEqual(make_report.paired_ratio({"repetitions": [2.0, 4.0]}, {"repetitions": [1.0, 2.0]}), 2.0)
        self.assertIsNone(make_report.paired_ratio({"repetitions": [2.0, 4.0, 6.0]}, {"repetitions": [1.0, 2.0]}))


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


if __name__ == "__main__":
    unittest.main()
