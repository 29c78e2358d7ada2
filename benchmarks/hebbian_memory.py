"""Resident memory of a plastic layer over 10^5 learning steps: it must stay flat.

Plasticity runs under ``torch.no_grad`` and never keeps a graph, so memory after 1,000 steps
and after 100,000 steps should be the same. Both update modes are measured.

    python benchmarks/hebbian_memory.py
"""

from __future__ import annotations

import argparse
import os

import torch

from hebbnet.layers import HebbianLinear


def resident_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(update: str, steps: int, rule: str) -> tuple[float, float]:
    torch.manual_seed(0)
    layer = HebbianLinear(784, 100, rule=rule, lr=0.001, update=update)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.001) if update == "grad" else None
    inputs = torch.rand(1000, 1, 784)
    early = 0.0
    for step in range(steps):
        layer(inputs[step % 1000])
        if optimizer is not None:
            optimizer.step()
            optimizer.zero_grad()
        if step == 999:
            early = resident_mib()
    return early, resident_mib()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--rule", default="softhebb")
    args = parser.parse_args()
    print("| update mode | rule | RSS after 1,000 steps (MiB) | RSS after "
          f"{args.steps:,} steps (MiB) | growth (MiB) |")
    print("|---|---|---|---|---|")
    for update in ("local", "grad"):
        early, late = measure(update, args.steps, args.rule)
        print(f"| {update} | {args.rule} | {early:.1f} | {late:.1f} | {late - early:+.1f} |")


if __name__ == "__main__":
    main()
