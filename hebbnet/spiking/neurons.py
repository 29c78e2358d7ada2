"""Leaky integrate-and-fire neurons: pure step functions and thin stateful modules over them.

Time is discrete with step ``dt`` in milliseconds; every state tensor is (batch, neurons).
Input arrives as the voltage jump (mV) a time step's synaptic input causes, so a synapse's
weight is the jump one presynaptic spike gives, whatever ``dt`` is. Between inputs the membrane
relaxes exactly (not by an Euler step) toward rest:

.. math:: v \\leftarrow v_\\text{rest} + (v - v_\\text{rest})\\,e^{-\\Delta t/\\tau_m} + I_t

A neuron fires when :math:`v \\ge \\vartheta + \\theta`, is reset to :math:`v_\\text{reset}` and
ignores input for the refractory period (while still relaxing toward rest, as in BindsNET's
and Brian's Diehl & Cook neurons). The adaptive neuron's :math:`\\theta` (one per
neuron, shared by the batch) is intrinsic homeostasis as in Diehl & Cook (2015): every spike
raises it by :math:`\\theta_+`, and it relaxes with :math:`\\tau_\\theta`, so neurons that fire
much become harder to fire.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn


@dataclass(frozen=True)
class LIFParameters:
    tau_mem: float = 20.0  # membrane time constant, ms
    v_rest: float = -65.0  # mV
    v_reset: float = -65.0  # mV, after a spike
    v_threshold: float = -52.0  # mV
    refractory: float = 0.0  # ms without integration after a spike

    def __post_init__(self):
        if self.tau_mem <= 0 or self.refractory < 0:
            raise ValueError(f"Need tau_mem > 0 and refractory >= 0, got {self}.")
        if self.v_reset >= self.v_threshold:
            raise ValueError(f"v_reset ({self.v_reset}) must lie below v_threshold "
                             f"({self.v_threshold}), or a neuron would fire forever.")


class LIFState(NamedTuple):
    v: torch.Tensor  # membrane potential, mV
    refractory: torch.Tensor  # refractory time left, ms


def lif_initial_state(shape: tuple[int, ...], params: LIFParameters,
                      device=None, dtype=None) -> LIFState:
    v = torch.full(shape, params.v_rest, device=device, dtype=dtype)
    return LIFState(v, torch.zeros(shape, device=device, dtype=dtype))


def lif_step(state: LIFState, current: torch.Tensor, params: LIFParameters, dt: float,
             threshold_shift: torch.Tensor | float = 0.0) -> tuple[LIFState, torch.Tensor]:
    """One time step: relax, integrate unless refractory, fire, reset. Returns the new state
    and the spikes (1.0 where a neuron fired, else 0.0)."""
    decay = math.exp(-dt / params.tau_mem)
    v = params.v_rest + (state.v - params.v_rest) * decay
    v = torch.where(state.refractory <= 0, v + current, v)
    fired = v >= params.v_threshold + threshold_shift
    v = torch.where(fired, torch.full_like(v, params.v_reset), v)
    refractory = torch.where(fired, torch.full_like(v, params.refractory),
                             (state.refractory - dt).clamp_min(0))
    return LIFState(v, refractory), fired.to(current.dtype)


@dataclass(frozen=True)
class ThresholdAdaptation:
    theta_plus: float = 0.05  # mV added to a neuron's threshold per spike
    tau_theta: float = 1e7  # ms; Diehl & Cook's adaptation barely decays within a run

    def __post_init__(self):
        if self.theta_plus < 0 or self.tau_theta <= 0:
            raise ValueError(f"Need theta_plus >= 0 and tau_theta > 0, got {self}.")


def adapt_threshold(theta: torch.Tensor, spikes: torch.Tensor, adaptation: ThresholdAdaptation,
                    dt: float) -> torch.Tensor:
    """θ ← θ e^{−Δt/τ_θ} + θ₊ Σ_batch s: each sample's spike counts as if the samples had
    been shown one after another."""
    return theta * math.exp(-dt / adaptation.tau_theta) + adaptation.theta_plus * spikes.sum(0)


class LIF(nn.Module):
    """A population of LIF neurons. ``forward(current)`` advances one step of ``dt`` ms and
    returns the spikes; the membrane state is explicit (:attr:`state`) and starts at rest on
    the first step after :meth:`reset`."""

    def __init__(self, n: int, params: LIFParameters = LIFParameters(), dt: float = 1.0):
        super().__init__()
        if n <= 0 or dt <= 0:
            raise ValueError(f"Need n > 0 and dt > 0, got n={n}, dt={dt}.")
        self.n, self.params, self.dt = n, params, dt
        self.state: LIFState | None = None

    def reset(self) -> None:
        """Back to rest: the next step starts a new sequence (of any batch size)."""
        self.state = None

    def threshold_shift(self) -> torch.Tensor | float:
        return 0.0

    def forward(self, current: torch.Tensor) -> torch.Tensor:
        if current.ndim != 2 or current.shape[1] != self.n:
            raise ValueError(f"{type(self).__name__} expects input of shape (batch, {self.n}), "
                             f"got {tuple(current.shape)}.")
        if self.state is None or self.state.v.shape != current.shape:
            self.state = lif_initial_state(tuple(current.shape), self.params,
                                           current.device, current.dtype)
        self.state, spikes = lif_step(self.state, current, self.params, self.dt,
                                      self.threshold_shift())
        return spikes

    def extra_repr(self) -> str:
        return f"n={self.n}, dt={self.dt}, {self.params}"


class AdaptiveLIF(LIF):
    """LIF neurons with an adaptive threshold θ (a buffer, saved in ``state_dict``). θ adapts
    only while :attr:`adapting` (the owning layer sets it; ``train()`` mode alone does not
    suffice: ``eval()`` freezes it)."""

    theta: torch.Tensor

    def __init__(self, n: int, params: LIFParameters = LIFParameters(),
                 adaptation: ThresholdAdaptation = ThresholdAdaptation(), dt: float = 1.0):
        super().__init__(n, params, dt)
        self.adaptation = adaptation
        self.register_buffer("theta", torch.zeros(n))
        self.adapting = True

    def threshold_shift(self) -> torch.Tensor:
        return self.theta

    def forward(self, current: torch.Tensor) -> torch.Tensor:
        spikes = super().forward(current)
        if self.training and self.adapting:
            self.theta.copy_(adapt_threshold(self.theta, spikes, self.adaptation, self.dt))
        return spikes
