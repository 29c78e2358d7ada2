"""hebbnet's side of the Avalanche timing comparison (issue 3), printed beside Avalanche's figures.

The setting Avalanche was timed in: SplitMNIST, class-incremental, 784-400-400 MLP, Adam lr
1e-3, batch 128, one epoch per task; naive, EWC (λ = 5000) and replay with 200 stored samples.
Each hebbnet run is ``python train.py ...`` timed from launch to exit, through the
``split_mnist_1epoch`` suite of ``continual_strategies.py``; records go to
``results/speed_vs_avalanche_<variant>.jsonl``. Run it on an otherwise idle machine.

    python benchmarks/speed_vs_avalanche.py --seeds 1 2 3                 # TensorBoard on (default)
    python benchmarks/speed_vs_avalanche.py --seeds 1 2 3 --no-tensorboard
"""

from __future__ import annotations

import argparse
import statistics
from continual_strategies import ROOT, read_log, sweep

LOG = ROOT / "benchmarks" / "results" / "speed_vs_avalanche.jsonl"

# Measured on this machine with avalanche-lib 0.6.0, median of 3 seeds, whole process (issue 3).
AVALANCHE = {"naive": (12.6, 19.9), "ewc": (16.9, 19.9), "er": (13.3, 81.8)}
PLAIN_PYTORCH_EPOCH_S = 5.7  # one epoch over all of MNIST, start-up included (issue 3)


def table(records: list[dict]) -> str:
    lines = [
        "| strategy | Avalanche wall s | hebbnet wall s (median) | speed-up | Avalanche ACC % "
        "| hebbnet ACC % (mean ± std) | hebbnet train samples/s | seeds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for strategy, (their_wall, their_acc) in AVALANCHE.items():
        runs = [r for r in records if r["suite"] == "split_mnist_1epoch" and r["strategy"] == strategy]
        if not runs:
            continue
        wall = statistics.median(r["wall_seconds"] for r in runs)
        accs = [100 * r["acc"] for r in runs]
        spread = statistics.stdev(accs) if len(accs) > 1 else 0.0
        rate = statistics.median(r["train_samples_per_s"] for r in runs)
        seeds = ",".join(str(r["seed"]) for r in sorted(runs, key=lambda r: r["seed"]))
        lines.append(f"| {strategy} | {their_wall} | {wall:.1f} | {their_wall / wall:.1f}× "
                     f"| {their_acc} | {statistics.mean(accs):.2f} ± {spread:.2f} | {rate:.0f} "
                     f"| {seeds} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--no-tensorboard", action="store_true", help="logger=none")
    args = parser.parse_args()
    variant = "no_tensorboard" if args.no_tensorboard else "tensorboard"
    log = LOG.with_name(f"speed_vs_avalanche_{variant}.jsonl")
    sweep("split_mnist_1epoch", args.seeds, args.data_root, log,
          out=ROOT / "benchmarks" / "out" / "speed_vs_avalanche" / variant,
          extra=("logger=none",) if args.no_tensorboard else ())
    print(table(read_log(log)))
    print(f"(a plain PyTorch loop over all of MNIST for one epoch: {PLAIN_PYTORCH_EPOCH_S} s)")


if __name__ == "__main__":
    main()
