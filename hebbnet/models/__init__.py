"""Networks that continual-learning strategies train."""

from hebbnet.models.mlp import MLP

__all__ = ["MLP"]
