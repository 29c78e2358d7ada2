"""Typed configuration of a continual-learning run: the run-level settings.

Plain dataclasses: Hydra validates ``hebbnet/conf/`` against them (see :mod:`hebbnet.config.store`),
and Python users build them directly, e.g. ``Config(benchmark=BenchmarkConfig(n_tasks=3))``.
A model's or strategy's settings are its own config dataclass, beside its class and registered
with it (``MLPConfig`` in :mod:`hebbnet.models.mlp`, ``EWCConfig`` in
:mod:`hebbnet.continual.strategies.ewc`, … — :mod:`hebbnet.registry`); ``Config.model`` and
``Config.strategy`` hold one of those.
"""


from dataclasses import dataclass, field
from typing import Any, List, Optional

from hebbnet.continual.strategies.base import StrategyConfig
from hebbnet.models.mlp import MLPConfig


@dataclass
class DataConfig:
    root: str = "data"  # the folder that holds MNIST/raw/*.gz (or FashionMNIST/, KMNIST/)


@dataclass
class BenchmarkConfig:
    name: str = "split_digits"
    dataset: str = "digits"  # digits | mnist | fashion_mnist | kmnist | cifar10 | cifar100
    kind: str = "split"  # split | permuted | rotated
    n_tasks: int = 5
    classes_per_task: int = 2  # split only
    class_order: Optional[List[int]] = None  # split only; None: 0, 1, 2, ...
    shuffle_class_order: bool = False  # split only; seeded by `seed`
    permute_first_task: bool = True  # permuted only; False keeps task 0 unpermuted
    angles: Optional[List[float]] = None  # rotated only; None: evenly spaced in [0, 180)
    random_angles: bool = False  # rotated only, angles null: draw them from U[0, 180), seeded
    pad: int = 0  # zero pixels added on every side before tasks are built (2: MNIST to 32×32)
    validation: float = 0.0  # fraction of each task's training data held out (val_acc_matrix)
    augment: str = "none"  # none | crop_flip: training and replayed images cropped (4-pixel pad) and flipped
    normalize: bool = False  # standardise each channel by the mean/std of the run's training data


@dataclass
class TrainConfig:
    optimizer: str = "adam"  # adam | sgd
    lr: float = 1e-3
    batch_size: int = 128
    iterations: Optional[int] = 2000  # optimiser steps per task; or null and set epochs
    epochs: Optional[float] = None  # passes over each task's data; or null and set iterations
    reset_optimizer: bool = False  # a fresh optimiser state at the start of every task
    eval_batch_size: int = 4096
    precision: str = "fp32"  # fp32 | bf16: the training forward pass under bf16 autocast


@dataclass
class LoggerConfig:
    name: str = "tensorboard"  # tensorboard | none (metrics.json is written either way)
    log_every: int = 50  # steps between loss scalars
    eval_every: int = 0  # steps between test evaluations within a task; 0: after each task only
    histograms: bool = True  # weight histograms after each task
    progress: bool = True  # tqdm bars (shown only on a terminal)


@dataclass
class Config:
    seed: int = 0
    scenario: str = "class"  # task | domain | class (van de Ven et al. 2022)
    class_head: str = "expanding"  # class scenario: train seen classes' units, or full: all
    device: str = "cpu"  # cpu | cuda | cuda:N | auto
    threads: Optional[int] = None  # torch CPU threads; null: torch's, at most this process's cores
    resume: bool = False  # continue the run whose checkpoint is in the run directory
    data: DataConfig = field(default_factory=DataConfig)
    benchmark: BenchmarkConfig = field(default_factory=BenchmarkConfig)
    model: Any = field(default_factory=MLPConfig)
    strategy: Any = field(default_factory=StrategyConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)

