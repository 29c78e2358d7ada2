"""How far can a network of per-class prototypes go? k-means within each class of MNIST's
training images (scikit-learn), then every test image takes the class of its nearest centre
in Euclidean distance.

This is the classifier a Diehl & Cook network with one block of neurons per task and
thresholds tied to the weights (``model.threshold_from_weights``) approximates, each neuron a
prototype learned from its own task's images: with k prototypes per class it bounds what
better STDP prototypes of that size could reach. It chooses nothing.

    python benchmarks/prototype_bound.py --per-class 40 160 --data ../shared/data

Appends one JSON line per k to ``--log`` (default ``benchmarks/results/prototype_bound.jsonl``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from records import append_records
from sklearn.cluster import KMeans

from hebbnet.data import to_float
from hebbnet.data.datasets import load_dataset

ROOT = Path(__file__).resolve().parents[1]


def nearest_prototype_accuracy(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
                               test_y: np.ndarray, per_class: int, seed: int) -> float:
    centres, labels = [], []
    for c in np.unique(train_y):
        kmeans = KMeans(per_class, n_init=1, random_state=seed).fit(train_x[train_y == c])
        centres.append(kmeans.cluster_centers_)
        labels += [c] * per_class
    centres = np.concatenate(centres)
    distance = (centres ** 2).sum(1)[None] - 2 * test_x @ centres.T  # ‖x‖² is common to all
    return float((np.array(labels)[distance.argmin(1)] == test_y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, nargs="+", default=[40, 160])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--log", type=Path,
                        default=ROOT / "benchmarks" / "results" / "prototype_bound.jsonl")
    args = parser.parse_args()
    data = load_dataset("mnist", args.data)
    train_x = to_float(data.train_images).flatten(1).numpy()
    test_x = to_float(data.test_images).flatten(1).numpy()
    for k in args.per_class:
        accuracy = nearest_prototype_accuracy(train_x, data.train_labels.numpy(), test_x,
                                              data.test_labels.numpy(), k, args.seed)
        record = {"command": "prototype_bound", "per_class": k, "seed": args.seed,
                  "test_acc": round(accuracy, 4)}
        print(json.dumps(record), flush=True)
        append_records(args.log, record)


if __name__ == "__main__":
    main()
