"""A convolutional SoftHebb network on MNIST: one unsupervised epoch, then a linear readout.

The network follows Journé et al. (ICLR 2023, "Hebbian deep learning without feedback"): three
blocks of BatchNorm (no affine) → ``HebbianConv2d`` (SoftHebb with anti-Hebbian losers,
reflect padding, weights starting at norm ≈ 25, per-unit rate ∝ |‖w‖ − 1|^½, updates scaled
to a unit maximum) → triangle activation → pooling. All blocks learn together, in one pass over
the 60,000 training images, with no labels and no gradient. Then BatchNorm statistics are
recomputed with plasticity frozen, features of the frozen network are extracted, and a linear
readout (dropout, AdamW) trains on the training features only; the test set is used once.

``--no-hebbian`` is the ablation: the same network and readout with the initial random weights,
so the table shows what the Hebbian epoch adds. Layer-1 receptive fields go to TensorBoard.

    python benchmarks/hebbian_conv.py --seeds 1 2 3
    python benchmarks/hebbian_conv.py --seeds 1 2 3 --no-hebbian
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from readout import (
    add_run_arguments,
    few_label_accuracies,
    run_seeds,
    standardize,
    test_accuracy,
    train_readout,
)
from torch import nn

from hebbnet.data import load_dataset, to_float
from hebbnet.layers import HebbianConv2d
from hebbnet.models.softhebb_conv import build_network
from hebbnet.monitor import TensorBoardLogger

OUT = Path(__file__).resolve().parent / "out" / "hebbian_conv"


def set_plastic(network: nn.Module, plastic: bool) -> None:
    for module in network.modules():
        if isinstance(module, HebbianConv2d):
            module.plastic = plastic


@torch.no_grad()
def hebbian_epoch(network: nn.Module, images: torch.Tensor, batch: int,
                  generator: torch.Generator) -> None:
    network.train()
    for index in torch.randperm(len(images), generator=generator).split(batch):
        network(images[index])


@torch.no_grad()
def calibrate_batchnorm(network: nn.Module, images: torch.Tensor, batch: int) -> None:
    """Recompute BatchNorm statistics as a plain average over ``images``, plasticity frozen."""
    set_plastic(network, False)
    network.train()
    for module in network.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None
    for chunk in images.split(batch):
        network(chunk)
    network.eval()


@torch.no_grad()
def extract_features(network: nn.Module, images: torch.Tensor, batch: int) -> torch.Tensor:
    network.eval()
    return torch.cat([network(chunk) for chunk in images.split(batch)])


def run(args, seed: int) -> dict:
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    data = load_dataset("mnist", args.data_root)
    train, test = to_float(data.train_images), to_float(data.test_images)

    start = time.perf_counter()
    network = build_network(args.depth)
    if not args.no_hebbian:
        hebbian_epoch(network, train, args.batch, generator)
    hebbian_seconds = time.perf_counter() - start
    calibration = torch.randperm(len(train), generator=generator)[: args.calibration_images]
    calibrate_batchnorm(network, train[calibration], 500)

    train_f, test_f = standardize(extract_features(network, train, 500),
                                  extract_features(network, test, 500))
    readout = train_readout(train_f, data.train_labels, args.readout_epochs, args.weight_decay,
                            generator, dropout=args.dropout)
    first = network[0][1].weight
    logger = TensorBoardLogger(OUT / ("no_hebbian" if args.no_hebbian else "hebbian") / f"seed{seed}",
                               histograms=False)
    logger.receptive_fields("receptive_fields/conv1", first.reshape(len(first), -1),
                            tuple(first.shape[1:]), step=0, columns=12)
    logger.close()
    norms = first.reshape(len(first), -1).norm(dim=1)
    return {"seed": seed, "test_acc": test_accuracy(readout, test_f, data.test_labels),
            "few_label_acc": few_label_accuracies(
                train_f, data.train_labels, test_f, data.test_labels, args.labels_per_class,
                args.readout_epochs * -(-len(train_f) // 100), args.weight_decay, seed,
                args.dropout),
            "features": train_f.shape[1], "conv1_norm_mean": norms.mean().item(),
            "hebbian_epoch_s": hebbian_seconds, "total_s": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=3, choices=(1, 2, 3))
    parser.add_argument("--batch", type=int, default=32, help="unsupervised mini-batch")
    parser.add_argument("--calibration-images", type=int, default=10000)
    parser.add_argument("--readout-epochs", type=int, default=30)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    add_run_arguments(parser)
    run_seeds(run, parser.parse_args())


if __name__ == "__main__":
    main()
