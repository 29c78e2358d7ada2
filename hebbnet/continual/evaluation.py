"""Batched test-set evaluation: one row of the accuracy matrix at a time."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from hebbnet.continual.benchmark import Experience, TensorSet
from hebbnet.continual.scenario import Scenario, mask_logits
from hebbnet.data import to_float
from hebbnet.models.plastic import module_device


@torch.no_grad()
def accuracy(
    model: nn.Module, data: TensorSet, active: torch.Tensor | None, batch_size: int = 4096,
    inputs: Callable[[torch.Tensor], torch.Tensor] = to_float,
) -> float:
    """Fraction of ``data`` classified correctly, comparing only ``active`` output units, in
    ``eval()`` mode; its uint8 images reach the model through ``inputs`` (a scenario's
    :meth:`~hebbnet.continual.scenario.Scenario.inputs`), never augmented."""
    device = module_device(model)
    was_training = model.training
    model.eval()
    correct = 0
    for start in range(0, len(data), batch_size):
        x = inputs(data.x[start : start + batch_size].to(device))
        logits = mask_logits(model(x), active)
        correct += int((logits.argmax(1) == data.y[start : start + batch_size].to(device)).sum())
    model.train(was_training)
    return correct / max(len(data), 1)


def accuracy_row(
    model: nn.Module, experiences: Sequence[Experience], scenario: Scenario,
    batch_size: int = 4096, split: str = "test",
) -> list[float]:
    """Accuracy on every task's ``split`` (``test`` or ``validation``), in task order."""
    return [
        accuracy(model, getattr(e, split), scenario.test_mask(e.task_id), batch_size, scenario.inputs)
        for e in experiences
    ]
