"""Linear readout on frozen features, shared by the Hebbian feature benchmarks.

Features are standardised with training-set statistics; the readout (optional dropout, then
one linear layer) trains with AdamW and a cosine schedule on the training features only.
Besides the readout on all 60,000 labels, readouts on a few labels per class
(:func:`few_label_accuracies`) show how much a representation does on its own: with 10⁴
features and every label, a linear readout does well on almost any features, random ones too.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable

import torch
import torch.nn.functional as F


def standardize(train: torch.Tensor, test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean, std = train.mean(0), train.std(0) + 1e-6
    return (train - mean) / std, (test - mean) / std


def train_readout(features: torch.Tensor, labels: torch.Tensor, epochs: int, weight_decay: float,
                  generator: torch.Generator, dropout: float = 0.0,
                  batch: int = 100) -> torch.nn.Module:
    readout = torch.nn.Sequential(torch.nn.Dropout(dropout),
                                  torch.nn.Linear(features.shape[1], int(labels.max()) + 1))
    optimizer = torch.optim.AdamW(readout.parameters(), lr=1e-3, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
    for _ in range(epochs):
        for index in torch.randperm(len(features), generator=generator).split(batch):
            loss = F.cross_entropy(readout(features[index]), labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        schedule.step()
    return readout.eval()


def class_balanced_subset(labels: torch.Tensor, per_class: int,
                          generator: torch.Generator) -> torch.Tensor:
    """Indices of ``per_class`` images of every class, drawn uniformly without replacement."""
    subsets = []
    for c in range(int(labels.max()) + 1):
        members = (labels == c).nonzero().flatten()
        subsets.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    return torch.cat(subsets)


def few_label_accuracies(train: torch.Tensor, train_labels: torch.Tensor, test: torch.Tensor,
                         test_labels: torch.Tensor, budgets: list[int], steps: int,
                         weight_decay: float, seed: int, dropout: float = 0.0,
                         batch: int = 100) -> dict[str, float]:
    """Test accuracy of a readout trained on ``k`` labelled images per class, for every ``k`` in
    ``budgets``; each trains for the same ``steps`` optimiser steps as the full readout. The
    labelled subsets depend on ``seed`` alone, so a representation and its ablation are read
    out from the same images."""
    accuracies = {}
    for per_class in budgets:
        generator = torch.Generator().manual_seed(seed)
        subset = class_balanced_subset(train_labels, per_class, generator)
        epochs = -(-steps // -(-len(subset) // batch))
        readout = train_readout(train[subset], train_labels[subset], epochs, weight_decay,
                                generator, dropout, batch)
        accuracies[str(per_class)] = test_accuracy(readout, test, test_labels)
    return accuracies


@torch.no_grad()
def test_accuracy(readout: torch.nn.Module, features: torch.Tensor, labels: torch.Tensor) -> float:
    return (readout(features).argmax(1) == labels).float().mean().item()


def add_run_arguments(parser) -> None:
    """The options every feature benchmark shares: the ablation switch, seeds and data root."""
    parser.add_argument("--no-hebbian", action="store_true", help="ablation: skip the epoch")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--labels-per-class", type=int, nargs="*", default=[10, 100],
                        help="also read out from this many labelled images per class")


def run_seeds(run: Callable[..., dict], args) -> None:
    """``run(args, seed)`` for every seed in ``args.seeds``: each record as a JSON line, then
    the test accuracy as mean ± std."""
    results = []
    for seed in args.seeds:
        results.append(run(args, seed))
        print(json.dumps({**vars(args), **results[-1]}), flush=True)
    _summary("test accuracy", [r["test_acc"] for r in results], args.seeds)
    for per_class in args.labels_per_class:
        _summary(f"  with {per_class} labels per class",
                 [r["few_label_acc"][str(per_class)] for r in results], args.seeds)


def _summary(what: str, accuracies: list[float], seeds: list[int]) -> None:
    percent = [100 * a for a in accuracies]
    spread = statistics.stdev(percent) if len(percent) > 1 else 0.0
    print(f"{what} {statistics.mean(percent):.2f} ± {spread:.2f} % over seeds {seeds}")
