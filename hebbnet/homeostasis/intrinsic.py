"""Intrinsic plasticity: an adaptive threshold per unit, toward a target activity."""

from __future__ import annotations

import torch

from hebbnet.homeostasis.base import Homeostasis


class IntrinsicPlasticity(Homeostasis):
    r"""The drive becomes :math:`u_i - \theta_i`, with
    :math:`\theta_i \leftarrow \theta_i + \eta (\langle y_i\rangle - a^*)`: a unit that is too
    active raises its threshold (becomes less excitable), a silent one lowers it.

    Activity here is the mean response, not its magnitude: raising θ lowers ⟨y⟩ for any
    response that grows with the drive, so the threshold settles. With ⟨|y|⟩ a signed (linear)
    unit pushed below zero would look ever more active as θ rose, and θ would run away.
    For non-negative responses the two are the same.
    """

    threshold: torch.Tensor

    def __init__(self, n_out: int, target: float, rate: float = 0.01):
        super().__init__()
        if target < 0 or rate <= 0:
            raise ValueError(f"need target >= 0 and rate > 0; got {target}, {rate}.")
        self.target, self.rate = target, rate
        self.register_buffer("threshold", torch.zeros(n_out))

    def drive(self, u: torch.Tensor) -> torch.Tensor:
        return u - self.threshold.reshape(1, -1, *([1] * (u.ndim - 2)))

    def regulate(self, weight: torch.Tensor, post: torch.Tensor, u: torch.Tensor) -> None:
        self.threshold.add_(self.rate * (post.mean(0) - self.target))

    def reset_units(self, units: torch.Tensor) -> None:
        self.threshold[units] = 0.0

    def extra_repr(self) -> str:
        return f"target={self.target}, rate={self.rate}"
