"""Memory systems of the complementary learning system: a fast hippocampal store and sleep
(NREM replay with downscaling, spiking sleep); the CLS strategy that uses them with the model
as cortex is hebbnet.continual.strategies.cls."""

from hebbnet.memory_systems.hippocampus import Hippocampus
from hebbnet.memory_systems.sleep import downscale
from hebbnet.memory_systems.spiking_sleep import SpikingSleepParameters, layer_scales, spiking_sleep

__all__ = ["Hippocampus", "SpikingSleepParameters", "downscale", "layer_scales", "spiking_sleep"]
