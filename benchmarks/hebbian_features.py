"""A dense competitive Hebbian layer on MNIST: one unsupervised epoch, then a linear readout.

1. Prototypes start as random training images (no labels), then learn for one epoch with the
   competitive instar rule: the nearest prototype wins each image and moves toward the mean of
   the images it won (``Competitive(nearest=True, winner_mean=True)``, mini-batch k-means),
   learning rate decaying linearly to zero. No gradient ever reaches the layer.
2. Features of the frozen layer: Coates & Ng's "triangle" code, f_i = max(0, mean_j d_j − d_i)
   with d_i the distance to prototype i; standardised with training-set statistics.
3. A linear softmax readout (AdamW, cosine schedule) on the training features only; the test
   set is used once, at the end.

The ablation ``--no-hebbian`` runs the same pipeline with the initial prototypes, so the table
shows what the Hebbian epoch itself adds. Receptive fields go to TensorBoard as an image grid.

    python benchmarks/hebbian_features.py --seeds 1 2 3
    python benchmarks/hebbian_features.py --seeds 1 2 3 --no-hebbian
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

from hebbnet.data import load_dataset, to_float
from hebbnet.layers import HebbianLinear
from hebbnet.monitor import TensorBoardLogger
from hebbnet.rules import Competitive

OUT = Path(__file__).resolve().parent / "out" / "hebbian_features"


def hebbian_epoch(layer: HebbianLinear, images: torch.Tensor, batch: int, lr: float,
                  generator: torch.Generator) -> None:
    order = torch.randperm(len(images), generator=generator)
    steps = -(-len(images) // batch)
    for step in range(steps):
        layer.lr = lr * (1 - step / steps)
        layer(images[order[step * batch : (step + 1) * batch]])


@torch.no_grad()
def triangle_features(images: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
    chunks = []
    for chunk in images.split(5000):
        distances = torch.cdist(chunk, prototypes)
        chunks.append(torch.relu(distances.mean(1, keepdim=True) - distances))
    return torch.cat(chunks)


def run(args, seed: int) -> dict:
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    data = load_dataset("mnist", args.data_root)
    train = to_float(data.train_images).reshape(-1, 784)
    test = to_float(data.test_images).reshape(-1, 784)

    start = time.perf_counter()
    layer = HebbianLinear(784, args.units, lr=args.lr,
                          rule=Competitive(k=1, nearest=True, winner_mean=True))
    layer.weight.data = train[torch.randperm(len(train), generator=generator)[: args.units]].clone()
    if not args.no_hebbian:
        hebbian_epoch(layer, train, args.batch, args.lr, generator)
    hebbian_seconds = time.perf_counter() - start

    train_f, test_f = standardize(triangle_features(train, layer.weight),
                                  triangle_features(test, layer.weight))
    readout = train_readout(train_f, data.train_labels, args.readout_epochs, args.weight_decay,
                            generator)
    logger = TensorBoardLogger(OUT / ("no_hebbian" if args.no_hebbian else "hebbian") / f"seed{seed}",
                               histograms=False)
    logger.receptive_fields("receptive_fields", layer.weight[:100], (1, 28, 28), step=0)
    logger.close()
    return {"seed": seed, "test_acc": test_accuracy(readout, test_f, data.test_labels),
            "few_label_acc": few_label_accuracies(
                train_f, data.train_labels, test_f, data.test_labels, args.labels_per_class,
                args.readout_epochs * -(-len(train_f) // 100), args.weight_decay, seed),
            "hebbian_epoch_s": hebbian_seconds, "total_s": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=8000)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--readout-epochs", type=int, default=40)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    add_run_arguments(parser)
    run_seeds(run, parser.parse_args())


if __name__ == "__main__":
    main()
