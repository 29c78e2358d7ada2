"""Labelled samples as three aligned tensors, the unit data moves in through the library."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TensorSet:
    """Images (uint8), labels and the task id of every sample."""

    x: torch.Tensor
    y: torch.Tensor
    t: torch.Tensor

    def __len__(self) -> int:
        return len(self.y)

    def to(self, device: torch.device | str) -> TensorSet:
        return TensorSet(self.x.to(device), self.y.to(device), self.t.to(device))

    def select(self, index: torch.Tensor | slice) -> TensorSet:
        return TensorSet(self.x[index], self.y[index], self.t[index])

    @staticmethod
    def concat(sets: list[TensorSet]) -> TensorSet:
        return TensorSet(*(torch.cat([getattr(s, f) for s in sets]) for f in ("x", "y", "t")))
