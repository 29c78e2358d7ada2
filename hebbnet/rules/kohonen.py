"""Kohonen's self-organising map: the winner and its neighbours on a sheet move toward the input."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from hebbnet.rules.base import OuterUpdate, PlasticityRule


def sheet_coordinates(sheet: Sequence[int]) -> torch.Tensor:
    """The position of every unit on a sheet of shape ``sheet`` (a line ``(n,)``, a grid
    ``(rows, cols)``), row-major: (n_units, len(sheet)) integers, which ``.to(dtype)`` leaves
    alone (bfloat16 would round a line's positions past 256)."""
    axes = [torch.arange(size) for size in sheet]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(sheet))


def neighbourhood(winners: torch.Tensor, coordinates: torch.Tensor, sigma: float) -> torch.Tensor:
    r""":math:`h_{bi} = \exp(-\lVert r_i - r_{c_b}\rVert^2 / 2\sigma^2)`: each unit's activity
    given the winner c_b of sample b, r the units' positions on the sheet. (B,) → (B, n_units),
    float32 (the distances are computed in float32 whatever the layer's dtype)."""
    positions = coordinates.float()
    distance = torch.cdist(positions[winners], positions)
    return torch.exp(-distance.square() / (2 * sigma**2))


class Kohonen(PlasticityRule):
    r"""Self-organising map (Kohonen 1982): the unit of largest drive wins, the response is the
    neighbourhood h around it (:func:`neighbourhood`), and every unit moves toward the input in
    proportion to it,

    .. math:: \Delta W_i = \langle h_i\,(x - W_i)\rangle
              = \langle h_i x^\top\rangle - \langle h_i\rangle W_i,

    so neighbouring units come to prefer neighbouring inputs: a topographic map, in which
    inputs seen more often take more units (magnification). The winner is the nearest
    prototype when the drive is u_i = W_i·x − ½‖W_i‖² (what
    :class:`hebbnet.layers.TopographicMap` computes); in a plain layer it is the largest
    W_i·x.

    Args:
        n_out: the number of units (a line of them unless ``sheet`` says otherwise).
        sheet: the sheet's shape, e.g. ``(10, 10)``; its product is ``n_out``.
        sigma: the neighbourhood's width, in units of the sheet (may be changed between steps,
            as maps are usually annealed from wide to narrow).
    """

    coordinates: torch.Tensor

    stabilising = True

    def __init__(self, n_out: int, sheet: Sequence[int] | None = None, sigma: float = 1.0):
        super().__init__()
        sheet = (n_out,) if sheet is None else tuple(sheet)
        if int(torch.tensor(sheet).prod()) != n_out:
            raise ValueError(f"A sheet of shape {sheet} has {int(torch.tensor(sheet).prod())} "
                             f"units; the layer has {n_out}.")
        if sigma <= 0:
            raise ValueError(f"Kohonen sigma must be positive, got {sigma}.")
        self.sheet, self.sigma = sheet, sigma
        self.register_buffer("coordinates", sheet_coordinates(sheet), persistent=False)

    def respond(self, u):
        return neighbourhood(u.argmax(1), self.coordinates, self.sigma).to(u.dtype)

    def outer_update(self, pre, post, u, weight):
        """p = h, decay ⟨h_i⟩: the instar step with the neighbourhood as its gate."""
        return OuterUpdate(post, pre, decay=post.mean(0))

    def extra_repr(self) -> str:
        return f"sheet={self.sheet}, sigma={self.sigma}"
