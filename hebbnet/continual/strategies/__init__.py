"""Continual-learning strategies, selectable by name (``strategy=<name>``): each module holds
one strategy and its config dataclass, and registers them (:mod:`hebbnet.registry`)."""

from hebbnet.continual.strategies.agem import AGEM, AGEMConfig
from hebbnet.continual.strategies.base import (
    NonFiniteLossError,
    StepMonitor,
    Strategy,
    StrategyConfig,
    TrainStats,
    check_schedule,
    steps_per_task,
)
from hebbnet.continual.strategies.cls import CLSConfig, ComplementaryLearningSystem
from hebbnet.continual.strategies.clser import CLSER, CLSERConfig
from hebbnet.continual.strategies.derpp import DERpp, DERppConfig
from hebbnet.continual.strategies.er_ace import ERACE, ERACEConfig
from hebbnet.continual.strategies.ewc import EWC, EWCConfig, OnlineEWCConfig
from hebbnet.continual.strategies.joint import Joint, JointConfig
from hebbnet.continual.strategies.lwf import LwF, LwFConfig
from hebbnet.continual.strategies.naive import Naive
from hebbnet.continual.strategies.replay import ERConfig, ExperienceReplay
from hebbnet.continual.strategies.si import SI, SIConfig
from hebbnet.registry import STRATEGIES

__all__ = [
    "AGEM",
    "AGEMConfig",
    "CLSConfig",
    "CLSER",
    "CLSERConfig",
    "ComplementaryLearningSystem",
    "DERpp",
    "DERppConfig",
    "ERACE",
    "ERACEConfig",
    "ERConfig",
    "EWC",
    "EWCConfig",
    "ExperienceReplay",
    "Joint",
    "JointConfig",
    "LwF",
    "LwFConfig",
    "Naive",
    "NonFiniteLossError",
    "OnlineEWCConfig",
    "SI",
    "SIConfig",
    "STRATEGIES",
    "StepMonitor",
    "Strategy",
    "StrategyConfig",
    "TrainStats",
    "check_schedule",
    "steps_per_task",
]
