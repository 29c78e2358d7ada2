"""Correlation-based rules for linear neurons: Hebb, Oja, Sanger (GHA).

⟨·⟩ is the batch mean; x = pre (B, n_in), y = post (B, n_out), W (n_out, n_in).
"""

from __future__ import annotations

import torch

from hebbnet.rules.base import OuterUpdate, PlasticityRule, batch_outer


def hebb_update(pre: torch.Tensor, post: torch.Tensor, weight: torch.Tensor,
                decay: float = 0.0) -> torch.Tensor:
    r"""Plain Hebb with passive decay: :math:`\Delta W = \langle y x^\top\rangle - \alpha W`.

    Without decay (α = 0) the weights grow without bound on any correlated input.
    """
    return batch_outer(post, pre) - decay * weight


def oja_update(pre: torch.Tensor, post: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    r"""Oja (1982), per output unit: :math:`\Delta W_i = \langle y_i (x - y_i W_i)\rangle`.

    The subtractive term keeps :math:`\lVert W_i\rVert \to 1`, and each unit converges to the
    first principal component of zero-mean input.
    """
    return batch_outer(post, pre) - (post * post).mean(0)[:, None] * weight


def sanger_update(pre: torch.Tensor, post: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    r"""Sanger's generalized Hebbian algorithm (1989):
    :math:`\Delta W = \langle y x^\top\rangle - \mathrm{LT}(\langle y y^\top\rangle)\, W`,

    LT keeping the lower triangle with the diagonal. Unit i learns the i-th principal component.
    """
    return batch_outer(post, pre) - torch.tril(batch_outer(post, post)) @ weight


class Hebb(PlasticityRule):
    """:func:`hebb_update`, in outer-product form."""

    def __init__(self, decay: float = 0.0):
        super().__init__()
        self.decay = decay

    @property
    def stabilising(self) -> bool:
        return self.decay > 0

    def outer_update(self, pre, post, u, weight):
        if not self.decay:
            return OuterUpdate(post, pre)
        decay = torch.full((len(weight),), self.decay, dtype=weight.dtype, device=weight.device)
        return OuterUpdate(post, pre, decay=decay, restoring=decay)

    def extra_repr(self) -> str:
        return f"decay={self.decay}"


class Oja(PlasticityRule):
    """:func:`oja_update`, in outer-product form: decay and restoring term ⟨y_i²⟩."""

    stabilising = True

    def outer_update(self, pre, post, u, weight):
        power = (post * post).mean(0)
        return OuterUpdate(post, pre, decay=power, restoring=power)


class Sanger(PlasticityRule):
    """:func:`sanger_update`; its restoring term is a matrix, so ΔW is built."""

    stabilising = True

    def update(self, pre, post, u, weight):
        return sanger_update(pre, post, weight)

    def restoring(self, pre, post, u, weight):
        return torch.tril(batch_outer(post, post))
