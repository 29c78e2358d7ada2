"""Speed of a plastic 784×2000 dense layer against the machine's own matmul throughput.

One plastic step (forward + rule update + apply) needs at least two matrix products of the
same size as the layer: the drive ``u = x Wᵀ`` and the correlation ``yᵀx``. The reference
is the time of exactly those two products (torch.mm) on this machine; the fraction says how
close the whole step comes to that limit. The epoch time streams all 60,000 MNIST training
images through the layer once.

    python benchmarks/hebbian_speed.py --data-root ../shared/data
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch

from hebbnet.data import load_dataset, to_float
from hebbnet.layers import HebbianLinear

RULES = ("oja", "softhebb", "krotov_hopfield", "competitive", "hebb")


def median_seconds(function, repeats: int) -> float:
    function()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_reference(batch: int, n_in: int, n_out: int, repeats: int) -> float:
    x, w, y = torch.rand(batch, n_in), torch.rand(n_out, n_in), torch.rand(batch, n_out)
    return median_seconds(lambda: (torch.mm(x, w.T), torch.mm(y.T, x)), repeats)


def step_time(rule: str, batch: int, images: torch.Tensor, repeats: int) -> float:
    layer = HebbianLinear(784, 2000, rule=rule, lr=0.01)
    x = images[:batch]
    return median_seconds(lambda: layer(x), repeats)


def epoch_time(rule: str, batch: int, images: torch.Tensor) -> float:
    layer = HebbianLinear(784, 2000, rule=rule, lr=0.01)
    start = time.perf_counter()
    for first in range(0, len(images), batch):
        layer(images[first : first + batch])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--batches", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--rules", nargs="+", default=list(RULES))
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    images = to_float(load_dataset("mnist", args.data_root).train_images).reshape(-1, 784)
    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print("| rule | batch | step ms | matmul limit ms | fraction of limit | updates/s (samples) "
          "| epoch s (60,000 images) |")
    print("|---|---|---|---|---|---|---|")
    for batch in args.batches:
        limit = matmul_reference(batch, 784, 2000, args.repeats)
        for rule in args.rules:
            step = step_time(rule, batch, images, args.repeats)
            epoch = epoch_time(rule, batch, images)
            print(f"| {rule} | {batch} | {1e3 * step:.2f} | {1e3 * limit:.2f} | "
                  f"{limit / step:.0%} | {batch / step:,.0f} | {epoch:.1f} |", flush=True)


if __name__ == "__main__":
    main()
