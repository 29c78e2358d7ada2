"""SoftHebb: Hebbian learning with a soft winner-take-all (Moraitis et al. 2022)."""

from __future__ import annotations

import torch

from hebbnet.rules.base import OuterUpdate, PlasticityRule


def softhebb_update(pre: torch.Tensor, post: torch.Tensor, u: torch.Tensor,
                    weight: torch.Tensor) -> torch.Tensor:
    r"""Moraitis et al. (2022): :math:`\Delta W_k = \langle y_k (x - u_k W_k)\rangle`,

    with y = softmax(u/τ) the soft-WTA response and u = W x the drive. It minimises the KL
    divergence between the input and a mixture model the weights define, and keeps
    :math:`\lVert W_k\rVert \to 1` where the drive is positive: since
    :math:`d\lVert W_k\rVert^2/dt \propto y_k u_k (1 - \lVert W_k\rVert^2)`, a unit whose
    drive u_k < 0 wins the softmax is pushed away from norm 1 (it grows from above 1).
    """
    batch = pre.shape[0]
    return (post.T @ pre - (post * u).sum(0)[:, None] * weight) / batch


def anti_hebbian_credit(post: torch.Tensor) -> torch.Tensor:
    """Journé et al. (2023): the winner keeps +y, every other unit gets −y (soft anti-Hebbian)."""
    winner = torch.zeros_like(post).scatter_(1, post.argmax(1, keepdim=True), 1.0)
    return torch.where(winner.bool(), post, -post)


def norm_adaptive_rate(weight: torch.Tensor, power: float) -> torch.Tensor:
    r"""Journé et al. (2023): unit k learns at :math:`\lvert \lVert W_k\rVert - 1\rvert^{p}`,

    fast while far from the unit norm SoftHebb converges to, slowing as it arrives. Returns an
    (n_out, 1) column that scales each unit's ΔW row.
    """
    return ((weight.norm(dim=1, keepdim=True) - 1).abs() + 1e-10) ** power


class SoftHebb(PlasticityRule):
    """Softmax response at temperature ``temperature``; optional anti-Hebbian losers.

    ``adaptive_rate=p`` scales each unit's update by :func:`norm_adaptive_rate`;
    ``normalize_update=True`` divides ΔW by its largest magnitude, so ``lr`` bounds the step of
    any synapse (both as in Journé et al. 2023, whose units start at norm ≈ 25).
    """

    def __init__(self, temperature: float = 1.0, anti_hebbian: bool = False,
                 adaptive_rate: float | None = None, normalize_update: bool = False):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}.")
        if adaptive_rate is not None and adaptive_rate < 0:
            raise ValueError(f"adaptive_rate is a power and must be >= 0, got {adaptive_rate}.")
        self.temperature = temperature
        self.anti_hebbian = anti_hebbian
        self.adaptive_rate = adaptive_rate
        self.normalize_update = normalize_update

    def respond(self, u):
        return torch.softmax(u if self.temperature == 1 else u / self.temperature, dim=1)

    stabilising = True

    def outer_update(self, pre, post, u, weight):
        """:func:`softhebb_update` (times the adaptive rate) in outer-product form, restoring
        ⟨y_k u_k⟩ where positive; None with ``normalize_update``, which needs ΔW's largest
        entry (and whose step is already at most ``lr`` per synapse)."""
        if self.normalize_update:
            return None
        credit = self._credit(post)
        decay = (credit * u).mean(0)
        if self.adaptive_rate is not None:
            rate = norm_adaptive_rate(weight, self.adaptive_rate)[:, 0]
            credit, decay = credit * rate, decay * rate
        return OuterUpdate(credit, pre, decay=decay, restoring=decay.clamp_min(0))

    def update(self, pre, post, u, weight):
        if not self.normalize_update:
            return super().update(pre, post, u, weight)
        delta = softhebb_update(pre, self._credit(post), u, weight)
        delta = delta / (delta.abs().amax() + 1e-30)
        if self.adaptive_rate is not None:
            delta = delta * norm_adaptive_rate(weight, self.adaptive_rate)
        return delta

    def _credit(self, post: torch.Tensor) -> torch.Tensor:
        return anti_hebbian_credit(post) if self.anti_hebbian else post

    def extra_repr(self) -> str:
        return (f"temperature={self.temperature}, anti_hebbian={self.anti_hebbian}, "
                f"adaptive_rate={self.adaptive_rate}, normalize_update={self.normalize_update}")
