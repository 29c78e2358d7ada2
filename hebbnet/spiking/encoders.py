"""Turn intensities into spike trains of shape (steps, *input shape), values 0.0 or 1.0."""

from __future__ import annotations

import torch


def _check_intensity(x: torch.Tensor, name: str) -> None:
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} received NaN or Inf input; clean the input first.")
    if (x < 0).any():
        raise ValueError(f"{name} needs non-negative intensities, got a minimum of "
                         f"{float(x.min())}.")


def poisson_spikes(rates_hz: torch.Tensor, steps: int, dt: float = 1.0,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Independent Poisson trains: at each step of ``dt`` ms, a neuron with rate r (Hz)
    fires with probability r·dt/1000. Diehl & Cook (2015) use r = pixel/4 (≤ 63.75 Hz)."""
    _check_intensity(rates_hz, "poisson_spikes")
    if steps <= 0 or dt <= 0:
        raise ValueError(f"Need steps > 0 and dt > 0, got steps={steps}, dt={dt}.")
    probability = rates_hz * (dt / 1000.0)
    if (probability > 1).any():
        raise ValueError(f"A rate of {float(rates_hz.max())} Hz exceeds one spike per step of "
                         f"{dt} ms; lower the rates or dt.")
    uniform = torch.rand((steps, *rates_hz.shape), generator=generator,
                         device=rates_hz.device, dtype=rates_hz.dtype)
    return (uniform < probability).to(rates_hz.dtype)


def latency_spikes(intensity: torch.Tensor, steps: int) -> torch.Tensor:
    """One spike per input, earlier for stronger inputs: intensity x in [0, 1] fires at step
    round((1 − x)(steps − 1)); x = 0 never fires."""
    _check_intensity(intensity, "latency_spikes")
    if (intensity > 1).any():
        raise ValueError(f"latency_spikes needs intensities in [0, 1], got a maximum of "
                         f"{float(intensity.max())}; scale the input first.")
    if steps <= 0:
        raise ValueError(f"Need steps > 0, got {steps}.")
    when = torch.round((1 - intensity) * (steps - 1)).long()
    spikes = torch.zeros((steps, *intensity.shape), device=intensity.device,
                         dtype=intensity.dtype)
    spikes.scatter_(0, when.unsqueeze(0), 1.0)
    return spikes * (intensity > 0).to(intensity.dtype)
