"""Diehl & Cook (2015) on real MNIST: training speed in BindsNET's settings, and accuracy.

Speed (issue 5's reference: bindsnet 0.3.4 ``DiehlAndCook2015``, 784 inputs, Poisson input
over 250 steps of 1 ms, training samples/s, median of 3):

    python benchmarks/diehl_cook.py speed                      # the four settings below
    python benchmarks/diehl_cook.py speed --neurons 400 --batch 64
    python benchmarks/diehl_cook.py speed --backend torch      # the torch step loop instead

Accuracy (labels assigned from *training* images the network did not learn from, test images
used once):

    python benchmarks/diehl_cook.py accuracy --neurons 100 --train-images 5000 --seeds 1 2 3

Results are appended to ``results/diehl_cook.jsonl``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch
from records import append_records

from hebbnet.data import load_dataset, to_float
from hebbnet.models import DiehlCook2015, DiehlCookParameters, assign_labels, predict
from hebbnet.models.diehl_cook import BACKENDS

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "benchmarks" / "results" / "diehl_cook.jsonl"
# (neurons, batch) → BindsNET 0.3.4 training samples/s on this machine (issue 5)
BINDSNET = {(100, 1): 15.7, (100, 16): 99.0, (400, 16): 65.0, (400, 64): 103.0}


def mnist(root: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    data = load_dataset("mnist", root)

    def flat(images: torch.Tensor) -> torch.Tensor:
        return to_float(images).reshape(len(images), -1)

    return flat(data.train_images), data.train_labels, flat(data.test_images), data.test_labels


def train(net: DiehlCook2015, images: torch.Tensor, batch: int) -> float:
    """Present the images once, learning; returns samples/s."""
    net.train()
    start = time.perf_counter()
    for first in range(0, len(images), batch):
        net(images[first:first + batch])
    return len(images) / (time.perf_counter() - start)


@torch.no_grad()
def respond(net: DiehlCook2015, images: torch.Tensor, batch: int = 256) -> torch.Tensor:
    net.eval()
    return torch.cat([net(images[i:i + batch]) for i in range(0, len(images), batch)])


def speed(args, images: torch.Tensor) -> None:
    settings = [(args.neurons, args.batch)] if args.neurons else list(BINDSNET)
    for neurons, batch in settings:
        rates = []
        for repeat in range(3):
            net = DiehlCook2015(784, DiehlCookParameters(n_neurons=neurons, max_rate=args.max_rate),
                                generator=torch.Generator().manual_seed(repeat),
                                backend=args.backend)
            train(net, images[:batch * 2], batch)  # warm-up
            count = max(batch * args.batches, args.min_images)
            rates.append(train(net, images[:count], batch))
        record = {"mode": "speed", "neurons": neurons, "batch": batch,
                  "backend": args.backend, "max_rate": args.max_rate,
                  "samples_per_s": statistics.median(rates), "runs": rates,
                  "bindsnet_samples_per_s": BINDSNET.get((neurons, batch)),
                  "machine": machine()}
        log(record, args.log)
        reference = record["bindsnet_samples_per_s"]
        ratio = f" ({record['samples_per_s'] / reference:.1f}× BindsNET's {reference})" if reference else ""
        print(f"{neurons} neurons, batch {batch}: {record['samples_per_s']:.0f} samples/s{ratio}")


def accuracy(args, data) -> None:
    train_x, train_y, test_x, test_y = data
    label_x = train_x[args.train_images:args.train_images + args.label_images]
    label_y = train_y[args.train_images:args.train_images + args.label_images]
    for seed in args.seeds:
        torch.manual_seed(seed)
        order = torch.randperm(args.train_images)
        net = DiehlCook2015(784, DiehlCookParameters(n_neurons=args.neurons, max_rate=args.max_rate,
                                                     rule=args.rule),
                            generator=torch.Generator().manual_seed(seed), backend=args.backend)
        start = time.perf_counter()
        rates = [train(net, train_x[order], args.batch) for _ in range(args.epochs)]
        assignment = assign_labels(respond(net, label_x), label_y, 10)
        correct = predict(respond(net, test_x[:args.test_images]), assignment, 10)
        acc = (correct == test_y[:args.test_images]).float().mean().item()
        record = {"mode": "accuracy", "seed": seed, "neurons": args.neurons, "batch": args.batch,
                  "train_images": args.train_images, "epochs": args.epochs, "rule": args.rule,
                  "backend": args.backend,
                  "label_images": args.label_images, "test_images": args.test_images,
                  "max_rate": args.max_rate, "accuracy": acc,
                  "train_samples_per_s": statistics.mean(rates),
                  "wall_seconds": time.perf_counter() - start, "machine": machine()}
        log(record, args.log)
        print(f"seed {seed}: {100 * acc:.2f}% ({args.neurons} neurons, {args.epochs}×"
              f"{args.train_images} images, batch {args.batch}; "
              f"{record['train_samples_per_s']:.0f} samples/s)", flush=True)


def machine() -> str:
    return (f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
            f"torch {torch.__version__}")


def log(record: dict, path: Path = LOG) -> None:
    append_records(path, record)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["speed", "accuracy"])
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--log", type=Path, default=LOG)
    parser.add_argument("--neurons", type=int)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--max-rate", type=float, default=63.75,
                        help="Hz for a white pixel (Diehl & Cook 63.75; BindsNET's example 128)")
    parser.add_argument("--rule", default="triplet", choices=["triplet", "pair"])
    parser.add_argument("--backend", default="auto", choices=BACKENDS,
                        help="auto: the compiled loop on the CPU (one thread); torch: one "
                             "vectorised step per time step")
    parser.add_argument("--batches", type=int, default=20, help="speed: batches timed")
    parser.add_argument("--min-images", type=int, default=1000, help="speed: images timed")
    parser.add_argument("--train-images", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--label-images", type=int, default=10000)
    parser.add_argument("--test-images", type=int, default=10000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    data = mnist(args.data_root)
    if args.mode == "speed":
        speed(args, data[0])
    else:
        if args.neurons is None:
            parser.error("accuracy needs --neurons")
        accuracy(args, data)


if __name__ == "__main__":
    main()
