"""The fruit fly's olfactory circuit as features (Dasgupta, Stevens & Navlakha 2017; Shen,
Dasgupta & Navlakha 2021): projection neurons drive many more Kenyon cells through a fixed
random matrix, and the anterior paired lateral neuron's inhibition lets only the most driven
fire (:class:`hebbnet.layers.SparseCode`). Nothing here learns; with an associative readout
(``HebbianAssociation``) the only plastic synapses are those from the active Kenyon cells to
the output neuron of the sample's class.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from hebbnet.layers import SparseCode


class KenyonCells(nn.Module):
    """Args:
        input_shape: (C, H, W) of one image.
        size: Kenyon cells.
        active: how many fire for each input (k-winners-take-all).
        fan_in: projection neurons each Kenyon cell sums (a binary projection, as in the fly);
            None: a dense Gaussian projection.

    Shape: x (N, C, H, W) → h (N, size) binary.
    """

    def __init__(self, input_shape: Sequence[int], size: int = 20000, active: int = 1000,
                 fan_in: int | None = None):
        super().__init__()
        self.code = SparseCode(math.prod(input_shape), size, active, fan_in=fan_in)
        self.out_features = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.code(x)

    def start_task(self, task: int, gain: float) -> None:
        """A fixed code: nothing to scale."""
