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

``startup``: ``train.py`` (the fly with 20,000 Kenyon cells, 60 steps a task) is killed with
SIGKILL at an instant drawn uniformly from its first ``--within`` seconds — start-up, config
composition, the model's construction, the first task — and then resumed as a user would,
``train.py resume=true hydra.run.dir=D`` alone. Each kill ends one way: resumed bit-exactly
(the straight run's accuracy matrix and weights), refused with the fix named (killed before
the run's record was written), or run as another config (the defect this guards against).

``hostile``: every plastic part the library exports (:data:`PARTS`: dense layers with each rule
that takes graded input, convolutional and spiking layers, synapse turnover, neurogenesis, the
fixed sparse code forward and calibrated, the topographic map) is fed each input of
:data:`HOSTILE` in float32 and bfloat16 for up to ``--updates`` updates, and each case is
classified by :func:`classify`: refused (an error raised by the library), finite, warned, or a
silent NaN, silent garbage or raw (torch's, Python's) error.

    python benchmarks/reliability.py kills --kills 20 --chain 2 \
        --log benchmarks/results/reliability_kills.jsonl
    OMP_NUM_THREADS=1 python benchmarks/reliability.py startup --kills 40 --within 15 \
        --log benchmarks/results/reliability_startup_kills.jsonl
    OMP_NUM_THREADS=1 python benchmarks/reliability.py plastic --updates 1000000 \
        --log benchmarks/results/reliability_plastic.jsonl
    OMP_NUM_THREADS=1 python benchmarks/reliability.py hostile --updates 10000 \
        --log benchmarks/results/reliability_hostile.jsonl
    python benchmarks/reliability.py report benchmarks/results/reliability_*.jsonl   # the tables
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from records import append_records
from torch import nn

import hebbnet
from hebbnet.config import Config, LoggerConfig, TrainConfig
from hebbnet.continual import run_experiment
from hebbnet.continual.checkpoint import CHECKPOINT_NAME
from hebbnet.continual.strategies import STRATEGIES
from hebbnet.homeostasis import IntrinsicPlasticity, SynapticScaling
from hebbnet.layers import (
    HebbianConv2d,
    HebbianLinear,
    PlasticityDivergedError,
    SparseCode,
    SpikingLinear,
    TopographicMap,
)
from hebbnet.structural import Neurogenesis, SynapseTurnover
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
    return Config(strategy=STRATEGIES[name].config(), resume=resume,
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


STARTUP_RUN = ("model=fly", "model.kenyon_cells=20000", "model.active=100",
               "train.iterations=60", "logger=none")
TRAIN = Path(__file__).resolve().parents[1] / "train.py"


def train(*args: str, **options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TRAIN), *args], capture_output=True, text=True,
                          env={**os.environ, "HYDRA_FULL_ERROR": "0"}, **options)


def same_run(run_dir: Path, straight: Path) -> bool:
    """The same accuracy matrix and final weights, bit for bit."""
    metrics = [json.loads((d / "metrics.json").read_text()) for d in (run_dir, straight)]
    weights = [final_state(d) for d in (run_dir, straight)]
    return (metrics[0]["acc_matrix"] == metrics[1]["acc_matrix"]
            and all(torch.equal(weights[0][k], weights[1][k]) for k in weights[1]))


def startup_kill(folder: Path, at: float) -> dict:
    """Start :data:`STARTUP_RUN` in ``folder / "killed"``, SIGKILL it ``at`` seconds in, resume
    it alone, and compare it with ``folder / "straight"``."""
    run_dir = folder / "killed"
    process = subprocess.Popen([sys.executable, str(TRAIN), *STARTUP_RUN, f"hydra.run.dir={run_dir}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=at)
        return {"at_s": round(at, 2), "outcome": "finished before the kill"}
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    left = {"record_written": (run_dir / ".hydra" / "overrides.yaml").exists(),
            "checkpoint": (run_dir / CHECKPOINT_NAME).exists()}  # what the kill left
    resumed = train("resume=true", f"hydra.run.dir={run_dir}")
    if resumed.returncode == 2 and "no run to resume" in resumed.stderr:
        outcome = "refused, fix named"
    elif resumed.returncode == 0 and same_run(run_dir, folder / "straight"):
        outcome = "resumed bit-exact"
    else:
        outcome = f"another run or an error (rc {resumed.returncode})"
    return {"at_s": round(at, 2), **left, "outcome": outcome}


def startup_campaign(kills: int, within: float, seed: int) -> Iterator[dict]:
    draw = random.Random(seed)
    with tempfile.TemporaryDirectory() as straight_folder:
        straight = Path(straight_folder) / "straight"
        started = time.perf_counter()
        assert train(*STARTUP_RUN, f"hydra.run.dir={straight}").returncode == 0
        seconds = time.perf_counter() - started
        for _ in range(kills):
            with tempfile.TemporaryDirectory() as folder:
                (Path(folder) / "straight").symlink_to(straight)
                yield {**startup_kill(Path(folder), draw.uniform(0, within)),
                       "straight_run_s": round(seconds, 1)}


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


def poisoned(x: torch.Tensor, value: float) -> torch.Tensor:
    """``x`` with the first value of every sample replaced by ``value``."""
    x = x.clone()
    x.view(len(x), -1)[:, 0] = value
    return x


# Each hostile input is made from the part's own valid input of the step (U[0, 1) values, or
# Bernoulli(0.2) spikes for a spiking layer), so "huge" spikes are spikes of height 10⁶.
HOSTILE: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "zeros": torch.zeros_like,
    "constant": lambda x: torch.full_like(x, 0.5),
    "huge": lambda x: x * 1e6,
    "tiny": lambda x: x * 1e-30,
    "nan": partial(poisoned, value=math.nan),
    "inf": partial(poisoned, value=math.inf),
    "random": lambda x: x,
}
WINDOW = 64  # the last updates, whose outputs must not all vanish for non-zero input
OUTCOMES = ("refused", "finite", "warned", "silent_nan", "silent_garbage", "raw_error")
LIBRARY = Path(hebbnet.__file__).parent


def forward(module: nn.Module, x: torch.Tensor, clean: torch.Tensor,
            generator: torch.Generator) -> torch.Tensor:
    """One update: a forward pass (a plastic layer learns in it)."""
    return module(x)


def rewarded(layer: nn.Module, x: torch.Tensor, clean: torch.Tensor,
             generator: torch.Generator) -> torch.Tensor:
    """One update of a three-factor rule: a forward pass, then the prediction error of a
    reward drawn from U[0, 1) as the neuromodulator."""
    y = layer(x)
    layer.neuromodulate(layer.rule.prediction_error(float(torch.rand((), generator=generator))))
    return y


def calibrated(code: nn.Module, x: torch.Tensor, clean: torch.Tensor,
               generator: torch.Generator) -> torch.Tensor:
    """One update of a sparse code's thresholds: calibrate on ``x``, then code clean input."""
    code.calibrate(x)
    return code(clean)


@dataclass(frozen=True)
class Part:
    make: Callable[[], nn.Module]
    shape: tuple[int, ...] = (4, 16)
    spikes: bool = False  # its valid input is spikes (0/1), not U[0, 1)
    step: Callable[..., torch.Tensor] = forward

    def valid_input(self, generator: torch.Generator) -> torch.Tensor:
        uniform = torch.rand(self.shape, generator=generator)
        return (uniform < 0.2).float() if self.spikes else uniform


DENSE_RULES = ("hebb", "oja", "sanger", "bcm", "competitive", "krotov_hopfield", "softhebb",
               "kohonen")
PARTS: dict[str, Part] = {
    **{f"dense {rule}": Part(partial(HebbianLinear, 16, 8, rule=rule)) for rule in DENSE_RULES},
    "dense reward_hebb": Part(partial(HebbianLinear, 16, 8, rule="reward_hebb"), step=rewarded),
    "dense krotov_hopfield, 4 units (k=7)": Part(partial(HebbianLinear, 16, 4,
                                                         rule="krotov_hopfield")),
    "dense oja + SynapseTurnover": Part(lambda: HebbianLinear(16, 8, rule="oja", structure=(
        SynapseTurnover(density=0.5, period=10, growth="coactive", prune="unused")))),
    "dense competitive + Neurogenesis": Part(lambda: HebbianLinear(
        16, 8, rule="competitive", homeostasis=Neurogenesis(8, 4, excitability=1.0))),
    **{f"conv {rule}": Part(partial(HebbianConv2d, 1, 8, 3, rule=rule), shape=(4, 1, 6, 6))
       for rule in ("softhebb", "hebb", "krotov_hopfield")},
    **{f"spiking {rule}": Part(partial(SpikingLinear, 16, 8, rule=rule), spikes=True)
       for rule in ("stdp", "triplet_stdp", "calcium")},
    "spiking reward_stdp": Part(partial(SpikingLinear, 16, 8, rule="reward_stdp"), spikes=True,
                                step=rewarded),
    "SparseCode": Part(partial(SparseCode, 16, 32, 4, seed=0)),
    "SparseCode fan_in=4": Part(partial(SparseCode, 16, 32, 4, fan_in=4, seed=0)),
    "SparseCode + Neurogenesis": Part(lambda: SparseCode(
        16, 32, 4, seed=0, neurogenesis=Neurogenesis(32, 16, excitability=1.0))),
    "SparseCode.calibrate": Part(partial(SparseCode, 16, 32, 4, seed=0), step=calibrated),
    "TopographicMap": Part(partial(TopographicMap, 16, (4, 4))),
}


def raised_by_library(error: BaseException) -> bool:
    """Whether ``error`` comes from a ``raise`` statement in hebbnet's own code (a message the
    library wrote), not from inside torch or Python."""
    frame = traceback.extract_tb(error.__traceback__)[-1]
    return (Path(frame.filename).is_relative_to(LIBRARY)
            and (frame.line or "").lstrip().startswith("raise"))


def classify(facts: dict) -> tuple[str, list[str]]:
    """A case's outcome and the problems seen, by this rule:

    * ``refused``: the library raised an error of its own (:func:`raised_by_library`);
      ``raw_error``: an error raised inside torch or Python.
    * Otherwise the problems: an output or state (weights, thresholds, traces) not finite;
      NaN or Inf input accepted; all weights 0 at the end (none were at the start); silence:
      over the last :data:`WINDOW` updates, whose input was not all 0, every output 0 (spikes,
      codes) or, for a rate layer, every response at most ε·max|u|, the rounding error of its
      largest drive u = W·x (ε of the dtype; a dying unit keeps a residue of ~10⁻⁸), and at most ε
      times the largest response of the run (a softmax or a neighbourhood, whose largest
      response stays near 1 however large the drive, is never silent).
    * ``finite``: no problem. ``warned``: problems, and the library warned during the run.
      ``silent_nan``: a non-finite output or state without a warning. ``silent_garbage``:
      other problems without a warning.
    """
    if facts["error"] is not None:
        return ("refused" if facts["library_error"] else "raw_error"), []
    problems = [name for name, seen in (
        ("non-finite output or state", not facts["finite"]),
        ("accepted NaN/Inf input", facts["inputs"] in ("nan", "inf")),
        ("all weights 0", facts["weights_collapsed"]),
        ("all-zero output for non-zero input", facts["silent"])) if seen]
    if not problems:
        return "finite", []
    if facts["warnings"]:
        return "warned", problems
    return ("silent_nan" if not facts["finite"] else "silent_garbage"), problems


def all_zero(module: nn.Module) -> bool:
    weight = getattr(module, "weight", None)
    return weight is not None and not bool(weight.any())


def record_drives(module: nn.Module) -> list[float]:
    """The largest |drive| W·x of each forward pass of a rate layer (what its
    :meth:`~hebbnet.layers.PlasticLayer.respond` receives), appended to the list returned;
    empty for spiking layers and codes, which never call it (they answer in spikes and bits)."""
    drives: list[float] = []
    respond = getattr(module, "respond", None)
    if respond is not None:

        def recorded(u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            drives.append(float(u.detach().abs().max()))
            return respond(u)

        module.respond = recorded
    return drives


def state_finite(module: nn.Module) -> bool:
    """Whether every floating-point parameter and buffer of ``module`` is finite."""
    return all(bool(torch.isfinite(tensor).all()) for tensor in
               itertools.chain(module.parameters(), module.buffers()) if tensor.is_floating_point())


def drive_part(part: Part, module: nn.Module, hostile: Callable[[torch.Tensor], torch.Tensor],
               cast: torch.dtype, updates: int, facts: dict) -> None:
    """Up to ``updates`` updates of ``module`` on ``hostile`` input, noting in ``facts`` the
    updates done, the first non-finite output, and whether the last :data:`WINDOW` were
    silent (see :func:`classify`)."""
    generator = torch.Generator().manual_seed(1)
    drives = record_drives(module)
    peak, earlier, input_seen = 0.0, 0.0, False
    for update in range(1, updates + 1):
        clean = part.valid_input(generator).to(cast)
        x = hostile(clean)
        y = part.step(module, x, clean, generator)
        facts["updates"] = update
        if not bool(torch.isfinite(y).all()):
            facts["first_nonfinite_output"] = update
            return
        if update > updates - WINDOW:
            peak = max(peak, float(y.abs().max()))
            input_seen = input_seen or bool(x.any())
        else:
            earlier = max(earlier, float(y.abs().max()))
    eps, drive = torch.finfo(cast).eps, max(drives[-WINDOW:], default=0.0)
    facts.update(window_peak=peak, window_drive=drive, earlier_peak=earlier)
    facts["silent"] = input_seen and peak <= (eps * min(drive, earlier) if drives else 0.0)


def hostile_run(part_name: str, inputs: str, dtype: str, updates: int) -> dict:
    """Drive one part with one hostile input for up to ``updates`` updates; the facts
    :func:`classify` needs, and its verdict."""
    part, cast = PARTS[part_name], DTYPES[dtype]
    torch.manual_seed(0)
    facts = {"part": part_name, "inputs": inputs, "dtype": dtype, "updates": 0, "error": None,
             "library_error": False, "finite": True, "first_nonfinite_output": None,
             "weights_collapsed": False, "silent": False}
    start = time.perf_counter()
    module = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            module = part.make().to(cast)
            zero_at_start = all_zero(module)
            drive_part(part, module, HOSTILE[inputs], cast, updates, facts)
            facts["weights_collapsed"] = not zero_at_start and all_zero(module)
        except Exception as error:  # noqa: BLE001 — the outcome being measured
            facts["error"] = f"{type(error).__name__}: {error}"[:400]
            facts["library_error"] = raised_by_library(error)
    facts["finite"] = facts["first_nonfinite_output"] is None and (
        module is None or facts["error"] is not None or state_finite(module))
    facts["warnings"] = sorted({str(w.message)[:300] for w in caught
                                if issubclass(w.category, UserWarning)})
    facts["outcome"], facts["problems"] = classify(facts)
    facts["seconds"] = time.perf_counter() - start
    return facts


def hostile_table(files: list[list[dict]]) -> list[str]:
    """Outcome counts per part of the hostile campaign; given several files (before, after),
    each cell reads ``before → after``."""
    counts = [Counter((r["part"], r["outcome"]) for r in records) for records in files]
    parts = list(dict.fromkeys(r["part"] for records in files for r in records))
    lines = ["| part | cases | " + " | ".join(OUTCOMES) + " |",
             "|---|---|" + "---|" * len(OUTCOMES)]
    for part in [*parts, "all"]:
        cells = [" → ".join(str(sum(n for (p, o), n in count.items()
                                    if o == outcome and part in (p, "all")))
                            for count in counts) for outcome in OUTCOMES]
        cases = " → ".join(str(sum(n for (p, _), n in count.items() if part in (p, "all")))
                           for count in counts)
        lines.append(f"| {part} | {cases} | " + " | ".join(cells) + " |")
    return lines


def report(paths: list[Path]) -> str:
    """The results files' tables, in Markdown: kills per strategy, norms per plastic run,
    outcomes per part of the hostile campaign (one column of counts per file)."""
    files = [[json.loads(line) for line in path.read_text().splitlines() if line.strip()]
             for path in paths]
    records = [record for records in files for record in records]
    kills = [r for r in records if r["command"] == "kills"]
    plastic = [r for r in records if r["command"] == "plastic"]
    hostile = [h for h in ([r for r in records if r["command"] == "hostile"] for records in files)
               if h]
    startup = Counter(r["outcome"] for r in records if r["command"] == "startup")
    lines = hostile_table(hostile) if hostile else []
    if startup:
        lines += ["| killed in its first seconds, then resumed alone | runs |", "|---|---|"]
        lines += [f"| {outcome} | {count} |" for outcome, count in sorted(startup.items())]
    if hostile and (kills or plastic):
        lines.append("")
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
    kills.add_argument("--strategies", nargs="+", default=sorted(STRATEGIES))
    kills.add_argument("--kills", type=int, default=20, help="killed runs per strategy")
    kills.add_argument("--chain", type=int, default=2, help="kills of one run before resuming")
    kills.add_argument("--seed", type=int, default=0)
    plastic = commands.add_parser("plastic")
    plastic.add_argument("--updates", type=int, default=1_000_000)
    plastic.add_argument("--rules", nargs="+", default=list(PLASTIC_RULES))
    plastic.add_argument("--dtypes", nargs="+", default=list(DTYPES))
    plastic.add_argument("--inputs", nargs="+", default=list(INPUTS))
    plastic.add_argument("--homeostasis", choices=("both", "on", "off"), default="both")
    startup = commands.add_parser("startup")
    startup.add_argument("--kills", type=int, default=40)
    startup.add_argument("--within", type=float, default=15.0, help="seconds after the start")
    startup.add_argument("--seed", type=int, default=0)
    hostile = commands.add_parser("hostile")
    hostile.add_argument("--updates", type=int, default=10_000)
    hostile.add_argument("--parts", nargs="+", default=list(PARTS), choices=list(PARTS))
    hostile.add_argument("--inputs", nargs="+", default=list(HOSTILE), choices=list(HOSTILE))
    hostile.add_argument("--dtypes", nargs="+", default=list(DTYPES), choices=list(DTYPES))
    for command in (kills, plastic, hostile, startup):
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
    elif args.command == "startup":
        records = startup_campaign(args.kills, args.within, args.seed)
    elif args.command == "hostile":
        records = (hostile_run(*combination, args.updates) for combination in
                   itertools.product(args.parts, args.inputs, args.dtypes))
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
