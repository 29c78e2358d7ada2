"""Competitive rules: units compete for each input and only winners (or ranks) learn."""

from __future__ import annotations

import torch

from hebbnet.rules.base import PlasticityRule


def k_winners(u: torch.Tensor, k: int) -> torch.Tensor:
    """Mask (B, n_out) of the ``k`` units with the largest drive in each sample."""
    mask = torch.zeros_like(u)
    return mask.scatter_(1, u.topk(k, dim=1).indices, 1.0)


def instar_update(pre: torch.Tensor, winners: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    r"""Grossberg's instar / competitive learning:
    :math:`\Delta W_i = \langle m_i (x - W_i)\rangle`, m the winner mask.

    Each winner's weight vector moves toward the input it won: prototypes of input clusters.
    """
    batch = pre.shape[0]
    return (winners.T @ pre - winners.sum(0)[:, None] * weight) / batch


def krotov_hopfield_update(pre: torch.Tensor, weight: torch.Tensor, p: float, k: int,
                           delta: float) -> torch.Tensor:
    r"""Krotov & Hopfield (2019), "Unsupervised learning by competing hidden units":

    .. math::
        I_\mu = \sum_i \operatorname{sgn}(W_{\mu i}) |W_{\mu i}|^{p-1} x_i, \qquad
        \Delta W_{\mu i} = \sum_b g_{\mu b}\,(x_{bi} - I_{\mu b} W_{\mu i}),

    with g = 1 for the unit of largest I in each sample, g = −Δ for the unit ranked k-th
    (anti-Hebbian), 0 otherwise. The update is scaled to a largest entry of 1, as in the paper's
    code, so the learning rate is the largest weight change per step. Weights converge to unit
    Lp norm.
    """
    currents = pre @ (weight.sign() * weight.abs().pow(p - 1)).T
    ranks = currents.topk(k, dim=1).indices
    g = torch.zeros_like(currents)
    g.scatter_(1, ranks[:, :1], 1.0)
    g.scatter_(1, ranks[:, k - 1 : k], -delta)
    update = g.T @ pre - (g * currents).sum(0)[:, None] * weight
    return update / update.abs().max().clamp_min(1e-30)


class Competitive(PlasticityRule):
    """k-winner-take-all response (winners keep their drive, others 0) with the instar rule."""

    def __init__(self, k: int = 1):
        super().__init__()
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}.")
        self.k = k

    def respond(self, u):
        return u * k_winners(u, self.k)

    def update(self, pre, post, u, weight):
        return instar_update(pre, k_winners(u, self.k), weight)

    def extra_repr(self) -> str:
        return f"k={self.k}"


class KrotovHopfield(PlasticityRule):
    """Linear response; learning by rank with anti-Hebbian pressure on the k-th unit.

    Defaults are the paper's MNIST values: p = 3, k = 7, Δ = 0.4.
    """

    def __init__(self, p: float = 3.0, k: int = 7, delta: float = 0.4):
        super().__init__()
        if p < 2 or k < 2:
            raise ValueError(f"Krotov-Hopfield needs p >= 2 and k >= 2, got p={p}, k={k}.")
        self.p, self.k, self.delta = p, k, delta

    def update(self, pre, post, u, weight):
        return krotov_hopfield_update(pre, weight, self.p, self.k, self.delta)

    def extra_repr(self) -> str:
        return f"p={self.p}, k={self.k}, delta={self.delta}"
