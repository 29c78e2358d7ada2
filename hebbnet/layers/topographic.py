"""Cortical maps: a sheet of units learns a topographic map of an input surface.

Neighbouring points of the skin are represented by neighbouring points of somatosensory
cortex, and the map follows use: a finger stimulated more often takes more cortex, and after
an amputation its former territory is taken over by the neighbouring fingers (Merzenich et al.
1984; Jenkins et al. 1990). :class:`TopographicMap` is a Kohonen map
(:class:`hebbnet.rules.Kohonen`) with the nearest-prototype drive, and reads its map out:
each unit's preferred input point, and how many units each region of the input surface owns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

import torch
import torch.nn.functional as F

from hebbnet.layers.plastic import HebbianLinear
from hebbnet.rules.kohonen import Kohonen


class TopographicMap(HebbianLinear):
    r"""Units on a sheet whose weights learn a map of the input by the Kohonen rule.

    The drive is :math:`u_i = W_i\cdot x - \tfrac12\lVert W_i\rVert^2 = -\tfrac12\lVert x -
    W_i\rVert^2 + \text{const}`, so the winner is the unit whose weights are nearest the input;
    the response is the neighbourhood around it, and the winner and its neighbours move toward
    the input.

    Args:
        in_features: points of the input surface.
        sheet: the sheet's shape, ``(n,)`` or ``(rows, cols)``.
        sigma: the neighbourhood's width in units of the sheet (``layer.sigma`` may be
            annealed between steps).
        lr, update, homeostasis, schedule, structure: as for :class:`HebbianLinear`.
        init_gain: weights start N(0, init_gain²/in_features).

    Shape:
        input (B, in_features) → output (B, n_units), the neighbourhood activity around each
        sample's winner (``output="drive"``: the drive).
    """

    def __init__(self, in_features: int, sheet: Sequence[int], sigma: float = 1.0,
                 lr: float = 0.1, update: str = "local", homeostasis=(), schedule=None,
                 structure=None, init_gain: float = 0.1, output: str = "response"):
        n_units = math.prod(sheet)
        super().__init__(in_features, n_units, rule=Kohonen(n_units, sheet, sigma), lr=lr,
                         update=update, homeostasis=homeostasis, output=output,
                         init_gain=init_gain, schedule=schedule, structure=structure)

    @property
    def sigma(self) -> float:
        """The neighbourhood's width, in units of the sheet; set it to anneal between steps."""
        return cast(Kohonen, self.rule).sigma

    @sigma.setter
    def sigma(self, value: float) -> None:
        cast(Kohonen, self.rule).sigma = value

    def drive(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight) - 0.5 * self.weight.square().sum(1)

    def preferred_inputs(self) -> torch.Tensor:
        """Each unit's preferred point of the input surface, the input of its largest weight
        (its receptive field's centre): (n_units,) indices."""
        return self.weight.argmax(1)

    def territory(self, region_of_input: torch.Tensor, n_regions: int | None = None) -> torch.Tensor:
        """How many units prefer a point of each region: ``region_of_input`` gives the region
        of every input point, (in_features,) integers; returns (n_regions,) counts."""
        if region_of_input.shape != (self.in_features,):
            raise ValueError(f"region_of_input needs one region per input point, shape "
                             f"({self.in_features},); got {tuple(region_of_input.shape)}.")
        regions = region_of_input.to(self.weight.device)[self.preferred_inputs()]
        return torch.bincount(regions, minlength=n_regions or int(region_of_input.max()) + 1)
