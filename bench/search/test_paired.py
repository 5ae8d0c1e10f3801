"""Tests of bench/search/paired.py (standard library only; `make test-report`)."""
import math
import os
import random
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import paired  # noqa: E402


def curve(ef_recall, qps_at):
    """(ef, recall, q/s) points with q/s = qps_at(recall)."""
    return [(ef, r, qps_at(r)) for ef, r in ef_recall]


class SpreadRounds(unittest.TestCase):
    def test_evenly_from_the_first_round_to_the_last(self):
        self.assertEqual(paired.spread_rounds(3, 7), {0, 3, 6})
        self.assertEqual(paired.spread_rounds(2, 5), {0, 4})
        self.assertEqual(paired.spread_rounds(7, 7), set(range(7)))
        self.assertEqual(paired.spread_rounds(9, 7), set(range(7)), "never more rounds than there are")
        self.assertEqual(paired.spread_rounds(1, 7), {3})
        self.assertEqual(paired.spread_rounds(0, 7), set())
        for passes in range(1, 12):
            self.assertEqual(len(paired.spread_rounds(passes, 11)), passes)


class Interpolate(unittest.TestCase):
    def test_exact_where_log_qps_is_linear_in_recall(self):
        qps_at = lambda r: math.exp(20.0 - 8.0 * r)
        points = curve([(10, 0.85), (16, 0.93), (24, 0.97), (32, 0.992)], qps_at)
        for target in (0.90, 0.95, 0.99, 0.93):
            self.assertAlmostEqual(paired.interpolate(points, target), qps_at(target), delta=1e-6 * qps_at(target))

    def test_targets_outside_the_curve(self):
        points = [(10, 0.91, 5000.0), (16, 0.95, 4000.0)]
        self.assertIsNone(paired.interpolate(points, 0.99), "never reached")
        self.assertEqual(paired.interpolate(points, 0.90), 5000.0, "above at the smallest ef: that setting's q/s")
        self.assertIsNone(paired.interpolate([], 0.95))

    def test_first_crossing_in_ef_order_whatever_the_input_order(self):
        # Recall dips after the crossing (noise): the first crossing counts.
        points = [(32, 0.94, 2000.0), (10, 0.90, 4000.0), (16, 0.96, 3000.0)]
        expected = math.exp(math.log(4000.0) + 0.5 * (math.log(3000.0) - math.log(4000.0)))
        self.assertAlmostEqual(paired.interpolate(points, 0.93), expected)

    def test_a_point_exactly_at_the_target_gives_its_own_qps(self):
        self.assertAlmostEqual(paired.interpolate([(12, 0.95, 7.0), (10, 0.95, 9.0), (8, 0.9, 10.0)], 0.95), 9.0)


class Grid(unittest.TestCase):
    def test_an_engine_that_never_reaches_a_target_adds_its_top(self):
        recalls = {"slow": {10: 0.5, 12: 0.6, 14: 0.7}}
        self.assertEqual(paired.engine_grids(recalls), {"slow": [12, 14]})

    def test_engine_grids_hold_only_each_engines_own_brackets(self):
        efs = paired.TUNE_EFS
        # Recall rising with ef, each engine at its own pace.
        recalls = {name: {ef: 1 - 0.5 / (1 + ef / scale) for ef in efs}
                   for name, scale in (("a", 2.0), ("b", 5.0))}
        grids = paired.engine_grids(recalls)
        for name, r in recalls.items():
            # Brute force: the ef indices from two below each target's first crossing to one after it.
            wanted = set()
            for target in paired.TARGETS:
                first = min(i for i, ef in enumerate(efs) if r[ef] >= target)
                wanted |= {efs[i] for i in range(max(first - 2, 0), min(first + 2, len(efs)))}
            self.assertEqual(grids[name], sorted(wanted), name)
        self.assertNotEqual(grids["a"], grids["b"])
        self.assertEqual(paired.union_grid(grids), sorted(set(grids["a"]) | set(grids["b"])))
        self.assertLess(len(paired.union_grid(grids)), len(efs))


class PerPass(unittest.TestCase):
    def test_paired_ratios_recover_a_constant_speed_ratio_under_drift(self):
        # Brute-force model: engine a is 1.25 x engine b at every recall; the machine's speed drifts
        # by up to 40 % from pass to pass, but both engines of a pass see the same speed.
        rng = random.Random(7)
        efs = [10, 16, 24, 32, 48, 96, 160]
        recall = {ef: 1 - 1.2 / ef for ef in efs}     # 0.88 ... 0.9925: every target bracketed
        speed = [rng.uniform(0.6, 1.0) for _ in range(9)]
        b = {ef: [5e5 / ef * s for s in speed] for ef in efs}
        a = {ef: [1.25 * q for q in b[ef]] for ef in efs}
        for target in paired.TARGETS:
            ratios = paired.paired_ratios(paired.per_pass_at(recall, a, target), paired.per_pass_at(recall, b, target))
            self.assertEqual(len(ratios), 9)
            for r in ratios:
                self.assertAlmostEqual(r, 1.25)
        # The drift itself shows in either engine's own spread.
        s = paired.spread(paired.per_pass_at(recall, a, 0.95))
        self.assertGreater(s["high"] / s["low"], 1.2)

    def test_passes_without_a_value_are_skipped(self):
        self.assertEqual(paired.paired_ratios([2.0, None, 3.0, 4.0], [1.0, 1.0, None, 0.0]), [2.0])


class Spread(unittest.TestCase):
    def test_median_range_quartiles(self):
        s = paired.spread([5.0, 1.0, None, 3.0, 2.0, 4.0])
        self.assertEqual((s["median"], s["low"], s["high"], s["count"]), (3.0, 1.0, 5.0, 5))
        self.assertEqual((s["q1"], s["q3"]), (2.0, 4.0))
        self.assertIsNone(paired.spread([None]))
        one = paired.spread([7.0])
        self.assertEqual((one["median"], one["q1"], one["q3"]), (7.0, 7.0, 7.0))


class Schedule(unittest.TestCase):
    def test_rotation_puts_every_engine_first_equally_often(self):
        engines = ["a", "b", "c", "d", "e"]
        firsts = [paired.rotation(engines, p)[0] for p in range(10)]
        self.assertEqual(sorted(firsts), sorted(engines * 2))
        for p in range(10):
            self.assertEqual(sorted(paired.rotation(engines, p)), engines)
        self.assertEqual([paired.rotation(["a", "b"], p) for p in range(2)], [["a", "b"], ["b", "a"]])

    def test_build_order_repeats_only_the_repeated_jobs_and_puts_batches_first(self):
        jobs = [("edgevec", "single"), ("hnswlib", "batch"), ("hnswlib", "single"), ("faiss", "single"),
                ("edgevec", "threads2"), ("hnswlib", "threads2")]
        repeated = {("edgevec", "single"), ("hnswlib", "single"), ("edgevec", "threads2"), ("hnswlib", "threads2")}
        orders = [paired.build_order(jobs, rep, repeated) for rep in range(4)]
        self.assertEqual(sorted(orders[0]), sorted(jobs))
        self.assertEqual(orders[0][0], ("hnswlib", "batch"))
        for order in orders[1:]:
            self.assertEqual(sorted(order), sorted(repeated))
        # The single and 2-thread builds take turns: each repeated job comes first once in four repetitions.
        self.assertEqual(sorted(o[0] for o in orders[1:] + [paired.build_order(jobs, 4, repeated)]),
                         sorted(repeated))
        # The peer's one-add build comes after its one-call build, so its index is the one left for the search.
        self.assertLess(orders[0].index(("hnswlib", "batch")), orders[0].index(("hnswlib", "single")))

    def test_tune_and_report_queries_are_disjoint_and_cover_the_set(self):
        for count in (200, 1000, 7):
            tune, report = paired.split_queries(count)
            self.assertFalse(set(tune) & set(report))
            self.assertEqual(sorted(set(tune) | set(report)), list(range(count)))
            self.assertLessEqual(abs(len(tune) - len(report)), 1)


class BuildParts(unittest.TestCase):
    def test_parts_are_the_cli_chunks_in_order(self):
        # `edgevec build --part-times`: max(10000, n/20) rows a part, the last one shorter.
        self.assertEqual(paired.build_parts(25_000), [(0, 10_000), (10_000, 10_000), (20_000, 5_000)])
        self.assertEqual(paired.build_parts(50_000), [(i * 10_000, 10_000) for i in range(5)])
        self.assertEqual(paired.build_parts(1_000_000), [(i * 50_000, 50_000) for i in range(20)])
        self.assertEqual(paired.build_parts(5), [(0, 5)])
        for n in (1, 9_999, 10_001, 123_457):
            parts = paired.build_parts(n)
            self.assertEqual(sum(rows for _, rows in parts), n)
            self.assertEqual([first for first, _ in parts], [sum(r for _, r in parts[:i]) for i in range(len(parts))])

    def test_part_ratios_pair_the_same_part_of_one_repetition(self):
        ours = [{"seconds": 6.0, "parts": [1.0, 2.0, 3.0]}, {"seconds": 3.0, "parts": [1.0, 1.0, 1.0]}]
        theirs = [{"seconds": 12.0, "parts": [2.0, 4.0, 6.0]}, {"seconds": 6.0, "parts": [4.0, 1.0, 1.0]}]
        self.assertEqual(paired.part_ratios(ours, theirs), [0.5, 0.5, 0.5, 0.25, 1.0, 1.0])

    def test_builds_without_parts_give_one_ratio_each(self):
        ours = [{"seconds": 6.0, "parts": None}, {"seconds": 3.0, "parts": [1.0, 2.0]}]
        theirs = [{"seconds": 12.0}, {"seconds": 6.0, "parts": [1.0, 1.0, 4.0]}]   # part counts differ: whole
        self.assertEqual(paired.part_ratios(ours, theirs), [0.5, 0.5])


if __name__ == "__main__":
    unittest.main()
