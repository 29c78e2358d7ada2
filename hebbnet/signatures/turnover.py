"""Synapse turnover: under a fixed budget, a tenth of the synapses replaced every period; those
carrying a learned association survive, and after a change of input statistics the
connectivity follows the new inputs."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from hebbnet.layers.plastic import HebbianLinear
from hebbnet.structural.turnover import SynapseTurnover


def correlated_inputs(n: int, generator: torch.Generator, active: slice = slice(0, 64),
                      associated: slice = slice(0, 16), size: int = 64) -> torch.Tensor:
    """``size`` inputs of noise (σ = 0.3) of which the ``associated`` ones also share one
    factor (an association to learn); the inputs outside ``active`` are silent. (n, size)."""
    shared = torch.randn(n, 1, generator=generator)
    x = 0.3 * torch.randn(n, size, generator=generator)
    x[:, associated] += shared
    silent = torch.ones(size, dtype=torch.bool)
    silent[active] = False
    return x.masked_fill(silent, 0.0)


@dataclass
class Turnover:
    synapses: list[int]  # after each period
    new_fraction: list[float]  # the fraction of the budget grown at each period's end
    share_on_second_half: list[float]  # of the synapses, on inputs 32–63
    associated_survival: float  # of the first synapses on inputs 0–15, present after phase 1
    other_survival: float  # of those on inputs 16–31


def synapse_turnover(seed: int = 0, periods: int = 30, period: int = 10,
                     growth: str = "coactive", prune: str = "unused") -> Turnover:
    """An Oja layer (64 inputs, 8 units) keeps 25 % of its synapses and replaces 10 % of them
    every ``period`` updates; new synapses start at 0.05 (at 0 they could never grow on a unit
    whose other inputs have gone silent: an Oja unit with no drive does not learn). For
    ``periods`` periods inputs 0–31 are active, 0–15 carrying an association; then for as many
    inputs 32–63, 32–47 associated."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    turnover = SynapseTurnover(density=0.25, rate=0.1, period=period, growth=growth, seed=seed,
                               prune=prune, new_weight=0.05)
    layer = HebbianLinear(64, 8, rule="oja", lr=0.05, structure=turnover)
    first = turnover.mask.clone()
    record = Turnover([], [], [], 0.0, 0.0)
    for phase, (active, associated) in enumerate([(slice(0, 32), slice(0, 16)),
                                                  (slice(32, 64), slice(32, 48))]):
        for _ in range(periods):
            for _ in range(period):
                layer(correlated_inputs(64, generator, active, associated))
            record.synapses.append(turnover.synapses)
            record.new_fraction.append(float(turnover.last_turnover))
            record.share_on_second_half.append(float(turnover.mask[:, 32:].sum()) / turnover.synapses)
        if phase == 0:
            kept = first & turnover.mask
            record.associated_survival = float(kept[:, :16].sum() / first[:, :16].sum())
            record.other_survival = float(kept[:, 16:32].sum() / first[:, 16:32].sum())
    return record
