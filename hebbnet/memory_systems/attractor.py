"""A hippocampus that stores in synapses: CA3 as a sparse auto-associative (Willshaw) network.

McClelland, McNaughton & O'Reilly (1995) put episodes in the weights of a fast, sparse,
recurrent network. Here an episode is a sparse binary pattern ξ ∈ {0, 1}^N with k ones (the
dentate gyrus's separated code; in the CLS, the cortex's own input code), and CA3 learns it in
one shot by the clipped Hebbian rule of Willshaw, Buneman & Longuet-Higgins (1969):

.. math:: W_{ij} \\leftarrow \\max(W_{ij},\\; \\xi_i \\xi_j), \\qquad W \\in \\{0, 1\\}^{N\\times N}

one bit per synapse, so the store's bytes are N²/8 whatever it holds. Recall is k-winners-take-
all settling from a cue x₀: x_{t+1} = 1[(W x_t)_i among the k largest] (ties go to the units
already on, then by a random jitter drawn once per recall, so that settling reaches a fixed
point), until nothing
changes or ``iterations`` steps; a cue with half its ones missing completes to the stored
pattern. Replay is spontaneous reactivation: noise sets off activity that spreads and settles
into the stored attractors (:meth:`reactivate`).

Capacity: a synapse is potentiated with probability p₁ = 1 − (1 − a²)^M after M patterns of
activity a = k/N; retrieval holds while p₁ stays well below 1 — at p₁ = ½, M ≈ ln 2 / a² — so
sparse patterns buy capacity quadratically (N = 1000, k = 20: ≈ 1,700 patterns, against
≈ 0.14 N = 140 for a dense Hopfield network). :attr:`load` is p₁; storing beyond
``max_load`` warns (:class:`CapacityWarning`) and recall's :attr:`Recall.stability` — the share
of the settled pattern's units that the pattern drives more strongly than any unit outside it —
falls, a signal a caller can act on.

Each pattern's tag (in the CLS: its (task, label) class) is read out by a hetero-associative
count readout, the CA3 → CA1 projection: T[c] += ξ for a pattern of tag c, and a recalled
pattern x gets the tag argmax_c T[c]·x / n_c (n_c: patterns of tag c). The counts are int32,
``4 · tags · N`` bytes. Written here because no maintained library offers a Willshaw network
with tensors.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch

from hebbnet.data import TensorSet
from hebbnet.data.packing import pack_pixels, unpack_pixels


class CapacityWarning(UserWarning):
    """The attractor store is loaded past the point where its recall stays reliable."""


@dataclass(frozen=True)
class Recall:
    patterns: torch.Tensor  # (B, N) settled states in {0, 1}, k ones each
    tags: torch.Tensor  # (B,) each state's tag, from the count readout
    stability: torch.Tensor  # (B,) share of a state's units driven above every unit off


class AttractorMemory:
    """Args:
        units: N, CA3 units (the pattern length).
        active: k, ones per pattern (its sparsity a = k/N).
        iterations: settling steps at most.
        max_load: the share of potentiated synapses past which storing warns.

    Shape: patterns (B, N) of 0s and 1s with ``active`` ones each; tags (B,) non-negative ints.
    """

    def __init__(self, units: int, active: int, iterations: int = 10, max_load: float = 0.5):
        if not 0 < active <= units:
            raise ValueError(f"An attractor store needs 0 < active <= units; got active={active}, "
                             f"units={units}.")
        if iterations < 1 or not 0 < max_load <= 1:
            raise ValueError(f"Need iterations >= 1 and 0 < max_load <= 1; got {iterations}, "
                             f"{max_load}.")
        self.units, self.active = units, active
        self.iterations, self.max_load = iterations, max_load
        self.synapses = pack_pixels(torch.zeros(units, units, dtype=torch.uint8), 1)
        self.tag_counts = torch.zeros(0, units, dtype=torch.int32)  # CA3 → CA1 readout
        self.tag_sizes = torch.zeros(0, dtype=torch.int64)
        self.stored = 0

    def weights(self) -> torch.Tensor:
        """W (N, N) as float 0/1, unpacked from its one bit per synapse."""
        return unpack_pixels(self.synapses, 1, (self.units,)).float().div_(255)

    @property
    def load(self) -> float:
        """p₁, the share of potentiated synapses."""
        return float(self.weights().mean())

    @property
    def nbytes(self) -> int:
        return (self.synapses.nbytes + self.tag_counts.nbytes + self.tag_sizes.nbytes)

    def store(self, patterns: torch.Tensor, tags: torch.Tensor) -> None:
        """One-shot Hebbian storage of ``patterns`` with their ``tags``."""
        x = self._check(patterns)
        if len(tags) != len(x) or (len(tags) and int(tags.min()) < 0):
            raise ValueError(f"Need one non-negative tag per pattern; got {len(tags)} tags for "
                             f"{len(x)} patterns.")
        weights = torch.maximum(self.weights(), (x.T @ x > 0).float())
        self.synapses = pack_pixels(weights.to(torch.uint8) * 255, 1)
        self._count_tags(x, tags.long().cpu())
        self.stored += len(x)
        load = float(weights.mean())
        if load > self.max_load:
            warnings.warn(f"The attractor store is past its capacity: {load:.2f} of its synapses "
                          f"are potentiated (max_load {self.max_load}) after {self.stored} "
                          "patterns; recall becomes unreliable. Store fewer patterns, sparser "
                          "ones or in more units.", CapacityWarning, stacklevel=2)

    def _count_tags(self, x: torch.Tensor, tags: torch.Tensor) -> None:
        n_tags = int(tags.max()) + 1 if len(tags) else 0
        if n_tags > len(self.tag_sizes):
            grow = n_tags - len(self.tag_sizes)
            self.tag_counts = torch.cat([self.tag_counts,
                                         self.tag_counts.new_zeros(grow, self.units)])
            self.tag_sizes = torch.cat([self.tag_sizes, self.tag_sizes.new_zeros(grow)])
        self.tag_counts.index_add_(0, tags, x.to(torch.int32))
        self.tag_sizes.index_add_(0, tags, torch.ones_like(tags))

    def complete(self, cue: torch.Tensor, generator: torch.Generator) -> Recall:
        """Settle from ``cue`` (B, N) of 0s and 1s (any number of ones) into an attractor."""
        return self._settle(self._check(cue, exact=False), self.weights(), generator)

    def _settle(self, x: torch.Tensor, weights: torch.Tensor,
                generator: torch.Generator) -> Recall:
        jitter = torch.rand(x.shape, generator=generator) * 0.5  # the same at every step
        for _ in range(self.iterations):
            settled = self._winners(x @ weights + 0.5 * x + jitter)  # ties: stay on, then jitter
            if torch.equal(settled, x):
                break
            x = settled
        return Recall(x, self._tags(x), self._stability(x, weights))

    def reactivate(self, n: int, generator: torch.Generator) -> Recall:
        """Spontaneous reactivation: in each of ``n`` rows noise sets off one random unit of a
        stored pattern; activity then spreads, one unit at a time, to the unit most strongly
        driven by those already on (ties at random) until k are on, and the state settles.
        At low load the units so recruited form a stored pattern (a k-clique of W)."""
        if self.stored == 0:
            raise RuntimeError("The attractor store is empty; nothing to reactivate.")
        weights = self.weights()
        used = weights.diagonal() > 0  # units that take part in a stored pattern
        rows = torch.arange(n)
        unit = torch.multinomial(used.float(), n, replacement=True, generator=generator)
        x = torch.zeros(n, self.units)
        drive = torch.rand(n, self.units, generator=generator) * 0.5  # ties broken at random
        for _ in range(self.active):
            x[rows, unit] = 1.0
            drive += weights[unit]  # W x, one recruited unit at a time
            drive[rows, unit] = -float("inf")
            unit = drive.argmax(1)
        return self._settle(x, weights, generator)

    def _winners(self, drive: torch.Tensor) -> torch.Tensor:
        """The k most driven units of each row."""
        winners = drive.topk(self.active, dim=1).indices
        return torch.zeros_like(drive).scatter_(1, winners, 1.0)

    def _stability(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Share of each state's units driven by the state more strongly than every unit that
        is off (1 for a stored pattern at low load; a spurious state has rivals)."""
        drive = x @ weights
        rival = drive.masked_fill(x > 0, -float("inf")).max(1, keepdim=True).values
        return ((drive > rival) & (x > 0)).sum(1) / x.sum(1).clamp_min(1)

    def _tags(self, x: torch.Tensor) -> torch.Tensor:
        if len(self.tag_sizes) == 0:
            return torch.zeros(len(x), dtype=torch.long)
        score = x @ self.tag_counts.float().T / self.tag_sizes.clamp_min(1).float()
        score[:, self.tag_sizes == 0] = -1.0  # tags never stored are never read out
        return score.argmax(1)

    def _check(self, patterns: torch.Tensor, exact: bool = True) -> torch.Tensor:
        x = patterns.reshape(len(patterns), -1).float().cpu()
        if x.shape[1] != self.units or not ((x == 0) | (x == 1)).all():
            raise ValueError(f"Attractor patterns are rows of {self.units} zeros and ones; got "
                             f"shape {tuple(patterns.shape)}.")
        if exact and len(x) and not (x.sum(1) == self.active).all():
            raise ValueError(f"Stored patterns need exactly {self.active} ones each (the store's "
                             "sparsity); encode them with a k-winners code of that k.")
        return x

    def state_dict(self) -> dict:
        return {"synapses": self.synapses, "tag_counts": self.tag_counts,
                "tag_sizes": self.tag_sizes, "stored": self.stored}

    def load_state_dict(self, state: dict) -> None:
        if state["synapses"].shape != self.synapses.shape:
            raise ValueError(f"This attractor store has {self.units} units; the saved one has "
                             f"a synapse matrix of shape {tuple(state['synapses'].shape)}.")
        self.synapses, self.stored = state["synapses"], state["stored"]
        self.tag_counts, self.tag_sizes = state["tag_counts"], state["tag_sizes"]


class AttractorHippocampus:
    """The CLS's hippocampus as synapses (``strategy.hippocampus=attractor``): the samples of
    the stream, offered once each, are stored with probability ``store_probability`` as their
    binary input codes (the cortex's sparse code: ``units`` with ``active`` ones) in an
    :class:`AttractorMemory`; replay is its spontaneous reactivation, labelled by the count
    readout. Nothing else is kept: no slot holds a sample, and ``nbytes`` is the synapses' bits
    and the readout's counts. The (task, label) pairs the tags stand for are kept as well (two
    bytes a pair).

    Args:
        units: N, the code's units.
        active: k, its winners.
        store_probability: the share of the stream's samples stored.
        iterations: settling steps at most.
    """

    def __init__(self, units: int, active: int, store_probability: float, iterations: int = 10):
        if not 0 < store_probability <= 1:
            raise ValueError("strategy.attractor.store_probability is the share of the stream "
                             f"stored, in (0, 1]; got {store_probability}.")
        self.units, self.active, self.iterations = units, active, iterations
        self.store_probability = store_probability
        self.clear()

    def clear(self) -> None:
        """A lesion (or a fresh start): every synapse back to zero."""
        self.memory = AttractorMemory(self.units, self.active, self.iterations)
        self.pairs: list[tuple[int, int]] = []  # tag → (task, label)

    def __len__(self) -> int:
        return self.memory.stored

    @property
    def nbytes(self) -> int:
        return self.memory.nbytes + 2 * len(self.pairs)

    def store(self, data: TensorSet, generator: torch.Generator) -> None:
        """Offer each sample (codes as bytes 0/255) once; keep it with the set probability."""
        kept = torch.rand(len(data), generator=generator) < self.store_probability
        if not kept.any():
            return
        data = data.to("cpu").select(kept.nonzero().squeeze(1))
        tags = torch.tensor([self._tag(int(t), int(y)) for t, y in zip(data.t, data.y)])
        self.memory.store((data.x > 127).float(), tags)

    def _tag(self, task: int, label: int) -> int:
        if (task, label) not in self.pairs:
            self.pairs.append((task, label))
        return self.pairs.index((task, label))

    def sample(self, n: int, generator: torch.Generator) -> TensorSet:
        """``n`` spontaneous reactivations, as codes (bytes 0/255) with labels and task ids."""
        recall = self.memory.reactivate(n, generator)
        pairs = torch.tensor(self.pairs)[recall.tags]
        return TensorSet((recall.patterns * 255).to(torch.uint8), pairs[:, 1], pairs[:, 0])

    def episodes(self) -> None:
        """No episode is kept as a sample."""
        return None

    def state_dict(self) -> dict:
        return {"memory": self.memory.state_dict(), "pairs": list(self.pairs)}

    def load_state_dict(self, state: dict) -> None:
        self.memory.load_state_dict(state["memory"])
        self.pairs = [tuple(pair) for pair in state["pairs"]]
