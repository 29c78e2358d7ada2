"""One continual-learning run: train task by task, fill the accuracy matrix, checkpoint, log.

The loop, in order: lock the run directory, build the benchmark, scenario, model and strategy
from the config; measure the random-init accuracies (FWT needs them) or restore the checkpoint;
then for each task train, sleep (for a strategy that sleeps after each task, with every seen
task's accuracy measured right before and after), check that no weight went NaN, evaluate every
task, log, and checkpoint. A run resumed from its checkpoint repeats nothing and ends with the
same accuracy matrix, bit for bit, as one never interrupted. A refused run (another run holds
the directory, or its checkpoint belongs to another config) writes nothing there.

Under ``torchrun`` each rank runs this loop on its replica of the model and its share of every
batch (:mod:`hebbnet.distributed`); rank 0 alone writes the run directory, and a resumed run's
ranks all read its checkpoint (the directory must be on a file system they share).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np
import torch
from omegaconf import OmegaConf
from torch import nn
from tqdm import tqdm

from hebbnet.continual import metrics as cl_metrics
from hebbnet.continual.benchmark import Benchmark, Experience
from hebbnet.continual.checkpoint import (
    CHECKPOINT_NAME,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from hebbnet.continual.evaluation import accuracy_row
from hebbnet.continual.factory import (
    build_benchmark,
    build_logger,
    build_strategy,
    prepare_benchmark,
    resolve_device,
    set_threads,
)
from hebbnet.continual.scenario import Scenario
from hebbnet.continual.strategies import Strategy
from hebbnet.distributed import check_ranks_agree, join_torchrun, raise_if_any_rank_failed, rank
from hebbnet.files import remove_temporaries, write_text
from hebbnet.models.contract import Calibrated, LocalLearner, check_model
from hebbnet.models.factory import build_model
from hebbnet.monitor import NullLogger
from hebbnet.run_directory import (
    CONFIG_NAME,
    METRICS_NAME,
    RESUMABLE_CHANGES,
    TENSORBOARD_NAME,
    RunDirectoryError,
    exclusive,
    make_run_directory,
    refuse_links,
)
from hebbnet.structural import structure_report

if TYPE_CHECKING:  # the schema imports the strategies, and so this package, as it loads
    from hebbnet.config.schema import Config

log = logging.getLogger(__name__)


class NonFiniteStateError(FloatingPointError):
    """A weight or buffer of the model became NaN or infinite during a task."""


@dataclass
class RunState:
    """Everything about a run's progress that is not a model or optimiser tensor."""

    next_task: int = 0
    rows: list[list[float]] = field(default_factory=list)  # R[i] for finished tasks
    random_init: list[float] = field(default_factory=list)
    val_rows: list[list[float]] = field(default_factory=list)  # on validation sets, if any
    val_random_init: list[float] = field(default_factory=list)
    global_step: int = 0
    train_seconds: float = 0.0
    train_samples: int = 0
    strategy_bytes: int = 0  # what the strategy keeps beyond the model, after the last task
    sleeps: list[dict] = field(default_factory=list)  # each sleep: accuracies before/after, …


class _Sleeper(Protocol):
    """A strategy that ``sleeps_after_experience``: its sleep returns a dataclass report."""

    def sleep(self, task: int) -> Any: ...


@dataclass
class _Parts:
    """The objects a run is made of, built from its config."""

    benchmark: Benchmark
    scenario: Scenario
    experiences: list[Experience]  # relabelled for the scenario, on the run's device
    model: nn.Module
    strategy: Strategy
    order_generator: torch.Generator  # the order of training samples
    given: dict[str, str]  # the parts the caller gave instead of the config's: their types


def run_experiment(cfg: Config, run_dir: str | Path,
                   on_start: Callable[[], None] | None = None, *,
                   model: nn.Module | Callable[..., nn.Module] | None = None,
                   strategy: Callable[..., Strategy] | None = None,
                   benchmark: Benchmark | None = None) -> dict:
    """Run (or resume) the experiment ``cfg`` in ``run_dir`` and return its metrics.

    Nothing is written into ``run_dir`` before the run is accepted: the directory locked for
    this process, and any checkpoint there found to belong to this config (with
    ``resume=true``). Then, before anything else, ``on_start()`` runs (``train.py`` writes
    Hydra's record of the run, the overrides a resume reads back, and opens its log file
    there) and the parts are built; once they are, the run's ``config.yaml`` is written and
    training begins.

    Your own parts replace what the config's group would build (the config still gives the
    seed, scenario, schedule, validation share and logging):

    * ``model``: an ``nn.Module``, or ``builder(input_shape, n_outputs, n_tasks)``, called
      after the run's seed is set (so its initialisation follows ``cfg.seed``);
    * ``strategy``: a :class:`Strategy` subclass, or any ``factory(model, scenario, schedule,
      generator)`` that returns a strategy;
    * ``benchmark``: a :class:`Benchmark` of uint8 images, e.g.
      ``split_tasks(ImageDataset("mine", x_train, y_train, x_test, y_test), 2, 5, order)``.

    A resumed run must be given the same parts: its checkpoint records the config, not them.
    To use your parts by name (and from the command line), see :mod:`hebbnet.registry`.
    """
    run_dir = Path(run_dir)
    started = time.perf_counter()
    with ExitStack() as lock:
        parts, state = _start(cfg, run_dir, lock, on_start, model, strategy, benchmark)
        writes = rank() == 0  # under torchrun, rank 0 alone writes the run directory
        if writes:
            write_text(run_dir / CONFIG_NAME, OmegaConf.to_yaml(OmegaConf.structured(cfg)))
        purge_step = state.global_step + 1 if state.global_step else None
        logger = build_logger(cfg.logger, run_dir, purge_step) if writes else NullLogger()
        try:
            for task in range(state.next_task, parts.benchmark.n_tasks):
                _train_task(cfg, parts, state, task, logger)
                if writes:
                    save_checkpoint(run_dir / CHECKPOINT_NAME, _checkpoint(cfg, parts, state))
            result = _metrics(cfg, parts, state, time.perf_counter() - started)
            logger.run_end(np.array(state.rows), state.sleeps, state.global_step)
            logger.hparams(_flatten(asdict(cfg)),
                           {f"hparam/{k}": result[k] for k in cl_metrics.SCALARS})
        finally:
            logger.close()
        if writes:
            write_text(run_dir / METRICS_NAME, json.dumps(result, indent=2))
    return result


def _start(cfg: Config, run_dir: Path, lock: ExitStack, on_start, model, strategy, benchmark
           ) -> tuple[_Parts, RunState]:
    """Take the run directory (into ``lock``), build the parts and start or resume. Under
    ``torchrun`` every rank builds its replica and reads the checkpoint, rank 0 alone takes the
    directory, and a rank that cannot start stops them all."""
    device = resolve_device(cfg.device)
    join_torchrun(device)
    check_ranks_agree({"run directory": str(run_dir.resolve()), **_comparable(cfg)},
                      "Start every rank with the same overrides and hydra.run.dir.")
    error = None
    try:
        checkpoint = _take_run_directory(cfg, run_dir, lock, on_start)
        parts = _build_parts(cfg, device, model, strategy, benchmark)
        if checkpoint:
            state = _restore(run_dir / CHECKPOINT_NAME, checkpoint, parts)
            log.info("Resuming %s at task %d of %d", run_dir, state.next_task,
                     parts.benchmark.n_tasks)
        else:
            state = _fresh_state(cfg, parts)
    except Exception as caught:  # every rank must hear of it; then it is raised
        error = caught
    raise_if_any_rank_failed(error)
    return parts, state


def _take_run_directory(cfg: Config, run_dir: Path, lock: ExitStack,
                        on_start: Callable[[], None] | None) -> dict | None:
    """Lock ``run_dir`` (rank 0), read its checkpoint (every rank) — refused unless it belongs
    to this config and ``resume=true`` — then accept the run (rank 0: the caller's record,
    what a killed writer left removed). Returns the checkpoint, if any."""
    if rank() == 0:
        make_run_directory(run_dir)
        lock.enter_context(exclusive(run_dir))
    checkpoint = _read_checkpoint(run_dir / CHECKPOINT_NAME, cfg)
    if rank() == 0:
        _open_run_directory(cfg, run_dir, on_start)
    return checkpoint


def _open_run_directory(cfg: Config, run_dir: Path, on_start: Callable[[], None] | None) -> None:
    """The run is accepted: let the caller write its record and clear what a killed run
    left."""
    refuse_links(run_dir, [TENSORBOARD_NAME])
    if on_start is not None:
        on_start()
    for leftover in remove_temporaries(run_dir):
        log.info("Removed %s, left by a run killed while writing it.", leftover.name)


def run_benchmark(cfg: Config) -> Benchmark:
    """The benchmark of the run ``cfg``: its tasks, orders, permutations and validation split,
    as the run itself builds them from its seed."""
    bench_seed, _ = _seeds(cfg.seed)
    return build_benchmark(cfg.benchmark, cfg.data.root, torch.Generator().manual_seed(bench_seed))


def _seeds(seed: int) -> tuple[int, int]:
    """Independent seeds for the benchmark and for the order of training samples."""
    bench_seed, order_seed = np.random.SeedSequence(seed).generate_state(2)
    return int(bench_seed), int(order_seed)


def _build_parts(cfg: Config, device: torch.device, model=None, strategy=None,
                 benchmark=None) -> _Parts:
    """The run's parts from its config, or the caller's own (see :func:`run_experiment`), on
    ``device``."""
    log.info("%d CPU threads", set_threads(cfg.threads))
    torch.manual_seed(cfg.seed)  # model initialisation
    given = {}
    if benchmark is None:
        benchmark = run_benchmark(cfg)
    else:
        benchmark = prepare_benchmark(benchmark, cfg.benchmark,
                                      torch.Generator().manual_seed(_seeds(cfg.seed)[0]))
        given["benchmark"] = benchmark.name
    scenario = Scenario.from_benchmark(cfg.scenario, benchmark, cfg.class_head).to(device)
    experiences = [scenario.relabel(e).to(device) for e in benchmark.experiences]
    shape, n_tasks = benchmark.image_shape, benchmark.n_tasks
    if model is None:
        model = build_model(cfg.model, shape, scenario.n_outputs, n_tasks)
    else:
        if not isinstance(model, nn.Module):
            model = _called(model, "model", (shape, scenario.n_outputs, n_tasks), nn.Module)
        given["model"] = type(model).__name__
    model = model.to(device)
    check_model(model)
    if isinstance(model, Calibrated):  # a fixed part set from the first task's training data
        model.calibrate(experiences[0].train.x)
    order_generator = torch.Generator().manual_seed(_seeds(cfg.seed)[1])
    if strategy is None:
        strategy = build_strategy(cfg.strategy, model, scenario, cfg.train, order_generator)
    else:
        strategy = _called(strategy, "strategy", (model, scenario, cfg.train, order_generator),
                           Strategy)
        given["strategy"] = type(strategy).__name__
    if given:
        log.info("Parts given instead of the config's: %s", given)
    return _Parts(benchmark, scenario, experiences, model, strategy, order_generator, given)


def _called(factory, name: str, arguments: tuple, kind: type):
    """``factory(*arguments)``, checked to be a ``kind``."""
    if not callable(factory):
        raise TypeError(f"run_experiment({name}=...) takes a {kind.__name__} or a callable "
                        f"that builds one, got {type(factory).__name__}.")
    built = factory(*arguments)
    if not isinstance(built, kind):
        raise TypeError(f"run_experiment({name}=...) built a {type(built).__name__}, not a "
                        f"{kind.__name__}.")
    return built


def _fresh_state(cfg: Config, parts: _Parts) -> RunState:
    if cfg.resume:
        log.warning("resume=true but the run directory has no checkpoint: starting afresh.")
    random_init, val_random_init = _evaluate(cfg, parts)
    return RunState(random_init=random_init, val_random_init=val_random_init)


def _evaluate(cfg: Config, parts: _Parts) -> tuple[list[float], list[float]]:
    """A row of test accuracies, and one of validation accuracies (empty without them)."""
    model = parts.strategy.predictor
    test = accuracy_row(model, parts.experiences, parts.scenario, cfg.train.eval_batch_size)
    if parts.experiences[0].validation is None:
        return test, []
    return test, accuracy_row(model, parts.experiences, parts.scenario,
                              cfg.train.eval_batch_size, split="validation")


def _train_task(cfg: Config, parts: _Parts, state: RunState, task: int, logger) -> None:
    """Train on ``task``, test on every task, and record the new row of R in ``state``."""
    monitor = _TaskMonitor(cfg, logger, state.global_step, task, parts)
    stats = parts.strategy.train_experience(
        parts.experiences[task], parts.experiences[: task + 1], monitor,
        final=task == len(parts.experiences) - 1,
    )
    monitor.close()
    state.global_step += stats.steps
    state.train_seconds += stats.seconds
    state.train_samples += stats.samples
    if parts.strategy.sleeps_after_experience:
        _sleep(cfg, parts, state, task, logger)
    _check_finite(parts.model, task)
    row, val_row = _evaluate(cfg, parts)
    state.rows.append(row)
    if val_row:
        state.val_rows.append(val_row)
        for j, value in enumerate(val_row):
            logger.scalar(f"val_acc/task_{j}", value, state.global_step)
    state.next_task = task + 1
    state.strategy_bytes = parts.strategy.memory_bytes() + _statistics_bytes(parts.model)
    R = _padded_matrix(state.rows, parts.benchmark.n_tasks)
    logger.task_end(task, R, parts.model, state.global_step)
    logger.scalar("memory/strategy_bytes", state.strategy_bytes, state.global_step)
    for tag, value in structure_report(parts.model).items():
        logger.scalar(tag, value, state.global_step)
    log.info("task %d: %s", task, " ".join(f"{a:.3f}" for a in row[: task + 1]))


def _sleep(cfg: Config, parts: _Parts, state: RunState, task: int, logger) -> None:
    """Sleep as its own phase after ``task``: the accuracy on every task seen, measured right
    before and right after, shows what sleep itself did."""
    seen = parts.experiences[: task + 1]
    model = parts.strategy.predictor
    before = accuracy_row(model, seen, parts.scenario, cfg.train.eval_batch_size)
    report = asdict(cast(_Sleeper, parts.strategy).sleep(task))
    after = accuracy_row(model, seen, parts.scenario, cfg.train.eval_batch_size)
    state.sleeps.append({"after_task": task, "acc_before": before, "acc_after": after, **report})
    logger.sleep(task, before, after, report, state.global_step)
    log.info("sleep after task %d: %s -> %s", task, " ".join(f"{a:.3f}" for a in before),
             " ".join(f"{a:.3f}" for a in after))


def _statistics_bytes(model: nn.Module) -> int:
    """What a plastic network's readout carries across tasks besides weights (per-class counts,
    per-neuron activity sums): memory beyond the model, like a strategy's."""
    return model.statistics_bytes() if isinstance(model, LocalLearner) else 0


def _check_finite(model: nn.Module, task: int) -> None:
    """Stop the run, before anything of this task is saved, if a weight or buffer is NaN/Inf."""
    for name, tensor in chain(model.named_parameters(), model.named_buffers()):
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise NonFiniteStateError(
                f"After task {task} the model's {name} holds NaN or Inf values. Lower the "
                "learning rate that moves it (train.lr; for a plastic network model.lr or "
                "model.readout_lr), or check the data for NaN or Inf."
            )


class _TaskMonitor:
    """Per-step progress bar, loss scalars and periodic evaluation of the tasks seen so far."""

    def __init__(self, cfg: Config, logger, step0: int, task: int, parts: _Parts):
        self.cfg, self.logger, self.step0, self.task, self.parts = cfg, logger, step0, task, parts
        self.desc = f"task {task + 1}/{parts.benchmark.n_tasks}"
        self.bar: tqdm | None = None

    def __call__(self, step: int, steps: int, loss: float) -> None:
        if self.bar is None:
            shown = self.cfg.logger.progress and rank() == 0
            self.bar = tqdm(total=steps, desc=self.desc, leave=False,
                            disable=None if shown else True)
        self.bar.update()
        global_step = self.step0 + step + 1
        if global_step % max(self.cfg.logger.log_every, 1) == 0:
            self.logger.scalar("train/loss", loss, global_step)
            if (optimizer := self.parts.strategy.optimizer) is not None:
                self.logger.scalar("train/lr", optimizer.param_groups[0]["lr"], global_step)
            self.bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
        every = self.cfg.logger.eval_every
        if every > 0 and (step + 1) % every == 0 and step + 1 < steps:
            seen = self.parts.experiences[: self.task + 1]
            row = accuracy_row(self.parts.strategy.predictor, seen, self.parts.scenario,
                               self.cfg.train.eval_batch_size)
            for j, value in enumerate(row):
                self.logger.scalar(f"test_acc/task_{j}", value, global_step)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _padded_matrix(rows: list[list[float]], n_tasks: int) -> np.ndarray:
    R = np.full((n_tasks, n_tasks), np.nan)
    R[: len(rows)] = rows
    return R


def _checkpoint(cfg: Config, parts: _Parts, state: RunState) -> dict:
    return {
        "config": _comparable(cfg),
        "model": parts.model.state_dict(),
        "strategy": parts.strategy.state_dict(),
        "order_generator": parts.order_generator.get_state(),
        "torch_rng": torch.get_rng_state(),
        "state": asdict(state),
    }


def _read_checkpoint(path: Path, cfg: Config) -> dict | None:
    """The checkpoint at ``path``, if there is one and this run may continue it: refused
    without ``resume=true``, or when it is not a run's checkpoint or was made by another
    config."""
    if not path.exists():
        return None
    if not cfg.resume:
        raise RunDirectoryError(
            f"{path.parent} already holds a checkpoint. Pass resume=true to continue that run, "
            "or choose another hydra.run.dir to start a new one."
        )
    payload = load_checkpoint(path)
    saved, current = payload["config"], _comparable(cfg)
    if saved != current:
        changed = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
        raise RunDirectoryError(
            f"{path} belongs to a run with a different config (differs in: {', '.join(changed)}). "
            "Resume with the same settings, or choose a new hydra.run.dir."
        )
    return payload


def _restore(path: Path, payload: dict, parts: _Parts) -> RunState:
    """The parts and the run's progress as the checkpoint ``payload`` (read from ``path``)
    left them."""
    try:
        parts.model.load_state_dict(payload["model"])
        parts.strategy.load_state_dict(payload["strategy"])
        parts.order_generator.set_state(payload["order_generator"])
        torch.set_rng_state(payload["torch_rng"])
        return RunState(**payload["state"])
    except (RuntimeError, KeyError, TypeError, ValueError) as error:
        raise CheckpointError(
            f"The checkpoint {path} does not fit this run's model or strategy, though its config "
            f"does ({type(error).__name__}: {error}): another version of hebbnet wrote it, or it "
            "was edited. Resume with the version that wrote it, or delete it to start afresh."
        ) from error


def _comparable(cfg: Config) -> dict:
    """The config flattened to dotted keys, without the entries a resumed run may change."""
    entries = asdict(cfg)
    for key in RESUMABLE_CHANGES:
        entries.pop(key)
    return _flatten(entries)


def _flatten(entries: dict, prefix: str = "") -> dict:
    """Nested dict to ``{"a.b": value}`` with values TensorBoard's hparams accept."""
    flat = {}
    for key, value in entries.items():
        if key == "published":  # the table of tuned values; the values used are in the config
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, (bool, int, float, str)):
            flat[name] = value
        else:
            flat[name] = str(value)
    return flat


def _metrics(cfg: Config, parts: _Parts, state: RunState, seconds: float) -> dict:
    R = np.array(state.rows)
    random_init = np.array(state.random_init)
    validation = None
    if state.val_rows:  # the numbers to choose settings by; the test set's are to report
        V, val_init = np.array(state.val_rows), np.array(state.val_random_init)
        validation = {**cl_metrics.summarize(V, val_init), "acc_matrix": V.tolist(),
                      "random_init_acc": val_init.tolist()}
    return {
        "benchmark": parts.benchmark.name,
        "scenario": cfg.scenario,
        "strategy": parts.given.get("strategy", cfg.strategy.name),
        "given_parts": parts.given,  # what the config's model/strategy/benchmark do not describe
        "seed": cfg.seed,
        **cl_metrics.summarize(R, random_init),
        "acc_matrix": R.tolist(),
        "random_init_acc": random_init.tolist(),
        "train_seconds": state.train_seconds,
        "train_samples": state.train_samples,
        "train_samples_per_s": state.train_samples / max(state.train_seconds, 1e-9),
        "strategy_bytes": state.strategy_bytes,
        "sleeps": state.sleeps,
        "validation": validation,
        "run_seconds": seconds,
    }
