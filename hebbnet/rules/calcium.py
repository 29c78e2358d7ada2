"""Calcium-based plasticity: the calcium level in a spine decides between LTP and LTD.

After Shouval, Bear & Cooper (2002) and Graupner & Brunel (2012). Each synapse ij has a
calcium level c that jumps at spikes and decays with τ_Ca:

* a presynaptic spike (glutamate on NMDA receptors) adds C_pre;
* a postsynaptic spike (back-propagating action potential) adds C_post + η·c_pre,j, where
  c_pre,j is the calcium the presynaptic spikes of j have left: the NMDA receptor as a
  coincidence detector, whose Mg²⁺ block the depolarisation lifts.

The efficacy ρ = w ∈ [0, 1] follows

.. math:: \\frac{d\\rho}{dt} = \\gamma_p (1-\\rho)\\,\\Theta[c-\\theta_p]
                               - \\gamma_d\\,\\rho\\,\\Theta[c-\\theta_d],\\qquad \\theta_d<\\theta_p

high calcium potentiates (CaMKII), moderate calcium depresses (phosphatases), low calcium does
nothing. Spikes arrive at the start of a step and c decays exactly within it, so the time c
spends above each threshold, and with it ρ, is integrated in closed form: the result does not
depend on ``dt`` for spikes on the time grid (long protocols may use a coarse ``dt``).

The defaults put the sign change of the frequency–response curve near 10 Hz for presynaptic
trains alone (1 Hz depresses, 100 Hz potentiates): the BCM-like curve of Dudek & Bear (1992).
"""

from __future__ import annotations

import math

import torch

from hebbnet.rules.stdp import TracedRule


def calcium_jump(calcium: torch.Tensor, pre_calcium: torch.Tensor, pre: torch.Tensor,
                 post: torch.Tensor, c_pre: float, c_post: float, eta: float) -> torch.Tensor:
    """Calcium (B, n_out, n_in) after this step's spikes; ``pre_calcium`` (B, n_in) is the
    presynaptically evoked part before them."""
    from_post = post.unsqueeze(2) * (c_post + eta * pre_calcium.unsqueeze(1))
    return calcium + c_pre * pre.unsqueeze(1) + from_post


def time_above(calcium: torch.Tensor, threshold: float, tau: float, dt: float) -> torch.Tensor:
    """How long within a step c·e^{−s/τ} stays above the threshold: clamp(τ ln(c/θ), 0, dt)."""
    ratio = (calcium / threshold).clamp_min(1.0)
    return (tau * torch.log(ratio)).clamp(max=dt)


def efficacy_after(rho: torch.Tensor, t_p: torch.Tensor, t_d: torch.Tensor,
                   gamma_p: float, gamma_d: float) -> torch.Tensor:
    """ρ after t_p ms of potentiation and depression together (relaxing to γ_p/(γ_p+γ_d) at
    rate γ_p+γ_d), then t_d − t_p ms of depression alone (decay at rate γ_d)."""
    fixed_point = gamma_p / (gamma_p + gamma_d)
    rho = fixed_point + (rho - fixed_point) * torch.exp(-(gamma_p + gamma_d) * t_p)
    return rho * torch.exp(-gamma_d * (t_d - t_p))


class CalciumRule(TracedRule):
    """Calcium-threshold LTP/LTD (see the module). Rates γ are per ms; the update returned is
    the exact change of ρ over the step, so give the layer ``lr=1`` and ``w_max=1``. Calcium is
    kept per synapse and sample: (batch, n_out, n_in) floats."""

    calcium: torch.Tensor

    trace_sizes = {"pre_calcium": "n_in"}

    def __init__(self, n_in: int, n_out: int, tau_calcium: float = 50.0, c_pre: float = 1.0,
                 c_post: float = 2.0, eta: float = 1.0, theta_d: float = 0.5,
                 theta_p: float = 1.1, gamma_d: float = 6e-6, gamma_p: float = 1.05e-4,
                 dt: float = 1.0):
        super().__init__(n_in, n_out, dt)
        if not 0 < theta_d < theta_p:
            raise ValueError(f"Need 0 < theta_d < theta_p, got {theta_d}, {theta_p}.")
        if tau_calcium <= 0 or min(c_pre, c_post, eta, gamma_d, gamma_p) < 0:
            raise ValueError("Need tau_calcium > 0 and non-negative jumps and rates.")
        self.tau_calcium, self.c_pre, self.c_post, self.eta = tau_calcium, c_pre, c_post, eta
        self.theta_d, self.theta_p, self.gamma_d, self.gamma_p = theta_d, theta_p, gamma_d, gamma_p
        self.register_buffer("calcium", torch.zeros(0, n_out, n_in))

    def prepare(self, pre, post):
        super().prepare(pre, post)
        if self.calcium.shape[0] != pre.shape[0]:
            self.calcium = pre.new_zeros(pre.shape[0], self.n_out, self.n_in)

    def update(self, pre, post, u, weight):
        self.prepare(pre, post)
        calcium = calcium_jump(self.calcium, self.pre_calcium, pre, post, self.c_pre,
                               self.c_post, self.eta)
        t_p = time_above(calcium, self.theta_p, self.tau_calcium, self.dt)
        t_d = time_above(calcium, self.theta_d, self.tau_calcium, self.dt)
        rho = weight.unsqueeze(0)
        change = efficacy_after(rho, t_p, t_d, self.gamma_p, self.gamma_d) - rho
        decay = math.exp(-self.dt / self.tau_calcium)
        self.calcium = calcium * decay
        self.pre_calcium = (self.pre_calcium + self.c_pre * pre) * decay
        return change.mean(0)

    def reset(self) -> None:
        super().reset()
        self.calcium = self.calcium.new_zeros(0, self.n_out, self.n_in)

    def resizable_buffers(self) -> tuple[str, ...]:
        return (*super().resizable_buffers(), "calcium")

    def extra_repr(self) -> str:
        return (f"tau_calcium={self.tau_calcium}, c_pre={self.c_pre}, c_post={self.c_post}, "
                f"eta={self.eta}, theta_d={self.theta_d}, theta_p={self.theta_p}, "
                f"gamma_d={self.gamma_d}, gamma_p={self.gamma_p}, dt={self.dt}")
