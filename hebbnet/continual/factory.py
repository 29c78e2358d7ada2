"""Turns configuration dataclasses into the objects of a run."""

from __future__ import annotations

import os
from dataclasses import fields, replace
from typing import TYPE_CHECKING

import torch
from torch import nn

from hebbnet.continual.benchmark import (
    Benchmark,
    carve_validation,
    check_benchmark,
    normalized,
    permuted_tasks,
    rotated_tasks,
    split_tasks,
)
from hebbnet.continual.scenario import Scenario
from hebbnet.continual.strategies import STRATEGIES, Strategy
from hebbnet.data import load_dataset, pad_images
from hebbnet.distributed import local_device
from hebbnet.monitor import LOGGERS, NullLogger, TensorBoardLogger
from hebbnet.registry import lookup
from hebbnet.run_directory import TENSORBOARD_NAME

if TYPE_CHECKING:  # the schema imports the strategies, and so this package, as it loads
    from hebbnet.config.schema import BenchmarkConfig, LoggerConfig, TrainConfig

BENCHMARK_KINDS = ("split", "permuted", "rotated")


def build_benchmark(cfg: BenchmarkConfig, data_root: str, generator: torch.Generator) -> Benchmark:
    """Load the data set, cut it into tasks augmented as ``benchmark.augment`` says, and
    prepare them (:func:`prepare_benchmark`); ``generator`` seeds permutations, orders and the
    validation split."""
    tasks = replace(_tasks(cfg, data_root, generator), augment=cfg.augment)
    return prepare_benchmark(tasks, cfg, generator)


def prepare_benchmark(tasks: Benchmark, cfg: BenchmarkConfig,
                      generator: torch.Generator) -> Benchmark:
    """Check ``tasks`` (a registered data set, or a user's benchmark, comes from their own
    code), hold out each task's validation share and, with ``benchmark.normalize``,
    standardise the images by the statistics of what is left to train on. How training images
    are augmented is the benchmark's own (``Benchmark.augment``)."""
    check_benchmark(tasks)
    benchmark = carve_validation(tasks, cfg.validation, generator)
    return normalized(benchmark) if cfg.normalize else benchmark


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
    """The strategy ``cfg`` names, built from ``cfg`` itself (its options). A config of a more
    general type (``StrategyConfig("ewc")``) becomes the strategy's own config with its
    defaults for what it does not say."""
    registered = lookup(STRATEGIES, "strategy", cfg.name)
    strategy = registered.build
    if not (isinstance(strategy, type) and issubclass(strategy, Strategy)):
        raise TypeError(f"strategy={cfg.name} is registered as {strategy!r}, which is not a "
                        "subclass of hebbnet.continual.strategies.Strategy.")
    if not isinstance(cfg, registered.config):
        given = {f.name: getattr(cfg, f.name) for f in fields(cfg)}
        if unknown := set(given) - {f.name for f in fields(registered.config)}:
            raise TypeError(f"strategy={cfg.name} takes {registered.config.__name__}, which has "
                            f"no {', '.join(sorted(unknown))} ({type(cfg).__name__} has).")
        cfg = registered.config(**given)
    return strategy(model, scenario, schedule, generator, cfg)


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
