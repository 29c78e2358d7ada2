"""Turn intensities into spike trains of shape (steps, *input shape), values 0.0 or 1.0."""

from __future__ import annotations

import torch


def _check_intensity(x: torch.Tensor, name: str) -> None:
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} received NaN or Inf input; clean the input first.")
    if (x < 0).any():
        raise ValueError(f"{name} needs non-negative intensities, got a minimum of "
                         f"{float(x.min())}.")


def _spike_probability(rates_hz: torch.Tensor, dt: float) -> torch.Tensor:
    """Probability of a spike per step of ``dt`` ms, r·dt/1000, checked to be at most 1."""
    probability = rates_hz * (dt / 1000.0)
    if (probability > 1).any():
        raise ValueError(f"A rate of {float(rates_hz.max())} Hz exceeds one spike per step of "
                         f"{dt} ms; lower the rates or dt.")
    return probability


def poisson_spikes(rates_hz: torch.Tensor, steps: int, dt: float = 1.0,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Independent Poisson trains: at each step of ``dt`` ms, a neuron with rate r (Hz)
    fires with probability r·dt/1000. Diehl & Cook (2015) use r = pixel/4 (≤ 63.75 Hz)."""
    _check_intensity(rates_hz, "poisson_spikes")
    if steps <= 0 or dt <= 0:
        raise ValueError(f"Need steps > 0 and dt > 0, got steps={steps}, dt={dt}.")
    probability = _spike_probability(rates_hz, dt)
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


def poisson_events(rates_hz: torch.Tensor, steps: int, dt: float = 1.0,
                   generator: torch.Generator | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The same Poisson trains as :func:`poisson_spikes`, as a list of events: (step, sample,
    input) index tensors, sorted by sample, then step. Drawn as geometric inter-spike
    intervals, so the work grows with the number of spikes, not with steps × inputs.

    ``rates_hz`` is (batch, inputs)."""
    _check_intensity(rates_hz, "poisson_events")
    if rates_hz.ndim != 2 or steps <= 0 or dt <= 0:
        raise ValueError(f"Need rates of shape (batch, inputs), steps > 0 and dt > 0; got "
                         f"{tuple(rates_hz.shape)}, steps={steps}, dt={dt}.")
    probability = _spike_probability(rates_hz, dt)
    sample, index = probability.nonzero(as_tuple=True)
    p = probability[sample, index].float()
    expected = steps * float(p.max()) if len(p) else 0.0
    draws = int(expected + 6 * expected ** 0.5) + 8
    while True:
        uniform = torch.rand(len(p), draws, generator=generator, device=p.device)
        log_keep = torch.log1p(-p.clamp(max=1 - 1e-7)).unsqueeze(1)
        gaps = torch.floor(torch.log(uniform.clamp_min_(1e-30)).div_(log_keep))
        times = torch.cumsum(gaps + 1, dim=1) - 1  # first spike at step G − 1, G ~ Geometric(p)
        if len(p) == 0 or bool((times[:, -1] >= steps).all()):
            break
        draws *= 2  # a train outlasted the draws (rare): draw again, longer
    keep = times < steps
    rows = keep.nonzero(as_tuple=True)[0]
    step = times[keep].long()
    sample, index = sample[rows], index[rows]
    order = torch.argsort(sample * steps + step, stable=True)
    return step[order], sample[order], index[order]
