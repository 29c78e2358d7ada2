"""Weight normalisation: every unit's incoming weights rescaled to a fixed Lp norm."""

from __future__ import annotations

import torch

from hebbnet.homeostasis.base import Homeostasis


class WeightNormalization(Homeostasis):
    r""":math:`W_i \leftarrow c\, W_i / \lVert W_i \rVert_p` after every update (a hard constraint,
    the limit of very fast scaling)."""

    def __init__(self, norm: float = 1.0, p: float = 2.0):
        super().__init__()
        if norm <= 0 or p <= 0:
            raise ValueError(f"need norm > 0 and p > 0; got {norm}, {p}.")
        self.norm, self.p = norm, p

    def regulate(self, weight: torch.Tensor, post: torch.Tensor, u: torch.Tensor) -> None:
        """An all-zero row stays zero. Norms are taken in float32 at least, so half-precision
        rows neither overflow their norm nor divide by a norm rounded to zero."""
        rows = weight.reshape(weight.shape[0], -1)
        norms = rows.norm(p=self.p, dim=1, keepdim=True, dtype=torch.promote_types(rows.dtype,
                                                                                  torch.float32))
        rows.copy_(rows * (self.norm / norms.clamp_min(1e-12)))

    def extra_repr(self) -> str:
        return f"norm={self.norm}, p={self.p}"
