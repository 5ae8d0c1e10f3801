"""The arithmetic of the paired search comparison (standard library only, so
that `make test-report` can test it without the benchmark venv).

A *pass* runs one engine over the whole report query set at one ef. At each
ef the engines take turns pass by pass (the order rotates every pass), so the
k-th pass of two engines ran seconds apart and saw the same machine. Every
comparison is therefore made per pass first: each pass's recall–q/s curve is
interpolated at the target recall, the two engines' values divided, and the
median of those per-pass ratios reported with its range.
"""
import math
import statistics

TARGETS = (0.90, 0.95, 0.99)
# ef values the tuning sweep tries (on the tune half of the queries).
TUNE_EFS = (10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512)


def engine_grids(tune_recalls, targets=TARGETS, candidates=TUNE_EFS):
    """The ef values each engine times: for each target, the two tuning efs
    below the first one that reaches the target on the tune queries, that one
    and the next (so the report queries, whose recall differs a little, still
    bracket the target); a target never reached adds the top two efs. Only
    the engine's own (about 10 of the 13-14 of all engines), so a round costs
    less and the same minutes hold more passes.

    tune_recalls: {engine: {ef: recall}}; returns {engine: sorted efs}.
    """
    grids = {}
    for engine, recalls in tune_recalls.items():
        efs = [ef for ef in candidates if ef in recalls]
        grid = set()
        for target in targets:
            first = next((i for i, ef in enumerate(efs) if recalls[ef] >= target), None)
            if first is None:
                grid.update(efs[-2:])
            else:
                grid.update(efs[max(first - 2, 0):first + 2])
        grids[engine] = sorted(grid)
    return grids


def union_grid(grids):
    """Every ef that some engine of `grids` ({engine: efs}) times, sorted."""
    return sorted({ef for efs in grids.values() for ef in efs})


def interpolate(points, target):
    """q/s at exactly `target` recall from (ef, recall, qps) points: log q/s
    linear in recall between the last ef below the target and the first at or
    above it (the first crossing, in ef order). Where even the smallest ef
    (k: no engine searches a narrower beam) is above the target, its q/s: the
    fastest setting that reaches the target, as ann-benchmarks reads it. None
    when the target is never reached.
    """
    points = sorted(points)
    for i, (_, recall, qps) in enumerate(points):
        if recall >= target:
            if i == 0:
                return qps
            _, r0, q0 = points[i - 1]      # r0 < target <= recall
            t = (target - r0) / (recall - r0)
            return math.exp(math.log(q0) + t * (math.log(qps) - math.log(q0)))
    return None


def per_pass_at(recalls, pass_qps, target):
    """Each pass's q/s at the target recall: recalls {ef: recall} (the same in
    every pass: search is deterministic), pass_qps {ef: [q/s of pass 0, 1, ...]}.
    A list with one value (or None) per pass."""
    efs = sorted(ef for ef in pass_qps if ef in recalls)
    passes = min((len(pass_qps[ef]) for ef in efs), default=0)
    return [interpolate([(ef, recalls[ef], pass_qps[ef][p]) for ef in efs], target) for p in range(passes)]


def spread(values):
    """Median, range and quartiles of the non-None values, or None."""
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    if len(values) >= 2:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    else:
        q1 = q3 = values[0]
    return {"median": statistics.median(values), "low": values[0], "high": values[-1], "q1": q1, "q3": q3,
            "count": len(values)}


def paired_ratios(a, b):
    """Per-pass ratios a[p] / b[p] over the passes where both have a value."""
    return [x / y for x, y in zip(a, b) if x is not None and y]


def rotation(engines, pass_index):
    """The order of the engines in one pass: rotated by one every pass, so
    each engine runs first, second, ... equally often (ABAB for two)."""
    shift = pass_index % len(engines)
    return engines[shift:] + engines[:shift]


def spread_rounds(passes, rounds):
    """The `passes` rounds of `rounds` spread evenly from the first to the last."""
    if passes >= rounds:
        return set(range(rounds))
    if passes <= 1:
        return set() if passes == 0 else {rounds // 2}
    return {round(i * (rounds - 1) / (passes - 1)) for i in range(passes)}


def build_order(jobs, repetition, repeated):
    """The (engine, mode) builds of one repetition, in order: every job in the
    first, only the `repeated` ones after; rotated by the repetition; the
    peers' one-call builds ("batch") first, so that each peer's last build,
    the index left for the search, is its one-add-per-vector one."""
    todo = rotation([j for j in jobs if repetition == 0 or j in repeated], repetition)
    return sorted(todo, key=lambda j: j[1] != "batch")     # stable: the rotation holds within each group


def split_queries(count):
    """(tune rows, report rows): the first half tunes, the second half reports."""
    half = count // 2
    return range(0, half), range(half, count)


def build_parts(n):
    """(first row, rows) of the parts `edgevec build --part-times` times: max(10000, n/20) rows each, in order."""
    size = max(10_000, n // 20)
    return [(first, min(size, n - first)) for first in range(0, n, size)]


def part_ratios(ours, theirs):
    """Build-time ratios paired part by part: for each repetition (ours[r], theirs[r] builds with "parts"), the
    ratio of their times on each part; without part times, one whole-build ratio per repetition."""
    out = []
    for x, y in zip(ours, theirs):
        if x.get("parts") and y.get("parts") and len(x["parts"]) == len(y["parts"]):
            out += [a / b for a, b in zip(x["parts"], y["parts"]) if b > 0]
        else:
            out.append(x["seconds"] / y["seconds"])
    return out
