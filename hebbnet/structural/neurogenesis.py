"""Neurogenesis: units born into a plastic layer while it learns, excitable while young.

The adult dentate gyrus adds neurons throughout life; a newborn granule cell is more
excitable than a mature one for its first weeks and is preferentially recruited into memories
formed then (Schmidt-Hieber et al. 2004; Aimone et al. 2011). Here a layer is built at its
full capacity and :class:`Neurogenesis` decides which of its units exist: an unborn unit has
zero weights, never wins a competition and outputs 0, so no rule changes it; a born unit of
age a (plastic updates since birth) enters the competition with the extra drive

.. math:: u_i \\leftarrow u_i + \\beta\\, e^{-a_i/\\tau},

which fades as it matures. The bonus decides who wins and learns (the response); a layer
that emits its drive passes the drive on without it. Why: a readout that learns from the
emitted features would otherwise see a unit's output fall as it matures — class means taken
while a block was young no longer match its mature output (on class-incremental Split MNIST
the emitted bonus took a Krotov-Hopfield network to chance, benchmarks/RESULTS.md).

Why a fixed capacity rather than resizing the weight: the
parameter keeps its shape, so an optimizer's state in ``"grad"`` mode (Adam's moments of a
unit that never had a gradient are zero), a ``state_dict``, a compiled graph and data-parallel
replicas stay valid across births; the capacity is the stated maximum a layer may grow to.

Pass it as the last of a layer's ``homeostasis=`` mechanisms (its bias must be the last word
on the competition) and grow with :meth:`hebbnet.layers.PlasticLayer.grow`, which also
starts a newborn's per-unit state afresh in the rule and the other mechanisms
(``reset_units``: a BCM threshold at θ₀, an intrinsic threshold at 0, a synaptic-scaling rate
at its target) — its silence before birth is no history: an intrinsic threshold would have
sunk and a scaling rate fallen toward 0, which would scale a newborn's weights up at birth.

It serves dense and convolutional layers (a convolutional unit is a channel), and the fixed
sparse code of :class:`hebbnet.layers.SparseCode` (the dentate gyrus's code).
"""

from __future__ import annotations

import torch

from hebbnet.homeostasis.base import Homeostasis


class Neurogenesis(Homeostasis):
    """Which of a layer's ``capacity`` units exist, and how excitable the young ones are.

    Args:
        capacity: the layer's units (its ``out_features`` or ``out_channels``).
        born: the units alive from the start (the first ``born``).
        excitability: β, a newborn's extra drive.
        maturation: τ, in plastic updates.

    Buffers: ``alive`` (bool, (capacity,)), ``age`` (plastic updates since birth).
    """

    alive: torch.Tensor
    age: torch.Tensor

    def __init__(self, capacity: int, born: int, excitability: float = 0.0,
                 maturation: float = 100.0):
        super().__init__()
        if not 0 < born <= capacity:
            raise ValueError(f"Neurogenesis needs 0 < born <= capacity; got born={born}, "
                             f"capacity={capacity}.")
        if excitability < 0 or maturation <= 0:
            raise ValueError(f"Neurogenesis needs excitability >= 0 and maturation > 0; got "
                             f"{excitability}, {maturation}.")
        self.excitability, self.maturation = excitability, maturation
        self.register_buffer("alive", torch.arange(capacity) < born)
        self.register_buffer("age", torch.zeros(capacity))

    @property
    def born(self) -> int:
        return int(self.alive.sum())

    @torch.no_grad()
    def attach(self, weight: torch.Tensor) -> None:
        """Unborn units start with zero weights."""
        weight.mul_(self.alive.reshape(-1, *([1] * (weight.ndim - 1))).to(weight.dtype))

    def _per_unit(self, values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return values.reshape(1, -1, *([1] * (like.ndim - 2)))

    def compete(self, u: torch.Tensor) -> torch.Tensor:
        """Young units' extra drive in the competition; unborn units below every born one in
        each sample."""
        bonus = self.excitability * torch.exp(-self.age / self.maturation)
        u = u + self._per_unit(bonus, u).to(u.dtype)
        floor = u.detach().flatten(1).amin(1).reshape(-1, *([1] * (u.ndim - 1))) - 1
        return torch.where(self._per_unit(self.alive, u), u, floor)

    def response(self, y: torch.Tensor) -> torch.Tensor:
        return torch.where(self._per_unit(self.alive, y), y, torch.zeros_like(y))

    def regulate(self, weight: torch.Tensor, post: torch.Tensor, u: torch.Tensor) -> None:
        """Born units age by one update; unborn rows stay zero whatever a rule did."""
        self.mature()
        self.attach(weight)

    @torch.no_grad()
    def mature(self, steps: int = 1) -> None:
        """Born units age by ``steps``."""
        self.age.add_(steps * self.alive.to(self.age.dtype))

    @torch.no_grad()
    def grow(self, n: int, weight: torch.Tensor, init: torch.Tensor | None = None) -> torch.Tensor:
        """Give birth to ``n`` units: the first ``n`` unborn ones, at age 0, with weights
        ``init`` (n, *weight.shape[1:]) — e.g. inputs no unit answers well — or, by default,
        Gaussian at the born units' weight scale. Returns their indices."""
        self._check_room(n)
        if init is None:
            scale = weight[self.alive].std() if self.born > 1 else weight.new_tensor(1.0)
            init = torch.randn((n, *weight.shape[1:]), device=weight.device) * scale
        elif init.shape != (n, *weight.shape[1:]):
            raise ValueError(f"init for {n} new units must have shape "
                             f"{(n, *weight.shape[1:])}, got {tuple(init.shape)}.")
        new = self.birth(n)
        weight[new] = init.to(weight)  # its dtype and device
        return new

    @torch.no_grad()
    def birth(self, n: int) -> torch.Tensor:
        """Mark the first ``n`` unborn units alive, at age 0, leaving weights to the caller
        (a fixed code's units keep the projection they were drawn with). Returns their
        indices."""
        self._check_room(n)
        new = (~self.alive).nonzero().squeeze(1)[:n]
        self.alive[new], self.age[new] = True, 0
        return new

    def _check_room(self, n: int) -> None:
        unborn = len(self.alive) - self.born
        if not 0 < n <= unborn:
            raise ValueError(f"Cannot grow {n} units: {unborn} of the capacity "
                             f"{len(self.alive)} are unborn. Build the layer (and Neurogenesis) "
                             "with a larger capacity, or grow fewer.")

    def extra_repr(self) -> str:
        return (f"capacity={len(self.alive)}, born={self.born}, excitability={self.excitability}, "
                f"maturation={self.maturation}")
