"""Intrinsic plasticity: an adaptive threshold per unit, toward a target activity."""

from __future__ import annotations

import torch

from hebbnet.homeostasis.base import Homeostasis, unit_activity


class IntrinsicPlasticity(Homeostasis):
    r"""The drive becomes :math:`u_i - \theta_i`, with
    :math:`\theta_i \leftarrow \theta_i + \eta (a_i - a^*)`: a unit that is too active raises its
    threshold (becomes less excitable), a silent one lowers it.
    """

    def __init__(self, n_out: int, target: float, rate: float = 0.01):
        super().__init__()
        if target < 0 or rate <= 0:
            raise ValueError(f"need target >= 0 and rate > 0; got {target}, {rate}.")
        self.target, self.rate = target, rate
        self.register_buffer("threshold", torch.zeros(n_out))

    def drive(self, u: torch.Tensor) -> torch.Tensor:
        return u - self.threshold.reshape(1, -1, *([1] * (u.ndim - 2)))

    def regulate(self, weight: torch.Tensor, post: torch.Tensor, u: torch.Tensor) -> None:
        self.threshold.add_(self.rate * (unit_activity(post) - self.target))

    def extra_repr(self) -> str:
        return f"target={self.target}, rate={self.rate}"
