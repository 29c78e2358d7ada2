"""Unsupervised sleep in the spirit of Tadros et al. (2022), "Sleep-like unsupervised replay
reduces catastrophic forgetting in artificial neural networks" (Sleep Replay Consolidation).

The cortex's linear layers are run as a network of non-leaky-ish integrate-and-fire units with
the same weights (biases left out), driven by Poisson noise whose rates follow the average
input seen so far, and each synapse changes by a local, unsupervised rule. For layer l, with
presynaptic spikes s_{l−1}(t) ∈ {0, 1}:

.. math::

    v_l(t) = \\delta\\, v_l(t-1) + \\alpha_l\\, W_l\\, s_{l-1}(t), \\qquad
    s_l(t) = [v_l(t) \\ge \\beta_l], \\quad v_l \\leftarrow 0 \\text{ where } s_l = 1

    \\Delta W_{ji} = s_{l,j}\\,\\bigl(\\text{inc}\\; s_{l-1,i} - \\text{dec}\\,(1 - s_{l-1,i})\\bigr)\\,
                      \\sigma(W_{ji}), \\qquad
    \\sigma(w) = 2\\,\\bigl(1 - \\operatorname{sigmoid}(w / w_0)\\bigr)

so a unit that fires strengthens its synapses from inputs that fired with it and weakens those
from inputs that stayed silent, weak synapses changing most (σ → 2 for w ≪ 0, → 0 for w ≫ w_0).
α_l rescales each layer so that its largest activation on the data is 1 (Diehl et al.'s 2015
data-based normalisation, :func:`hebbnet.spiking.conversion.layer_scales`) times
``alpha_scale``; β_l are the firing thresholds (the last one repeats for deeper layers).
Inputs fire with probability min(1, rate_scale · x̄) per step, x̄ the mean input intensity —
with ``input_window=w``, only within a w×w window of the image placed at random each step
(zero elsewhere), as Tadros et al. mask their input. A sleep after the
(t+1)-th task lasts ``steps + t · steps_per_task`` steps. The parameters and their defaults are
:class:`SpikingSleepConfig`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

import torch
from torch import nn

from hebbnet.spiking.conversion import integrate_and_fire


@dataclass
class SpikingSleepConfig:
    """The spiking sleep's settings (``strategy.spiking_sleep.*`` of the CLS)."""

    steps: int = 0  # steps of the sleep after the first task; 0: no spiking sleep
    steps_per_task: int = 0  # more steps per task learned before (Tadros et al.: steps / 3)
    input_window: Optional[int] = None  # each step, only a random w×w window of the mean image
    rate_scale: float = 0.5  # input firing probability per step = rate_scale · mean intensity
    alpha_scale: float = 1.0  # layer scaling α_l = alpha_scale · λ_{l−1} / λ_l
    thresholds: List[float] = field(default_factory=lambda: [1.0])  # β per layer
    decay: float = 0.999
    inc: float = 1e-3
    dec: float = 1e-4
    w0: float = 1e-3


def check_spiking_sleep(params: SpikingSleepConfig) -> None:
    if (params.steps < 0 or params.steps_per_task < 0 or not 0 < params.decay <= 1
            or params.inc < 0 or params.dec < 0 or not params.thresholds
            or (params.input_window is not None and params.input_window < 1)):
        raise ValueError("strategy.spiking_sleep needs steps and steps_per_task >= 0, 0 < decay "
                         "<= 1, inc and dec >= 0, at least one threshold and input_window "
                         f"positive or null; got {params}.")


@torch.no_grad()
def spiking_sleep(layers: list[nn.Linear], mean_input: torch.Tensor, scales: list[float],
                  params: SpikingSleepConfig, generator: torch.Generator,
                  task: int = 0) -> list[int]:
    """Run the sleep above on ``layers`` (changed in place) after task ``task`` (counted from
    0); ``mean_input`` (..., H, W) or flat; returns each layer's spike count."""
    device = layers[0].weight.device
    rates = (params.rate_scale * mean_input.to(device)).clamp(0, 1)
    membranes = [torch.zeros(layer.out_features, device=device) for layer in layers]
    thresholds = [params.thresholds[min(depth, len(params.thresholds) - 1)]
                  for depth in range(len(layers))]
    counts = [0] * len(layers)
    for _ in range(params.steps + task * params.steps_per_task):
        uniform = torch.rand(rates.shape, generator=generator).to(device)
        spikes = (uniform < _window(rates, params.input_window, generator)).float().flatten()
        for depth, layer in enumerate(layers):
            drive = params.alpha_scale * scales[depth] * (layer.weight @ spikes)
            fired = integrate_and_fire(membranes[depth], drive, thresholds[depth], params.decay)
            if fired.any():
                _plasticity(layer.weight, fired.nonzero().squeeze(1), spikes, params)
                counts[depth] += int(fired.sum())
            spikes = fired.float()
    return counts


def _window(rates: torch.Tensor, size: int | None, generator: torch.Generator) -> torch.Tensor:
    """``rates`` (..., H, W) zero outside a size×size window at a random place (None: all)."""
    if size is None:
        return rates
    if rates.dim() < 2:
        raise ValueError("spiking_sleep.input_window places a window on an image; the mean "
                         f"input here is flat ({tuple(rates.shape)}).")
    height, width = rates.shape[-2:]
    if size > min(height, width):
        raise ValueError(f"spiking_sleep.input_window={size} is larger than the {height}×{width} "
                         "input.")
    top, left = (int(torch.randint(extent - size + 1, (1,), generator=generator))
                 for extent in (height, width))
    masked = torch.zeros_like(rates)
    masked[..., top:top + size, left:left + size] = rates[..., top:top + size, left:left + size]
    return masked


def _plasticity(weight: torch.Tensor, post: torch.Tensor, pre: torch.Tensor,
                params: SpikingSleepConfig) -> None:
    """ΔW of the rows of the units that fired (see the module docstring)."""
    rows = weight[post]
    dependence = 2 * (1 - torch.sigmoid(rows / params.w0))
    change = (params.inc * pre - params.dec * (1 - pre)) * dependence
    weight[post] = rows + change
