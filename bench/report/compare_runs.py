#!/usr/bin/env python3
"""Is a second `make report` inside the first one's spreads? (issue 23's goal:
every ratio paired and reproducible within its stated spread on a second run)

    python3 bench/report/compare_runs.py FIRST/results.json SECOND/results.json

Takes every paired ratio that REPORT.md states with a range (search q/s and
build ratios per data set and target recall, churn q/s, filtered ÷
unfiltered and EdgeVec ÷ hnswlib, the threads ratios), and says for each
whether the second run's median lies inside the first run's range [low,
high]; then how many did, and how far the medians moved. Standard library only.
"""
import json
import statistics
import sys


def ratios(results):
    """{name: (median, low, high)} of every paired ratio with a range in one results.json."""
    out = {}
    for r in results.get("records", []):
        experiment, kind = r.get("experiment"), r.get("kind")
        if experiment == "search" and kind == "paired" and r.get("low") is not None:
            out[f"search {r['dataset']} {r['measure']} {r['a']} / {r['b']} at {r['target']}"] = (
                r["ratio"], r["low"], r["high"])
        elif experiment == "churn":
            for engine, e in r.get("engines", {}).items():
                for ef, m in e.get("ef", {}).items():
                    if m.get("qps_ratio_range"):
                        out[f"churn {engine} ef {ef} q/s churned / fresh"] = (m["qps_ratio"], *m["qps_ratio_range"])
        elif experiment == "filtered":
            for w, x in r.get("workloads", {}).items():
                for key in ("filtered_over_unfiltered", "edgevec_over_hnswlib"):
                    s = x.get(key)
                    if s and s.get("count", 0) >= 2:
                        out[f"filtered {w} {key}"] = (s["median"], s["low"], s["high"])
        elif experiment == "concurrency":
            for key in ("edgevec_2_speedup", "edgevec_2_over_hnswlib_2", "cli_ef16_speedup"):
                s = r.get(key)
                if s and s.get("count", 0) >= 2:
                    out[f"threads {kind} {key}"] = (s["median"], s["low"], s["high"])
    return out


def compare(first, second):
    """Rows (name, first (median, low, high), second median, inside) for the ratios both runs have."""
    a, b = ratios(first), ratios(second)
    return [(name, a[name], b[name][0], a[name][1] <= b[name][0] <= a[name][2]) for name in a if name in b]


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
    for name, (median, low, high), again, inside in rows:
        print(f"{'inside ' if inside else 'OUTSIDE'}  {name}: first {median:.3f} ({low:.3f}–{high:.3f}), "
              f"second {again:.3f} ({(again / median - 1) * 100:+.1f} %)")
    moves = [abs(again / median - 1) for _, (median, _, _), again, _ in rows]
    inside = sum(1 for *_, ok in rows if ok)
    print(f"\n{inside} of {len(rows)} of the second run's ratios inside the first run's ranges; the medians moved "
          f"by {statistics.median(moves) * 100:.1f} % (median), {max(moves) * 100:.1f} % at most")
    return 0


if __name__ == "__main__":
    sys.exit(main())
