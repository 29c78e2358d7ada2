"""Speed of plastic layers as a fraction of the two matrix products of their shape.

One plastic step (forward + rule update + apply) needs at least two products of the layer's
size: the drive ``u = x Wᵀ`` and the correlation ``yᵀx``. For each layer the benchmark times
a step and exactly those two products (``torch.mm`` on tensors of the same shapes) alternately
in this process, ``--pairs`` times, and reports the median of the per-pair ratios
(products / step: 1.0 is the limit) with their min–max, at each thread count. Alternating
keeps a noisy, shared machine's load out of the ratio; the seconds are printed for context
only.

Layers: a 784×2000 ``HebbianLinear`` per rule; the first block of the SoftHebb convolutional
network (``HebbianConv2d`` 1→96, 5×5, padding 2, on 28×28 images: its products are those of
the unfolded patches); a 784×400 ``SpikingLinear`` with pair STDP for one time step (its rule
needs a third product, so its own ceiling is ≈ 2/3).

    python benchmarks/hebbian_speed.py --threads 1 2 --log benchmarks/results/hebbian_speed.jsonl
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from records import append_records

from hebbnet.layers import HebbianConv2d, HebbianLinear, SpikingLinear

DENSE_RULES = ("hebb", "oja", "softhebb", "bcm", "competitive", "krotov_hopfield")


def seconds(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def products(x: torch.Tensor, weight: torch.Tensor) -> Callable[[], object]:
    """The two products of a step on input rows x (N, n_in) and weight (n_out, n_in)."""
    y = torch.rand(len(x), len(weight))
    return lambda: (torch.mm(x, weight.T), torch.mm(y.T, x))


def workloads(batch: int) -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    """name → (one plastic step, the two products of its shape)."""
    g = torch.Generator().manual_seed(0)
    images = torch.rand(batch, 784, generator=g)
    out: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {}
    for rule in DENSE_RULES:
        layer = HebbianLinear(784, 2000, rule=rule, lr=1e-3)
        out[f"dense {rule}"] = (lambda layer=layer: layer(images),
                                products(images, layer.weight.detach()))
    conv = HebbianConv2d(1, 96, kernel_size=5, padding=2, rule="softhebb", lr=1e-3)
    grid = images.reshape(batch, 1, 28, 28)
    patches = F.unfold(grid, 5, padding=2).transpose(1, 2).reshape(-1, 25)
    out["conv softhebb"] = (lambda: conv(grid), products(patches, conv.weight.detach().reshape(96, 25)))
    spiking = SpikingLinear(784, 400, rule="stdp")
    spikes = (images < 0.2).float()
    out["spiking stdp"] = (lambda: spiking(spikes), products(spikes, spiking.weight.detach()))
    return out


def measure(step, limit, pairs: int) -> dict:
    step(), limit()  # warm-up
    steps, limits = [], []
    for _ in range(pairs):
        steps.append(seconds(step))
        limits.append(seconds(limit))
    ratios = sorted(lim / st for lim, st in zip(limits, steps))
    return {"fraction_median": statistics.median(ratios), "fraction_min": ratios[0],
            "fraction_max": ratios[-1], "step_ms_median": 1e3 * statistics.median(steps),
            "products_ms_median": 1e3 * statistics.median(limits)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument("--log", type=Path, help="append one JSON record per layer and thread count")
    args = parser.parse_args()

    machine = f"{platform.machine()}, torch {torch.__version__}, Python {platform.python_version()}"
    print(f"# {machine}, batch {args.batch}, {args.pairs} alternating pairs")
    print("| layer | threads | fraction of the two products (median, min–max) | step ms | products ms |")
    print("|---|---|---|---|---|")
    for threads in args.threads:
        torch.set_num_threads(threads)
        for name, (step, limit) in workloads(args.batch).items():
            with torch.no_grad():
                record = measure(step, limit, args.pairs)
            print(f"| {name} | {threads} | {record['fraction_median']:.2f} "
                  f"({record['fraction_min']:.2f}–{record['fraction_max']:.2f}) | "
                  f"{record['step_ms_median']:.2f} | {record['products_ms_median']:.2f} |",
                  flush=True)
            if args.log:
                append_records(args.log, {"layer": name, "threads": threads,
                                          "batch": args.batch, "pairs": args.pairs,
                                          "machine": machine, **record})


if __name__ == "__main__":
    main()
