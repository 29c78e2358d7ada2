"""A hippocampus that stores in synapses: CA3 as a sparse auto-associative (Willshaw) network.

McClelland, McNaughton & O'Reilly (1995) put episodes in the weights of a fast, sparse,
recurrent network. Here an episode is a sparse binary pattern ξ ∈ {0, 1}^N with k ones (the
dentate gyrus's separated code, or the cortex's own input code), and CA3 learns it in one shot
by the clipped Hebbian rule of Willshaw, Buneman & Longuet-Higgins (1969):

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
count readout, the CA3 → CA1 projection: T[c] += ξ for a pattern of tag c (n_c: patterns of tag
c), and a recalled pattern x gets the tag of largest naive-Bayes log-likelihood,

.. math:: \\hat c = \\arg\\max_c \\sum_{i:\\, x_i = 1} \\log \\frac{T_{ci} + \\varepsilon}{n_c},
          \\qquad \\varepsilon = 10^{-3},

so a unit never active in a pattern of tag c all but rules c out (as a binary Willshaw readout
would) and the counts decide among the tags every unit has been active with. (The mean count
T[c]·x / n_c, the readout before 2026-12-05, gives 83–93 % of reactivated MNIST patterns' tags
back at 3,000–12,000 stored in 10,000 CA3 units; this one 100 %: benchmarks/RESULTS.md.) The
counts are int32, ``4 · tags · N`` bytes.

A CA3 larger than the code (``ca3_units``): the cortex's code c (N_c units, k_c on) reaches CA3
through the dentate gyrus, a fixed random expansion with k winners whose thresholds follow the
mean code offered so far (feedforward inhibition; :class:`hebbnet.layers.SparseCode`), which
makes correlated codes nearly as separate as random ones; CA3 stores the dentate pattern x, and
a hetero-associative Willshaw matrix learns the way back, CA3 → CA1 → cortex
(:class:`CorticalReadout`): V_ij ← max(V_ij, x_i c_j), a CA3 state read out as the k_c code
units it drives most.

Written here because no maintained library offers a Willshaw network with tensors.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Optional

import torch

from hebbnet.data import TensorSet
from hebbnet.data.packing import pack_pixels, unpack_pixels
from hebbnet.layers.sparse_code import SparseCode
from hebbnet.rules.competitive import k_winners

TAG_PSEUDOCOUNT = 1e-3  # ε of the tag readout: a count of zero all but rules a tag out


class CapacityWarning(UserWarning):
    """The attractor store is loaded past the point where its recall stays reliable."""


@dataclass(frozen=True)
class Recall:
    patterns: torch.Tensor  # (B, N) settled states in {0, 1}, k ones each
    tags: torch.Tensor  # (B,) each state's tag, from the count readout
    stability: torch.Tensor  # (B,) share of a state's units driven above every unit off


class WillshawSynapses:
    """Binary synapses from ``pre`` to ``post`` units, set by the clipped Hebbian rule
    W_ij ← max(W_ij, x_i y_j) and never reset. Their content is one bit a synapse, and that is
    what :attr:`nbytes` counts and :meth:`packed` keeps; in memory they are float 0/1, so that
    the drive of sparse states is one sparse-dense product (k·post additions a state).

    Shape: weights (pre, post); states (B, pre) of 0s and 1s.
    """

    def __init__(self, pre: int, post: int):
        self.weights = torch.zeros(pre, post)
        self.potentiated = 0  # synapses set

    @property
    def load(self) -> float:
        """p₁, the share of synapses set."""
        return self.potentiated / self.weights.numel()

    @property
    def nbytes(self) -> int:
        """What :meth:`packed` holds: pre × ⌈post / 8⌉."""
        pre, post = self.weights.shape
        return pre * ((post + 7) // 8)

    def potentiate(self, pre: torch.Tensor, post: torch.Tensor) -> None:
        """Set W_ij for every unit pair active together in a row of ``pre`` (B, pre) and of
        ``post`` (B, post)."""
        for x, y in zip(pre, post):
            rows, columns = x.nonzero().squeeze(1)[:, None], y.nonzero().squeeze(1)
            self.potentiated += rows.numel() * columns.numel() - int(
                self.weights[rows, columns].sum())
            self.weights[rows, columns] = 1.0

    def drive(self, states: torch.Tensor) -> torch.Tensor:
        """x W for states (B, pre): (B, post), exact (sums of ones)."""
        with warnings.catch_warnings():  # CSR is "beta" in torch
            warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta")
            return torch.sparse.mm(states.to_sparse_csr(), self.weights)

    def packed(self) -> torch.Tensor:
        """One bit a synapse: (pre, ⌈post / 8⌉) bytes."""
        return pack_pixels(self.weights.to(torch.uint8) * 255, 1)

    def load_packed(self, packed: torch.Tensor) -> None:
        pre, post = self.weights.shape
        if packed.shape != (pre, (post + 7) // 8):
            raise ValueError(f"These synapses join {pre} to {post} units; the saved ones have a "
                             f"packed matrix of shape {tuple(packed.shape)}.")
        self.weights = unpack_pixels(packed, 1, (post,)).float().div_(255)
        self.potentiated = int(self.weights.sum())


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
        self.synapses = WillshawSynapses(units, units)
        self.tag_counts = torch.zeros(0, units, dtype=torch.int32)  # CA3 → CA1 readout
        self.tag_sizes = torch.zeros(0, dtype=torch.int64)
        self.stored = 0

    @property
    def load(self) -> float:
        """p₁, the share of potentiated synapses."""
        return self.synapses.load

    @property
    def nbytes(self) -> int:
        return self.synapses.nbytes + self.tag_counts.nbytes + self.tag_sizes.nbytes

    def store(self, patterns: torch.Tensor, tags: torch.Tensor) -> None:
        """One-shot Hebbian storage of ``patterns`` with their ``tags``."""
        x = self._check(patterns)
        if len(tags) != len(x) or (len(tags) and int(tags.min()) < 0):
            raise ValueError(f"Need one non-negative tag per pattern; got {len(tags)} tags for "
                             f"{len(x)} patterns.")
        self.synapses.potentiate(x, x)
        self._count_tags(x, tags.long().cpu())
        self.stored += len(x)
        if self.load > self.max_load:
            warnings.warn(f"The attractor store is past its capacity: {self.load:.2f} of its "
                          f"synapses are potentiated (max_load {self.max_load}) after "
                          f"{self.stored} patterns; recall becomes unreliable. Store fewer "
                          "patterns, sparser ones or in more units.", CapacityWarning,
                          stacklevel=2)

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
        return self._settle(self._check(cue, exact=False), generator)

    def _settle(self, x: torch.Tensor, generator: torch.Generator) -> Recall:
        jitter = torch.rand(x.shape, generator=generator) * 0.5  # the same at every step
        drive = self.synapses.drive(x)
        for _ in range(self.iterations):
            settled = k_winners(drive + 0.5 * x + jitter, self.active)  # ties: stay on, jitter
            if torch.equal(settled, x):
                break
            x, drive = settled, self.synapses.drive(settled)
        return Recall(x, self._tags(x), self._stability(x, drive))

    def reactivate(self, n: int, generator: torch.Generator) -> Recall:
        """Spontaneous reactivation: in each of ``n`` rows noise sets off one random unit of a
        stored pattern; activity then spreads, one unit at a time, to the unit most strongly
        driven by those already on (ties at random) until k are on, and the state settles.
        At low load the units so recruited form a stored pattern (a k-clique of W)."""
        if self.stored == 0:
            raise RuntimeError("The attractor store is empty; nothing to reactivate.")
        weights = self.synapses.weights
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
        return self._settle(x, generator)

    @staticmethod
    def _stability(x: torch.Tensor, drive: torch.Tensor) -> torch.Tensor:
        """Share of each state's units driven by the state (``drive``: W x) more strongly than
        every unit that is off (1 for a stored pattern at low load; a spurious state has
        rivals)."""
        rival = drive.masked_fill(x > 0, -float("inf")).max(1, keepdim=True).values
        return ((drive > rival) & (x > 0)).sum(1) / x.sum(1).clamp_min(1)

    def _tags(self, x: torch.Tensor) -> torch.Tensor:
        if len(self.tag_sizes) == 0:
            return torch.zeros(len(x), dtype=torch.long)
        likelihood = ((self.tag_counts.float() + TAG_PSEUDOCOUNT)
                      / self.tag_sizes.clamp_min(1).float().unsqueeze(1))
        score = x @ likelihood.log().T
        score[:, self.tag_sizes == 0] = -float("inf")  # tags never stored are never read out
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
        return {"synapses": self.synapses.packed(), "tag_counts": self.tag_counts,
                "tag_sizes": self.tag_sizes, "stored": self.stored}

    def load_state_dict(self, state: dict) -> None:
        self.synapses.load_packed(state["synapses"])
        self.stored = state["stored"]
        self.tag_counts, self.tag_sizes = state["tag_counts"], state["tag_sizes"]


class CorticalReadout:
    """CA3 → CA1 → cortex: which cortical code a CA3 state stands for, learned in one shot by
    the clipped Hebbian rule as a hetero-associative Willshaw matrix,

    .. math:: V_{ij} \\leftarrow \\max(V_{ij},\\; x_i c_j), \\qquad
              \\hat c = 1[(x V)_j \\text{ among the } k_c \\text{ largest}]

    for each stored pair (CA3 pattern x with k ones, code c with k_c ones). A unit of the stored
    code gets the full drive k; another unit gets it only if all k of its synapses from x were
    set by other pairs, with probability ≈ p₁^k (p₁: :attr:`load`), so the readout stays exact
    while p₁^k · N_c ≪ 1. Ties are broken by a random jitter.

    Args:
        ca3_units: units of the CA3 states read.
        code_units: N_c, units of the cortical code.
        code_active: k_c, its winners.

    Shape: CA3 states (B, ca3_units) → codes (B, code_units) of 0s and 1s.
    """

    def __init__(self, ca3_units: int, code_units: int, code_active: int):
        self.synapses = WillshawSynapses(ca3_units, code_units)
        self.code_active = code_active

    @property
    def load(self) -> float:
        return self.synapses.load

    @property
    def nbytes(self) -> int:
        return self.synapses.nbytes

    def store(self, states: torch.Tensor, codes: torch.Tensor) -> None:
        self.synapses.potentiate(states, codes)

    def recall(self, states: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        drive = self.synapses.drive(states)
        return k_winners(drive + torch.rand(drive.shape, generator=generator) * 0.5,
                        self.code_active)


@dataclass
class AttractorConfig:
    """The attractor hippocampus's settings (``strategy.attractor.*`` of the CLS)."""

    # share of the stream's samples stored in CA3's synapses (0.02 chosen on the validation
    # split over 0.01 and 0.02, code 1,000/20: benchmarks/RESULTS.md, issue 15; with
    # ca3_units=10000 and the code 1,000/100, 0.15 was chosen over 0.1)
    store_probability: float = 0.02
    iterations: int = 10  # settling steps at most
    # CA3 larger than the code: the code reaches it through a dentate expansion to ca3_units
    # with ca3_active winners, and a CA3 -> CA1 readout gives a reactivated state's code back;
    # null: CA3 is the code's own units
    ca3_units: Optional[int] = None
    ca3_active: int = 20


class AttractorHippocampus:
    """The CLS's hippocampus as synapses (``strategy.hippocampus=attractor``): the samples of
    the stream, offered once each, are stored with probability ``store_probability`` as their
    binary input codes (the cortex's sparse code: ``units`` with ``active`` ones) in an
    :class:`AttractorMemory`; replay is its spontaneous reactivation, labelled by the count
    readout. Nothing else is kept: no slot holds a sample, and ``nbytes`` is the synapses' bits
    and the readout's counts. The (task, label) pairs the tags stand for are kept as well (two
    bytes a pair).

    With ``ca3_units``, CA3 is larger than the code: a code reaches it through the dentate
    gyrus (a fixed random expansion to ``ca3_units`` with ``ca3_active`` winners, drawn from
    ``seed``; its thresholds are its drive by the mean code offered so far), and a reactivated
    CA3 state is replayed as the code the :class:`CorticalReadout` gives it. ``nbytes`` then
    adds the readout's bits, the dentate's thresholds and seed, and the running sum of the codes
    offered (float32 a code unit, and the count). Such a hippocampus replays; it does not
    complete a partial code: the dentate separates a half code from the whole (their dentate
    patterns share 12 % of their units in a probe of 150 correlated codes), and the theory's
    path for cued recall, the direct perforant path from the entorhinal cortex to CA3, is not
    built.

    Args:
        units: N, the code's units.
        active: k, its winners.
        store_probability: the share of the stream's samples stored.
        iterations: settling steps at most.
        ca3_units: CA3's units when larger than the code; None: CA3 is the code's own units.
        ca3_active: winners of the dentate's expansion (CA3's k), with ``ca3_units``.
        seed: the dentate's projection is drawn from it.
    """

    def __init__(self, units: int, active: int, settings: AttractorConfig | None = None,
                 seed: int = 0):
        settings = settings or AttractorConfig()
        store_probability, iterations = settings.store_probability, settings.iterations
        ca3_units, ca3_active = settings.ca3_units, settings.ca3_active
        if not 0 < store_probability <= 1:
            raise ValueError("strategy.attractor.store_probability is the share of the stream "
                             f"stored, in (0, 1]; got {store_probability}.")
        if ca3_units is not None and not 0 < ca3_active <= ca3_units:
            raise ValueError("strategy.attractor.ca3_active is the dentate's winners, in "
                             f"1..ca3_units ({ca3_units}); got {ca3_active}.")
        self.units, self.active, self.iterations = units, active, iterations
        self.store_probability = store_probability
        self.ca3_units, self.ca3_active, self.seed = ca3_units, ca3_active, seed
        self.clear()

    def clear(self) -> None:
        """A lesion (or a fresh start): every synapse back to zero."""
        self.pairs: list[tuple[int, int]] = []  # tag → (task, label)
        self.dentate: SparseCode | None = None
        self.readout: CorticalReadout | None = None
        if self.ca3_units is None:
            self.memory = AttractorMemory(self.units, self.active, self.iterations)
            return
        self.memory = AttractorMemory(self.ca3_units, self.ca3_active, self.iterations)
        self.dentate = SparseCode(self.units, self.ca3_units, self.ca3_active, seed=self.seed)
        self.readout = CorticalReadout(self.ca3_units, self.units, self.active)
        self.code_sum = torch.zeros(self.units)  # the dentate's inhibition follows the mean
        self.offered = 0

    def __len__(self) -> int:
        return self.memory.stored

    @property
    def nbytes(self) -> int:
        own = self.memory.nbytes + 2 * len(self.pairs)
        if self.dentate is None or self.readout is None:
            return own
        return (own + self.readout.nbytes + self.dentate.stored_bytes() + self.code_sum.nbytes
                + 8)

    def store(self, data: TensorSet, generator: torch.Generator) -> None:
        """Offer each sample (codes as bytes 0/255) once; keep it with the set probability."""
        kept = torch.rand(len(data), generator=generator) < self.store_probability
        data = data.to("cpu")
        if self.dentate is not None:
            self.code_sum += (data.x > 127).sum(0)
            self.offered += len(data)
        if not kept.any():
            return
        data = data.select(kept.nonzero().squeeze(1))
        tags = torch.tensor([self._tag(int(t), int(y)) for t, y in zip(data.t, data.y)])
        codes = (data.x > 127).float()
        if self.dentate is None or self.readout is None:
            self.memory.store(codes, tags)
            return
        self._calibrate_dentate()
        patterns = self.dentate(codes)
        self.readout.store(patterns, codes)
        self.memory.store(patterns, tags)

    def _calibrate_dentate(self) -> None:
        """The dentate's thresholds: its drive by the mean code offered so far."""
        if self.dentate is not None and self.offered:
            self.dentate.calibrate((self.code_sum / self.offered).unsqueeze(0))

    def _tag(self, task: int, label: int) -> int:
        if (task, label) not in self.pairs:
            self.pairs.append((task, label))
        return self.pairs.index((task, label))

    def sample(self, n: int, generator: torch.Generator) -> TensorSet:
        """``n`` spontaneous reactivations, as codes (bytes 0/255) with labels and task ids."""
        recall = self.memory.reactivate(n, generator)
        codes = (recall.patterns if self.readout is None
                 else self.readout.recall(recall.patterns, generator))
        pairs = torch.tensor(self.pairs)[recall.tags]
        return TensorSet((codes * 255).to(torch.uint8), pairs[:, 1], pairs[:, 0])

    def episodes(self) -> None:
        """No episode is kept as a sample."""
        return None

    def state_dict(self) -> dict:
        state: dict = {"memory": self.memory.state_dict(), "pairs": list(self.pairs)}
        if self.readout is not None:
            state |= {"readout": self.readout.synapses.packed(), "code_sum": self.code_sum,
                      "offered": self.offered}
        return state

    def load_state_dict(self, state: dict) -> None:
        if (self.readout is None) != ("readout" not in state):
            raise ValueError("This attractor hippocampus and the saved one differ in whether CA3 "
                             "is larger than the code (strategy.attractor.ca3_units); resume "
                             "with the run's own setting.")
        self.memory.load_state_dict(state["memory"])
        self.pairs = [tuple(pair) for pair in state["pairs"]]
        if self.readout is not None:
            self.readout.synapses.load_packed(state["readout"])
            self.code_sum, self.offered = state["code_sum"], state["offered"]
            self._calibrate_dentate()
