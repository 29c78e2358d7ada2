"""Continual-learning strategies, selectable by name (``strategy=<name>``)."""

from hebbnet.continual.strategies.agem import AGEM
from hebbnet.continual.strategies.base import (
    NonFiniteLossError,
    StepMonitor,
    Strategy,
    TrainStats,
    check_schedule,
    steps_per_task,
)
from hebbnet.continual.strategies.cls import ComplementaryLearningSystem
from hebbnet.continual.strategies.clser import CLSER
from hebbnet.continual.strategies.derpp import DERpp
from hebbnet.continual.strategies.ewc import EWC
from hebbnet.continual.strategies.joint import Joint
from hebbnet.continual.strategies.lwf import LwF
from hebbnet.continual.strategies.naive import Naive
from hebbnet.continual.strategies.replay import ExperienceReplay
from hebbnet.continual.strategies.si import SI

STRATEGIES: dict[str, type[Strategy]] = {
    "naive": Naive,
    "joint": Joint,
    "ewc": EWC,
    "online_ewc": EWC,
    "si": SI,
    "lwf": LwF,
    "er": ExperienceReplay,
    "agem": AGEM,
    "derpp": DERpp,
    "clser": CLSER,
    "cls": ComplementaryLearningSystem,
}

__all__ = [
    "AGEM",
    "CLSER",
    "ComplementaryLearningSystem",
    "DERpp",
    "EWC",
    "ExperienceReplay",
    "LwF",
    "SI",
    "STRATEGIES",
    "Joint",
    "Naive",
    "NonFiniteLossError",
    "StepMonitor",
    "Strategy",
    "TrainStats",
    "check_schedule",
    "steps_per_task",
]
