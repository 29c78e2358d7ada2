"""Spiking neurons, spike encoders and the ANN→SNN conversion; spike-timing rules live in
:mod:`hebbnet.rules.stdp` and the plastic spiking layer in :mod:`hebbnet.layers.spiking`."""

from hebbnet.spiking.conversion import integrate_and_fire, layer_scales, spiking_forward
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
           "adapt_threshold", "integrate_and_fire", "latency_spikes", "layer_scales",
           "lif_initial_state", "lif_step", "poisson_events", "poisson_spikes", "spiking_forward"]
