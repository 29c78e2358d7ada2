"""Mean ± std over seeds from finished runs, as a Markdown table: one command, so a results
table is regenerated from the runs, not typed.

    python train.py -m seed=1,2,3,4,5 strategy=er,cls hydra.sweep.dir=multirun/cls_vs_er
    python -m hebbnet.continual.aggregate multirun/cls_vs_er

Every directory under the given folders that holds a ``metrics.json`` is a run; ``train.py``
writes its command-line overrides to ``.hydra/overrides.yaml`` beside it. Runs whose overrides
differ only in ``seed`` (and in keys that do not change a result: ``hydra.*``, ``data.root``,
``resume``, ``logger.*``) form one row. Columns: ACC with the 95 % confidence interval of its
mean (Student's t, n − 1 degrees of freedom), the validation split's ACC where the runs have
one, BWT, forgetting (points), the bytes beyond the model, training seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf
from scipy import stats

NOT_SETTINGS = ("seed", "resume", "data.root", "hydra.", "logger.")


@dataclass(frozen=True)
class Run:
    directory: Path
    settings: tuple[str, ...]  # the overrides that define the row, sorted
    metrics: dict


def find_runs(folders: Iterable[Path]) -> list[Run]:
    """The finished runs under ``folders``; refuses two runs of one setting and seed."""
    runs, seen = [], {}
    for folder in folders:
        for path in sorted(Path(folder).rglob("metrics.json")):
            run = _read_run(path.parent)
            key = (run.settings, run.metrics["seed"])
            if key in seen:
                raise ValueError(f"{seen[key]} and {run.directory} are the same setting with "
                                 f"the same seed ({run.metrics['seed']}); a mean over seeds "
                                 "would count it twice. Aggregate one of them.")
            seen[key] = run.directory
            runs.append(run)
    return runs


def _read_run(directory: Path) -> Run:
    overrides_file = directory / ".hydra" / "overrides.yaml"
    if not overrides_file.exists():
        raise FileNotFoundError(f"{directory} has metrics.json but no .hydra/overrides.yaml; "
                                "runs made by train.py have both (a run from Python: give "
                                "its folder to a table of your own).")
    overrides = [str(o) for o in OmegaConf.load(overrides_file)]
    settings = tuple(sorted(o for o in overrides
                            if not o.lstrip("+~").startswith(NOT_SETTINGS)))
    return Run(directory, settings, json.loads((directory / "metrics.json").read_text()))


def confidence_interval(values: list[float], level: float = 0.95) -> float:
    """Half-width of the t confidence interval of the mean (0 for a single value)."""
    if len(values) < 2:
        return 0.0
    return stats.t.ppf((1 + level) / 2, len(values) - 1) * statistics.stdev(values) / len(values) ** 0.5


def mean_std(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    """``mean ± sample std`` of ``values`` times ``scale`` (std 0 for a single value)."""
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values) * scale:.{digits}f} ± {std * scale:.{digits}f}"


def table(runs: list[Run]) -> str:
    rows: dict[tuple[str, ...], list[Run]] = {}
    for run in runs:
        rows.setdefault(run.settings, []).append(run)
    lines = ["| settings | seeds | ACC % | 95 % CI of the mean | validation ACC % | BWT | "
             "forgetting | bytes beyond the model | training s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for settings, group in sorted(rows.items()):
        metrics = [run.metrics for run in group]
        acc = [m["acc"] for m in metrics]
        validation = [m["validation"]["acc"] for m in metrics if m.get("validation")]
        lines.append(
            f"| {' '.join(settings) or '(defaults)'} "
            f"| {','.join(str(m['seed']) for m in sorted(metrics, key=lambda m: m['seed']))} "
            f"| {mean_std(acc, 100)} | ± {100 * confidence_interval(acc):.2f} "
            f"| {mean_std(validation, 100) if validation else ''} "
            f"| {mean_std([m['bwt'] for m in metrics], 100)} "
            f"| {mean_std([m['forgetting'] for m in metrics], 100)} "
            f"| {max(m['strategy_bytes'] for m in metrics):,} "
            f"| {mean_std([m['train_seconds'] for m in metrics], 1, 1)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+",
                        help="multirun or run directories (searched recursively)")
    args = parser.parse_args(argv)
    missing = [str(f) for f in args.folders if not f.is_dir()]
    if missing:
        sys.exit(f"Not a directory: {', '.join(missing)}.")
    runs = find_runs(args.folders)
    if not runs:
        sys.exit(f"No finished run (a folder with metrics.json) under "
                 f"{', '.join(map(str, args.folders))}.")
    print(table(runs))


if __name__ == "__main__":
    main()
