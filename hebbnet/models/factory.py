"""Builds a run's model from its config: one lookup of the registered option the config names
(:mod:`hebbnet.registry`; the built-in ones register in their own modules)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

import hebbnet.models  # noqa: F401  (the built-in models register themselves)
from hebbnet.registry import MODELS, lookup


def build_model(cfg, input_shape: Sequence[int], n_outputs: int, n_tasks: int = 1) -> nn.Module:
    """The model ``cfg`` (a registered model's config dataclass) names, for images of
    ``input_shape``; ``n_tasks`` sizes what grows per task."""
    return lookup(MODELS, "model", cfg.name).build(cfg, tuple(input_shape), n_outputs, n_tasks)
