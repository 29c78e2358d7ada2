"""SoftHebb: Hebbian learning with a soft winner-take-all (Moraitis et al. 2022)."""

from __future__ import annotations

import torch

from hebbnet.rules.base import PlasticityRule


def softhebb_update(pre: torch.Tensor, post: torch.Tensor, u: torch.Tensor,
                    weight: torch.Tensor) -> torch.Tensor:
    r"""Moraitis et al. (2022): :math:`\Delta W_k = \langle y_k (x - u_k W_k)\rangle`,

    with y = softmax(u/τ) the soft-WTA response and u = W x the drive. It minimises the KL
    divergence between the input and a mixture model the weights define, and keeps
    :math:`\lVert W_k\rVert \to 1`.
    """
    batch = pre.shape[0]
    return (post.T @ pre - (post * u).sum(0)[:, None] * weight) / batch


def anti_hebbian_credit(post: torch.Tensor) -> torch.Tensor:
    """Journé et al. (2023): the winner keeps +y, every other unit gets −y (soft anti-Hebbian)."""
    winner = torch.zeros_like(post).scatter_(1, post.argmax(1, keepdim=True), 1.0)
    return torch.where(winner.bool(), post, -post)


class SoftHebb(PlasticityRule):
    """Softmax response at temperature ``temperature``; optional anti-Hebbian losers."""

    def __init__(self, temperature: float = 1.0, anti_hebbian: bool = False):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}.")
        self.temperature = temperature
        self.anti_hebbian = anti_hebbian

    def respond(self, u):
        return torch.softmax(u / self.temperature, dim=1)

    def update(self, pre, post, u, weight):
        credit = anti_hebbian_credit(post) if self.anti_hebbian else post
        return softhebb_update(pre, credit, u, weight)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, anti_hebbian={self.anti_hebbian}"
