"""Mean ± std over seeds from finished runs, as a Markdown table: one command, so a results
table is regenerated from the runs, not typed.

    python train.py -m seed=1,2,3,4,5 strategy=er,cls hydra.sweep.dir=multirun/cls_vs_er
    python -m hebbnet.continual.aggregate multirun/cls_vs_er

Every directory under the given folders that holds a ``metrics.json`` is a run; ``train.py``
writes its command-line overrides to ``.hydra/overrides.yaml`` beside it. Runs whose overrides
differ only in ``seed`` (and in keys that do not change a result: ``hydra.*``, ``data.root``,
``resume``, ``logger.*``) form one row. Columns: ACC with the 95 % confidence interval of its
mean (Student's t, n − 1 degrees of freedom), the validation split's ACC where the runs have
one, BWT, forgetting (points), the bytes beyond the model, training seconds. ``--csv FILE``
writes the same rows as CSV; ``--figure FILE.png`` draws each setting's average accuracy over
the tasks seen so far, after each task, as mean ± std over seeds.

    python -m hebbnet.continual.aggregate multirun/cls_vs_er --csv cls_vs_er.csv --figure cls_vs_er.png

Every record is checked before it is used (:func:`check_metrics`, :func:`read_overrides`): a
damaged or hand-edited one is refused with one :class:`RecordError` naming its path and what
is wrong, which the command prints as one line.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import yaml
from scipy import stats

from hebbnet.run_directory import METRICS_NAME, SAVED_OVERRIDES

NOT_SETTINGS = ("seed", "resume", "data.root", "hydra.", "logger.")
RERUN = "Rerun that run, or move its folder out of the ones aggregated."


class RecordError(ValueError):
    """A run's record (its metrics.json or .hydra/overrides.yaml) that cannot be aggregated."""


@dataclass(frozen=True)
class Run:
    directory: Path
    settings: tuple[str, ...]  # the overrides that define the row, sorted
    metrics: dict


def find_runs(folders: Iterable[Path]) -> list[Run]:
    """The finished runs under ``folders``; refuses two runs of one setting and seed."""
    runs: list[Run] = []
    seen: dict[tuple, Path] = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob(METRICS_NAME)):
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
    overrides_file = directory / SAVED_OVERRIDES
    if not overrides_file.exists():
        raise RecordError(f"{directory} has metrics.json but no .hydra/overrides.yaml; "
                          "runs made by train.py have both (a run from Python: give "
                          "its folder to a table of your own).")
    settings = tuple(sorted(o for o in read_overrides(overrides_file)
                            if not o.lstrip("+~").startswith(NOT_SETTINGS)))
    return Run(directory, settings, read_metrics(directory / METRICS_NAME))


def read_overrides(path: Path) -> list[str]:
    """The command-line overrides Hydra saved for a run: a YAML list of strings."""
    try:
        overrides = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise RecordError(f"{path}: not valid YAML ({_first_line(error)}). {RERUN}") from error
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise RecordError(f"{path}: holds {overrides!r:.80}, not a list of override strings "
                          f"(train.py writes lines like '- seed=1'). {RERUN}")
    return overrides


def read_metrics(path: Path) -> dict:
    """A run's metrics.json, parsed and checked (:func:`check_metrics`)."""
    try:
        metrics = json.loads(path.read_text())
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise RecordError(f"{path}: not valid JSON ({_first_line(error)}); the file is "
                          f"truncated or damaged. {RERUN}") from error
    check_metrics(path, metrics)
    return metrics


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0]


Check = Callable[[object], str | None]  # what is wrong with a value, or None


def check_number(value: object, low: float = -math.inf, high: float = math.inf) -> str | None:
    """A finite number in [low, high]. Where ``high`` is 1 the value is a fraction (or a
    difference of two), and one that reads as a percent is named as one (32.3 for 0.323)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"is {value!r:.60}, not a number"
    if not math.isfinite(value):
        return f"is {value}, not a finite number"
    if not low <= value <= high:
        percent = high == 1 and 2 <= abs(value) <= 100  # beyond what rounding explains
        return (f"is {value}, outside [{low}, {high}]"
                + (f": it looks like a percent, and records hold fractions ({value / 100:g})"
                   if percent else ""))
    return None


def check_integer(value: object, low: float = -math.inf) -> str | None:
    """An int (not a bool, not a float) of at least ``low``."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"is {value!r:.60}, not an integer"
    return f"is {value}, below {low}" if value < low else None


def check_matrix(value: object) -> str | None:
    """A square T×T list of lists of accuracies (fractions)."""
    if not isinstance(value, list) or not value or not all(isinstance(row, list) for row in value):
        return f"is {value!r:.60}, not a list of rows (T×T accuracies)"
    lengths = [len(row) for row in value]
    if any(length != len(value) for length in lengths):
        return f"has {len(value)} rows of lengths {lengths}; it must be square (T×T)"
    for i, row in enumerate(value):
        for j, entry in enumerate(row):
            if problem := FRACTION(entry):
                return f"entry [{i}][{j}] {problem}"
    return None


def check_validation(value: object) -> str | None:
    """None (no validation split) or the validation metrics, whose ``acc`` is a fraction."""
    if value is None:
        return None
    if not isinstance(value, dict) or "acc" not in value:
        return f"is {value!r:.60}, neither null nor an object with an 'acc'"
    problem = FRACTION(value["acc"])
    return f"acc {problem}" if problem else None


FRACTION: Check = partial(check_number, low=0, high=1)
DIFFERENCE: Check = partial(check_number, low=-1, high=1)  # of two fractions: BWT, forgetting
# What the table, CSV and figure read of each metrics.json, with its check
# (see hebbnet.continual.metrics for what each means).
FIELDS: dict[str, Check] = {
    "seed": check_integer,
    "acc": FRACTION,
    "bwt": DIFFERENCE,
    "forgetting": DIFFERENCE,
    "strategy_bytes": partial(check_integer, low=0),
    "train_seconds": partial(check_number, low=0),
    "acc_matrix": check_matrix,
    "validation": check_validation,
}
OPTIONAL = ("validation",)  # older records have none


def check_metrics(path: Path, metrics: object) -> None:
    """Refuse a metrics.json without a field the table reads, or with one out of its range:
    one RecordError naming ``path``, the key and the problem."""
    if not isinstance(metrics, dict):
        raise RecordError(f"{path}: holds a {type(metrics).__name__}, not an object of "
                          f"metrics. {RERUN}")
    for key, check in FIELDS.items():
        if key not in metrics and key not in OPTIONAL:
            raise RecordError(f"{path}: no {key!r}; train.py writes it in every record. {RERUN}")
        if problem := check(metrics.get(key)):
            raise RecordError(f"{path}: {key} {problem}. {RERUN}")


def confidence_interval(values: list[float], level: float = 0.95) -> float:
    """Half-width of the t confidence interval of the mean (0 for a single value)."""
    if len(values) < 2:
        return 0.0
    return stats.t.ppf((1 + level) / 2, len(values) - 1) * statistics.stdev(values) / len(values) ** 0.5


def mean_std(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    """``mean ± sample std`` of ``values`` times ``scale`` (std 0 for a single value)."""
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values) * scale:.{digits}f} ± {std * scale:.{digits}f}"


def by_setting(runs: list[Run]) -> dict[tuple[str, ...], list[dict]]:
    """Each setting's runs' metrics, settings sorted, runs by seed."""
    rows: dict[tuple[str, ...], list[dict]] = {}
    for run in runs:
        rows.setdefault(run.settings, []).append(run.metrics)
    return {settings: sorted(group, key=lambda m: m["seed"])
            for settings, group in sorted(rows.items())}


def table(runs: list[Run]) -> str:
    lines = ["| settings | seeds | ACC % | 95 % CI of the mean | validation ACC % | BWT | "
             "forgetting | bytes beyond the model | training s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for settings, metrics in by_setting(runs).items():
        acc = [m["acc"] for m in metrics]
        validation = [m["validation"]["acc"] for m in metrics if m.get("validation")]
        lines.append(
            f"| {' '.join(settings) or '(defaults)'} "
            f"| {','.join(str(m['seed']) for m in metrics)} "
            f"| {mean_std(acc, 100)} | ± {100 * confidence_interval(acc):.2f} "
            f"| {mean_std(validation, 100) if validation else ''} "
            f"| {mean_std([m['bwt'] for m in metrics], 100)} "
            f"| {mean_std([m['forgetting'] for m in metrics], 100)} "
            f"| {max(m['strategy_bytes'] for m in metrics):,} "
            f"| {mean_std([m['train_seconds'] for m in metrics], 1, 1)} |")
    return "\n".join(lines)


def write_csv(runs: list[Run], path: Path) -> None:
    """One row per setting: the table's columns as numbers (percent, points, bytes, s)."""
    columns = ("acc", "bwt", "forgetting", "train_seconds")
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["settings", "seeds", "acc_mean", "acc_std", "acc_ci95", "bwt_mean",
                         "bwt_std", "forgetting_mean", "forgetting_std", "train_seconds_mean",
                         "train_seconds_std", "bytes"])
        for settings, metrics in by_setting(runs).items():
            values = {c: [m[c] * (1 if c == "train_seconds" else 100) for m in metrics]
                      for c in columns}
            spread = {c: statistics.stdev(v) if len(v) > 1 else 0.0 for c, v in values.items()}
            writer.writerow([" ".join(settings) or "(defaults)",
                             " ".join(str(m["seed"]) for m in metrics),
                             statistics.mean(values["acc"]), spread["acc"],
                             100 * confidence_interval([m["acc"] for m in metrics]),
                             statistics.mean(values["bwt"]), spread["bwt"],
                             statistics.mean(values["forgetting"]), spread["forgetting"],
                             statistics.mean(values["train_seconds"]),
                             spread["train_seconds"],
                             max(m["strategy_bytes"] for m in metrics)])


def plot_average_accuracy(runs: list[Run]):
    """Per setting: the mean accuracy over the tasks seen so far after each task (mean ± std
    over seeds, shaded)."""
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for settings, metrics in by_setting(runs).items():
        curves = np.array([[np.mean(row[: i + 1]) for i, row in enumerate(m["acc_matrix"])]
                           for m in metrics])
        tasks = np.arange(1, curves.shape[1] + 1)
        mean, std = 100 * curves.mean(0), 100 * curves.std(0, ddof=1 if len(curves) > 1 else 0)
        label = f"{' '.join(settings) or '(defaults)'} (n={len(metrics)})"
        ax.plot(tasks, mean, marker="o", label=label)
        ax.fill_between(tasks, mean - std, mean + std, alpha=0.2)
    ax.set_xlabel("after training task")
    ax.set_ylabel("accuracy on the tasks seen so far, %")
    ax.set_xticks(tasks)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+",
                        help="multirun or run directories (searched recursively)")
    parser.add_argument("--csv", type=Path, help="also write the rows to this CSV file")
    parser.add_argument("--figure", type=Path, help="also draw the accuracy curves to this image")
    args = parser.parse_args(argv)
    missing = [str(f) for f in args.folders if not f.is_dir()]
    if missing:
        sys.exit(f"Not a directory: {', '.join(missing)}.")
    try:
        runs = find_runs(args.folders)
    except (ValueError, OSError) as error:  # a damaged record, a seed twice, an unreadable file
        sys.exit(str(error))
    if not runs:
        sys.exit(f"No finished run (a folder with metrics.json) under "
                 f"{', '.join(map(str, args.folders))}.")
    print(table(runs))
    if args.csv:
        write_csv(runs, args.csv)
    if args.figure:
        plot_average_accuracy(runs).savefig(args.figure, dpi=120)


if __name__ == "__main__":
    main()
