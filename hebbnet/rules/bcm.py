"""BCM: Hebbian change whose sign depends on a sliding modification threshold."""

from __future__ import annotations

import torch

from hebbnet.rules.base import OuterUpdate, PlasticityRule, batch_outer


def bcm_update(pre: torch.Tensor, post: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    r"""Bienenstock, Cooper & Munro (1982):
    :math:`\Delta W_i = \langle y_i (y_i - \theta_i)\, x\rangle`.

    Activity above the threshold θ potentiates, below it depresses.
    """
    return batch_outer(post * (post - theta), pre)


def bcm_threshold(theta: torch.Tensor, post: torch.Tensor, tau: float) -> torch.Tensor:
    r"""The threshold slides toward the recent mean squared response (Intrator & Cooper 1992):
    :math:`\theta \leftarrow \theta + (\langle y^2\rangle - \theta)/\tau_\theta`.
    """
    return theta + ((post * post).mean(0) - theta) / tau


class BCM(PlasticityRule):
    """Rectified linear response; θ (a buffer) tracks ⟨y²⟩ over ``tau`` batches.

    Because θ grows faster than y (as y²), high activity pushes it up until depression wins:
    the rule is stable without weight normalisation and becomes selective. θ slides first, so
    a batch's own response counts toward the threshold it is judged by: with the threshold of
    the batches before only, y² outruns a θ that lags ``tau`` batches whenever
    lr·⟨|x|²⟩·tau ≫ 1 (NaN after 54 updates on uniform 16-d input at lr 0.01, tau 100).
    The depression term −θ_i⟨y_i x⟩ = −θ_i⟨x xᵀ⟩W_i (over active samples) restores with
    stiffness at most θ_i⟨|x|²⟩, which :meth:`outer_update` reports for the layer's implicit
    step.
    """

    theta: torch.Tensor

    stabilising = True

    def __init__(self, n_out: int, tau: float = 100.0, theta0: float = 0.0):
        super().__init__()
        if tau < 1:
            raise ValueError(f"BCM tau must be at least 1 batch, got {tau}.")
        self.tau = tau
        self.theta0 = theta0
        self.register_buffer("theta", torch.full((n_out,), float(theta0)))

    def respond(self, u):
        return torch.relu(u)

    def outer_update(self, pre, post, u, weight):
        """:func:`bcm_update` in outer-product form, after θ has slid."""
        self.theta.copy_(bcm_threshold(self.theta, post, self.tau))
        return OuterUpdate(post * (post - self.theta), pre,
                           restoring=self.theta.clamp_min(0) * (pre * pre).sum(1).mean())

    def silence_hint(self, pre: torch.Tensor, lr: float) -> str:
        """A unit whose drive is below 0 for every input answers y = 0 and learns no more
        (ΔW ∝ y). On one repeated input the response settles at y = θ = 1 when the threshold
        keeps up, lr·⟨|x|²⟩·tau ≤ 1; beyond that the response overshoots θ, then depression
        overshoots 0 (16 inputs of 0.5 at lr 0.01 for 2·10⁴ updates: y = θ = 1 up to 1,
        oscillating at 1.2 and 1.6, every unit silent from 2 on)."""
        hint = "BCM units whose drive is below 0 for every input learn no more (y = 0, so ΔW = 0)"
        lag = lr * float(pre.float().square().sum(1).mean()) * self.tau
        if lag <= 1:
            return hint
        return (f"{hint}; depression pushed them there because the threshold lags the response "
                f"(lr·⟨|x|²⟩·tau = {lag:.3g} > 1): lower lr, the input's scale, or tau "
                "(BCM(n_out, tau=...))")

    def reset(self) -> None:
        self.theta.fill_(self.theta0)

    def reset_units(self, units: torch.Tensor) -> None:
        self.theta[units] = self.theta0

    def extra_repr(self) -> str:
        return f"n_out={self.theta.numel()}, tau={self.tau}"
