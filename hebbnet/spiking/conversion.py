"""A ReLU network run as integrate-and-fire units: the ANN→SNN conversion of Diehl et al.
(2015), which Tadros et al.'s (2022) sleep uses.

Each linear layer l keeps its weights W_l (biases are left out: convert a bias-free network)
and is scaled by α_l = λ_{l−1} / λ_l, with λ_l the largest ReLU activation of layer l on the
data (λ_0 the largest input) — data-based normalisation, so that no layer's normalised activity
exceeds 1 and an integrate-and-fire unit of threshold 1 can carry it as a firing rate. The
units integrate and fire,

.. math:: v_l(t) = \\delta\\, v_l(t-1) + \\alpha_l W_l\\, s_{l-1}(t), \\qquad
          s_l(t) = [v_l(t) \\ge \\beta_l], \\quad v_l \\leftarrow 0 \\text{ where } s_l = 1

(δ = 1: non-leaky), driven by Poisson input, s_0,i(t) = [u < rate_scale · x_i]. A unit's
firing rate then approximates its normalised ReLU activation, and the output layer's spike
counts rank the classes as the ANN's outputs do.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


@torch.no_grad()
def layer_scales(layers: Sequence[nn.Linear], inputs: torch.Tensor) -> list[float]:
    """α_l / alpha_scale: λ_{l−1} / λ_l with λ_l the largest ReLU activation of layer l on
    ``inputs`` (λ_0 the largest input), so each layer's normalised activity peaks at 1."""
    activity, previous, scales = inputs.flatten(1), float(inputs.max()), []
    for layer in layers:
        activity = torch.relu(activity @ layer.weight.T)
        peak = max(float(activity.max()), 1e-12)
        scales.append(previous / peak)
        previous = peak
    return scales


def integrate_and_fire(membrane: torch.Tensor, drive: torch.Tensor, threshold: float,
                       decay: float) -> torch.Tensor:
    """One step of v ← δ v + drive, s = [v ≥ β], v ← 0 where s (in place); returns s (bool)."""
    membrane.mul_(decay).add_(drive)
    fired = membrane >= threshold
    membrane.masked_fill_(fired, 0.0)
    return fired


@torch.no_grad()
def spiking_forward(layers: Sequence[nn.Linear], inputs: torch.Tensor, scales: Sequence[float],
                    steps: int, generator: torch.Generator, threshold: float = 1.0,
                    rate_scale: float = 1.0, decay: float = 1.0) -> torch.Tensor:
    """Spike counts (N, out_features of the last layer) of the converted network over ``steps``
    steps of Poisson input (N, ...) with values in [0, 1]."""
    flat = inputs.flatten(1)
    rates = (rate_scale * flat).clamp(0, 1)
    membranes = [flat.new_zeros(len(flat), layer.out_features) for layer in layers]
    counts = membranes[-1].clone()
    for _ in range(steps):
        spikes = (torch.rand(rates.shape, generator=generator).to(rates.device) < rates).float()
        for layer, membrane, scale in zip(layers, membranes, scales):
            spikes = integrate_and_fire(membrane, scale * spikes @ layer.weight.T, threshold,
                                        decay).float()
        counts += spikes
    return counts
