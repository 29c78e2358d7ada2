"""Memory systems: the store of past samples that replay strategies and the hippocampus share, the
complementary learning system's hippocampus (slots, or CA3 synapses), and sleep (downscaling,
spiking sleep); the CLS strategy that uses them with the model as cortex is
hebbnet.continual.strategies.cls."""

from hebbnet.memory_systems.attractor import AttractorHippocampus, AttractorMemory
from hebbnet.memory_systems.buffer import ReplayBuffer
from hebbnet.memory_systems.hippocampus import Hippocampus
from hebbnet.memory_systems.sleep import downscale
from hebbnet.memory_systems.spiking_sleep import spiking_sleep

__all__ = ["AttractorHippocampus", "AttractorMemory", "Hippocampus", "ReplayBuffer", "downscale",
           "spiking_sleep"]
