"""Reliability campaigns too long for the test suite (whose short versions live in
``tests/reliability/``).

``kills``: every strategy is run once straight, then killed with SIGKILL at kill points drawn
at random among the calls a run really makes (a training step, an evaluation, the middle of a
checkpoint write, between write and rename, mid-sleep), ``--chain`` times in a row before it is
resumed to the end; each resumed run must end with the straight run's accuracy matrix and
weights, bit for bit. All at one torch thread (the killed child's), Split Digits.

``plastic``: each rule that should be stable (and the competitive ones) is driven for
``--updates`` updates on random, constant, zero and huge (10⁶) input, in float32 and bfloat16,
with and without homeostasis (synaptic scaling and intrinsic plasticity); records whether the
weights stayed finite, the largest row norm seen, and resident memory after 1,000 updates and
at the end.

    python benchmarks/reliability.py kills --kills 20 --chain 2 \
        --log benchmarks/results/reliability_kills.jsonl
    OMP_NUM_THREADS=1 python benchmarks/reliability.py plastic --updates 1000000 \
        --log benchmarks/results/reliability_plastic.jsonl
    python benchmarks/reliability.py report benchmarks/results/reliability_*.jsonl   # the tables
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import tempfile
import time
from functools import partial
from pathlib import Path

import torch
from records import append_records

from hebbnet.config import Config, LoggerConfig, TrainConfig
from hebbnet.config.schema import STRATEGY_SCHEMAS
from hebbnet.continual import run_experiment
from hebbnet.continual.checkpoint import CHECKPOINT_NAME
from hebbnet.homeostasis import IntrinsicPlasticity, SynapticScaling
from hebbnet.layers import HebbianLinear, PlasticityDivergedError
from hebbnet.testing import KILL_POINTS, count_calls, run_killed

PLASTIC_RULES = ("oja", "sanger", "bcm", "softhebb", "competitive", "krotov_hopfield")
INPUTS = {
    "random": lambda g: torch.rand(4, 16, generator=g),
    "constant": lambda g: torch.full((4, 16), 0.5),
    "zero": lambda g: torch.zeros(4, 16),
    "huge": lambda g: torch.rand(4, 16, generator=g) * 1e6,
}
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def resident_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def strategy_config(name: str, resume: bool = False) -> Config:
    return Config(strategy=STRATEGY_SCHEMAS[name](name=name), resume=resume,
                  train=TrainConfig(batch_size=32, iterations=30),
                  logger=LoggerConfig(name="none", progress=False))


def final_state(run_dir: Path) -> dict:
    return torch.load(run_dir / CHECKPOINT_NAME, weights_only=True)["model"]


def kill_campaign(name: str, kills: int, chain: int, seed: int, folder: Path) -> dict:
    straight = run_experiment(strategy_config(name), folder / "straight")
    reference = final_state(folder / "straight")
    counts = count_calls(lambda: run_experiment(strategy_config(name), folder / "counted"),
                         list(KILL_POINTS))
    points = [point for point, calls in counts.items() if calls]
    draw = random.Random(f"{seed}-{name}")
    record = {"strategy": name, "calls": counts, "kills": 0, "died": 0, "resumed_bit_exact": 0,
              "runs": kills, "points": dict.fromkeys(points, 0)}
    for run in range(kills):
        run_dir = folder / f"run{run}"
        for link in range(chain):
            point = draw.choice(points)
            call = draw.randint(1, counts[point])
            record["kills"] += 1
            record["points"][point] += 1
            record["died"] += run_killed(
                partial(run_experiment, strategy_config(name, resume=link > 0), run_dir),
                point, call)
        resumed = run_experiment(strategy_config(name, resume=True), run_dir)
        state = final_state(run_dir)
        record["resumed_bit_exact"] += int(
            resumed["acc_matrix"] == straight["acc_matrix"]
            and all(torch.equal(state[key], tensor) for key, tensor in reference.items()))
    return record


def plastic_run(rule: str, inputs: str, dtype: str, homeostasis: bool, updates: int) -> dict:
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    mechanisms = [SynapticScaling(8, target=0.5, strength=0.1), IntrinsicPlasticity(8, 0.5)]
    layer = HebbianLinear(16, 8, rule=rule, lr=0.01,
                          homeostasis=mechanisms if homeostasis else []).to(DTYPES[dtype])
    largest, early, stopped = 0.0, None, None
    start = time.perf_counter()
    try:
        for update in range(1, updates + 1):
            layer(INPUTS[inputs](generator).to(DTYPES[dtype]))
            if update % 1000 == 0:
                largest = max(largest, float(layer.weight.float().norm(dim=1).max()))
                early = early if early is not None else resident_mib()
    except PlasticityDivergedError as error:
        stopped = str(error)
    return {"rule": rule, "inputs": inputs, "dtype": dtype, "homeostasis": homeostasis,
            "updates": layer.updates, "finite": bool(torch.isfinite(layer.weight).all()),
            "stopped": stopped, "largest_row_norm": largest,
            "final_row_norm": float(layer.weight.float().norm(dim=1).max()),
            "rss_mib_after_1000": early, "rss_mib_end": resident_mib(),
            "seconds": time.perf_counter() - start}


def report(paths: list[Path]) -> str:
    """The results files' tables, in Markdown: kills per strategy, norms per plastic run."""
    records = [json.loads(line) for path in paths for line in path.read_text().splitlines()
               if line.strip()]
    kills = [r for r in records if r["command"] == "kills"]
    plastic = [r for r in records if r["command"] == "plastic"]
    lines = []
    if kills:
        lines += ["| strategy | kills tried | died there | runs resumed | bit-exact |",
                  "|---|---|---|---|---|"]
        lines += [f"| {r['strategy']} | {r['kills']} | {r['died']} | {r['runs']} | "
                  f"{r['resumed_bit_exact']} |" for r in kills]
    if kills and plastic:
        lines.append("")
    if plastic:
        lines += ["| rule | homeostasis | input | dtype | updates | finite | stopped with an "
                  "error | largest row norm | final row norm | RSS after 10³ → end (MiB) |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(plastic, key=lambda r: (r["rule"], r["homeostasis"], r["inputs"], r["dtype"])):
        lines.append(f"| {r['rule']} | {'on' if r['homeostasis'] else 'off'} | {r['inputs']} | "
                     f"{r['dtype']} | {r['updates']:,} | {r['finite']} | "
                     f"{'yes' if r['stopped'] else 'no'} | {r['largest_row_norm']:.4g} | "
                     f"{r['final_row_norm']:.4g} | {r['rss_mib_after_1000']:.1f} → "
                     f"{r['rss_mib_end']:.1f} |")
    return "\n".join(lines)


def machine() -> dict:
    return {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "torch": torch.__version__, "threads": torch.get_num_threads(),
            "date": time.strftime("%Y-%m-%d")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    kills = commands.add_parser("kills")
    kills.add_argument("--strategies", nargs="+", default=sorted(STRATEGY_SCHEMAS))
    kills.add_argument("--kills", type=int, default=20, help="killed runs per strategy")
    kills.add_argument("--chain", type=int, default=2, help="kills of one run before resuming")
    kills.add_argument("--seed", type=int, default=0)
    plastic = commands.add_parser("plastic")
    plastic.add_argument("--updates", type=int, default=1_000_000)
    plastic.add_argument("--rules", nargs="+", default=list(PLASTIC_RULES))
    plastic.add_argument("--dtypes", nargs="+", default=list(DTYPES))
    plastic.add_argument("--inputs", nargs="+", default=list(INPUTS))
    plastic.add_argument("--homeostasis", choices=("both", "on", "off"), default="both")
    for command in (kills, plastic):
        command.add_argument("--log", type=Path, help="append one JSON line per result here")
    tables = commands.add_parser("report")
    tables.add_argument("paths", type=Path, nargs="+", help="results files (JSON lines)")
    args = parser.parse_args()
    if args.command == "report":
        print(report(args.paths))
        return

    if args.command == "kills":
        torch.set_num_threads(1)  # as in the killed child, so the runs compare bit for bit
        records = []
        for name in args.strategies:
            with tempfile.TemporaryDirectory() as folder:
                records.append(kill_campaign(name, args.kills, args.chain, args.seed,
                                             Path(folder)))
    else:
        homeostasis = {"both": (False, True), "on": (True,), "off": (False,)}[args.homeostasis]
        records = (plastic_run(*combination, args.updates) for combination in
                   itertools.product(args.rules, args.inputs, args.dtypes, homeostasis))
    for record in records:
        record = {"command": args.command, **record, **machine()}
        print(json.dumps(record), flush=True)
        if args.log:
            append_records(args.log, record)


if __name__ == "__main__":
    main()
