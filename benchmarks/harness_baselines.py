"""Naive and joint baselines of the harness on real MNIST, timed end to end.

Each run is a separate ``python train.py ...`` process, timed from launch to exit (start-up,
data decoding and evaluation included). Results are appended to a JSON-lines file as they
finish, so an interrupted sweep continues where it stopped; ``--report`` prints the table.

    python benchmarks/harness_baselines.py --suite split_mnist --seeds 1 2 3
    python benchmarks/harness_baselines.py --suite permuted_mnist --seeds 1 2 3
    python benchmarks/harness_baselines.py --suite split_mnist_1epoch --seeds 1 2 3
    python benchmarks/harness_baselines.py --report
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Suite:
    experiment: str
    scenarios: tuple[str, ...]
    strategies: tuple[str, ...] = ("naive", "joint")
    overrides: tuple[str, ...] = ()


SUITES = {
    "split_mnist": Suite("vdv2022_split_mnist", ("class", "domain", "task")),
    "permuted_mnist": Suite("vdv2022_permuted_mnist", ("domain",)),
    # Avalanche's timing setting (issue 3): one epoch per task instead of 2000 iterations.
    "split_mnist_1epoch": Suite("vdv2022_split_mnist", ("class",), ("naive",),
                                ("train.iterations=null", "train.epochs=1")),
}
DEFAULT_LOG = ROOT / "benchmarks" / "results" / "harness_baselines.jsonl"


def run_one(suite: str, scenario: str, strategy: str, seed: int, data_root: str) -> dict:
    spec = SUITES[suite]
    run_dir = ROOT / "benchmarks" / "out" / suite / scenario / strategy / f"seed{seed}"
    command = [
        sys.executable, "train.py", f"experiment={spec.experiment}", f"scenario={scenario}",
        f"strategy={strategy}", f"seed={seed}", f"data.root={data_root}", *spec.overrides,
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
    return {"suite": suite, "command": " ".join(command[1:]), "wall_seconds": wall,
            "resumed": resumed, "machine": machine(), **metrics}


def machine() -> str:
    return (f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
            f"torch {torch.__version__}, Python {platform.python_version()}")


def sweep(suite: str, seeds: list[int], data_root: str, log_path: Path,
          scenarios: list[str] | None = None, strategies: list[str] | None = None) -> None:
    spec = SUITES[suite]
    done = {(r["suite"], r["scenario"], r["strategy"], r["seed"]) for r in read_log(log_path)}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    for scenario in scenarios or spec.scenarios:
        for strategy in strategies or spec.strategies:
            for seed in seeds:
                if (suite, scenario, strategy, seed) in done:
                    continue
                record = run_one(suite, scenario, strategy, seed, data_root)
                with log_path.open("a") as log:
                    log.write(json.dumps(record) + "\n")
                print(f"{suite} {scenario} {strategy} seed {seed}: "
                      f"ACC {100 * record['acc']:.2f}%  {record['wall_seconds']:.1f} s", flush=True)


def read_log(log_path: Path) -> list[dict]:
    if not log_path.exists():
        return []
    return [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]


def mean_std(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    mean = statistics.mean(values) * scale
    std = statistics.stdev(values) * scale if len(values) > 1 else 0.0
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def report(log_path: Path) -> str:
    groups: dict[tuple, list[dict]] = {}
    for record in read_log(log_path):
        groups.setdefault((record["suite"], record["scenario"], record["strategy"]), []).append(record)
    lines = [
        "| suite | scenario | strategy | seeds | ACC % | BWT (points) | forgetting (points) "
        "| wall time s | train samples/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (suite, scenario, strategy), records in sorted(groups.items()):
        column = {key: [r[key] for r in records] for key in records[0]}
        lines.append(
            f"| {suite} | {scenario} | {strategy} | {','.join(map(str, sorted(column['seed'])))} "
            f"| {mean_std(column['acc'], 100)} | {mean_std(column['bwt'], 100)} "
            f"| {mean_std(column['forgetting'], 100)} | {mean_std(column['wall_seconds'], 1, 1)} "
            f"| {mean_std(column['train_samples_per_s'], 1, 0)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=sorted(SUITES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--scenarios", nargs="+", help="only these of the suite's scenarios")
    parser.add_argument("--strategies", nargs="+", help="only these of the suite's strategies")
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--log", type=Path, default=DEFAULT_LOG)
    parser.add_argument("--report", action="store_true", help="print the table of logged runs")
    args = parser.parse_args()
    if args.suite:
        sweep(args.suite, args.seeds, args.data_root, args.log, args.scenarios, args.strategies)
    if args.report or not args.suite:
        print(report(args.log))


if __name__ == "__main__":
    main()
