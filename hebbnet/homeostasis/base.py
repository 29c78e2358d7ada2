"""Homeostatic mechanisms: slow controllers that keep a plastic layer's activity in range.

A mechanism may shift the drive before the response (:meth:`Homeostasis.drive`, intrinsic
excitability), bias only the competition for the response (:meth:`Homeostasis.compete`, a
newborn's excitability: who wins, not what the layer passes on as its drive), gate the
response (:meth:`Homeostasis.response`, units not yet born) and adjust the weights after each
plastic update (:meth:`Homeostasis.regulate`).
Both act only while the layer is plastic; in ``eval()`` the drive shift stays as learned.
Synaptic scaling measures activity as the mean absolute response of each unit,
a_i = ⟨|y_i|⟩ (:func:`unit_activity`); intrinsic plasticity as the mean response ⟨y_i⟩.
"""

from __future__ import annotations

import torch
from torch import nn


class Homeostasis(nn.Module):
    def attach(self, weight: torch.Tensor) -> None:
        """Called once by the layer that holds the mechanism, with its weights."""

    def drive(self, u: torch.Tensor) -> torch.Tensor:
        return u

    def compete(self, u: torch.Tensor) -> torch.Tensor:
        """Bias the drive the rule's response is computed from (not the emitted drive)."""
        return u

    def response(self, y: torch.Tensor) -> torch.Tensor:
        """Gate the rule's response (N, n_out, ...) before the layer outputs and learns it."""
        return y

    def regulate(self, weight: torch.Tensor, post: torch.Tensor, u: torch.Tensor) -> None:
        """Adjust ``weight`` in place after a plastic update, given the response ``post`` and
        the drive ``u`` (both (N, n_out))."""

    def reset_units(self, units: torch.Tensor) -> None:
        """Start the per-unit state of ``units`` (indices) afresh: units just born, whose
        silence before birth is no history to regulate by."""


def unit_activity(post: torch.Tensor) -> torch.Tensor:
    """a_i = ⟨|y_i|⟩ over every sample (and position) in the batch: (N, n_out) → (n_out,)."""
    return post.abs().mean(0)
