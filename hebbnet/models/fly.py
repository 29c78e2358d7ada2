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
from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn

from hebbnet.layers import SparseCode
from hebbnet.models.plastic import PlasticModelConfig, PlasticNetwork, plastic_network
from hebbnet.registry import register_model


@dataclass
class FlyConfig(PlasticModelConfig):
    """Defaults chosen on a validation split of Split MNIST (benchmarks/RESULTS.md, issue 18)."""

    name: str = "fly"
    readout: str = "hebbian"
    readout_w_max: Optional[float] = 30.0  # a synapse saturates after 30 co-activations
    kenyon_cells: int = 40000  # random expansion (Kenyon cells)
    active: int = 200  # k winners (APL inhibition): 0.5 %
    fan_in: Optional[int] = 32  # inputs each Kenyon cell sums (binary); null: dense Gaussian


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

    def begin_task(self, task: int, gain: float) -> None:
        """A fixed code: nothing to scale."""


@register_model("fly", FlyConfig)
def build_fly(cfg: FlyConfig, input_shape: Sequence[int], n_outputs: int,
              n_tasks: int) -> PlasticNetwork:
    return plastic_network(cfg, KenyonCells(input_shape, cfg.kenyon_cells, cfg.active, cfg.fan_in),
                           input_shape, n_outputs)
