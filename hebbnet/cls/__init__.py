"""Complementary learning system: a fast hippocampal store, a slow cortex, and sleep."""

from hebbnet.cls.hippocampus import Hippocampus
from hebbnet.cls.sleep import downscale
from hebbnet.cls.spiking_sleep import SpikingSleepParameters, layer_scales, spiking_sleep

__all__ = ["Hippocampus", "SpikingSleepParameters", "downscale", "layer_scales", "spiking_sleep"]
