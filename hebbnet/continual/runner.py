"""One continual-learning run: train task by task, fill the accuracy matrix, checkpoint, log.

The loop, in order: build the benchmark, scenario, model and strategy from the config;
measure the random-init accuracies (FWT needs them); then for each task train, evaluate every
task, log, and checkpoint. A run resumed from its checkpoint repeats nothing and ends with the
same accuracy matrix, bit for bit, as one never interrupted.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf
from tqdm.auto import tqdm

from hebbnet.config.schema import Config
from hebbnet.continual import metrics as cl_metrics
from hebbnet.continual.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from hebbnet.continual.evaluation import accuracy_row
from hebbnet.continual.factory import (
    build_benchmark,
    build_logger,
    build_model,
    build_schedule,
    build_strategy,
    resolve_device,
)
from hebbnet.continual.scenario import Scenario

log = logging.getLogger(__name__)

METRICS_NAME = "metrics.json"
# Config entries a resumed run may change: where data sits, where it runs, how it logs.
RESUMABLE_CHANGES = ("resume", "device", "data", "logger")


class RunDirectoryError(RuntimeError):
    """The run directory holds a checkpoint that does not fit this run."""


@dataclass
class RunState:
    """Everything about a run's progress that is not a model or optimiser tensor."""

    next_task: int = 0
    rows: list[list[float]] = field(default_factory=list)  # R[i] for finished tasks
    random_init: list[float] = field(default_factory=list)
    global_step: int = 0
    train_seconds: float = 0.0
    train_samples: int = 0


def run_experiment(cfg: Config, run_dir: str | Path) -> dict:
    """Run (or resume) the experiment ``cfg`` in ``run_dir`` and return its metrics."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    device = resolve_device(cfg.device)
    bench_seed, order_seed = np.random.SeedSequence(cfg.seed).generate_state(2)
    torch.manual_seed(cfg.seed)

    benchmark = build_benchmark(
        cfg.benchmark, cfg.data.root, torch.Generator().manual_seed(int(bench_seed))
    )
    scenario = Scenario.from_benchmark(cfg.scenario, benchmark)
    experiences = [scenario.relabel(e).to(device) for e in benchmark.experiences]
    model = build_model(cfg.model, benchmark.image_shape, scenario.n_outputs).to(device)
    order_generator = torch.Generator().manual_seed(int(order_seed))
    strategy = build_strategy(
        cfg.strategy, model, scenario, build_schedule(cfg.train), order_generator
    )

    checkpoint_path = run_dir / CHECKPOINT_NAME
    state = RunState()
    if checkpoint_path.exists():
        state = _restore(checkpoint_path, cfg, model, strategy, order_generator)
        log.info("Resuming %s at task %d of %d", run_dir, state.next_task, benchmark.n_tasks)
    else:
        if cfg.resume:
            log.warning("resume=true but %s has no checkpoint: starting afresh.", run_dir)
        state.random_init = accuracy_row(model, experiences, scenario, cfg.train.eval_batch_size)
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.structured(cfg)))

    logger = build_logger(cfg.logger, run_dir, purge_step=state.global_step + 1 if state.global_step else None)
    try:
        for task in range(state.next_task, benchmark.n_tasks):
            monitor = _TaskMonitor(cfg, logger, state.global_step, task, benchmark.n_tasks,
                                   model, experiences, scenario)
            stats = strategy.train_experience(experiences[task], experiences[: task + 1], monitor)
            monitor.close()
            row = accuracy_row(model, experiences, scenario, cfg.train.eval_batch_size)
            state.rows.append(row)
            state.next_task = task + 1
            state.global_step += stats.steps
            state.train_seconds += stats.seconds
            state.train_samples += stats.samples
            R = _padded_matrix(state.rows, benchmark.n_tasks)
            logger.task_end(task, R, model, state.global_step)
            log.info("task %d: %s", task, " ".join(f"{a:.3f}" for a in row[: task + 1]))
            save_checkpoint(checkpoint_path, _checkpoint(cfg, model, strategy, order_generator, state))
        result = _metrics(cfg, benchmark.name, state, time.perf_counter() - started)
        logger.hparams(_flatten(asdict(cfg)), {f"hparam/{k}": result[k] for k in cl_metrics.SCALARS})
    finally:
        logger.close()
    (run_dir / METRICS_NAME).write_text(json.dumps(result, indent=2))
    return result


class _TaskMonitor:
    """Per-step progress bar, loss scalars and periodic evaluation of the tasks seen so far."""

    def __init__(self, cfg, logger, step0, task, n_tasks, model, experiences, scenario):
        self.cfg, self.logger, self.step0, self.task = cfg, logger, step0, task
        self.model, self.experiences, self.scenario = model, experiences, scenario
        self.desc = f"task {task + 1}/{n_tasks}"
        self.bar = None

    def __call__(self, step: int, steps: int, loss: float) -> None:
        if self.bar is None:
            self.bar = tqdm(total=steps, desc=self.desc, leave=False,
                            disable=None if self.cfg.logger.progress else True)
        self.bar.update()
        global_step = self.step0 + step + 1
        if global_step % max(self.cfg.logger.log_every, 1) == 0:
            self.logger.scalar("train/loss", loss, global_step)
            self.bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
        every = self.cfg.logger.eval_every
        if every > 0 and (step + 1) % every == 0 and step + 1 < steps:
            seen = self.experiences[: self.task + 1]
            row = accuracy_row(self.model, seen, self.scenario, self.cfg.train.eval_batch_size)
            for j, value in enumerate(row):
                self.logger.scalar(f"test_acc/task_{j}", value, global_step)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _padded_matrix(rows: list[list[float]], n_tasks: int) -> np.ndarray:
    R = np.full((n_tasks, n_tasks), np.nan)
    R[: len(rows)] = rows
    return R


def _checkpoint(cfg, model, strategy, generator, state: RunState) -> dict:
    return {
        "config": _comparable(cfg),
        "model": model.state_dict(),
        "strategy": strategy.state_dict(),
        "order_generator": generator.get_state(),
        "torch_rng": torch.get_rng_state(),
        "state": asdict(state),
    }


def _restore(path: Path, cfg, model, strategy, generator) -> RunState:
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
    model.load_state_dict(payload["model"])
    strategy.load_state_dict(payload["strategy"])
    generator.set_state(payload["order_generator"])
    torch.set_rng_state(payload["torch_rng"])
    return RunState(**payload["state"])


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
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, (bool, int, float, str)):
            flat[name] = value
        else:
            flat[name] = str(value)
    return flat


def _metrics(cfg: Config, benchmark_name: str, state: RunState, seconds: float) -> dict:
    R = np.array(state.rows)
    random_init = np.array(state.random_init)
    return {
        "benchmark": benchmark_name,
        "scenario": cfg.scenario,
        "strategy": cfg.strategy.name,
        "seed": cfg.seed,
        **cl_metrics.summarize(R, random_init),
        "acc_matrix": R.tolist(),
        "random_init_acc": random_init.tolist(),
        "train_seconds": state.train_seconds,
        "train_samples": state.train_samples,
        "train_samples_per_s": state.train_samples / max(state.train_seconds, 1e-9),
        "run_seconds": seconds,
    }
