"""Naive fine-tuning: the lower bound every continual-learning method must beat."""

from hebbnet.continual.strategies.base import Strategy, StrategyConfig
from hebbnet.registry import register_strategy


@register_strategy("naive", StrategyConfig)
class Naive(Strategy):
    """Train on each task's data alone, with nothing to protect earlier tasks."""
