"""Linear readout on frozen features, shared by the Hebbian feature benchmarks.

Features are standardised with training-set statistics; the readout (optional dropout, then
one linear layer) trains with AdamW and a cosine schedule on the training features only.
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


@torch.no_grad()
def test_accuracy(readout: torch.nn.Module, features: torch.Tensor, labels: torch.Tensor) -> float:
    return (readout(features).argmax(1) == labels).float().mean().item()


def add_run_arguments(parser) -> None:
    """The options every feature benchmark shares: the ablation switch, seeds and data root."""
    parser.add_argument("--no-hebbian", action="store_true", help="ablation: skip the epoch")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--data-root", default="../shared/data")


def run_seeds(run: Callable[..., dict], args) -> None:
    """``run(args, seed)`` for every seed in ``args.seeds``: each record as a JSON line, then
    the test accuracy as mean ± std."""
    accuracies = []
    for seed in args.seeds:
        result = run(args, seed)
        accuracies.append(100 * result["test_acc"])
        print(json.dumps({**vars(args), **result}), flush=True)
    spread = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
    print(f"test accuracy {statistics.mean(accuracies):.2f} ± {spread:.2f} % over seeds {args.seeds}")
