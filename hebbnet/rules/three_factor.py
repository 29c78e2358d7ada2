"""Reward-modulated (three-factor) Hebbian learning: eligibility trace × neuromodulator."""

from __future__ import annotations

import math

import torch

from hebbnet.rules.base import PlasticityRule, batch_outer


def eligibility_trace(trace: torch.Tensor, pre: torch.Tensor, post: torch.Tensor,
                      decay: float) -> torch.Tensor:
    r"""Coincidences leave a decaying tag: :math:`e \leftarrow \gamma e + \langle y x^\top\rangle`."""
    return decay * trace + batch_outer(post, pre)


def modulated_update(trace: torch.Tensor, modulator: torch.Tensor | float) -> torch.Tensor:
    r"""The third factor turns tags into change: :math:`\Delta W = M\, e`.

    M is a scalar (a global dopamine-like signal) or one value per output unit.
    """
    modulator = torch.as_tensor(modulator, dtype=trace.dtype, device=trace.device)
    return modulator.reshape(-1, 1) * trace if modulator.ndim else modulator * trace


def reward_prediction_error(baseline: torch.Tensor, reward: torch.Tensor | float,
                            tau: float) -> torch.Tensor:
    r"""Dopamine-like RPE :math:`\delta = r - \bar r` (the batch's mean reward), then the
    baseline moves in place: :math:`\bar r \leftarrow \bar r + \delta/\tau`."""
    reward = torch.as_tensor(reward, dtype=baseline.dtype, device=baseline.device).mean()
    error = reward - baseline
    baseline.add_(error / tau)
    return error


class RewardModulatedHebb(PlasticityRule):
    """Forward passes only build the eligibility trace (a buffer); weights change when the
    layer receives a neuromodulator, e.g. a reward prediction error from :meth:`prediction_error`.

    ``tau`` is the trace's time constant in forward passes (γ = exp(−1/τ)); ``reward_tau`` the
    time constant of the running reward baseline.
    """

    trace: torch.Tensor
    reward_baseline: torch.Tensor

    def __init__(self, n_out: int, n_in: int, tau: float = 10.0, reward_tau: float = 100.0):
        super().__init__()
        if tau <= 0 or reward_tau < 1:
            raise ValueError(f"need tau > 0 and reward_tau >= 1, got {tau}, {reward_tau}.")
        self.tau, self.reward_tau = tau, reward_tau
        self.register_buffer("trace", torch.zeros(n_out, n_in))
        self.register_buffer("reward_baseline", torch.zeros(()))

    def update(self, pre, post, u, weight):
        self.trace.copy_(eligibility_trace(self.trace, pre, post, math.exp(-1.0 / self.tau)))
        return None  # no change until a neuromodulator arrives

    def neuromodulated_update(self, modulator: torch.Tensor | float) -> torch.Tensor:
        return modulated_update(self.trace, modulator)

    def prediction_error(self, reward: torch.Tensor | float) -> torch.Tensor:
        """See :func:`reward_prediction_error`."""
        return reward_prediction_error(self.reward_baseline, reward, self.reward_tau)

    def reset(self) -> None:
        self.trace.zero_()
        self.reward_baseline.zero_()
