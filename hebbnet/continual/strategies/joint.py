"""Joint training: the upper bound, with every earlier task's data still at hand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hebbnet.continual.benchmark import Experience, TensorSet
from hebbnet.continual.strategies.base import Strategy, StrategyConfig
from hebbnet.registry import register_strategy


@dataclass
class JointConfig(StrategyConfig):
    name: str = "joint"


@register_strategy("joint", JointConfig)
class Joint(Strategy):
    """On task ``i``, train on the union of the training sets of tasks ``0..i``.

    This cumulative form fills the whole accuracy matrix; its last row is a model trained
    jointly on all tasks (after also seeing the earlier unions), the usual upper bound.
    """

    def training_set(self, experience: Experience, seen: Sequence[Experience]) -> TensorSet:
        return TensorSet.concat([e.train for e in seen])
