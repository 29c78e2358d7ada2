"""Competitive rules: units compete for each input and only winners (or ranks) learn."""

from __future__ import annotations

import torch

from hebbnet.rules.base import OuterUpdate, PlasticityRule


def k_winners(u: torch.Tensor, k: int) -> torch.Tensor:
    """Mask (B, n_out) of the ``k`` units with the largest drive in each sample."""
    mask = torch.zeros_like(u)
    return mask.scatter_(1, u.topk(k, dim=1).indices, 1.0)


def instar_update(pre: torch.Tensor, winners: torch.Tensor, weight: torch.Tensor,
                  winner_mean: bool = False) -> torch.Tensor:
    r"""Grossberg's instar / competitive learning:
    :math:`\Delta W_i = \langle m_i (x - W_i)\rangle`, m the winner mask.

    Each winner's weight vector moves toward the inputs it won: prototypes of input clusters.
    With ``winner_mean`` the average runs over the n_i samples unit i won instead of the whole
    batch, :math:`\Delta W_i = \frac{1}{n_i}\sum_{b: m_{bi}=1} (x_b - W_i)` — mini-batch
    k-means. Without it a unit that wins rarely moves by only n_i/B of the learning rate.
    """
    counts = winners.sum(0)
    update = winners.T @ pre - counts[:, None] * weight
    return update / (counts.clamp_min(1)[:, None] if winner_mean else pre.shape[0])


def krotov_hopfield_update(pre: torch.Tensor, weight: torch.Tensor, p: float, k: int,
                           delta: float, shift: torch.Tensor | None = None) -> torch.Tensor:
    r"""Krotov & Hopfield (2019), "Unsupervised learning by competing hidden units":

    .. math::
        I_\mu = \sum_i \operatorname{sgn}(W_{\mu i}) |W_{\mu i}|^{p-1} x_i, \qquad
        \Delta W_{\mu i} = \sum_b g_{\mu b}\,(x_{bi} - I_{\mu b} W_{\mu i}),

    with g = 1 for the unit of largest I in each sample, g = −Δ for the unit ranked k-th
    (anti-Hebbian), 0 otherwise. The update is scaled to a largest entry of 1, as in the paper's
    code, so the learning rate is the largest weight change per step. Weights converge to unit
    Lp norm. ``shift`` (N, n_out), if given, is added to the currents before ranking: a unit's
    homeostatic shift of its drive (an intrinsic threshold, a newborn's excitability) moves
    its rank as a bias would; the update's I stays the current.
    """
    currents = pre @ (weight.sign() * weight.abs().pow(p - 1)).T
    ranked = currents if shift is None else currents + shift
    ranks = ranked.topk(k, dim=1).indices
    g = torch.zeros_like(currents)
    g.scatter_(1, ranks[:, :1], 1.0)
    g.scatter_(1, ranks[:, k - 1 : k], -delta)
    update = g.T @ pre - (g * currents).sum(0)[:, None] * weight
    return update / update.abs().max().clamp_min(1e-30)


def check_k(rule: PlasticityRule, k: int, n_out: int) -> None:
    """A ValueError naming the fix when a rule that ranks the ``k`` largest drives of each
    sample is given a layer of fewer than ``k`` units."""
    if k > n_out:
        raise ValueError(f"{type(rule).__name__}(k={k}) ranks the {k} largest drives of each "
                         f"sample, but the layer has {n_out} units: give the layer at least {k} "
                         f"units, or the rule a smaller k ({type(rule).__name__}(k={n_out}, "
                         "...)).")


class Competitive(PlasticityRule):
    r"""k-winner-take-all response (winners keep their drive, others 0) with the instar rule.

    The units that learn are the winners of the response, so a layer's homeostatic shifts
    (an intrinsic threshold, a newborn's excitability) decide them too — the "conscience" that
    keeps every unit in the competition (DeSieno 1988). ``nearest=True`` lets the prototypes
    closest to the input learn instead (largest :math:`u_i - \lVert W_i\rVert^2/2` of the
    unshifted drive, the same ranking as smallest distance) — the right competition when
    weights are not normalised; the response still shows the largest drives.
    ``winner_mean=True`` averages each winner's update over the samples it won (k-means).
    """

    def __init__(self, k: int = 1, nearest: bool = False, winner_mean: bool = False):
        super().__init__()
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}.")
        self.k, self.nearest, self.winner_mean = k, nearest, winner_mean

    def check_units(self, n_out: int) -> None:
        check_k(self, self.k, n_out)

    def respond(self, u):
        return u * k_winners(u, self.k)

    def outer_update(self, pre, post, u, weight):
        """:func:`instar_update` in outer-product form: p = m (times B/n_i with
        ``winner_mean``), decay ⟨m_i⟩ (1 for a unit that won, with ``winner_mean``)."""
        if self.nearest:
            winners = k_winners(u - 0.5 * (weight * weight).sum(1), self.k)
        else:  # the response's winners (a winner of drive exactly 0 has no say)
            winners = (post != 0).to(pre.dtype)
        counts = winners.sum(0)
        if not self.winner_mean:
            return OuterUpdate(winners, pre, decay=counts / len(pre))
        per_win = len(pre) / counts.clamp_min(1)
        return OuterUpdate(winners * per_win, pre, decay=(counts > 0).to(pre.dtype))

    def extra_repr(self) -> str:
        return f"k={self.k}, nearest={self.nearest}, winner_mean={self.winner_mean}"


class KrotovHopfield(PlasticityRule):
    """Linear response; learning by rank with anti-Hebbian pressure on the k-th unit.

    Defaults are the paper's MNIST values: p = 3, k = 7, Δ = 0.4.
    """

    def __init__(self, p: float = 3.0, k: int = 7, delta: float = 0.4):
        super().__init__()
        if p < 2 or k < 2:
            raise ValueError(f"Krotov-Hopfield needs p >= 2 and k >= 2, got p={p}, k={k}.")
        self.p, self.k, self.delta = p, k, delta

    def check_units(self, n_out: int) -> None:
        check_k(self, self.k, n_out)

    def update(self, pre, post, u, weight):
        """The response is linear, so ``post − u`` is what the layer's homeostasis did to the
        drive (0 without): it enters the ranking."""
        return krotov_hopfield_update(pre, weight, self.p, self.k, self.delta, post - u)

    def extra_repr(self) -> str:
        return f"p={self.p}, k={self.k}, delta={self.delta}"
