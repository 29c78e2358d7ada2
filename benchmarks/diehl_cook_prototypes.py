"""What limits a trained Diehl & Cook network: its prototypes or its spiking vote?

For finished runs of ``model=diehl_cook`` (with ``benchmark.validation>0``), classify the
validation images (all tasks) in two ways, nothing retrained:

* the network as it runs: spike counts, each neuron's label, the all-activity vote (with the
  run's own ``threshold_from_weights``, or ``--kappa``);
* its weights alone, as a nearest-prototype classifier: each neuron's incoming weights w_j are a
  prototype with its label, and an image x goes to the label of the nearest one — Euclidean
  distance, and cosine similarity.

If the two agree, the spikes classify as well as the prototypes allow, and better prototypes are
what a higher accuracy needs; ``prototype_bound.py`` gives k-means prototypes for comparison.

    python benchmarks/diehl_cook_prototypes.py --kappa 0.5 \\
        benchmarks/out/plastic_split_mnist/class/*validation0.1*/seed0

Appends one JSON line per run to ``--log`` (default
``benchmarks/results/diehl_cook_prototypes.jsonl``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from records import append_records

from hebbnet.data import to_float
from hebbnet.runs import load_run

ROOT = Path(__file__).resolve().parents[1]


def percent(predicted: torch.Tensor, labels: torch.Tensor) -> float:
    return round(100 * float((predicted == labels).float().mean()), 2)


@torch.no_grad()
def compare(run_dir: Path, kappa: float | None) -> dict:
    run = load_run(run_dir)
    cfg, benchmark, scenario, model = run.config, run.benchmark, run.scenario, run.model
    if cfg.model.name != "diehl_cook":
        raise SystemExit(f"{run_dir}: needs a model=diehl_cook run.")
    if benchmark.experiences[0].validation is None:
        raise SystemExit(f"{run_dir} has no validation split: run it with benchmark.validation=0.1.")
    model.eval()
    if kappa is not None:
        model.features.threshold_from_weights = kappa
    images = torch.cat([e.validation.x for e in benchmark.experiences])
    labels = torch.cat([e.validation.y for e in benchmark.experiences])
    torch.manual_seed(cfg.seed)  # the Poisson input
    spiking = torch.cat([model(to_float(part)).argmax(1) for part in images.split(2000)])
    neuron_labels = model.readout.labels()
    labelled = neuron_labels >= 0
    prototypes = model.features.network.weight.T[labelled]  # (neurons, pixels)
    x = to_float(images).flatten(1)
    euclidean = neuron_labels[labelled][torch.cdist(x, prototypes).argmin(1)]
    cosine = neuron_labels[labelled][(F.normalize(x) @ F.normalize(prototypes).T).argmax(1)]
    return {"run": str(run_dir), "seed": cfg.seed, "n_neurons": cfg.model.n_neurons,
            "epochs": cfg.train.epochs,
            "threshold_from_weights": model.features.threshold_from_weights,
            "neurons_per_class": torch.bincount(neuron_labels[labelled],
                                                minlength=scenario.n_outputs).tolist(),
            "split": "validation", "spiking_vote": percent(spiking, labels),
            "nearest_prototype_euclidean": percent(euclidean, labels),
            "nearest_prototype_cosine": percent(cosine, labels)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+", help="finished run directories")
    parser.add_argument("--log", type=Path,
                        default=ROOT / "benchmarks" / "results" / "diehl_cook_prototypes.jsonl")
    parser.add_argument("--kappa", type=float, default=None,
                        help="θ = κ‖w‖² while evaluating (default: the run's own setting)")
    args = parser.parse_args()
    for run_dir in args.runs:
        record = {"command": "diehl_cook_prototypes", **compare(run_dir, args.kappa)}
        print(json.dumps(record), flush=True)
        append_records(args.log, record)


if __name__ == "__main__":
    main()
