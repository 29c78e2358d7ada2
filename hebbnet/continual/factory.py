"""Turns configuration dataclasses into the objects of a run."""

from __future__ import annotations

import os
from dataclasses import fields

import torch
from torch import nn

from hebbnet.config.schema import BenchmarkConfig, LoggerConfig, TrainConfig
from hebbnet.continual.benchmark import (
    Benchmark,
    carve_validation,
    check_benchmark,
    permuted_tasks,
    rotated_tasks,
    split_tasks,
)
from hebbnet.continual.scenario import Scenario
from hebbnet.continual.strategies import STRATEGIES, Strategy
from hebbnet.data import load_dataset, pad_images
from hebbnet.distributed import local_device
from hebbnet.monitor import LOGGERS, NullLogger, TensorBoardLogger

BENCHMARK_KINDS = ("split", "permuted", "rotated")
TENSORBOARD_NAME = "tensorboard"  # the TensorBoard logger's folder in a run directory


def build_benchmark(cfg: BenchmarkConfig, data_root: str, generator: torch.Generator) -> Benchmark:
    """Load the data set, cut it into tasks and hold out each task's validation share;
    ``generator`` seeds permutations, orders and the validation split."""
    tasks = _tasks(cfg, data_root, generator)
    check_benchmark(tasks)  # a registered data set comes from the user's own loader
    return carve_validation(tasks, cfg.validation, generator)


def _tasks(cfg: BenchmarkConfig, data_root: str, generator: torch.Generator) -> Benchmark:
    if cfg.kind not in BENCHMARK_KINDS:
        raise ValueError(
            f"Unknown benchmark.kind {cfg.kind!r}; valid: {', '.join(BENCHMARK_KINDS)}."
        )
    if cfg.n_tasks < 1:
        raise ValueError(f"benchmark.n_tasks must be at least 1, got {cfg.n_tasks}.")
    data = pad_images(load_dataset(cfg.dataset, data_root), cfg.pad)
    if cfg.kind == "split":
        order = list(cfg.class_order) if cfg.class_order is not None else list(range(data.n_classes))
        if cfg.shuffle_class_order:
            order = [order[i] for i in torch.randperm(len(order), generator=generator)]
        return split_tasks(data, cfg.classes_per_task, cfg.n_tasks, order)
    if cfg.kind == "permuted":
        return permuted_tasks(data, cfg.n_tasks, generator, cfg.permute_first_task)
    angles = cfg.angles or _default_angles(cfg.n_tasks, cfg.random_angles, generator)
    if len(angles) != cfg.n_tasks:
        raise ValueError(
            f"benchmark.angles has {len(angles)} entries but benchmark.n_tasks is "
            f"{cfg.n_tasks}; give one angle per task."
        )
    return rotated_tasks(data, list(angles))


def _default_angles(n_tasks: int, random: bool, generator: torch.Generator) -> list[float]:
    if random:
        return (180.0 * torch.rand(n_tasks, generator=generator, dtype=torch.float64)).tolist()
    return [180.0 * i / n_tasks for i in range(n_tasks)]


def build_strategy(
    cfg, model: nn.Module, scenario: Scenario, schedule: TrainConfig, generator: torch.Generator
) -> Strategy:
    if cfg.name not in STRATEGIES:
        raise ValueError(f"Unknown strategy {cfg.name!r}; valid: {', '.join(STRATEGIES)} (your "
                         "own: hebbnet.registry.register_strategy).")
    options = {f.name: getattr(cfg, f.name) for f in fields(cfg)
               if f.name not in ("name", "published")}
    return STRATEGIES[cfg.name](model, scenario, schedule, generator, **options)


def build_logger(cfg: LoggerConfig, run_dir, purge_step: int | None) -> NullLogger:
    if cfg.name not in LOGGERS:
        raise ValueError(f"Unknown logger {cfg.name!r}; valid: {', '.join(LOGGERS)}.")
    if cfg.name == "none":
        return NullLogger()
    return TensorBoardLogger(run_dir / TENSORBOARD_NAME, cfg.histograms, purge_step)


def set_threads(threads: int | None) -> int:
    """Give torch ``threads`` intra-op threads and return the number. None: torch's own
    setting (which follows ``OMP_NUM_THREADS`` and any ``torch.set_num_threads`` before),
    capped at the cores this process may use — its CPU affinity, which a container or
    ``taskset`` narrows while torch counts the machine's cores; more threads than free cores
    slow a small model's step several times over."""
    if threads is None:
        threads = min(torch.get_num_threads(), _usable_cores())
    if threads < 1:
        raise ValueError(f"threads={threads}: give a positive number of CPU threads, or null "
                         "for torch's setting capped at the cores this process may use.")
    if threads != torch.get_num_threads():  # a forked child must not start a new thread pool
        torch.set_num_threads(threads)
    return threads


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when available; an unavailable CUDA device is an error, not a fallback.
    Under torchrun, ``cuda`` is this rank's GPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise ValueError(f"Unknown device {name!r}; use cpu, cuda, cuda:N or auto.") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name} but CUDA is not available here; use device=cpu.")
    return local_device(device)
