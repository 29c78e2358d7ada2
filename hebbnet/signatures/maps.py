"""Map expansion and amputation (Merzenich et al. 1984; Jenkins et al. 1990): a
:class:`TopographicMap` develops on a 1-D skin of five fingers; one finger used more often takes
more of the map, and an amputated finger's territory goes to its neighbours."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from hebbnet.layers.topographic import TopographicMap

FINGERS, RECEPTORS = 5, 10  # the skin: 5 fingers of 10 receptors each


def finger_stimuli(n: int, use: Sequence[float], generator: torch.Generator,
                   receptors: int = RECEPTORS, width: float = 4.0) -> torch.Tensor:
    """``n`` touches of the skin: each on a finger drawn with probability ∝ ``use``, a
    Gaussian bump of ``width`` receptors at a uniform point of it (near a border it reaches the
    next finger too, as touches of adjacent fingers do). A finger of use 0 is amputated: it is
    never touched and its receptors are silent. (n, len(use)·receptors)."""
    weights = torch.tensor(use, dtype=torch.float)
    finger = torch.multinomial(weights, n, replacement=True, generator=generator)
    centre = finger * receptors + torch.rand(n, generator=generator) * (receptors - 1)
    points = torch.arange(len(weights) * receptors, dtype=torch.float)
    bump = torch.exp(-(points - centre[:, None]).square() / (2 * width**2))
    return bump * (weights > 0).repeat_interleave(receptors)


def skin_regions(fingers: int = FINGERS, receptors: int = RECEPTORS) -> torch.Tensor:
    """The finger of every receptor: (fingers·receptors,)."""
    return torch.arange(fingers * receptors) // receptors


def develop_map(use: Sequence[float], seed: int, units: int = 50, steps: int = 900,
                batch: int = 32) -> tuple[TopographicMap, torch.Generator]:
    """A line of ``units`` develops on the skin: the neighbourhood shrinks exponentially from
    half the line to σ = 1 over the first two thirds of ``steps`` at rate 0.5, then the map
    refines at rate 0.1 (the usual two-phase Kohonen schedule; a faster shrink, or touches
    narrower than 3 receptors, leave the map folded)."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    widest = units / 2
    layer = TopographicMap(len(use) * RECEPTORS, (units,), sigma=widest, lr=0.5)
    ordering = 2 * steps // 3
    for step in range(steps):
        layer.sigma = widest * (1 / widest) ** min(step / ordering, 1.0)
        layer.lr = 0.5 if step < ordering else 0.1
        layer(finger_stimuli(batch, use, generator))
    return layer, generator


def map_expansion(extra_use: Sequence[float], finger: int = 2, seed: int = 0) -> list[int]:
    """The number of map units ``finger`` owns when it is touched ``extra_use[k]`` times as
    often as each other finger (1: as often)."""
    areas = []
    for factor in extra_use:
        use = [1.0] * FINGERS
        use[finger] = float(factor)
        layer, _ = develop_map(use, seed)
        areas.append(int(layer.territory(skin_regions(), FINGERS)[finger]))
    return areas


@dataclass
class Amputation:
    before: list[int]  # units per finger before the amputation
    after: list[int]  # and after the map has reorganised
    former_territory_now: list[int]  # per finger: the amputated finger's former units now


def amputation(finger: int = 2, seed: int = 0, steps: int = 400, sigma: float = 3.0) -> Amputation:
    """Develop the map on five fingers used alike, then remove ``finger``'s input: the map
    reorganises for ``steps`` batches with a neighbourhood of ``sigma`` (wider than the 1 of
    the developed map: with σ = 1 only the border units of the silent zone ever move), then
    refines for ``steps // 2`` at σ = 1."""
    layer, generator = develop_map([1.0] * FINGERS, seed)
    regions = skin_regions()
    before_units = regions[layer.preferred_inputs()] == finger
    before = layer.territory(regions, FINGERS).tolist()
    use = [0.0 if f == finger else 1.0 for f in range(FINGERS)]
    layer.lr = 0.1
    for step in range(steps + steps // 2):
        layer.sigma = sigma if step < steps else 1.0
        layer(finger_stimuli(32, use, generator))
    now = regions[layer.preferred_inputs()]
    return Amputation(before, layer.territory(regions, FINGERS).tolist(),
                      torch.bincount(now[before_units], minlength=FINGERS).tolist())
