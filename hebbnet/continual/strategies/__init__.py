"""Continual-learning strategies, selectable by name (``strategy=<name>``)."""

from hebbnet.continual.strategies.base import (
    NonFiniteLossError,
    StepMonitor,
    Strategy,
    TrainStats,
    check_schedule,
    steps_per_task,
)
from hebbnet.continual.strategies.joint import Joint
from hebbnet.continual.strategies.naive import Naive

STRATEGIES: dict[str, type[Strategy]] = {"naive": Naive, "joint": Joint}

__all__ = [
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
