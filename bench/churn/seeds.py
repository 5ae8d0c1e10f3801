#!/usr/bin/env python3
"""How much recall@10 of a fresh build moves with its seed alone: the noise
under bench/churn/run.py's one fresh build (seed 42, rows in order), against
which a churned index's recall difference should be read.

Builds the data's rows with each --seeds value (cosine, M 16, efConstruction
200, one thread: the churn experiment's parameters), and with --shuffles
random row orders at seed 42 (the churned index holds its vectors in another
order), and prints recall@10 at ef 16 and 64 of each, with mean, standard
deviation and range. About 25 s per build natively.

    .venv-bench/bin/python bench/churn/seeds.py --dist dist --data ../shared/data/minilm-debian \\
        --seeds 1,2,3,4,5 --shuffles 2 [--out seeds.json]
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import json
import statistics
import sys

import importlib.util

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# bench/churn/run.py under another name: it imports bench/search/run.py as `run`.
_spec = importlib.util.spec_from_file_location("churn_run", os.path.join(HERE, "run.py"))
churn_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(churn_run)
EFS, ROOT, EdgeVecIndex, load_data, log = churn_run.EFS, churn_run.ROOT, churn_run.EdgeVecIndex, churn_run.load_data, churn_run.log
open_library, recall = churn_run.open_library, churn_run.recall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", default=os.path.join(ROOT, "dist"))
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "minilm-debian"))
    parser.add_argument("--work", default=os.path.join(ROOT, ".build-work", "churn"))
    parser.add_argument("--seeds", default="42,1,2,3,4,5")
    parser.add_argument("--shuffles", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    name, base, queries, gt = load_data(args)
    n, dim = base.shape
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    lib, helper = open_library(args.dist, args.work)
    builds = [(int(s), None) for s in args.seeds.split(",") if s]
    builds += [(42, k) for k in range(args.shuffles)]
    rows = []
    for seed, shuffle in builds:
        order = np.arange(n) if shuffle is None else np.random.default_rng(1000 + shuffle).permutation(n)
        index = EdgeVecIndex(lib, helper, dim, seed=seed)
        index.add_batch(base[order], order)          # id = row, whatever the order
        row = {"seed": seed, "order": "rows" if shuffle is None else f"shuffle {shuffle}"}
        for ef in EFS:
            _, ids = index.search(queries, ef)
            row[f"recall_ef{ef}"] = recall(ids, np.arange(n, dtype=np.int64), gt)
        index.close()
        rows.append(row)
        log(f"seed {seed}, {row['order']}: " + ", ".join(f"ef {ef} {row[f'recall_ef{ef}']:.4f}" for ef in EFS))
    print(f"fresh builds of {name} ({n} × {dim}): recall@10")
    summary = {}
    for ef in EFS:
        values = [r[f"recall_ef{ef}"] for r in rows]
        summary[ef] = {"mean": statistics.mean(values), "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
                       "min": min(values), "max": max(values)}
        print(f"  ef {ef}: mean {summary[ef]['mean']:.4f}, sd {summary[ef]['sd']:.4f}, "
              f"range {summary[ef]['min']:.4f}–{summary[ef]['max']:.4f} over {len(values)} builds")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"dataset": name, "builds": rows, "summary": summary, "command": " ".join(sys.argv)}, f, indent=1)


if __name__ == "__main__":
    main()
