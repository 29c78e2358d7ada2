"""Nonlinearities used between plastic layers."""

from __future__ import annotations

import torch
from torch import nn


class Triangle(nn.Module):
    r"""Journé et al. (2023): :math:`f(u)_c = \max(0,\, u_c - \bar u)^{p}`, with :math:`\bar u`
    the mean over channels (dim 1) at the same position; only above-average units pass."""

    def __init__(self, power: float = 1.0):
        super().__init__()
        if power <= 0:
            raise ValueError(f"power must be positive, got {power}.")
        self.power = power

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return torch.relu(u - u.mean(dim=1, keepdim=True)) ** self.power

    def extra_repr(self) -> str:
        return f"power={self.power}"
