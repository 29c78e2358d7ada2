"""Synapse turnover: a connectivity mask under a fixed budget, pruned and regrown as it learns.

Spines appear, grow, shrink and disappear throughout life (about 5–10 % of cortical spines
replaced per month in adult mice; Holtmaat & Svoboda 2009); a weak synapse is more likely to
go, and axons sprout toward partners that fire with them. Here a layer keeps a boolean mask
M of the synapses that exist; a pruned synapse is exactly zero in the forward pass and in every
update. Every ``period`` plastic updates, :func:`rewire` replaces a fixed number of synapses:

.. math:: \\text{prune: } \\operatorname{argmin}^{(n)}_{ij:\\,M_{ij},\\ \\text{not new}}
          |W_{ij}|\\;\\big(\\times\\,\\bar a_j \\text{ with } \\texttt{prune="unused"}\\big),
          \\qquad \\text{grow: } n \\text{ absent } (i, j) \\sim
          \\begin{cases} \\text{uniform} & \\texttt{growth="random"}\\\\
          \\langle |y_i|\\,|x_j|\\rangle + \\epsilon & \\texttt{growth="coactive"}\\end{cases}

where ā_j is input j's mean activity ⟨|x_j|⟩ over the last ``period`` updates (a running mean):
``"weak"`` prunes the smallest weights, ``"unused"`` the smallest typical contributions to
the drive, so a strong synapse whose input has gone silent goes too. The number of synapses
stays at the budget, n = round(rate · budget) of them are new after
each period (the turnover rate), and the new ones start at ``new_weight`` and are spared the
next pruning (they must get one period to grow before they can be judged weak). Magnitude
pruning with random regrowth is SET (Mocanu et al. 2018); growth toward co-active pairs, the
current batch's ⟨|post|·|pre|ᵀ⟩, is the Hebbian sprouting of Butz & van Ooyen's models; DEEP R
(Bellec et al. 2018) prunes by sign change instead.

Growth samples without replacement by Efraimidis & Spirakis (2006): the n largest keys
u^(1/s), u uniform, are a sample of n of the scores s without replacement in proportion to
them (with all s equal, the n largest u) — one pass and a top-k, where ``torch.multinomial``
without replacement took 36 ms for 7,800 of 1.4 M absent synapses. It is written here rather
than taken from a library: no maintained PyTorch package rewires a live layer's mask, and a
few lines keep the mask, the weights and the optimizer's view of them in one place. The module owns its random
generator; its state is saved with the layer, so a resumed run rewires exactly as it would have.
"""

from __future__ import annotations

import torch
from torch import nn

from hebbnet.rules.base import ResizableBuffers

GROWTH = ("random", "coactive")
PRUNING = ("weak", "unused")


@torch.no_grad()
def rewire(weight: torch.Tensor, mask: torch.Tensor, protected: torch.Tensor, n: int,
           growth_scores: torch.Tensor | None, new_weight: float,
           generator: torch.Generator, usage: torch.Tensor | None = None
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Prune the ``n`` weakest unprotected synapses and grow ``n`` absent ones, in place.

    Args:
        weight, mask, protected: the weights, the existing synapses and the ones spared this
            time (all the same shape; the masks boolean).
        n: synapses to replace.
        usage: a factor on |W| when judging weakness, broadcast to the weight's shape (each
            input's mean activity), or None.
        growth_scores: non-negative weights for choosing where to grow (same shape), or None
            for uniform.
        new_weight: a grown synapse's starting weight.
        generator: the random generator (CPU).
    Returns:
        the flat indices pruned and grown.
    """
    flat_w, flat_mask = weight.view(-1), mask.view(-1)
    candidates = (flat_mask & ~protected.view(-1)).nonzero().squeeze(1)
    strength = weight.abs() if usage is None else weight.abs() * usage
    weakest = strength.reshape(-1)[candidates].topk(n, largest=False).indices
    pruned = candidates[weakest]
    absent = (~flat_mask).nonzero().squeeze(1)  # the just-pruned are still present here
    keys = torch.rand(len(absent), generator=generator)  # the n largest: a uniform sample
    if growth_scores is not None:  # u^(1/s), compared as log(u)/s
        keys = keys.log_().div_(growth_scores.reshape(-1)[absent].float().cpu() + 1e-12)
    grown = absent[keys.topk(n, sorted=False).indices.to(absent.device)]
    flat_mask[pruned], flat_w[pruned] = False, 0
    flat_mask[grown], flat_w[grown] = True, new_weight
    return pruned, grown


class SynapseTurnover(ResizableBuffers, nn.Module):
    """A plastic layer's connectivity under a fixed synapse budget; pass as ``structure=``.

    Args:
        density: the fraction of the layer's possible synapses that exist (the budget), in
            (0, 1]; or give ``budget``, a count, instead.
        rate: the fraction of the budget replaced per period, in [0, 0.5].
        period: plastic updates between two rewirings.
        growth: ``"random"`` or ``"coactive"`` (toward pairs active together in the batch).
        prune: ``"weak"`` (smallest |w|) or ``"unused"`` (smallest |w| times the input's
            mean activity).
        new_weight: the weight a new synapse starts with (weak: 0 by default; then it grows
            only on a unit that other synapses drive, as activity-dependent rules need).
        seed: the generator's seed (the initial mask and every choice after it).

    Buffers: ``mask`` (bool, the weight's shape), ``new`` (grown at the last rewiring),
    ``input_activity`` (ā_j), ``rewirings``, ``replaced`` (counts) and ``last_turnover`` (the
    fraction of the budget new at the last rewiring); saved in the layer's ``state_dict`` with
    the generator's state and the update count.
    """

    mask: torch.Tensor
    new: torch.Tensor
    input_activity: torch.Tensor
    gate: torch.Tensor
    rewirings: torch.Tensor
    replaced: torch.Tensor
    last_turnover: torch.Tensor
    budget: int  # once attached (the constructor's density or budget made a count)

    def __init__(self, density: float | None = None, rate: float = 0.05, period: int = 100,
                 growth: str = "random", new_weight: float = 0.0, budget: int | None = None,
                 seed: int = 0, prune: str = "weak"):
        super().__init__()
        if (density is None) == (budget is None):
            raise ValueError("SynapseTurnover takes one of density= (a fraction) or budget= "
                             f"(a count); got density={density}, budget={budget}.")
        if density is not None and not 0 < density <= 1:
            raise ValueError(f"SynapseTurnover density must be in (0, 1], got {density}.")
        if not 0 <= rate <= 0.5:
            raise ValueError(f"SynapseTurnover rate must be in [0, 0.5] (the fraction of the "
                             f"budget replaced per period; the synapses grown last are spared "
                             f"once, so at most half can go), got {rate}.")
        if period < 1:
            raise ValueError(f"SynapseTurnover period must be >= 1 plastic update, got {period}.")
        if growth not in GROWTH:
            raise ValueError(f"Unknown growth {growth!r}; valid: {', '.join(GROWTH)}.")
        if prune not in PRUNING:
            raise ValueError(f"Unknown prune {prune!r}; valid: {', '.join(PRUNING)}.")
        self.density, self.rate = density, rate
        self.budget = budget if budget is not None else 0  # set from the density in attach
        self.period, self.growth, self.new_weight = period, growth, new_weight
        self.prune = prune
        self.generator = torch.Generator().manual_seed(seed)
        for name in ("mask", "new"):
            self.register_buffer(name, torch.zeros(0, dtype=torch.bool))
        self.register_buffer("input_activity", torch.zeros(0))  # ā_j, for prune="unused"
        # the mask as 0/1 in the weights' dtype: multiplying by it is 8x faster than by a bool
        self.register_buffer("gate", torch.zeros(0), persistent=False)
        for name in ("rewirings", "replaced"):
            self.register_buffer(name, torch.zeros((), dtype=torch.long))
        self.steps = 0  # plastic updates so far: a Python int, so counting never syncs a device
        self.register_buffer("last_turnover", torch.zeros(()))

    @torch.no_grad()
    def attach(self, weight: torch.Tensor) -> None:
        """Draw the initial connectivity for ``weight`` and zero the absent synapses."""
        size = weight.numel()
        budget = round(self.density * size) if self.density is not None else self.budget
        if not 0 < budget <= size:
            raise ValueError(f"SynapseTurnover budget {budget} does not fit a layer of {size} "
                             f"possible synapses (weight {tuple(weight.shape)}): give 0 < "
                             "budget <= that, or a density in (0, 1].")
        if round(self.rate * budget) > size - budget and self.rate > 0:
            raise ValueError(f"SynapseTurnover rate {self.rate} replaces {round(self.rate * budget)}"
                             f" synapses per period, but only {size - budget} are absent to grow "
                             "into: lower the rate or the density.")
        self.budget = budget
        chosen = torch.randperm(size, generator=self.generator)[:budget]
        mask = torch.zeros(size, dtype=torch.bool)
        mask[chosen] = True
        self.mask = mask.view(weight.shape).to(weight.device)
        self.new = torch.zeros_like(self.mask)
        self.input_activity = torch.zeros(size // weight.shape[0], device=weight.device)
        self.gate = self.mask.to(weight.dtype)
        weight.mul_(self.gate)

    @property
    def synapses(self) -> int:
        return int(self.mask.sum())

    @torch.no_grad()
    def enforce(self, *tensors: torch.Tensor | None) -> None:
        """Zero every absent synapse of each tensor given (weights, gradients, a consolidated
        copy of the weights)."""
        for tensor in tensors:
            if tensor is not None and tensor.numel():
                tensor.mul_(self.gate.view(tensor.shape))

    @torch.no_grad()
    def step(self, weight: torch.Tensor, pre: torch.Tensor, post: torch.Tensor) -> None:
        """Count one plastic update; rewire at the end of each period. ``pre`` (N, n_in) and
        ``post`` (N, n_out) are the batch the layer just learned from."""
        self.steps += 1
        if self.prune == "unused":
            activity = pre.detach().abs().mean(0).to(self.input_activity.dtype)
            self.input_activity.lerp_(activity, 1 / self.period)
        if self.steps % self.period or self.rate == 0:
            return
        n = round(self.rate * self.budget)
        rows = weight.view(weight.shape[0], -1)
        scores = post.abs().T @ pre.abs() if self.growth == "coactive" else None
        usage = self.input_activity if self.prune == "unused" else None
        _, grown = rewire(rows, self.mask.view(rows.shape), self.new.view(rows.shape), n,
                          scores, self.new_weight, self.generator, usage)
        self.new.zero_()
        self.new.view(-1)[grown] = True
        self.gate.copy_(self.mask)
        self.rewirings += 1
        self.replaced += n
        self.last_turnover.fill_(n / self.budget)

    def get_extra_state(self) -> dict:
        return {"generator": self.generator.get_state(), "steps": self.steps}

    def set_extra_state(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.steps = state["steps"]

    def resizable_buffers(self) -> tuple[str, ...]:
        return ("mask", "new", "input_activity")

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self.gate = self.mask.to(self.gate.dtype)

    def extra_repr(self) -> str:
        size = f"density={self.density}" if self.density is not None else f"budget={self.budget}"
        return (f"{size}, rate={self.rate}, period={self.period}, growth={self.growth!r}, "
                f"prune={self.prune!r}, new_weight={self.new_weight}")


def turnover_fraction(before: torch.Tensor, after: torch.Tensor) -> float:
    """The fraction of the synapses in ``before`` that are gone in ``after`` (two masks)."""
    return float((before & ~after).sum()) / max(int(before.sum()), 1)
