"""How much slower a plastic layer with synapse turnover is than the same dense layer.

For each layer shape of ``hebbian_speed.py`` (a 784×2000 ``HebbianLinear`` with Oja's rule,
the SoftHebb network's first ``HebbianConv2d``, a 784×400 ``SpikingLinear`` with pair STDP)
it builds the dense layer and one keeping ``--density`` of its synapses under
``SynapseTurnover`` (replacing ``--rate`` of them every ``--period`` updates, co-active
growth, unused pruning: the costliest options), times one plastic step of each alternately in
this process, ``--pairs`` pairs of ``--period`` steps each (so every pair includes one
rewiring), and reports the median of the per-pair ratios (masked / dense; 1.0 is no cost)
with their min–max. The mask is applied to dense weights, so the layer is as fast as dense
at best: the issue's bound is 1.5× at 10 % density.

    OMP_NUM_THREADS=1 python benchmarks/turnover_speed.py --log benchmarks/results/turnover_speed.jsonl
"""

from __future__ import annotations

import argparse
import platform
import statistics
from pathlib import Path

import torch
from hebbian_speed import seconds
from records import append_records

from hebbnet.layers import HebbianConv2d, HebbianLinear, SpikingLinear
from hebbnet.structural import SynapseTurnover


def layers(structure=None) -> dict[str, torch.nn.Module]:
    torch.manual_seed(0)
    return {
        "dense oja 784x2000": HebbianLinear(784, 2000, rule="oja", lr=1e-3,
                                            structure=structure()),
        "conv softhebb 1->96 5x5": HebbianConv2d(1, 96, 5, padding=2, rule="softhebb",
                                                 lr=1e-3, structure=structure()),
        "spiking stdp 784x400": SpikingLinear(784, 400, rule="stdp", structure=structure()),
    }


def inputs(name: str, batch: int) -> torch.Tensor:
    images = torch.rand(batch, 784, generator=torch.Generator().manual_seed(1))
    if name.startswith("conv"):
        return images.reshape(batch, 1, 28, 28)
    return (images < 0.2).float() if name.startswith("spiking") else images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--density", type=float, default=0.1)
    parser.add_argument("--rate", type=float, default=0.05)
    parser.add_argument("--period", type=int, default=100)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--log", type=Path, help="append one JSON record per layer")
    args = parser.parse_args()

    def turnover():
        return SynapseTurnover(density=args.density, rate=args.rate, period=args.period,
                               growth="coactive", prune="unused")

    dense, masked = layers(lambda: None), layers(turnover)
    machine = (f"{platform.machine()}, {torch.get_num_threads()} threads, torch "
               f"{torch.__version__}, Python {platform.python_version()}")
    print(f"# {machine}; batch {args.batch}, density {args.density}, rate {args.rate} per "
          f"{args.period} updates, {args.pairs} alternating pairs of {args.period} steps")
    print("| layer | masked / dense (median, min–max) | dense ms per step | masked ms per step |")
    print("|---|---|---|---|")
    for name in dense:
        x = inputs(name, args.batch)
        runs = {kind: (lambda layer=layer, x=x: [layer(x) for _ in range(args.period)])
                for kind, layer in (("dense", dense[name]), ("masked", masked[name]))}
        with torch.no_grad():
            runs["dense"](), runs["masked"]()  # warm-up (and one rewiring)
            times = {"dense": [], "masked": []}
            for pair in range(args.pairs):
                for kind in (("dense", "masked") if pair % 2 == 0 else ("masked", "dense")):
                    times[kind].append(seconds(runs[kind]))
        ratios = sorted(m / d for m, d in zip(times["masked"], times["dense"]))
        record = {"layer": name, "ratio_median": statistics.median(ratios),
                  "ratio_min": ratios[0], "ratio_max": ratios[-1],
                  "dense_ms": 1e3 * statistics.median(times["dense"]) / args.period,
                  "masked_ms": 1e3 * statistics.median(times["masked"]) / args.period}
        print(f"| {name} | {record['ratio_median']:.2f} ({record['ratio_min']:.2f}–"
              f"{record['ratio_max']:.2f}) | {record['dense_ms']:.2f} | {record['masked_ms']:.2f} |",
              flush=True)
        if args.log:
            append_records(args.log, {**record, **vars(args), "log": None, "machine": machine})


if __name__ == "__main__":
    main()
