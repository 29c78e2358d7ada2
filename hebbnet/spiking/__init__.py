"""Spiking neurons and spike encoders; spike-timing rules live in :mod:`hebbnet.rules.stdp`
and the plastic spiking layer in :mod:`hebbnet.layers.spiking`."""

from hebbnet.spiking.encoders import latency_spikes, poisson_events, poisson_spikes
from hebbnet.spiking.neurons import (
    LIF,
    AdaptiveLIF,
    LIFParameters,
    LIFState,
    ThresholdAdaptation,
    adapt_threshold,
    lif_initial_state,
    lif_step,
)

__all__ = ["LIF", "AdaptiveLIF", "LIFParameters", "LIFState", "ThresholdAdaptation",
           "adapt_threshold", "latency_spikes", "lif_initial_state", "lif_step",
           "poisson_events", "poisson_spikes"]
