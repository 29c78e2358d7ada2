"""The console summary of a finished run."""

from __future__ import annotations

from pathlib import Path


def format_report(metrics: dict, run_dir: Path, tensorboard_dir: Path | None) -> str:
    R = metrics["acc_matrix"]
    header = "      " + "".join(f"{f'task {j}':>9}" for j in range(len(R)))
    rows = [f"R[{i}]  " + "".join(f"{100 * a:9.1f}" for a in row) for i, row in enumerate(R)]
    lines = [
        f"{metrics['benchmark']} · {metrics['scenario']}-incremental · {metrics['strategy']} · "
        f"seed {metrics['seed']}",
        "Accuracy matrix (%): row i = after training task i, column j = tested on task j",
        header,
        *rows,
        f"ACC {100 * metrics['acc']:.2f}%   BWT {100 * metrics['bwt']:+.2f}   "
        f"FWT {100 * metrics['fwt']:+.2f}   Forgetting {100 * metrics['forgetting']:.2f}  "
        "(points; definitions in docs/guide.md, Metrics)",
        f"Training: {metrics['train_samples']} samples in {metrics['train_seconds']:.1f} s "
        f"({metrics['train_samples_per_s']:.0f} samples/s); run {metrics['run_seconds']:.1f} s",
        f"Memory beyond the model: {metrics['strategy_bytes']:,} bytes",
        f"Metrics: {run_dir / 'metrics.json'}",
    ]
    if tensorboard_dir is not None:
        lines.append(f"TensorBoard: tensorboard --logdir {tensorboard_dir}")
    return "\n".join(lines)
