"""Readouts: what turns a plastic network's features h into class scores.

Every readout maps features (N, d) to logits (N, n_outputs) in ``forward``. One learns by
backprop (:class:`LinearReadout`, trained by a strategy's loss and optimiser); the others learn
by a local rule in :meth:`Readout.learn` from the features, the targets and the output units the
scenario allows (``active``, (N, n_outputs) bool or None for all), with no gradient:

* :class:`DeltaRule` — Widrow & Hoff's LMS on one-hot targets, normalised by the input's
  power, ΔW = η ⟨(t − Wh) hᵀ/(‖h‖² + 1)⟩ over the allowed units (the error at each output unit
  times the presynaptic feature: local);
* :class:`HebbianAssociation` — ΔW_c = η Σ_{b: y_b = c} h_b: only the weights from active
  features to the target unit grow, nothing else changes (the fly's mushroom-body output);
* :class:`ClassMeans` — nearest class mean: each unit keeps the running mean of its class's
  features, logits −‖h − μ_c‖² (a unit no sample has reached scores −∞);
* :class:`NeuronLabels` — Diehl & Cook's labelling: each feature (a neuron) is labelled with
  the class whose samples made it most active on average; a class scores the mean activity of
  its neurons.

Whatever a readout carries across tasks besides its weights (per-class counts, per-neuron
activity sums) is its ``statistics_bytes``, counted in a run's memory. All statistics come from
training samples as they stream by; nothing is re-read, and the test set labels nothing.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Readout(nn.Module):
    """Base: ``learns_locally`` readouts implement :meth:`learn`."""

    learns_locally = True

    def learn(self, h: torch.Tensor, targets: torch.Tensor, active: torch.Tensor | None) -> None:
        raise NotImplementedError

    def statistics_bytes(self) -> int:
        return 0


class LinearReadout(Readout):
    """A linear layer trained by backprop (any strategy's loss and optimiser).

    Shape: h (N, in_features) → logits (N, n_outputs).
    """

    learns_locally = False

    def __init__(self, in_features: int, n_outputs: int):
        super().__init__()
        self.linear = nn.Linear(in_features, n_outputs)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.linear(h)


class DeltaRule(Readout):
    r"""Normalised LMS (Widrow & Hoff's delta rule, per-sample step scaled by the input's
    power): :math:`\Delta W = \eta\,\langle (t - W h - b)\, h^\top / (\lVert h\rVert^2 + 1)
    \rangle`, b likewise, on the allowed units only (an expanding class-incremental head
    leaves unseen classes' units alone).

    The normalisation makes the rule stable for 0 < η < 2 whatever the features' scale (plain
    LMS needs η·‖h‖² < 2, which 2,000 unnormalised Hebbian features break at any usable η).

    Args:
        in_features, n_outputs: sizes.
        lr: η, in (0, 2).
    """

    weight: torch.Tensor
    bias: torch.Tensor

    def __init__(self, in_features: int, n_outputs: int, lr: float = 0.1):
        super().__init__()
        _check_lr(lr)
        if lr >= 2:
            raise ValueError(f"The normalised delta rule is stable for lr < 2, got {lr} "
                             "(model.readout_lr).")
        self.lr = lr
        self.register_buffer("weight", torch.zeros(n_outputs, in_features))
        self.register_buffer("bias", torch.zeros(n_outputs))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return F.linear(h, self.weight, self.bias)

    @torch.no_grad()
    def learn(self, h, targets, active):
        error = F.one_hot(targets, len(self.bias)).to(h.dtype) - self(h)
        if active is not None:
            error = error * active
        error = error / (h.square().sum(1, keepdim=True) + 1)  # the bias's input is 1
        self.weight.add_(error.T @ h, alpha=self.lr / len(h))
        self.bias.add_(error.mean(0), alpha=self.lr)


class HebbianAssociation(Readout):
    r""":math:`\Delta W_c = \eta \sum_{b:\, y_b = c} h_b`, then :math:`W \leftarrow \min(W,
    w_\max)`: the target unit's weights from the active features grow, up to a saturation
    level; no other weight changes, so what one class learned is never overwritten by another
    (Shen, Dasgupta & Navlakha 2021, whose code caps weights at 1).

    Saturation keeps a class whose samples share many features (a "1") from outscoring the
    others everywhere: a synapse counts whether the pair was associated often enough, not how
    often.

    Args:
        in_features, n_outputs: sizes.
        lr: η.
        w_max: the saturation level (None: none); with η = 1, the number of co-activations
            after which a synapse stops growing.
    """

    weight: torch.Tensor

    def __init__(self, in_features: int, n_outputs: int, lr: float = 1.0,
                 w_max: float | None = None):
        super().__init__()
        _check_lr(lr)
        if w_max is not None and not w_max > 0:
            raise ValueError(f"A saturation level must be positive, got {w_max} "
                             "(model.readout_w_max).")
        self.lr, self.w_max = lr, w_max
        self.register_buffer("weight", torch.zeros(n_outputs, in_features))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return F.linear(h, self.weight)

    @torch.no_grad()
    def learn(self, h, targets, active):
        self.weight.index_add_(0, targets, h, alpha=self.lr)
        if self.w_max is not None:
            self.weight.clamp_(max=self.w_max)


class ClassMeans(Readout):
    r"""Nearest class mean: :math:`\mu_c` the running mean of class c's features,
    logits :math:`-\lVert h - \mu_c \rVert^2`; units with no sample yet score −∞.

    The per-class sample counts are its statistics (``statistics_bytes``); the means are its
    weights.
    """

    means: torch.Tensor
    counts: torch.Tensor

    def __init__(self, in_features: int, n_outputs: int):
        super().__init__()
        self.register_buffer("means", torch.zeros(n_outputs, in_features))
        self.register_buffer("counts", torch.zeros(n_outputs, dtype=torch.long))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        scores = -torch.cdist(h, self.means.to(h.dtype)).square()
        return scores.masked_fill(self.counts == 0, float("-inf"))

    @torch.no_grad()
    def learn(self, h, targets, active):
        sums = torch.zeros_like(self.means).index_add_(0, targets, h.to(self.means.dtype))
        added = torch.bincount(targets, minlength=len(self.counts))
        self.counts.add_(added)
        seen = added > 0
        share = (added[seen] / self.counts[seen]).unsqueeze(1).to(self.means.dtype)
        self.means[seen] += share * (sums[seen] / added[seen].unsqueeze(1) - self.means[seen])

    def statistics_bytes(self) -> int:
        return self.counts.nbytes


class NeuronLabels(Readout):
    """Diehl & Cook (2015): neuron j's label is argmax_c of its mean activity over the training
    samples of class c; a class scores the mean activity of the neurons labelled with it
    ("all-activity" vote). Neurons never active, and classes with no neuron, score 0.

    The per-class activity sums (n_outputs, in_features) and sample counts are its statistics:
    they carry each neuron's history across tasks, so a neuron that answered only class 0 and is
    never driven again keeps its label.
    """

    activity: torch.Tensor
    counts: torch.Tensor

    def __init__(self, in_features: int, n_outputs: int):
        super().__init__()
        self.register_buffer("activity", torch.zeros(n_outputs, in_features))
        self.register_buffer("counts", torch.zeros(n_outputs, dtype=torch.long))

    def labels(self) -> torch.Tensor:
        """Each neuron's class (in_features,), −1 for a neuron never active."""
        return label_neurons(self.activity, self.counts)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return vote(h, self.labels(), len(self.counts))

    @torch.no_grad()
    def learn(self, h, targets, active):
        self.activity.index_add_(0, targets, h.to(self.activity.dtype))
        self.counts.add_(torch.bincount(targets, minlength=len(self.counts)))

    def statistics_bytes(self) -> int:
        return self.activity.nbytes + self.counts.nbytes


def label_neurons(activity: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Neuron j's class: argmax_c activity[c, j] / counts[c] (its mean activity over class c's
    samples); −1 for a neuron never active. ``activity`` (C, neurons), ``counts`` (C,)."""
    mean = activity / counts.clamp_min(1).unsqueeze(1)
    never = torch.full_like(mean[0], -1, dtype=torch.long)
    return torch.where(activity.sum(0) > 0, mean.argmax(0), never)


def vote(h: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Each class's score: the mean activity in ``h`` (N, neurons) of the neurons labelled with
    it (0 for a class without neurons); unlabelled neurons (−1) do not vote."""
    known = labels >= 0
    votes = torch.zeros(len(h), n_classes, dtype=h.dtype, device=h.device)
    votes.index_add_(1, labels[known], h[:, known])
    return votes / torch.bincount(labels[known], minlength=n_classes).clamp_min(1)


READOUTS = {"backprop": LinearReadout, "delta": DeltaRule, "hebbian": HebbianAssociation,
            "class_means": ClassMeans, "neuron_labels": NeuronLabels}


def make_readout(name: str, in_features: int, n_outputs: int, lr: float | None = None,
                 w_max: float | None = None) -> Readout:
    """A readout by name (``model.readout``); ``lr`` for the rules that have one, ``w_max``
    for the Hebbian association."""
    if name not in READOUTS:
        raise ValueError(f"Unknown model.readout {name!r}; valid: {', '.join(READOUTS)}.")
    if w_max is not None and name != "hebbian":
        raise ValueError(f"model.readout_w_max saturates the Hebbian association only; "
                         f"model.readout is {name!r}. Leave it null.")
    cls = READOUTS[name]
    options = {"lr": lr} if lr is not None and cls in (DeltaRule, HebbianAssociation) else {}
    if w_max is not None:
        options["w_max"] = w_max
    return cls(in_features, n_outputs, **options)


def _check_lr(lr: float) -> None:
    if not lr > 0:
        raise ValueError(f"A readout's learning rate must be positive, got {lr} "
                         "(model.readout_lr).")
