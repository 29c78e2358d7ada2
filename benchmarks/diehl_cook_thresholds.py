"""Diehl & Cook's adaptive thresholds against the weights, and the threshold rule chosen on the
validation split.

For finished class-incremental runs of ``model=diehl_cook`` (neurogenesis: one block of neurons
per task), this prints per block how the learned threshold θ_j follows ‖w_j‖² (correlation and
least-squares slope through the origin; the rate approximation predicts τ_m·r_max/2 = 3.2 mV at
the defaults, see ``SpikeCountFeatures``), then evaluates the trained network again — nothing
retrained, since κ acts only while evaluating — with the learned θ and with θ_j = κ‖w_j‖² for
each ``--kappas`` value, on the run's ``--split`` (``validation`` for choosing κ; the run must
have ``benchmark.validation>0``; ``test`` only for reporting).

    python benchmarks/diehl_cook_thresholds.py benchmarks/out/plastic_split_mnist/class/*/seed0 \\
        --kappas 0.25 0.5 1 --split validation

Appends one JSON line per run to ``--log`` (default
``benchmarks/results/diehl_cook_thresholds.jsonl``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from records import append_records

from hebbnet.continual.evaluation import accuracy_row
from hebbnet.runs import load_run

ROOT = Path(__file__).resolve().parents[1]


def block_fit(theta: torch.Tensor, squared_norm: torch.Tensor) -> dict:
    """Correlation of θ with ‖w‖² and the slope of θ ≈ slope·‖w‖² (least squares, no offset)."""
    correlation = torch.corrcoef(torch.stack([theta, squared_norm]))[0, 1]
    slope = (theta * squared_norm).sum() / squared_norm.square().sum()
    return {"theta": round(float(theta.mean()), 2), "w2": round(float(squared_norm.mean()), 2),
            "r": round(float(correlation), 3), "slope": round(float(slope), 3)}


def thresholds(run_dir: Path, kappas: list[float], split: str) -> dict:
    run = load_run(run_dir)
    cfg, benchmark, scenario, model = run.config, run.benchmark, run.scenario, run.model
    if cfg.model.name != "diehl_cook" or cfg.model.neurons_per_task is None:
        raise SystemExit(f"{run_dir}: needs a model=diehl_cook run with model.neurons_per_task.")
    if split == "validation" and benchmark.experiences[0].validation is None:
        raise SystemExit(f"{run_dir} has no validation split: run it with benchmark.validation=0.1.")
    features, block = model.features, cfg.model.neurons_per_task
    theta, squared_norm = features.network.theta, features.network.weight.square().sum(0)
    blocks = [block_fit(theta[t * block:(t + 1) * block], squared_norm[t * block:(t + 1) * block])
              for t in range(benchmark.n_tasks)]
    accuracies = {}
    for kappa in [None, *kappas]:
        features.threshold_from_weights = kappa
        torch.manual_seed(cfg.seed)  # the Poisson input of every evaluation alike
        row = accuracy_row(model, benchmark.experiences, scenario, split=split)
        accuracies["learned" if kappa is None else str(kappa)] = [round(a, 4) for a in row]
    return {"run": str(run_dir), "seed": cfg.seed, "n_neurons": cfg.model.n_neurons,
            "split": split, "blocks": blocks,
            "acc": {k: round(sum(row) / len(row), 4) for k, row in accuracies.items()},
            "acc_per_task": accuracies}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+", help="finished run directories")
    parser.add_argument("--kappas", type=float, nargs="+", default=[0.25, 0.5, 1.0])
    parser.add_argument("--split", choices=("validation", "test"), default="validation")
    parser.add_argument("--log", type=Path,
                        default=ROOT / "benchmarks" / "results" / "diehl_cook_thresholds.jsonl")
    args = parser.parse_args()
    for run_dir in args.runs:
        record = {"command": "diehl_cook_thresholds", **thresholds(run_dir, args.kappas, args.split)}
        print(json.dumps(record), flush=True)
        append_records(args.log, record)


if __name__ == "__main__":
    main()
