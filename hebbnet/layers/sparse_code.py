"""A fixed sparse code: random expansion, then k-winners-take-all.

The dentate gyrus's pattern separation (Marr 1971; Treves & Rolls 1994), or the mushroom body's
Kenyon cells (Dasgupta et al. 2017): an input x ∈ R^D drives ``size`` units through a fixed
random matrix, and only the ``active`` most driven units fire,

    c_i = 1  if (P x)_i is among the k largest entries of P x,  else 0,
    P ∈ R^{size×D},  P_ij ~ N(0, 1),  k = active.

Similar inputs get less similar codes (their overlap shrinks), every code has exactly k ones,
and nothing in it learns: P is a buffer (saved with the model), and no gradient flows through
the choice of winners.
"""

from __future__ import annotations

import torch
from torch import nn


class SparseCode(nn.Module):
    def __init__(self, in_features: int, size: int, active: int,
                 generator: torch.Generator | None = None):
        super().__init__()
        if not 0 < active <= size:
            raise ValueError(f"A sparse code needs 0 < active <= size; got active={active}, "
                             f"size={size}.")
        self.in_features, self.size, self.active = in_features, size, active
        self.register_buffer("projection", torch.randn(size, in_features, generator=generator))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Binary codes (N, size) of inputs (N, ...) with ``in_features`` values each."""
        flat = x.reshape(len(x), -1)
        if flat.shape[1] != self.in_features:
            raise ValueError(f"SparseCode expects {self.in_features} input values per sample, "
                             f"got {flat.shape[1]} (input shape {tuple(x.shape)}).")
        drive = flat.detach().to(self.projection.dtype) @ self.projection.T
        return torch.zeros_like(drive).scatter_(1, drive.topk(self.active, dim=1).indices, 1.0)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, size={self.size}, active={self.active}"
