"""Synaptic scaling (Turrigiano et al. 1998): multiplicative, toward a target activity."""

from __future__ import annotations

import torch

from hebbnet.homeostasis.base import Homeostasis, unit_activity


def scaling_factor(rate: torch.Tensor, target: float, strength: float) -> torch.Tensor:
    r"""Per-unit factor :math:`s_i = \exp(\beta\, \mathrm{clip}((a^* - \bar a_i)/a^*, -1, 1))`.

    A unit firing below target a* scales all its synapses up by the same factor, above target
    down: relative weights within a unit are unchanged. The exponential is the multiplicative
    rule :math:`\dot W_i = \beta W_i (a^* - \bar a_i)/a^*` integrated over one step, and never
    flips a sign. The clip keeps each step within a factor e^{±β}: without it a burst of
    activity (ā ≫ a*) would give exp(−β ā/a*), which rounds to 0 — and a unit scaled to zero
    weights never comes back.
    """
    return torch.exp(strength * ((target - rate) / target).clamp(-1, 1))


class SynapticScaling(Homeostasis):
    """Tracks each unit's activity with a running mean over ``tau`` steps (buffer ``rate``) and
    scales the unit's weights toward ``target``; ``strength`` β is the gain.

    Against Hebbian growth of rate g per step (lr × the input's top correlation eigenvalue)
    this proportional controller settles at activity ≈ a*(1 + g/β): choose β ≫ g for
    activity close to target. Scaling stays the slower process through ``tau``, the window
    over which it measures activity.

    A unit the batch gives no handle on is not scaled: if its drive is zero on every sample
    (no input), or never positive while its response is zero (a rectified unit driven below
    threshold), multiplying its weights cannot change its activity — scaling it would only
    grow them by up to e^β per batch until they overflow. Its rate is still measured.
    """

    rate: torch.Tensor

    def __init__(self, n_out: int, target: float, strength: float = 0.01, tau: float = 100.0):
        super().__init__()
        if target <= 0 or strength <= 0 or tau < 1:
            raise ValueError(
                f"need target > 0, strength > 0 and tau >= 1; got {target}, {strength}, {tau}."
            )
        self.target, self.strength, self.tau = target, strength, tau
        self.register_buffer("rate", torch.full((n_out,), float(target)))

    def regulate(self, weight: torch.Tensor, post: torch.Tensor, u: torch.Tensor) -> None:
        self.rate.add_((unit_activity(post) - self.rate) / self.tau)
        factor = scaling_factor(self.rate, self.target, self.strength)
        unmovable = (u == 0).all(0) | ((u <= 0) & (post == 0)).all(0)
        factor = torch.where(unmovable, torch.ones_like(factor), factor)
        weight.mul_(factor.reshape(-1, *([1] * (weight.ndim - 1))).to(weight.dtype))

    def reset_units(self, units: torch.Tensor) -> None:
        self.rate[units] = self.target

    def extra_repr(self) -> str:
        return f"target={self.target}, strength={self.strength}, tau={self.tau}"
