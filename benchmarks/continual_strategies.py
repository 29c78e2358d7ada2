"""Continual-learning strategies on real MNIST in their published settings, timed end to end.

Each run is a separate ``python train.py experiment=... strategy=...`` process, timed from
launch to exit (start-up, data decoding and evaluation included); the strategies' published
hyperparameters come from their config files. Results are appended to a JSON-lines file as
they finish, so an interrupted sweep continues where it stopped; ``--report`` prints the table.

    python benchmarks/continual_strategies.py --suite split_mnist --seeds 1 2 3
    python benchmarks/continual_strategies.py --suite permuted_mnist --seeds 1 2 3
    python benchmarks/continual_strategies.py --suite der2020_split_mnist --seeds 1 2 3
    python benchmarks/continual_strategies.py --suite split_mnist_1epoch --seeds 1 2 3
    python benchmarks/continual_strategies.py --suite cls_split_mnist --seeds 1 2 3 4 5 \
        --log benchmarks/results/cls_split_mnist.jsonl
    python benchmarks/continual_strategies.py --suite cls_der2020_split_mnist --seeds 1 2 3 4 5 \
        --log benchmarks/results/cls_split_mnist.jsonl
    python benchmarks/continual_strategies.py --report

A hyperparameter search goes to its own log, one value per call:

    python benchmarks/continual_strategies.py --suite permuted_mnist --strategies ewc --seeds 0 \
        --set strategy.ewc_lambda=1000 --log benchmarks/results/permuted_mnist_search.jsonl
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from records import append_records

from hebbnet.continual.aggregate import mean_std

ROOT = Path(__file__).resolve().parents[1]


BUFFERED = ("er", "agem", "derpp", "clser", "cls")  # cls: a budget of that many raw images, in bytes
VDV = ("naive", "joint", "ewc", "online_ewc", "si", "lwf", "er", "agem")


@dataclass(frozen=True)
class Suite:
    experiment: str
    scenarios: tuple[str, ...]
    strategies: tuple[str, ...]
    overrides: tuple[str, ...] = ()
    buffer_sizes: tuple[int | None, ...] = (None,)  # None: the strategy's published size
    per_strategy: tuple[tuple[str, str], ...] = ()  # (strategy, override) pairs


SUITES = {
    "split_mnist": Suite("vdv2022_split_mnist", ("class", "domain", "task"), VDV),
    "permuted_mnist": Suite("vdv2022_permuted_mnist", ("domain",), VDV),
    "der2020_split_mnist": Suite("der2020_split_mnist", ("class",),
                                 ("naive", "er", "derpp", "clser"),
                                 buffer_sizes=(200, 500, 5120)),
    # Avalanche's timing setting (issue 3): one epoch per task instead of 2000 iterations;
    # EWC with λ = 5000 (the strategy's default) and replay of 200 stored samples.
    "split_mnist_1epoch": Suite("vdv2022_split_mnist", ("class",), ("naive", "ewc", "er"),
                                ("train.iterations=null", "train.epochs=1"), (200,),
                                (("ewc", "strategy.ewc_lambda=5000"),)),
    # Issue 6: the complementary learning system against replay at the same memory, in bytes.
    "cls_split_mnist": Suite("vdv2022_split_mnist", ("class",), ("cls", "er", "derpp"),
                             buffer_sizes=(200, 500, 5120)),
    # The same in Mammoth's protocol (one epoch, batch 10, SGD), where CLS-ER and DER++ report.
    "cls_der2020_split_mnist": Suite("der2020_split_mnist", ("class",), ("cls",),
                                     buffer_sizes=(200, 500, 5120)),
    # Issue 18: plastic networks, one epoch per task, no stored samples; the network and its
    # settings come with --set (model=fly, model=diehl_cook model.n_neurons=1600, ...).
    "plastic_split_mnist": Suite("plastic_split_mnist", ("class", "domain", "task"), ("naive",)),
    # The same protocol (one pass per task, batch 64, no stored samples) on Permuted MNIST.
    "plastic_permuted_mnist": Suite("plastic_split_mnist", ("domain",), ("naive",),
                                    ("benchmark=permuted_mnist",)),
}
# Published figures (ACC %), as issue 3 quotes them: van de Ven et al. (2022) read off their
# plot (±2 points); Buzzega et al. (2020) Table 2, seq-MNIST class-IL, by buffer size.
PUBLISHED = {
    ("split_mnist", "class"): {"joint": 98, "er": 90, "ewc": 20, "si": 20, "lwf": 21, "naive": 20},
    ("split_mnist", "domain"): {"joint": 98, "er": 93, "lwf": 72, "si": 68, "ewc": 62, "naive": 59},
    ("split_mnist", "task"): {"naive": 84, "joint": 99, "er": 99, "ewc": 99, "si": 99, "lwf": 99},
    ("permuted_mnist", "domain"): {"ewc": 94, "si": 94},
    ("der2020_split_mnist", "class"): {("er", 200): 80, ("er", 500): 86, ("er", 5120): 93,
                                       ("derpp", 200): 86, ("derpp", 500): 91,
                                       ("derpp", 5120): 95, ("clser", 200): 89.54,
                                       ("clser", 500): 92.05, ("clser", 5120): 95.73},
}
IMAGE_BYTES = 784  # one raw 28×28 MNIST image
DEFAULT_LOG = ROOT / "benchmarks" / "results" / "continual_strategies.jsonl"
DEFAULT_OUT = ROOT / "benchmarks" / "out"


def run_one(suite: str, scenario: str, strategy: str, buffer: int | None, seed: int,
            data_root: str, out: Path = DEFAULT_OUT, extra: tuple[str, ...] = ()) -> dict:
    spec = SUITES[suite]
    label = strategy if buffer is None else f"{strategy}{buffer}"
    label += "".join(f"_{_short(override)}" for override in extra)
    run_dir = out / suite / scenario / label / f"seed{seed}"
    sized = [] if buffer is None else [
        f"strategy.memory_bytes={buffer * IMAGE_BYTES}" if strategy == "cls"
        else f"strategy.buffer_size={buffer}"]
    overrides = [*spec.overrides, *(o for name, o in spec.per_strategy if name == strategy), *extra]
    command = [
        sys.executable, "train.py", f"experiment={spec.experiment}", f"scenario={scenario}",
        f"strategy={strategy}", *sized, f"seed={seed}", f"data.root={data_root}", *overrides,
        f"hydra.run.dir={run_dir}", "logger.progress=false",
    ]
    resumed = (run_dir / "checkpoint.pt").exists()
    if resumed:
        command.append("resume=true")  # wall time then covers only the resumed part
    start = time.perf_counter()
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{finished.stderr}")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {"suite": suite, "buffer_size": buffer, "overrides": list(extra),
            "command": " ".join(command[1:]),
            "wall_seconds": wall,
            "resumed": resumed, "machine": machine(), **metrics}


def _short(override: str) -> str:
    """``model.kenyon_cells=20000`` → ``kenyon_cells20000``, for a run directory's name (which
    Hydra parses: brackets, commas and the like are dropped)."""
    key, value = override.split("=", 1)
    return key.rsplit(".", 1)[-1] + re.sub(r"[^\w.-]+", "-", value).strip("-")


def machine() -> str:
    return (f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
            f"torch {torch.__version__}, Python {platform.python_version()}")


def sweep(suite: str, seeds: list[int], data_root: str, log_path: Path,
          scenarios: list[str] | None = None, strategies: list[str] | None = None,
          out: Path = DEFAULT_OUT, extra: tuple[str, ...] = (),
          buffers: list[int] | None = None) -> None:
    spec = SUITES[suite]
    done = {_key(r) + (r["seed"],) for r in read_log(log_path)}
    settings = tuple(extra)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    for scenario in scenarios or spec.scenarios:
        for strategy in strategies or spec.strategies:
            for buffer in (buffers or spec.buffer_sizes) if strategy in BUFFERED else (None,):
                for seed in seeds:
                    if (suite, scenario, strategy, buffer, settings, seed) in done:
                        continue
                    record = run_one(suite, scenario, strategy, buffer, seed, data_root, out,
                                     extra)
                    append_records(log_path, record)
                    print(f"{suite} {scenario} {strategy} {buffer or ''} seed {seed}: "
                          f"ACC {100 * record['acc']:.2f}%  {record['wall_seconds']:.1f} s",
                          flush=True)


def _key(record: dict) -> tuple:
    return (record["suite"], record["scenario"], record["strategy"], record.get("buffer_size"),
            tuple(record.get("overrides", ())))


def read_log(log_path: Path) -> list[dict]:
    if not log_path.exists():
        return []
    return [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]


def report(log_path: Path) -> str:
    groups: dict[tuple, list[dict]] = {}
    for record in read_log(log_path):
        groups.setdefault(_key(record), []).append(record)
    lines = [
        "| suite | scenario | strategy | buffer | seeds | ACC % | validation ACC % | BWT (points) "
        "| forgetting (points) | wall time s | training s | train samples/s "
        "| bytes beyond the model |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (suite, scenario, strategy, buffer, settings), records in sorted(groups.items(), key=str):
        strategy = " ".join((strategy, *settings))
        keys = ("seed", "acc", "bwt", "forgetting", "wall_seconds", "train_seconds",
                "train_samples_per_s", "strategy_bytes")
        column = {key: [r.get(key, 0) for r in records] for key in keys}  # old logs lack bytes
        validation = [r["validation"]["acc"] for r in records if r.get("validation")]
        lines.append(
            f"| {suite} | {scenario} | {strategy} | {buffer or ''} "
            f"| {','.join(map(str, sorted(column['seed'])))} "
            f"| {mean_std(column['acc'], 100)} "
            f"| {mean_std(validation, 100) if validation else ''} | {mean_std(column['bwt'], 100)} "
            f"| {mean_std(column['forgetting'], 100)} | {mean_std(column['wall_seconds'], 1, 1)} "
            f"| {mean_std(column['train_seconds'], 1, 1)} "
            f"| {mean_std(column['train_samples_per_s'], 1, 0)} "
            f"| {max(column['strategy_bytes']):,} |"
        )
    return "\n".join(lines)


def sleep_report(log_path: Path) -> str:
    """For runs that sleep: accuracy (%) right before → right after each sleep, on the older
    tasks (mean over them) and on the newest, mean ± std over seeds."""
    groups: dict[tuple, list[dict]] = {}
    for record in read_log(log_path):
        if record.get("sleeps"):
            groups.setdefault(_key(record), []).append(record)
    lines = ["| setting | sleep after task | older tasks before → after | newest task before → after |",
             "|---|---|---|---|"]
    for (suite, _, strategy, buffer, settings), records in sorted(groups.items(), key=str):
        name = " ".join((suite, strategy, str(buffer or ""), *settings))
        for k in range(len(records[0]["sleeps"])):
            sleeps = [r["sleeps"][k] for r in records]
            newest = {key: [s[key][-1] for s in sleeps] for key in ("acc_before", "acc_after")}
            older = {key: [statistics.mean(s[key][:-1]) for s in sleeps]
                     for key in ("acc_before", "acc_after")}
            old_text = (f"{mean_std(older['acc_before'], 100, 1)} → "
                        f"{mean_std(older['acc_after'], 100, 1)}") if k else "—"
            lines.append(f"| {name} | {k} | {old_text} | {mean_std(newest['acc_before'], 100, 1)}"
                         f" → {mean_std(newest['acc_after'], 100, 1)} |")
    return "\n".join(lines)


def lesion_report(log_path: Path) -> str:
    """Systems consolidation: for CLS runs lesioned after k sleeps (``strategy.lesion_after=k``;
    no lesion: k = every task's sleep), the tasks learned before the lesion — their mean
    accuracy (%) right after it and at the end — and each such task's final accuracy by the
    number of sleeps it had before the lesion (the retrograde gradient); beside them, the same
    tasks at the end of runs without a hippocampus (k = 0). Mean ± std over seeds."""
    groups: dict[tuple, list[dict]] = {}
    for record in read_log(log_path):
        lesion = [o for o in record.get("overrides", ()) if o.startswith("strategy.lesion_after=")]
        k = int(lesion[0].split("=")[1]) if lesion else len(record["acc_matrix"])
        groups.setdefault((record["suite"], record["scenario"], k), []).append(record)
    n_tasks = max(len(r["acc_matrix"]) for rs in groups.values() for r in rs)
    lines = ["| suite | scenario | sleeps before the lesion | seeds | ACC % | tasks before the lesion: "
             "right after it → at the end | the same tasks at the end without a hippocampus | "
             + " | ".join(f"final, {s} sleep{'s' * (s > 1)}" for s in range(1, n_tasks + 1)) + " |",
             "|---|---|---|---|---|---|---|" + "---|" * n_tasks]
    for (suite, scenario, k), records in sorted(groups.items()):
        seeds = ",".join(str(r["seed"]) for r in sorted(records, key=lambda r: r["seed"]))
        before = (f"{_first_tasks(records, k - 1, k)} → {_first_tasks(records, -1, k)}"
                  if k else "—")
        no_hippocampus = groups.get((suite, scenario, 0), [])
        without = _first_tasks(no_hippocampus, -1, k) if k and no_hippocampus else ""
        by_sleeps = [mean_std([r["acc_matrix"][-1][k - s] for r in records], 100, 1)
                     if 0 < s <= k else "" for s in range(1, n_tasks + 1)]
        lines.append(f"| {suite} | {scenario} | {k if k < n_tasks else f'{k} (no lesion)'} "
                     f"| {seeds} | {mean_std([r['acc'] for r in records], 100)} | {before} | "
                     f"{without} | "
                     + " | ".join(by_sleeps) + " |")
    return "\n".join(lines)


def _first_tasks(records: list[dict], row: int, k: int) -> str:
    """Mean ± std over ``records`` of the mean accuracy (%) of tasks 1..k in R's ``row``."""
    return mean_std([statistics.mean(r["acc_matrix"][row][:k]) for r in records], 100, 1)


def comparison(log_path: Path) -> str:
    """Ours beside the published figure, for every setting that has one."""
    groups: dict[tuple, list[float]] = {}
    for record in read_log(log_path):
        groups.setdefault(_key(record), []).append(100 * record["acc"])
    lines = ["| setting | scenario | method | ours ACC % (seeds) | published | gap |",
             "|---|---|---|---|---|---|"]
    for (suite, scenario), published in PUBLISHED.items():
        for method, figure in published.items():
            strategy, buffer = method if isinstance(method, tuple) else (method, None)
            accs = groups.get((suite, scenario, strategy, buffer, ()))
            if not accs:
                continue
            mean = statistics.mean(accs)
            std = statistics.stdev(accs) if len(accs) > 1 else 0.0
            name = strategy if buffer is None else f"{strategy} ({buffer})"
            lines.append(f"| {suite} | {scenario} | {name} | {mean:.2f} ± {std:.2f} ({len(accs)}) "
                         f"| ≈ {figure} | {mean - figure:+.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=sorted(SUITES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--scenarios", nargs="+", help="only these of the suite's scenarios")
    parser.add_argument("--strategies", nargs="+", help="only these of the suite's strategies")
    parser.add_argument("--buffers", type=int, nargs="+",
                        help="only these memory sizes (stored images) of the suite's")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                        help="extra train.py overrides, e.g. a hyperparameter search "
                             "(use a separate --log for such runs)")
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--log", type=Path, default=DEFAULT_LOG)
    parser.add_argument("--report", action="store_true", help="print the table of logged runs")
    parser.add_argument("--compare", action="store_true", help="ours beside published figures")
    parser.add_argument("--sleeps", action="store_true",
                        help="accuracy right before and after each sleep (runs that sleep)")
    parser.add_argument("--lesions", action="store_true",
                        help="the consolidation curve of CLS runs lesioned after k sleeps")
    args = parser.parse_args()
    if args.suite:
        sweep(args.suite, args.seeds, args.data_root, args.log, args.scenarios, args.strategies,
              extra=tuple(args.set), buffers=args.buffers)
    if args.sleeps:
        print(sleep_report(args.log))
    elif args.lesions:
        print(lesion_report(args.log))
    elif args.compare:
        print(comparison(args.log))
    elif args.report or not args.suite:
        print(report(args.log))


if __name__ == "__main__":
    main()
