"""Ocular dominance (Wiesel & Hubel 1963; Hubel, Wiesel & LeVay 1977): a BCM layer sees the
same patterns through two eyes; monocular deprivation inside its critical period shifts the units
toward the open eye for good, after the period has closed much less (the BCM account:
Bienenstock, Cooper & Munro 1982; Clothiaux, Bear & Cooper 1991)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from hebbnet.layers.plastic import HebbianLinear
from hebbnet.plasticity.schedules import CriticalPeriod
from hebbnet.rules.bcm import BCM

EYE = 20  # inputs per eye: orientations around a ring


def eye_patterns(n: int, generator: torch.Generator, width: float = 2.0) -> torch.Tensor:
    """``n`` stimuli, a bump of ``width`` at a random point of a ring of :data:`EYE` inputs."""
    centre = torch.rand(n, generator=generator) * EYE
    points = torch.arange(EYE, dtype=torch.float)
    offset = torch.remainder(points - centre[:, None] + EYE / 2, EYE) - EYE / 2
    return torch.exp(-offset.square() / (2 * width**2))


def binocular_stimuli(n: int, generator: torch.Generator, closed: int | None = None,
                      noise: float = 0.1) -> torch.Tensor:
    """Both eyes see the same pattern, each with its own noise; a ``closed`` eye (0 or 1, lid
    sutured) sees only noise. (n, 2·EYE)."""
    pattern = eye_patterns(n, generator)
    eyes = [pattern + noise * torch.rand(n, EYE, generator=generator) for _ in range(2)]
    if closed is not None:
        eyes[closed] = noise * torch.rand(n, EYE, generator=generator)
    return torch.cat(eyes, 1)


@torch.no_grad()
def ocular_dominance(layer: HebbianLinear, generator: torch.Generator,
                     probes: int = 500) -> torch.Tensor:
    """Each unit's ocular-dominance index (R_left − R_right)/(R_left + R_right) ∈ [−1, 1],
    R the mean response to patterns shown to one eye alone: (n_units,). +1: driven by the left
    eye only."""
    pattern = eye_patterns(probes, generator)
    dark = torch.zeros_like(pattern)
    was_training = layer.training
    layer.eval()
    left = layer(torch.cat([pattern, dark], 1)).mean(0)
    right = layer(torch.cat([dark, pattern], 1)).mean(0)
    layer.train(was_training)
    return (left - right) / (left + right).clamp_min(1e-12)


@dataclass
class Deprivation:
    before: torch.Tensor  # ocular-dominance index per unit, before the deprivation
    deprived: torch.Tensor  # right after it
    recovered: torch.Tensor  # after as long again with both eyes open

    @property
    def shift(self) -> float:
        """The mean index's move toward the open (left) eye, through the deprivation."""
        return float(self.deprived.mean() - self.before.mean())

    @property
    def lasting_shift(self) -> float:
        """The same, still there after both eyes have been open again."""
        return float(self.recovered.mean() - self.before.mean())


def monocular_deprivation(deprive_at: int, closes: int = 2000, seed: int = 0,
                          duration: int = 1000, units: int = 30) -> Deprivation:
    """A BCM layer (its sliding threshold is the homeostasis) sees binocular stimuli; from
    batch ``deprive_at`` the right eye is closed for ``duration`` batches, then both are open
    for ``duration`` more. Plasticity follows a :class:`CriticalPeriod` open from the start,
    closing at batch ``closes`` to a residual 5 % over 200 batches."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    layer = HebbianLinear(2 * EYE, units, rule=BCM(units, tau=20), lr=0.02,
                          schedule=CriticalPeriod(0, closes, after=0.05, closing=200))
    layer.weight.data.uniform_(0, 0.2)
    for _ in range(deprive_at):
        layer(binocular_stimuli(32, generator))
    before = ocular_dominance(layer, generator)
    for _ in range(duration):
        layer(binocular_stimuli(32, generator, closed=1))
    deprived = ocular_dominance(layer, generator)
    for _ in range(duration):
        layer(binocular_stimuli(32, generator))
    return Deprivation(before, deprived, ocular_dominance(layer, generator))
