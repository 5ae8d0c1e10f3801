"""Unit tests of the filtered-search section (standard library only).

    python3 -m unittest discover -s bench/report -p 'test_*.py'
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import filtered_report  # noqa: E402
import make_report  # noqa: E402


def spread(values):
    values = sorted(values)
    return {"median": values[len(values) // 2], "low": values[0], "high": values[-1], "q1": values[0],
            "q3": values[-1], "count": len(values)}


def workload(recall, short, filtered, unfiltered, selectivity=0.02):
    ratios = [f / u for f, u in zip(filtered, unfiltered)]
    return {"filter": 'section = "games"', "selectivity": selectivity, "selectivity_min": selectivity,
            "selectivity_max": selectivity,
            "edgevec": {"recall": recall, "recall_hnswlib_queries": recall, "short": short, "qps": spread(filtered)},
            "edgevec_unfiltered": {"qps": spread(unfiltered)},
            "filtered_over_unfiltered": spread(ratios),
            "hnswlib": {"recall": 0.99, "short": 0, "queries": 200, "qps": spread([90, 95, 100])},
            "edgevec_over_hnswlib": spread([f / 95 for f in filtered]),
            "postfilter": {"recall": 0.3, "short": 700, "k": 100, "ef": 100, "qps": spread([7000, 7100, 7200])}}


def record(**workloads):
    return {"experiment": "filtered", "n": 50000, "dim": 384, "queries": 1000, "ef": 64, "k": 10, "passes": 3,
            "post_factor": 10, "hnswlib_queries": 200, "hnswlib_index": "x.hnswlib",
            "build": {"insert_seconds": 13.0, "wall_seconds": 14.0}, "workloads": workloads}


class FilteredGoalsTests(unittest.TestCase):
    def test_both_goals_met(self):
        goals = filtered_report.filtered_goals(record(games=workload(0.99, 0, [6000, 6100, 5900], [10000] * 3)))
        self.assertEqual([g["id"] for g in goals], ["filtered-recall-games", "filtered-qps-games"])
        self.assertTrue(all(g["met"] for g in goals))
        self.assertAlmostEqual(goals[1]["value"], 0.6)

    def test_one_short_query_fails_the_recall_goal_even_at_high_recall(self):
        goals = filtered_report.filtered_goals(record(games=workload(0.999, 1, [6000] * 3, [10000] * 3)))
        self.assertFalse(goals[0]["met"])
        self.assertIn("999 of 1,000 queries", goals[0]["measured"])

    def test_low_recall_and_slow_filtered_search_fail(self):
        goals = filtered_report.filtered_goals(record(w=workload(0.94, 0, [4000, 4900, 4000], [10000] * 3)))
        self.assertEqual([g["met"] for g in goals], [False, False])
        self.assertIn("0.40 (0.40–0.49)", goals[1]["measured"])

    def test_skipped_or_missing_gives_no_goals_and_says_why(self):
        self.assertEqual(filtered_report.filtered_goals(None), [])
        self.assertEqual(filtered_report.filtered_goals({"skipped": "no data"}), [])
        md, _ = filtered_report.filtered_section({"skipped": "no data at x"}, [], make_report.goals_section,
                                                 make_report.md_table, make_report.text_table)
        self.assertIn("Skipped: no data at x", md)
        md, _ = filtered_report.filtered_section(None, [], make_report.goals_section, make_report.md_table,
                                                 make_report.text_table)
        self.assertIn("missing", md)
        self.assertIsNone(filtered_report.filtered_summary({"skipped": "no data"}, []))


class FilteredSectionTests(unittest.TestCase):
    def test_table_row_and_conclusion(self):
        rec = record(games=workload(0.99, 0, [6000, 6100, 5900], [10000] * 3),
                     scripting=workload(0.97, 2, [3000, 3100, 2900], [10000] * 3, selectivity=0.167))
        goals = filtered_report.filtered_goals(rec)
        md, text = filtered_report.filtered_section(rec, goals, make_report.goals_section, make_report.md_table,
                                                    make_report.text_table)
        self.assertIn("| games | 2.00 % | 0.9900 (0.9900) | 0 | 6,000 | 10,000 | 0.60 (0.59–0.61) |", md)
        self.assertIn("goal (issue 21)", md)
        line = filtered_report.filtered_summary(rec, goals)
        self.assertIn("2 queries got fewer than 10", line)
        self.assertIn("games 0.60, scripting 0.30", line)
        self.assertIn("2 of 4 goals met", line)
        self.assertIn("games", text)
        self.assertIn("3 passes; ratios", md)

    def test_fewer_hnswlib_passes_are_stated(self):
        rec = dict(record(games=workload(0.99, 0, [6000, 6100, 5900, 6000, 6050], [10000] * 5)), passes=5,
                   hnswlib_passes=3)
        md, _ = filtered_report.filtered_section(rec, filtered_report.filtered_goals(rec), make_report.goals_section,
                                                 make_report.md_table, make_report.text_table)
        self.assertIn("5 passes (hnswlib in the first 3); ratios", md)


if __name__ == "__main__":
    unittest.main()
