"""Maladaptive plasticity: a dopamine surge tied to one cue that no prediction can cancel
captures a reward-modulated layer (the addiction model of Redish 2004); synaptic scaling bounds
the weights but not the capture, a changed signal reverses it."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from hebbnet.homeostasis.scaling import SynapticScaling
from hebbnet.layers.plastic import HebbianLinear
from hebbnet.rules.three_factor import RewardModulatedHebb

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
    if remedy is not None:
        for _ in range(trials):
            trial(*remedy)
    shares.append(share())
    return Capture(shares, layer.weight.sum(0).tolist(), float(value[DRUG]))
