"""Stacked plastic layers: HebbianConv2d → HebbianLinear → a linear head trained by backprop,
on scikit-learn's 8×8 digits, with the layers' defaults and with the recipe the README gives.

    OMP_NUM_THREADS=1 python benchmarks/stacking.py --seeds 0 1 2 3 4 \
        --log benchmarks/results/stacking.jsonl

The plastic layers learn without labels for 10 passes over the first 1,200 images (batch 32),
then a linear head is trained on their frozen outputs (Adam, 300 full-batch steps) and tested
on the other 597. "untrained" is the recipe's stack with its learning rates near 0: what the
random layers give.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import torch
from records import append_records, mean_std
from sklearn.datasets import load_digits
from torch import nn

from hebbnet.layers import HebbianConv2d, HebbianLinear
from hebbnet.layers.plastic import participation_ratio

PASSES = 10  # unsupervised passes over the training images (380 updates)
STACKS = {  # name → (conv options, linear options, nonlinearity between and after)
    "defaults (SoftHebb response → Oja response)": ({}, {}, nn.Identity),
    "recipe: drives through ReLU, SoftHebb → Sanger": (
        {"output": "drive"}, {"rule": "sanger", "output": "drive"}, nn.ReLU),
    "recipe, both SoftHebb": ({"output": "drive"}, {"rule": "softhebb", "output": "drive"}, nn.ReLU),
    "untrained (the recipe at lr 1e-9)": (
        {"output": "drive", "lr": 1e-9}, {"rule": "sanger", "output": "drive", "lr": 1e-9}, nn.ReLU),
}


def run(conv_options: dict, linear_options: dict, nonlinearity, seed: int) -> dict:
    images, labels = load_digits(return_X_y=True)
    x = torch.tensor(images, dtype=torch.float32).reshape(-1, 1, 8, 8) / 16
    y = torch.tensor(labels)
    torch.manual_seed(seed)
    features = nn.Sequential(HebbianConv2d(1, 16, 3, **conv_options), nonlinearity(), nn.Flatten(),
                             HebbianLinear(16 * 6 * 6, 64, **linear_options), nonlinearity())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(PASSES):
            for start in range(0, 1200, 32):
                features(x[start:start + 32])
    features.eval()
    with torch.no_grad():
        train, test = features(x[:1200]), features(x[1200:])
    head = nn.Linear(64, 10)
    optimizer = torch.optim.Adam(head.parameters(), 1e-2)
    for _ in range(300):
        optimizer.zero_grad()
        nn.functional.cross_entropy(head(train), y[:1200]).backward()
        optimizer.step()
    accuracy = float((head(test).argmax(1) == y[1200:]).float().mean())
    collapsed = [str(w.message) for w in caught if "passes on one feature" in str(w.message)]
    return {"accuracy": accuracy, "collapse_warnings": collapsed,
            "participation_ratio": participation_ratio(train)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--log", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("| stack | test accuracy % | participation ratio of the 64 features | collapse warnings |"
          "\n|---|---|---|---|")
    for name, (conv, linear, nonlinearity) in STACKS.items():
        runs = [{"stack": name, "seed": seed, **run(conv, linear, nonlinearity, seed)}
                for seed in args.seeds]
        if args.log:
            append_records(args.log, *runs)
        accuracy = [100 * r["accuracy"] for r in runs]
        ratio = [r["participation_ratio"] for r in runs]
        warned = sum(bool(r["collapse_warnings"]) for r in runs)
        print(f"| {name} | {mean_std(accuracy, 1)} | {mean_std(ratio)} | {warned} of {len(runs)} runs |")


if __name__ == "__main__":
    main()
