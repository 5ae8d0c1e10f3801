#!/usr/bin/env python3
"""Is a second `make report` inside the first one's spreads? (issue 23's goal:
every ratio paired and reproducible within its stated spread on a second run)

    python3 bench/report/compare_runs.py FIRST/results.json SECOND/results.json

Takes every paired ratio that REPORT.md states with a range (search q/s and
build ratios per data set and target recall, churn q/s, filtered ÷
unfiltered and EdgeVec ÷ hnswlib, the threads ratios), and says for each
whether the second run's median lies inside the first run's range [low,
high], and whether the two runs' ranges overlap; then how many did, and how
far the medians moved. Standard library only.

Neither count can be read against "all of them": noise alone puts misses in.
If both runs drew their per-pass ratios from one distribution, the second
median of m passes would still fall outside the first range of n passes with
a probability that depends only on n and m (17 % for 5 and 5, 39 % for 3 and
3), and the two ranges would be disjoint with probability 2·n!·m!/(n+m)!
(0.8 % for 5 and 5, 10 % for 3 and 3). The script prints both expectations,
summed over the ratios compared, next to what was found: misses beyond them
are drift between the runs, not pass-to-pass noise.
"""
import json
import math
import random
import statistics
import sys


def ratios(results):
    """{name: (median, low, high, passes)} of every paired ratio with a range in one results.json."""
    out = {}
    for r in results.get("records", []):
        experiment, kind = r.get("experiment"), r.get("kind")
        if experiment == "search" and kind == "paired" and r.get("low") is not None and r.get("passes", 2) >= 2:
            out[f"search {r['dataset']} {r['measure']} {r['a']} / {r['b']} at {r['target']}"] = (
                r["ratio"], r["low"], r["high"], r.get("passes"))
        elif experiment == "churn":
            for engine, e in r.get("engines", {}).items():
                for ef, m in e.get("ef", {}).items():
                    if m.get("qps_ratio_range"):
                        out[f"churn {engine} ef {ef} q/s churned / fresh"] = (
                            m["qps_ratio"], *m["qps_ratio_range"], r.get("passes"))
        elif experiment == "filtered":
            for w, x in r.get("workloads", {}).items():
                for key in ("filtered_over_unfiltered", "edgevec_over_hnswlib"):
                    s = x.get(key)
                    if s and s.get("count", 0) >= 2:
                        out[f"filtered {w} {key}"] = (s["median"], s["low"], s["high"], s["count"])
        elif experiment == "concurrency":
            for key in ("edgevec_2_speedup", "edgevec_2_over_hnswlib_2", "cli_ef16_speedup"):
                s = r.get(key)
                if s and s.get("count", 0) >= 2:
                    out[f"threads {kind} {key}"] = (s["median"], s["low"], s["high"], s["count"])
    return out


def compare(first, second):
    """Rows (name, first (median, low, high, passes), second (median, low, high, passes), inside, overlap)
    for the ratios both runs have: inside when the second median lies in the first range, overlap when the
    two ranges share a point."""
    a, b = ratios(first), ratios(second)
    return [(name, a[name], b[name], a[name][1] <= b[name][0] <= a[name][2],
             a[name][1] <= b[name][2] and b[name][1] <= a[name][2]) for name in a if name in b]


def chance_outside(n, m, trials=20000):
    """Probability that the median of m draws falls outside the range of n earlier draws of the same
    distribution (distribution-free for odd m; simulated with a fixed seed)."""
    rng = random.Random(n * 1000 + m)
    outside = 0
    for _ in range(trials):
        first = [rng.random() for _ in range(n)]
        again = statistics.median(rng.random() for _ in range(m))
        outside += not min(first) <= again <= max(first)
    return outside / trials


def chance_disjoint(n, m):
    """Probability that the ranges of n and of m draws of one continuous distribution share no point:
    all of one sample below all of the other."""
    return 2 * math.factorial(n) * math.factorial(m) / math.factorial(n + m)


def expectations(rows):
    """(expected outside, expected disjoint) summed over rows whose pass counts are known."""
    cache = {}
    outside = disjoint = 0.0
    for _, first, second, _, _ in rows:
        n, m = first[3], second[3]
        if not n or not m:
            continue
        if (n, m) not in cache:
            cache[(n, m)] = (chance_outside(n, m), chance_disjoint(n, m))
        outside += cache[(n, m)][0]
        disjoint += cache[(n, m)][1]
    return outside, disjoint


def summary(rows):
    """The counts main() prints, as a dict: compared, inside, overlap, the noise expectations, the moves."""
    moves = [abs(second[0] / first[0] - 1) for _, first, second, _, _ in rows]
    outside_expected, disjoint_expected = expectations(rows)
    return {"compared": len(rows), "inside": sum(1 for row in rows if row[3]),
            "overlap": sum(1 for row in rows if row[4]), "outside_expected": outside_expected,
            "disjoint_expected": disjoint_expected,
            "median_move": statistics.median(moves) if moves else None, "max_move": max(moves) if moves else None}


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        first = json.load(f)
    with open(sys.argv[2]) as f:
        second = json.load(f)
    rows = compare(first, second)
    if not rows:
        print("no paired ratio in common")
        return 1
    for name, (median, low, high, _), (again, low2, high2, _), inside, overlap in rows:
        print(f"{'inside ' if inside else 'OUTSIDE'} {'overlap ' if overlap else 'DISJOINT'}  {name}: "
              f"first {median:.3f} ({low:.3f}–{high:.3f}), second {again:.3f} ({low2:.3f}–{high2:.3f}, "
              f"{(again / median - 1) * 100:+.1f} %)")
    s = summary(rows)
    print(f"\n{s['inside']} of {s['compared']} of the second run's medians inside the first run's ranges "
          f"(one distribution for both runs would leave about {s['outside_expected']:.1f} outside); "
          f"{s['overlap']} of {s['compared']} ranges overlap (about {s['disjoint_expected']:.1f} disjoint by chance); "
          f"the medians moved by {s['median_move'] * 100:.1f} % (median), {s['max_move'] * 100:.1f} % at most")
    return 0


if __name__ == "__main__":
    sys.exit(main())
