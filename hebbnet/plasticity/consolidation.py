"""Two-timescale synapses: early LTP that fades unless tagged and captured into late LTP.

A synapse's weight is the sum of a consolidated (late) part and an early part, w = w_late +
w_early. Every change a plasticity rule makes lands in the early part, which decays back with
τ_early (E-LTP: phosphorylation, hours). Where the early change exceeds θ_tag in size the
synapse is *tagged*. Plasticity-related products (PRP; protein synthesis, triggered by a strong
or neuromodulated event, possibly elsewhere on the neuron: :meth:`TagAndCapture.trigger`)
let tagged synapses *capture* their early change into the late part (L-LTP) at rate
p/τ_capture, while p itself decays with τ_prp (Frey & Morris 1997; Clopath et al. 2008):

.. math:: w_\\text{early} \\leftarrow w_\\text{early}\\,e^{-\\Delta t/\\tau_\\text{early}},\\quad
          m = \\mathbb 1[|w_\\text{early}|>\\theta_\\text{tag}]\\,
              (1-e^{-p\\,\\Delta t/\\tau_\\text{capture}})\\,w_\\text{early},\\quad
          w_\\text{late} \\mathrel{+}= m,\\ w_\\text{early} \\mathrel{-}= m,\\quad
          p \\leftarrow p\\,e^{-\\Delta t/\\tau_\\text{prp}}

Time advances one ``dt`` per plastic step of the layer that holds it (``consolidation=``); in
``eval()`` nothing decays or consolidates.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from hebbnet.rules.base import ResizableBuffers


class TagAndCapture(ResizableBuffers, nn.Module):
    late: torch.Tensor
    prp: torch.Tensor

    def __init__(self, tau_early: float = 1000.0, theta_tag: float = 0.05,
                 tau_capture: float = 100.0, tau_prp: float = 500.0, dt: float = 1.0):
        super().__init__()
        if min(tau_early, tau_capture, tau_prp, dt) <= 0 or theta_tag < 0:
            raise ValueError("Need positive time constants and dt, and theta_tag >= 0.")
        self.tau_early, self.theta_tag = tau_early, theta_tag
        self.tau_capture, self.tau_prp, self.dt = tau_capture, tau_prp, dt
        self.register_buffer("late", torch.zeros(0))
        self.register_buffer("prp", torch.zeros(()))

    @property
    def bound(self) -> bool:
        return self.late.numel() > 0

    def bind(self, weight: torch.Tensor) -> None:
        """The present weights become the consolidated baseline."""
        self.late = weight.detach().clone()

    def early(self, weight: torch.Tensor) -> torch.Tensor:
        return weight - self.late

    def tags(self, weight: torch.Tensor) -> torch.Tensor:
        return self.early(weight).abs() > self.theta_tag

    def trigger(self, amount: float = 1.0) -> None:
        """Make plasticity-related products available (a strong or rewarded event)."""
        if amount < 0:
            raise ValueError(f"PRP amount must be non-negative, got {amount}.")
        self.prp.add_(amount)

    @torch.no_grad()
    def step(self, weight: torch.Tensor) -> None:
        """Advance one ``dt`` after the rule's update; rewrites ``weight`` in place."""
        early = self.early(weight) * math.exp(-self.dt / self.tau_early)
        capture = 1 - torch.exp(-self.prp * self.dt / self.tau_capture)
        moved = torch.where(early.abs() > self.theta_tag, capture * early, torch.zeros_like(early))
        self.late.add_(moved)
        weight.copy_(self.late + early - moved)
        self.prp.mul_(math.exp(-self.dt / self.tau_prp))

    def resizable_buffers(self) -> tuple[str, ...]:
        return ("late",)

    def extra_repr(self) -> str:
        return (f"tau_early={self.tau_early}, theta_tag={self.theta_tag}, "
                f"tau_capture={self.tau_capture}, tau_prp={self.tau_prp}, dt={self.dt}")
