"""Homeostasis: synaptic scaling, intrinsic plasticity and weight normalisation."""

from hebbnet.homeostasis.base import Homeostasis, unit_activity
from hebbnet.homeostasis.intrinsic import IntrinsicPlasticity
from hebbnet.homeostasis.normalization import WeightNormalization
from hebbnet.homeostasis.scaling import SynapticScaling, scaling_factor

__all__ = [
    "Homeostasis",
    "IntrinsicPlasticity",
    "SynapticScaling",
    "WeightNormalization",
    "scaling_factor",
    "unit_activity",
]
