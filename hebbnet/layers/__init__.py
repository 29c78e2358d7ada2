"""Plastic layers that drop into any ``nn.Module``: ``from hebbnet.layers import HebbianLinear``."""

from hebbnet.layers.activations import Triangle
from hebbnet.layers.plastic import (
    OUTPUTS,
    PADDING_MODES,
    UPDATE_MODES,
    HebbianConv2d,
    HebbianLinear,
    PlasticityDivergedError,
    PlasticLayer,
)
from hebbnet.layers.sparse_code import SparseCode
from hebbnet.layers.spiking import SpikingLinear
from hebbnet.layers.topographic import TopographicMap

__all__ = ["OUTPUTS", "PADDING_MODES", "UPDATE_MODES", "HebbianConv2d", "HebbianLinear",
           "PlasticLayer", "PlasticityDivergedError", "SparseCode", "SpikingLinear", "TopographicMap",
           "Triangle"]
