"""What a run asks of its model, declared as protocols instead of probed with ``hasattr``.

Every model is an ``nn.Module`` whose ``forward`` maps images (N, C, H, W) — floats in [0, 1],
standardised per channel where the benchmark says ``normalize`` — to logits (N, n_outputs): a
plain one (``nn.Sequential(nn.Flatten(), nn.Linear(784, 10))``) runs with
every strategy that trains by gradients. A model may add any of these, and the run uses it:

* :class:`TaskAware` — ``start_task(task)``, called as each task's training starts (a critical
  period closing, units born for the new task);
* :class:`Calibrated` — ``calibrate(x)``, called once with the first task's training images
  before any training (a fixed code's thresholds);
* :class:`LocalLearner` — a network that learns by local rules (a
  :class:`~hebbnet.models.PlasticNetwork`): ``learns_locally`` (True when nothing in it has a
  gradient, so strategies show it batches through ``learn``), ``learn(x, targets, active)``,
  ``statistics_bytes()`` (what its readout carries across tasks), and ``start_task``;
* :class:`Coded` — a sparse input code a complementary learning system can store instead of
  images: ``codes`` (True when there is one), ``encode(x)`` and ``classify(h)``.

:func:`check_model` checks a model once, as it is built, and names what is missing.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import nn


@runtime_checkable
class TaskAware(Protocol):
    def start_task(self, task: int) -> None: ...


@runtime_checkable
class Calibrated(Protocol):
    def calibrate(self, x: torch.Tensor) -> None: ...


@runtime_checkable
class LocalLearner(TaskAware, Protocol):
    learns_locally: bool

    def learn(self, x: torch.Tensor, targets: torch.Tensor,
              active: torch.Tensor | None) -> torch.Tensor: ...

    def statistics_bytes(self) -> int: ...


@runtime_checkable
class Coded(Protocol):
    codes: bool

    def encode(self, x: torch.Tensor) -> torch.Tensor: ...

    def classify(self, h: torch.Tensor) -> torch.Tensor: ...


def missing(obj: object, protocol: type) -> list[str]:
    """The members of ``protocol`` (and of the protocols it extends) that ``obj`` lacks."""
    members: list[str] = []
    for layer in protocol.__mro__:
        if layer is object or not getattr(layer, "_is_protocol", False) or layer is Protocol:
            continue
        members += [name for name in (*getattr(layer, "__annotations__", {}), *vars(layer))
                    if not name.startswith("_") and name not in members]
    return [name for name in members if not hasattr(obj, name)]


def check_model(model: object) -> None:
    """Refuse, naming what is missing, a model that is not an ``nn.Module`` or that says it
    learns locally (has ``learns_locally``) without the rest of :class:`LocalLearner`."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"A run's model is an nn.Module (forward: images → logits); got "
                        f"{type(model).__name__}.")
    if hasattr(model, "learns_locally") and (absent := missing(model, LocalLearner)):
        raise TypeError(
            f"{type(model).__name__} has learns_locally, so strategies treat it as a network "
            f"that learns by local rules, but it lacks {', '.join(absent)} "
            "(hebbnet.models.contract.LocalLearner). Add them, or remove learns_locally.")
