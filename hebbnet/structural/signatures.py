"""The signature experiments of structural and developmental plasticity, as functions that return
their numbers: the tests assert on them, ``notebooks/structural_plasticity.ipynb`` plots them.

* Synapse turnover: under a fixed budget, a tenth of the synapses replaced every period;
  those carrying a learned association survive, and after a change of input statistics the
  connectivity follows the new inputs.
* Map expansion and amputation (Merzenich et al. 1984; Jenkins et al. 1990): a
  :class:`TopographicMap` develops on a 1-D skin of ``fingers`` fingers; one finger used more
  often takes more of the map, and an amputated finger's territory goes to its neighbours.
* Neurogenesis for a new class: units born when a new class arrives, excitable while young,
  take it, and the older units keep what they answered.
* Ocular dominance (Wiesel & Hubel 1963; Hubel, Wiesel & LeVay 1977): a BCM layer sees the
  same patterns through two eyes; monocular deprivation inside its critical period shifts the
  units toward the open eye for good, after the period has closed much less (the BCM account:
  Bienenstock, Cooper & Munro 1982; Clothiaux, Bear & Cooper 1991).
* Maladaptive plasticity: a dopamine surge tied to one cue that no prediction can cancel
  captures a reward-modulated layer (the addiction model of Redish 2004); synaptic scaling
  bounds the weights but not the capture, a changed signal reverses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from hebbnet.homeostasis.scaling import SynapticScaling
from hebbnet.layers.plastic import HebbianLinear
from hebbnet.layers.topographic import TopographicMap
from hebbnet.plasticity.schedules import CriticalPeriod
from hebbnet.rules.bcm import BCM
from hebbnet.rules.three_factor import RewardModulatedHebb
from hebbnet.structural.neurogenesis import Neurogenesis
from hebbnet.structural.turnover import SynapseTurnover

FINGERS, RECEPTORS = 5, 10  # the skin: 5 fingers of 10 receptors each


def finger_stimuli(n: int, use: Sequence[float], generator: torch.Generator,
                   receptors: int = RECEPTORS, width: float = 4.0) -> torch.Tensor:
    """``n`` touches of the skin: each on a finger drawn with probability ∝ ``use``, a
    Gaussian bump of ``width`` receptors at a uniform point of it (near a border it reaches the
    next finger too, as touches of adjacent fingers do). A finger of use 0 is amputated: it is
    never touched and its receptors are silent. (n, len(use)·receptors)."""
    use = torch.tensor(use, dtype=torch.float)
    finger = torch.multinomial(use, n, replacement=True, generator=generator)
    centre = finger * receptors + torch.rand(n, generator=generator) * (receptors - 1)
    points = torch.arange(len(use) * receptors, dtype=torch.float)
    bump = torch.exp(-(points - centre[:, None]).square() / (2 * width**2))
    return bump * (use > 0).repeat_interleave(receptors)


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
        layer.rule.sigma = widest * (1 / widest) ** min(step / ordering, 1.0)
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
        layer.rule.sigma = sigma if step < steps else 1.0
        layer(finger_stimuli(32, use, generator))
    now = regions[layer.preferred_inputs()]
    return Amputation(before, layer.territory(regions, FINGERS).tolist(),
                      torch.bincount(now[before_units], minlength=FINGERS).tolist())


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


@dataclass
class NewClass:
    old_drift: float  # relative change of the units that existed before the new class
    new_class_won_by_new_units: float | None  # share of its test samples (None: nothing grew)
    old_accuracy_before: float  # old classes' test accuracy, units labelled by majority vote
    old_accuracy_after: float
    new_accuracy: float  # the new class's, after


def neurogenesis_for_a_new_class(grow: int, seed: int = 0, units: int = 10,
                                 excitability: float = 10.0, maturation: float = 100.0,
                                 steps: int = 200) -> NewClass:
    """A competitive layer (a :class:`TopographicMap` with a neighbourhood so narrow that only
    the winner learns) learns digits 0 and 1 (scikit-learn's 8×8 digits; every other sample
    held out for testing) with ``units − grow`` units, then digit 2 alone for ``3·steps``
    batches; ``grow`` units are born when it arrives, their weights the first ``grow`` images
    of a 2, with excitability β = ``excitability`` fading over ``maturation`` updates.
    ``grow=0``: all ``units`` exist from the start (the control). Units are labelled by the
    class they win most among the training images seen so far."""
    from sklearn.datasets import load_digits

    images, labels = load_digits(return_X_y=True)
    images = torch.tensor(images, dtype=torch.float32) / 16
    labels = torch.tensor(labels)
    train, test = torch.arange(len(labels)) % 2 == 0, torch.arange(len(labels)) % 2 == 1
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    born = units - grow
    layer = TopographicMap(64, (units,), sigma=0.3, lr=0.1,
                           homeostasis=Neurogenesis(units, born, excitability, maturation))

    def split(classes, part):
        chosen = part & torch.isin(labels, torch.tensor(classes))
        return images[chosen], labels[chosen]

    def learn(classes, batches):
        data, _ = split(classes, train)
        for _ in range(batches):
            layer(data[torch.randint(len(data), (32,), generator=generator)])

    def winners(data):
        layer.eval()
        won = layer(data).argmax(1)
        layer.train()
        return won

    def accuracy(classes, seen):
        data, truth = split(seen, train)
        votes = torch.zeros(units, 10).index_put_((winners(data), truth), torch.ones(len(truth)),
                                                  accumulate=True)
        data, truth = split(classes, test)
        return float((votes.argmax(1)[winners(data)] == truth).float().mean())

    old_images, _ = split([0, 1], train)
    with torch.no_grad():  # units start on images, or the first winner takes all (dead units)
        layer.weight[:born] = old_images[torch.randperm(len(old_images), generator=generator)[:born]]
    learn([0, 1], steps)
    old_before = accuracy([0, 1], [0, 1])
    weights = layer.weight[:born].clone()
    if grow:
        first_twos, _ = split([2], train)
        layer.grow(grow, init=first_twos[:grow])
    learn([2], 3 * steps)
    twos, _ = split([2], test)
    return NewClass(
        old_drift=float((layer.weight[:born] - weights).norm() / weights.norm()),
        new_class_won_by_new_units=float((winners(twos) >= born).float().mean()) if grow else None,
        old_accuracy_before=old_before, old_accuracy_after=accuracy([0, 1], [0, 1, 2]),
        new_accuracy=accuracy([2], [0, 1, 2]))


CUES, FOOD, DRUG = 4, 0, 3  # four cues: food is rewarded, the drug rewarded with a surge


@dataclass
class Capture:
    drug_share: list[float]  # the drug cue's share of the network's drive: start, captured, remedied
    cue_drive: list[float]  # each cue's total drive (Σ_i W_i,cue) after the remedy
    drug_value: float  # the learned value of the drug cue at the end


def reward_capture(surge: float = 0.5, homeostasis: bool = False,
                   remedy: tuple[float, float] | None = None, trials: int = 2000,
                   seed: int = 0, units: int = 8) -> Capture:
    """Maladaptive plasticity: a reward-modulated Hebbian layer (eligibility × dopamine, the
    trace cleared between trials) sees one of four cues per trial; food and the drug both
    give reward 1, the other two nothing. The dopamine signal is the prediction error
    δ = r − V(cue), V learned at rate 0.05 — except that the drug adds a surge no prediction can
    cancel, δ = max(r − V + surge, surge) (Redish 2004). Each cue's drive grows with its δ.

    ``homeostasis``: synaptic scaling toward a mean response of 0.1. ``remedy``: after
    ``trials`` trials, as many again with the drug's (reward, surge) changed: (1, 0) blocks
    the surge (an antagonist), (0, 0) withdraws the drug (extinction)."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    scaling = [SynapticScaling(units, target=0.1, strength=0.01)] if homeostasis else []
    layer = HebbianLinear(CUES, units, rule=RewardModulatedHebb(units, CUES, tau=0.1), lr=0.05,
                          homeostasis=scaling)
    layer.weight.data.uniform_(0.05, 0.15)
    value = torch.zeros(CUES)

    def share() -> float:
        drive = layer.weight.sum(0)
        return float(drive[DRUG] / drive.sum())

    def trial(drug_reward: float, drug_surge: float) -> None:
        cue = int(torch.randint(CUES, (1,), generator=generator))
        layer(torch.eye(CUES)[cue : cue + 1])
        reward = {FOOD: 1.0, DRUG: drug_reward}.get(cue, 0.0)
        error = reward - float(value[cue])
        if cue == DRUG and drug_surge:
            error = max(error + drug_surge, drug_surge)
        value[cue] += 0.05 * error
        layer.neuromodulate(error)

    shares = [share()]
    for _ in range(trials):
        trial(1.0, surge)
    shares.append(share())
    for _ in range(trials if remedy else 0):
        trial(*remedy)
    shares.append(share())
    return Capture(shares, layer.weight.sum(0).tolist(), float(value[DRUG]))


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
