"""The dentate gyrus's code across five tasks, with and without neurogenesis
(``hebbnet.signatures.dentate_codes_across_tasks``), on MNIST's training images
(Split MNIST's class pairs) or scikit-learn's digits, over seeds.

    OMP_NUM_THREADS=1 python benchmarks/dentate_neurogenesis.py --data-root ../shared/data \
        --seeds 0 1 2 3 4 --log benchmarks/results/dentate_neurogenesis.jsonl

The code is the CLS's (1,000 units, 20 winners, calibrated on the first task), 2,000 training
steps per task as in the CLS runs; with neurogenesis 200 units are born per task.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import torch
from records import append_records, mean_std

from hebbnet.data.datasets import load_dataset, to_float
from hebbnet.signatures import dentate_codes_across_tasks

CONDITIONS = {"fixed code": (None, 0.0), "200 born per task, beta 0": (200, 0.0),
              "200 born per task, beta 10": (200, 10.0),
              "200 born per task, beta 30": (200, 30.0),
              "200 born per task, beta 100": (200, 100.0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", help="the folder with MNIST/raw; none: sklearn's digits")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--log", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    images = labels = None
    if args.data_root:
        mnist = load_dataset("mnist", args.data_root)
        images, labels = to_float(mnist.train_images).flatten(1), mnist.train_labels
    rows = {name: [] for name in CONDITIONS}
    for seed in args.seeds:
        for name, (per_task, excitability) in CONDITIONS.items():
            run = dentate_codes_across_tasks(per_task, excitability, images, labels, seed=seed)
            record = {"data": "mnist" if images is not None else "digits", "seed": seed,
                      "condition": name, **vars(run)}
            rows[name].append(record)
            if args.log:
                append_records(args.log, record)
    print(f"seeds {args.seeds}, {'MNIST' if images is not None else 'digits'}")
    print("| code | winners kept at the end, tasks 0-4 | overlap between tasks | within a task |")
    print("|---|---|---|---|")
    for name, runs in rows.items():
        kept = " / ".join(f"{statistics.mean(r['kept'][t] for r in runs):.2f}" for t in range(5))
        between = [r["between_tasks"] for r in runs]
        within = [r["within_task"] for r in runs]
        print(f"| {name} | {kept} | {mean_std(between, 3)} | {mean_std(within, 3)} |")


if __name__ == "__main__":
    main()
