"""What forgets in a plastic network, the features or the readout?

For finished runs of a plastic network, the features as they are after the last task are frozen
and a linear readout (standardised features, AdamW, as in ``readout.py``) is trained on the
training images of *all* tasks at once: the upper bound any readout of those features could
reach. Its gap to the run's own class-incremental accuracy is what the readout lost; its gap to
the same network trained on all data at once is what the features lost. Beside it, two
measures of the final features themselves: how many of them are active (nonzero) for a test
image, and the nearest class mean computed on them from all tasks' training images.

    python benchmarks/plastic_readout_bound.py benchmarks/out/plastic_split_mnist/class/*/seed*

Appends one JSON line per run to ``--log`` (default ``benchmarks/results/plastic_readout_bound.jsonl``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from readout import standardize, test_accuracy, train_readout
from records import append_records

from hebbnet.data import TensorSet, to_float
from hebbnet.runs import load_run

ROOT = Path(__file__).resolve().parents[1]


@torch.no_grad()
def features(model, data: TensorSet, batch: int = 1000) -> torch.Tensor:
    model.eval()
    return torch.cat([model.features(to_float(data.x[i : i + batch]))
                      for i in range(0, len(data), batch)])


def bound(run_dir: Path, epochs: int, weight_decay: float) -> dict:
    run = load_run(run_dir)
    cfg, benchmark, scenario, model = run.config, run.benchmark, run.scenario, run.model
    train = TensorSet.concat([e.train for e in benchmark.experiences])
    test = TensorSet.concat([e.test for e in benchmark.experiences])
    start = time.perf_counter()
    train_f, test_f = features(model, train), features(model, test)
    means = torch.stack([train_f[train.y == c].mean(0) for c in range(scenario.n_outputs)])
    class_means_acc = float((torch.cdist(test_f, means).argmin(1) == test.y).float().mean())
    active = float((test_f != 0).sum(1).float().mean())
    train_f, test_f = standardize(train_f, test_f)
    generator = torch.Generator().manual_seed(cfg.seed)
    readout = train_readout(train_f, train.y, epochs, weight_decay, generator)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {"run": str(run_dir), "model": cfg.model.name, "readout": cfg.model.readout,
            "seed": cfg.seed, "run_acc": metrics["acc"],
            "joint_readout_acc": test_accuracy(readout, test_f, test.y),
            "class_means_on_final_features_acc": class_means_acc,
            "active_features_per_image": active, "features": test_f.shape[1],
            "bound_seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+", help="run directories (finished)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--log", type=Path,
                        default=ROOT / "benchmarks" / "results" / "plastic_readout_bound.jsonl")
    args = parser.parse_args()
    for run_dir in args.runs:
        record = {"command": "readout_bound", **bound(run_dir, args.epochs, args.weight_decay)}
        print(json.dumps(record), flush=True)
        append_records(args.log, record)


if __name__ == "__main__":
    main()
