"""Layers whose weights learn by a local rule, usable inside any ``nn.Module``.

How an update reaches the weights (``update=``):

* ``"local"``: while ``training`` (and ``plastic``), every forward pass applies
  ``W ← W + lr·ΔW`` itself, as BatchNorm updates its statistics — with the rule's restoring
  term (Oja's −⟨y²⟩W, BCM's depression, …) taken implicitly
  (:func:`hebbnet.rules.implicit_step`), so the rules that are stable in theory stay finite on
  inputs of any scale and in bfloat16.
* ``"grad"``: every forward pass adds ``−ΔW`` to ``weight.grad``; then any ``torch.optim``
  optimizer applies it. Sign convention: an optimizer minimises, so ``optimizer.step()`` with
  SGD at learning rate η moves W by ``+η·ΔW`` — the Hebbian direction. ``lr`` is unused; the
  optimizer's learning rate, schedulers, clipping and all-reduce apply as to any gradient.
  The optimizer gets the rule's own ΔW, so SGD equals the local step to first order in the
  rate (exactly, for rules without a restoring term).

Plasticity never builds an autograd graph. The weight has ``requires_grad=False`` unless you
set it, so a backprop loss can still flow *through* the layer to earlier layers without
touching its weights; set ``layer.weight.requires_grad_(True)`` in ``"grad"`` mode to add the
loss gradient to the Hebbian term. In ``"local"`` mode the update is written after the forward
pass, so a later ``backward()`` through this layer uses weights already moved by ``lr·ΔW``.

``eval()`` or ``layer.plastic = False`` freezes all plasticity, homeostasis included.

Every plastic update checks the layer's output (one reduction over the batch's outputs,
:func:`all_finite`) and raises :class:`PlasticityDivergedError` on the step it turns NaN or infinite, naming
the rule and the fix (a plain Hebbian layer fed 10⁶ outputs Inf at its fifth update). Every
``check_every`` plastic updates (default :data:`CHECK_EVERY`) the layer also checks its weights
and raises the same error when they are NaN, infinite, or large enough that products of two of
them overflow (``|W| > √max`` of the dtype): a rule that is unstable by nature (plain Hebb) may
grow, but never turns into NaN unseen. Where reading a value waits for the device (CUDA), the
per-step checks of input and output are kept on the device and read at that weight check, one
sync per ``check_every`` updates, never one per step. At the first of those checks whose batch
shows the layer's units all saying the same thing (:meth:`PlasticLayer.check_collapse`: the
units whose outputs vary carry about one signal), and at the first whose outputs barely vary
over the batch (:meth:`PlasticLayer.check_spread`), it warns once, naming the fix; for a rule
whose response can fall silent (BCM's rectified units), at the first whose batch every unit's
response rounds to 0 against its drive (:meth:`PlasticLayer.check_silence`), it warns once with
the rule's reason (a threshold that lags the response).

``schedule=CriticalPeriod(...)`` (:mod:`hebbnet.plasticity.schedules`) scales every plastic
step by a gain that follows the layer's experience (a critical period, a closing window).
``structure=SynapseTurnover(...)`` (:mod:`hebbnet.structural.turnover`) keeps only a budget of
the synapses, pruning and regrowing them as the layer learns; an absent synapse is zero in the
forward pass and in every update (in ``"grad"`` mode the layer zeroes absent weights again at
each forward pass, whatever the optimizer did to them).

``consolidation=TagAndCapture(...)`` (:mod:`hebbnet.plasticity.consolidation`) splits every
weight into a decaying early part, where the rule's changes land, and a consolidated late part
that tagged synapses capture into when plasticity-related products are available. It steps
after every plastic update; in ``"grad"`` mode it sees the weights as the optimizer left them.

What a layer outputs (``output=``): ``"response"``, the rule's postsynaptic response (a softmax
for SoftHebb, k-WTA for competitive rules), or ``"drive"``, the linear drive ``u = Wx + b``
after any homeostatic shift (an intrinsic threshold: ``u − θ``); the latter lets a network pick
its own nonlinearity between layers, as deep SoftHebb networks do (Journé et al. 2023). The
rule learns from the unshifted ``u`` (its equation's W·x) and the response, so the shifts
reach learning through the response (a competitive rule's winners). Weights start as
N(0, (init_gain)²/n_in).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from itertools import chain
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from hebbnet.distributed import average_over_ranks, is_distributed
from hebbnet.homeostasis import Homeostasis
from hebbnet.plasticity.consolidation import TagAndCapture
from hebbnet.plasticity.schedules import PlasticitySchedule
from hebbnet.rules import OuterUpdate, implicit_step, make_rule
from hebbnet.structural.neurogenesis import Neurogenesis
from hebbnet.structural.turnover import SynapseTurnover

UPDATE_MODES = ("local", "grad")
CHECK_EVERY = 64  # plastic updates between two checks of the weights
COLLAPSED = 1.2  # a layer whose varying units carry fewer signals than this has collapsed
# a layer whose outputs vary over a batch by less than this share of their size passes on a
# near-constant signal (a user's SoftHebb conv → SoftHebb conv stack: 7 %, and at chance)
FLAT = 0.1
MAX_CHECKED_SAMPLES = 1024  # rows of a batch's outputs the collapse check looks at


class PlasticityDivergedError(FloatingPointError):
    """A plastic layer's weights became NaN, infinite, or about to overflow."""
OUTPUTS = ("response", "drive")
PADDING_MODES = {"zeros": "constant", "reflect": "reflect"}


def all_finite(values: torch.Tensor) -> torch.Tensor:
    """Whether every value is finite, as a 0-dim bool tensor (read when it suits the device):
    x − x is 0 for finite x and NaN for NaN and ±Inf. One subtraction and one ``any``; on the
    CPU a third of the time of ``isfinite(values).all()``, which builds a bool tensor first
    (35 against 100 µs on a 64 × 784 batch, one thread)."""
    return ~(values - values).any()


def all_spikes(values: torch.Tensor) -> torch.Tensor:
    """Whether every value is 0 or 1 (a spike or none), as a 0-dim bool tensor: x(1 − x) is 0
    exactly there and non-zero (or NaN) for any other value, NaN and ±Inf included."""
    return ~(values * (1 - values)).any()


def _reads_are_free(device: torch.device) -> bool:
    """Whether reading a tensor's value on ``device`` costs no wait (the CPU's own memory)."""
    return device.type == "cpu"


def participation_ratio(activity: torch.Tensor) -> float:
    """PR = (Σλ)²/Σλ² of the eigenvalues λ of the correlation matrix, over the N samples of
    ``activity`` (N, n_out), of the units whose output varies: how many independent signals
    they carry (1: every varying unit says the same thing, up to sign and scale; m: m
    uncorrelated units). A unit varies if its standard deviation over the batch is at least
    1 % of the largest unit's: silent losers of a competition (and the faint neighbours of a
    map's winner) are left out, so a batch that one winner takes is not counted as
    redundant. NaN when fewer than two units vary."""
    return _participation(activity)[0]


def _participation(activity: torch.Tensor) -> tuple[float, int]:
    """:func:`participation_ratio`, and how many units vary (the ratio is over those)."""
    centred = activity.detach().float()
    centred = centred - centred.mean(0)
    spread = centred.std(0)
    varying = spread > 0.01 * float(spread.max())
    n_varying = int(varying.sum())
    if n_varying < 2:
        return math.nan, n_varying
    power = torch.linalg.svdvals(centred[:, varying] / spread[varying]).square()
    return float(power.sum() ** 2 / power.square().sum()), n_varying


class PlasticLayer(nn.Module):
    """The part dense, convolutional and spiking plastic layers share. The arguments they all
    take, documented once here:

    Args:
        rule: a name from :data:`hebbnet.rules.RULES` (``"oja"``, ``"sanger"``,
            ``"softhebb"``, ...), a :class:`~hebbnet.rules.PlasticityRule`, or a function
            ``f(pre, post, weight) -> ΔW``. Its equation is in its docstring.
        lr: the local step size (``update="local"``; positive). Unused in ``"grad"`` mode,
            where the optimizer's learning rate applies.
        update: ``"local"`` (the layer applies ``W ← W + lr·ΔW`` in ``forward``) or
            ``"grad"`` (it writes ``weight.grad = −ΔW`` for any ``torch.optim`` optimizer).
        bias: add a (non-learning) bias to the drive.
        homeostasis: a :class:`~hebbnet.homeostasis.Homeostasis` module or a list of them
            (synaptic scaling, intrinsic plasticity, weight normalisation; a
            :class:`~hebbnet.structural.Neurogenesis` last), each sized for the layer's units.
        output: ``"response"`` (the rule's postsynaptic response: a softmax for SoftHebb,
            k-WTA for competitive rules) or ``"drive"`` (``W x + b`` after homeostatic shifts;
            pass it through a nonlinearity when stacking layers).
        init_gain: weights start as N(0, init_gain²/fan_in).
        consolidation: a :class:`~hebbnet.plasticity.TagAndCapture` (early and late weights).
        schedule: a :class:`~hebbnet.plasticity.PlasticitySchedule` scaling every step (a
            critical period).
        structure: a :class:`~hebbnet.structural.SynapseTurnover` keeping a budget of synapses.

    Attributes:
        weight: (n_out, *fan_in shape), ``requires_grad=False`` unless you set it.
        plastic: False freezes learning while ``training`` (``eval()`` does too).
        check_every: plastic updates between two checks of the weights (and of a collapse).
    """

    def __init__(self, weight_shape: tuple[int, ...], n_in: int, rule, lr: float, update: str,
                 bias: bool, homeostasis: Homeostasis | Sequence[Homeostasis], output: str,
                 init_gain: float,
                 consolidation: TagAndCapture | None = None,
                 schedule: PlasticitySchedule | None = None,
                 structure: SynapseTurnover | None = None):
        super().__init__()
        if update not in UPDATE_MODES:
            raise ValueError(f"Unknown update mode {update!r}; valid: {', '.join(UPDATE_MODES)}.")
        if output not in OUTPUTS:
            raise ValueError(f"Unknown output {output!r}; valid: {', '.join(OUTPUTS)}.")
        if lr <= 0:
            raise ValueError(f"lr must be positive, got {lr}.")
        self.weight = nn.Parameter(torch.randn(weight_shape) * init_gain / math.sqrt(n_in),
                                   requires_grad=False)
        self.bias = nn.Parameter(torch.zeros(weight_shape[0]), requires_grad=False) if bias else None
        self.rule = make_rule(rule, n_in, weight_shape[0])
        self.rule.check_units(weight_shape[0])
        self.homeostasis = nn.ModuleList(_mechanisms(homeostasis, weight_shape[0]))
        for mechanism in self.mechanisms:
            mechanism.attach(self.weight.data)
        self.consolidation = consolidation
        self.schedule = _checked(schedule, PlasticitySchedule, "schedule", "CriticalPeriod")
        self.structure = _checked(structure, SynapseTurnover, "structure", "SynapseTurnover")
        if structure is not None:
            structure.attach(self.weight.data)
            self.register_forward_pre_hook(_zero_absent_synapses)
        self.lr, self.update, self.output = lr, update, output
        self.plastic = True
        self.check_every = CHECK_EVERY
        self.checks_collapse = True  # until the first warning (spiking layers: never)
        self.checks_spread = True  # until the first warning (spiking layers: never)
        self.checks_silence = True  # until the first warning (spiking layers: never)
        self._pending: dict[str, torch.Tensor] = {}  # on an accelerator, read at checks
        self.updates = 0  # plastic updates so far (not saved: it only schedules the checks)

    @property
    def mechanisms(self) -> Sequence[Homeostasis]:
        """The homeostasis mechanisms, in the order they act (the ``homeostasis`` ModuleList,
        typed)."""
        return cast("Sequence[Homeostasis]", self.homeostasis)

    @property
    def neurogenesis(self) -> Neurogenesis | None:
        """The layer's :class:`Neurogenesis` (always its last mechanism), if it has one."""
        last = self.homeostasis[-1] if len(self.homeostasis) else None
        return last if isinstance(last, Neurogenesis) else None

    @property
    def learning(self) -> bool:
        return self.training and self.plastic

    def respond(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The drive after the homeostatic shifts, and the rule's response to it after the
        mechanisms' competitive biases and gating; ``u`` is (N, n_out)."""
        for mechanism in self.mechanisms:
            u = mechanism.drive(u)
        competing = u
        for mechanism in self.mechanisms:
            competing = mechanism.compete(competing)
        y = self.rule.respond(competing)
        for mechanism in self.mechanisms:
            y = mechanism.response(y)
        return u, y

    def emit(self, u: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``y``, or ``u`` gated as the response is (a unit not yet born emits 0)."""
        if self.output == "response":
            return y
        for mechanism in self.mechanisms:
            u = mechanism.response(u)
        return u

    @torch.no_grad()
    def learn(self, pre: torch.Tensor, post: torch.Tensor, u: torch.Tensor) -> None:
        """One plastic step from flattened activity: pre (N, n_in), post and u (N, n_out)."""
        emitted = post if self.output == "response" else u
        self.check_output(emitted)
        if self.consolidation is not None and not self.consolidation.bound:
            self.consolidation.bind(self.weight)
        gain = 1.0 if self.schedule is None else self.schedule.advance()
        rows = self.weight.data.view(self.weight.shape[0], -1)
        outer = self.rule.outer_update(pre, post, u, rows)
        if outer is not None:
            if gain:
                self.apply_outer(outer, rows, gain)
        elif (delta := self.rule.update(pre, post, u, rows)) is not None and gain:
            if self.update == "local":
                delta = implicit_step(delta, self.rule.restoring(pre, post, u, rows),
                                      self.lr * gain)
            self.apply_update(delta.reshape(self.weight.shape), gain)
        for mechanism in self.mechanisms:
            mechanism.regulate(self.weight.data, post, u)
        if self.consolidation is not None:
            self.consolidation.step(self.weight.data)
        if self.structure is not None:
            self.restructure(pre, post)
        if self.update == "local" and is_distributed():
            self.average_across_ranks()
        if self.count_update():
            self.check_activity(pre, post, u)

    def average_across_ranks(self) -> None:
        """Data-parallel ``"local"`` learning: average the weights and the per-unit state of
        homeostasis and consolidation over the ranks of the default ``torch.distributed``
        group, in one all-reduce. Replicas that start equal and step on their own shares of
        a batch stay equal, and for an explicit step the average of W + lr·ΔW_r is
        W + lr·mean_r ΔW_r: a rule linear in the batch learns as one process on the combined
        batch would (equal shares). A rule's own state stays per rank (an STDP trace belongs
        to the rank's samples; a BCM threshold then follows the rank's share). Synapse
        turnover, which rewires from each rank's own activity, is refused. (``"grad"`` mode
        needs none of this: DDP averages the gradient.)"""
        if self.structure is not None:
            raise RuntimeError(f"{type(self).__name__} with synapse turnover cannot learn "
                               "data-parallel in update='local' mode: each rank would rewire "
                               "from its own activity. Use update='grad' under DDP, or train "
                               "it in one process.")
        shared = [self.homeostasis, self.consolidation or nn.Module()]
        average_over_ranks(chain([self.weight.data], *(module.buffers() for module in shared)))

    def restructure(self, pre: torch.Tensor, post: torch.Tensor) -> None:
        """Let the turnover count this update and rewire, then zero what the update wrote on
        absent synapses: in the weights (``"local"``; in ``"grad"`` mode the update went to the
        gradient and the forward pre-hook zeroes the weights), their gradient and a
        consolidated copy."""
        self.structure.step(self.weight.data, pre, post)
        written = self.weight.data if self.update == "local" else None
        late = self.consolidation.late if self.consolidation is not None else None
        self.structure.enforce(written, self.weight.grad, late)

    @torch.no_grad()
    def neuromodulate(self, modulator: torch.Tensor | float) -> None:
        """Deliver a third factor (e.g. a reward prediction error) to a three-factor rule."""
        neuromodulated_update = getattr(self.rule, "neuromodulated_update", None)
        if neuromodulated_update is None:
            raise TypeError(f"{type(self.rule).__name__} is not a three-factor rule; "
                            "use e.g. rule='reward_hebb'.")
        if self.learning:
            gain = 1.0 if self.schedule is None else self.schedule.gain()
            delta = neuromodulated_update(modulator).reshape(self.weight.shape)
            self.apply_update(delta, gain)
            if self.structure is not None:
                self.structure.enforce(self.weight.data, self.weight.grad)
            self.count_update()

    def grow(self, n: int, init: torch.Tensor | None = None) -> torch.Tensor:
        """Give birth to ``n`` units (a layer built with ``homeostasis=Neurogenesis(...)``);
        see :meth:`hebbnet.structural.Neurogenesis.grow`. Returns their indices."""
        if self.neurogenesis is None:
            raise TypeError(f"{type(self).__name__} has no Neurogenesis: build it with "
                            "homeostasis=[..., Neurogenesis(capacity, born)] to grow units.")
        new = self.neurogenesis.grow(n, self.weight.data, init)
        self.rule.reset_units(new)
        for mechanism in self.mechanisms:
            mechanism.reset_units(new)
        return new

    def count_update(self) -> bool:
        """Count one plastic update; every ``check_every``, read the checks of input and output
        kept on an accelerator and check the weights, and return True (the caller may check
        the batch's activity then). Not in code that ``torch.compile`` traces: a check is a
        data-dependent branch (check eagerly there, e.g. ``layer.check_weights()`` between
        compiled steps)."""
        if torch.compiler.is_compiling():
            return False
        self.updates += 1
        checking = self.updates % self.check_every == 0
        if checking:
            pending, self._pending = self._pending, {}
            if "input" in pending and not bool(pending["input"]):
                spikes = (", or values other than 0 and 1 (its rule learns from spikes)"
                          if self.takes_spikes else "")
                raise ValueError(f"{type(self).__name__} received NaN or Inf input within its "
                                 f"last {self.check_every} updates{spikes}, so its weights may "
                                 "be corrupt: restore them (a checkpoint) and clean the input.")
            if "output" in pending and not bool(pending["output"]):
                raise self.diverged(f"its output became NaN or infinite within its last "
                                    f"{self.check_every} updates, from finite input")
            self.check_weights()
        return checking

    def check_activity(self, pre: torch.Tensor, post: torch.Tensor, u: torch.Tensor) -> None:
        """At a weight check, until each has warned: what the layer passes on for a collapse,
        its response for silence (``pre`` (N, n_in), ``post`` and ``u`` (N, n_out))."""
        emitted = post if self.output == "response" else u
        if self.checks_collapse:
            self.check_collapse(emitted)
        if self.checks_spread:
            self.check_spread(emitted)
        if self.checks_silence:
            self.check_silence(pre, post, u)

    def check_spread(self, activity: torch.Tensor) -> None:
        """Warn, once, if what the layer passes on (N, n_out) barely varies over the batch: the
        units' standard deviations over the samples, averaged, below :data:`FLAT` of the mean
        absolute output. A soft competition's responses sum to 1 over the units, so when the
        drives differ little every sample is answered with about 1/n_out everywhere: a layer
        or readout after it then learns next to nothing."""
        values = activity.detach().float()
        size = values.abs().mean()
        if values.shape[0] < 8 or not bool(size > 0):
            return
        spread = float(values.std(0).mean() / size)
        if spread >= FLAT:
            return
        self.checks_spread = False
        warnings.warn(
            f"{type(self).__name__}({self.extra_repr()}) with rule {self.rule!r}: its outputs "
            f"vary over the batch by {spread:.1%} of their size at plastic update {self.updates}, "
            "so it passes on a near-constant signal and what learns from it learns next to "
            "nothing. A soft competition's responses (output='response' of softhebb) sum to 1 "
            "over the units: pass output='drive' through a nonlinearity instead "
            "(hebbnet.layers.Triangle, or ReLU). A layer fed a near-constant signal passes one "
            "on: then the layer before it is the cause (it says so too).", stacklevel=2)

    def check_collapse(self, activity: torch.Tensor) -> None:
        """Warn, once, if the units whose outputs vary over a batch (N, n_out) — at least
        four of them — all carry about the same signal (:func:`participation_ratio` <
        :data:`COLLAPSED`). A layer whose units all say the same thing passes the next layer
        one feature; stacked layers then learn nothing (a user's conv → Oja → linear stack
        sat at chance)."""
        if activity.shape[0] < 8:
            return
        ratio, varying = _participation(activity[:MAX_CHECKED_SAMPLES])
        if varying < 4 or ratio >= COLLAPSED:
            return
        self.checks_collapse = False
        warnings.warn(
            f"{type(self).__name__}({self.extra_repr()}) with rule {self.rule!r}: the "
            f"{varying} of its units whose outputs vary over the last batch carry about one "
            f"signal (participation ratio {ratio:.2f}), so it passes on one feature. Units "
            "that learn without competing (oja, hebb) all converge to the same component: use "
            "a rule whose units compete (sanger, softhebb, krotov_hopfield, competitive). "
            "Between stacked layers, pass output='drive' through a nonlinearity (docs/guide.md: "
            "'Plastic layers in your own model').", stacklevel=2)

    def check_silence(self, pre: torch.Tensor, post: torch.Tensor, u: torch.Tensor) -> None:
        r"""For a rule whose response can fall silent (its
        :meth:`~hebbnet.rules.PlasticityRule.silence_hint` is not None): warn, once, with the
        rule's reason, if every unit's response ``post`` to the batch is 0 or below the
        rounding error of the largest drive, :math:`\max|y| \le \epsilon \max|u|` (ε of the
        dtype; a dying unit keeps a residue of ~10⁻⁸), while the drive ``u`` is not 0: the
        layer passes nothing on (but its drive, with ``output="drive"``), and a rule whose
        change scales with the response learns nothing more."""
        hint = self.rule.silence_hint(pre, self.lr)
        if hint is None:
            self.checks_silence = False  # nothing to check, ever
            return
        largest = u.detach().abs().amax()
        audible = post.detach().abs().amax() > torch.finfo(u.dtype).eps * largest
        if bool(audible) or not bool(largest):
            return
        self.checks_silence = False
        warnings.warn(
            f"{type(self).__name__}({self.extra_repr()}) with rule {self.rule!r}: every unit's "
            f"response to the batch at plastic update {self.updates} rounds to 0 (at most "
            f"{float(post.abs().amax()):.3g} against drives up to {float(largest):.3g}), so the "
            f"layer learns nothing more. {hint}.", stacklevel=2)

    def check_weights(self) -> None:
        """Raise :class:`PlasticityDivergedError` if the weights are NaN, infinite, or past
        the square root of their dtype's largest value (where products overflow)."""
        largest = self.weight.detach().abs().amax()
        if bool(largest <= torch.finfo(self.weight.dtype).max ** 0.5):  # False for NaN as well
            return
        raise self.diverged(f"the weights became {self.weight_state()} within {self.updates} "
                            "plastic updates")

    def weight_state(self) -> str:
        """The largest weight, in words: "NaN or infinite" or "as large as 3.4e+19"."""
        largest = self.weight.detach().abs().amax()
        return "NaN or infinite" if not torch.isfinite(largest) else f"as large as {largest:.3g}"

    def diverged(self, what: str) -> PlasticityDivergedError:
        """The error for a layer whose dynamics ran away (``what`` happened), naming the layer,
        its rule and dtype, and the fixes."""
        wider = "" if self.weight.element_size() >= 4 else ", or use float32"
        switch = "" if self.rule.stabilising else "use a stabilising rule (oja, bcm, softhebb), "
        return PlasticityDivergedError(
            f"{type(self).__name__}({self.extra_repr()}) with rule {self.rule!r} "
            f"({self.weight.dtype}): {what}. Lower lr, {switch}add homeostasis (SynapticScaling, "
            f"WeightNormalization), or scale the input down{wider}."
        )

    def check_output(self, out: torch.Tensor) -> None:
        """Stop on the plastic update whose output ``out`` (N, n_out) is NaN or infinite, from
        input that was finite (:meth:`check_values`): one reduction over the outputs."""
        if torch.compiler.is_compiling() or self.verdict(all_finite(out), "output"):
            return
        raise self.diverged(f"its output became NaN or infinite at plastic update "
                            f"{self.updates + 1}, from finite input; its weights are "
                            f"{self.weight_state()}")

    def verdict(self, ok: torch.Tensor, check: str) -> bool:
        """Whether a check's answer ``ok`` (a boolean scalar) lets the step go on. On the CPU it
        is read at once; on an accelerator, where reading it would wait for the device every
        step, it is kept there (and-ed with the earlier ones of the same ``check``), read at
        the next weight check (:meth:`count_update`), and the step goes on."""
        if _reads_are_free(ok.device):
            return bool(ok)
        earlier = self._pending.get(check)
        self._pending[check] = ok if earlier is None else earlier & ok
        return True

    def apply_outer(self, outer: OuterUpdate, rows: torch.Tensor, gain: float = 1.0) -> None:
        r"""Apply ``gain``·ΔW, ΔW = ⟨p xᵀ⟩ − diag(c)W, in place, ``rows`` being W viewed as
        (n_out, n_in); ``lr`` stands for ``gain``·lr below.

        ``"local"``, with the restoring term L implicit and r = lr/(1 + lr·L):
        :math:`W \leftarrow \operatorname{diag}(1 - r c)\,W + \langle (r p)\, x^\top\rangle`,
        the same weights as :func:`implicit_step` gives, in one ``addmm_`` and (only when there
        is a decay) one scaling pass. ``"grad"``: ``grad ← grad − ⟨p xᵀ⟩ + diag(c)W`` in one
        ``addmm_`` and one ``addcmul_``. Neither builds a temporary the size of W.
        """
        alpha = 1 / outer.samples
        if self.update == "grad":
            if self.weight.grad is None:
                self.weight.grad = torch.zeros_like(self.weight)
            grad = self.weight.grad.view(rows.shape)
            grad.addmm_(outer.post.T, outer.pre, alpha=-alpha * gain)
            if outer.decay is not None:
                grad.addcmul_(rows, outer.decay[:, None], value=gain)
            return
        lr = self.lr * gain
        post = outer.post
        rate: float | torch.Tensor = lr
        if outer.restoring is not None:  # per-unit factors in float32: 1 − r·c must not round
            rate = lr / (1 + lr * outer.restoring.float())
            post = (post * rate).to(rows.dtype)
        else:
            alpha *= lr
        if outer.decay is not None:
            rows.mul_((1 - rate * outer.decay.float())[:, None])
        rows.addmm_(post.T, outer.pre, alpha=alpha)
        self.bound_weights()

    def apply_update(self, delta: torch.Tensor, gain: float = 1.0) -> None:
        """W ← W + gain·lr·ΔW (``"local"``), or ``grad ← grad − gain·ΔW``."""
        if self.update == "local":
            self.weight.data.add_(delta, alpha=self.lr * gain)
            self.bound_weights()
        elif self.weight.grad is None:
            self.weight.grad = -gain * delta
        else:
            self.weight.grad.sub_(delta, alpha=gain)

    def bound_weights(self) -> None:
        """Hook after each local update (a spiking layer clips to [0, w_max]); none here."""

    def check_input(self, x: torch.Tensor, expected: str, ok: bool) -> None:
        name = type(self).__name__
        if not ok:
            raise ValueError(f"{name} expects input of shape {expected}, got {tuple(x.shape)}.")
        if x.device != self.weight.device:
            raise ValueError(f"{name}'s weights are on {self.weight.device}, its input on "
                             f"{x.device}. Move one to the other: x.to({str(self.weight.device)!r})"
                             " or layer.to(x.device) (a meta tensor holds no values to learn from).")
        if x.dtype != self.weight.dtype:
            dtype = self.weight.dtype
            fix = (f"Convert one to the other: x.to({dtype}) or layer.to({x.dtype})."
                   if x.is_floating_point() else
                   f"Plastic layers take floating-point input: x.to({dtype}) (8-bit pixels: "
                   f"x.to({dtype}) / 255).")
            raise TypeError(f"{name}'s weights are {dtype}, its input is {x.dtype}. {fix}")
        if self.learning and not torch.compiler.is_compiling():
            self.check_values(x)

    @property
    def takes_spikes(self) -> bool:
        """Whether the layer learns from spikes only (a spiking layer whose rule learns from
        spikes); a rate layer may run a spike rule's equation on any finite values."""
        return False

    def check_values(self, x: torch.Tensor) -> None:
        """Refuse input that learning would turn into garbage: NaN or Inf, which would corrupt
        the weights, and, where the layer :attr:`takes_spikes`, any value but 0 and 1 — a
        trace adds each value as one spike, so 10⁶ counts as a million coincident spikes
        (depression saturates and clips every weight to 0) and 0.5 as half a spike, which no
        neuron emits. One reduction over the input; on an accelerator its answer is read at
        the next weight check (:meth:`verdict`), which then names the bad input instead of the
        weights it spoilt."""
        spikes = self.takes_spikes
        if self.verdict(all_spikes(x) if spikes else all_finite(x), "input"):
            return
        name = type(self).__name__
        if not spikes or not bool(all_finite(x)):
            raise ValueError(f"{name} received NaN or Inf input; plasticity would corrupt the "
                             "weights. Clean the input or call eval() first.")
        other = x[(x != 0) & (x != 1)]
        raise ValueError(
            f"{name} learns by {self.rule!r} from spikes, values 0 or 1, but {len(other)} of "
            f"its {x.numel()} inputs are not (e.g. {float(other[0]):.3g}). Encode intensities "
            "as spike trains with hebbnet.spiking.encoders (poisson_spikes(rates_hz, steps) or "
            "latency_spikes(intensity, steps)) and give the layer one step per call.")


def _checked(module, cls: type, setting: str, example: str):
    """``module`` when it is None or a ``cls``; otherwise a TypeError naming the setting."""
    if module is not None and not isinstance(module, cls):
        raise TypeError(f"{setting}= takes a {cls.__name__} (e.g. {example}(...)), got "
                        f"{type(module).__name__}.")
    return module


def _zero_absent_synapses(layer: PlasticLayer, args) -> None:
    """Forward pre-hook of a layer with ``structure=``: in ``"grad"`` mode an optimizer may
    have moved absent weights (momentum, weight decay); they are zero again before use."""
    if layer.update == "grad":
        layer.structure.enforce(layer.weight.data)


def _mechanisms(homeostasis: Homeostasis | Sequence[Homeostasis],
                n_out: int) -> list[Homeostasis]:
    """``homeostasis`` as a list (one mechanism or several), each checked: a Homeostasis module
    whose per-unit state has the layer's ``n_out`` units."""
    mechanisms = [homeostasis] if isinstance(homeostasis, nn.Module) else list(homeostasis)
    for mechanism in mechanisms:
        if not isinstance(mechanism, Homeostasis):
            raise TypeError(f"homeostasis= takes Homeostasis modules (SynapticScaling, "
                            f"IntrinsicPlasticity, WeightNormalization) or a list of them; got "
                            f"{type(mechanism).__name__}.")
        for name, state in mechanism.named_buffers():
            if state.ndim == 1 and len(state) != n_out:
                raise ValueError(f"{type(mechanism).__name__} keeps {name} for {len(state)} "
                                 f"units, the layer has {n_out} outputs: build it with "
                                 f"{type(mechanism).__name__}({n_out}, ...).")
    if any(isinstance(m, Neurogenesis) for m in mechanisms[:-1]):
        raise ValueError("Neurogenesis must be the last of a layer's homeostasis mechanisms: its "
                         "drive decides which units can win, after the others have shifted it.")
    return mechanisms


def _square_kernel(kernel_size: int | Sequence[int]) -> int:
    """The side of a square kernel given as ``k`` or ``(k, k)``."""
    sides = (kernel_size,) * 2 if isinstance(kernel_size, int) else tuple(kernel_size)
    if len(sides) != 2 or sides[0] != sides[1] or sides[0] < 1:
        raise ValueError(f"kernel_size must be a positive int or a square (k, k); got "
                         f"{kernel_size!r} (HebbianConv2d learns square kernels only).")
    return int(sides[0])


def _padding(padding: int | str, kernel_size: int, stride: int) -> int:
    """``"same"`` as the int that keeps the size (stride 1, odd kernel), or the int given."""
    if padding == "same":
        if stride != 1 or kernel_size % 2 == 0:
            raise ValueError(f'padding="same" needs stride 1 and an odd kernel_size; got stride '
                             f"{stride}, kernel_size {kernel_size}. Give padding as an int.")
        return kernel_size // 2
    if not isinstance(padding, int) or padding < 0:
        raise ValueError(f'padding must be an int >= 0 or "same"; got {padding!r}.')
    return padding


class HebbianLinear(PlasticLayer):
    """Dense plastic layer: ``y = respond(W x + b)``, W of shape (out_features, in_features),
    learning by ``rule`` from what passes through it while training.

    Args:
        in_features: size of each input sample.
        out_features: number of units.
        rule, lr, update, bias, homeostasis, output, init_gain, consolidation, schedule,
            structure: as :class:`PlasticLayer` (default rule ``"oja"``: one principal
            component per unit, so units that should differ need a competing rule).

    Shape:
        - Input: (*, in_features), any number of leading dimensions (they are the samples the
          rule averages over).
        - Output: (*, out_features).

    Example::

        >>> layer = HebbianLinear(784, 100, rule="sanger", lr=0.01)
        >>> y = layer(torch.rand(64, 784))      # learns in forward() while training
        >>> y.shape
        torch.Size([64, 100])
        >>> _ = layer.eval()                    # frozen: rule and homeostasis
    """

    def __init__(self, in_features: int, out_features: int, rule="oja", lr: float = 0.01,
                 update: str = "local", bias: bool = False,
                 homeostasis: Homeostasis | Sequence[Homeostasis] = (), output: str = "response",
                 init_gain: float = 1.0, consolidation: TagAndCapture | None = None,
                 schedule: PlasticitySchedule | None = None,
                 structure: SynapseTurnover | None = None):
        super().__init__((out_features, in_features), in_features, rule, lr, update, bias,
                         homeostasis, output, init_gain, consolidation, schedule, structure)
        self.in_features, self.out_features = in_features, out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x, f"(*, {self.in_features})",
                         x.ndim >= 1 and x.shape[-1] == self.in_features)
        leading = x.shape[:-1]
        x = x.reshape(-1, self.in_features)
        u = self.drive(x)
        shifted, y = self.respond(u)
        if self.learning:
            self.learn(x.detach(), y.detach(), u.detach())
        return self.emit(shifted, y).reshape(*leading, self.out_features)

    def drive(self, x: torch.Tensor) -> torch.Tensor:
        """u = W x + b, (B, in_features) → (B, out_features)."""
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"lr={self.lr}, update={self.update!r}, bias={self.bias is not None}, "
                f"output={self.output!r}")


class HebbianConv2d(PlasticLayer):
    """Convolutional plastic layer: every image patch is a presynaptic sample for the rule,
    the ``out_channels`` units at each position its postsynaptic units (shared weights).

    Args:
        in_channels: channels of the input image.
        out_channels: units (filters).
        kernel_size: an int or a square ``(k, k)``.
        stride: the step between patches.
        padding: an int, or ``"same"`` (stride 1, odd kernel: the output keeps the input's
            height and width).
        padding_mode: ``"zeros"`` or ``"reflect"``.
        rule, lr, update, bias, homeostasis, output, init_gain, consolidation, schedule,
            structure: as :class:`PlasticLayer` (default rule ``"softhebb"``).

    Shape:
        - Input: (N, in_channels, H, W).
        - Output: (N, out_channels, H_out, W_out), H_out = ⌊(H + 2·padding − k)/stride⌋ + 1.

    Example::

        >>> conv = HebbianConv2d(1, 32, kernel_size=5, padding="same", output="drive")
        >>> conv(torch.rand(8, 1, 28, 28)).shape
        torch.Size([8, 32, 28, 28])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int = 1, padding: int | str = 0, rule="softhebb", lr: float = 0.01,
                 update: str = "local", bias: bool = False,
                 homeostasis: Homeostasis | Sequence[Homeostasis] = (),
                 output: str = "response", init_gain: float = 1.0, padding_mode: str = "zeros",
                 consolidation: TagAndCapture | None = None,
                 schedule: PlasticitySchedule | None = None,
                 structure: SynapseTurnover | None = None):
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"Unknown padding_mode {padding_mode!r}; valid: "
                             f"{', '.join(PADDING_MODES)}.")
        kernel_size = _square_kernel(kernel_size)
        padding = _padding(padding, kernel_size, stride)
        n_in = in_channels * kernel_size * kernel_size
        super().__init__((out_channels, in_channels, kernel_size, kernel_size), n_in, rule, lr,
                         update, bias, homeostasis, output, init_gain, consolidation, schedule,
                         structure)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.padding_mode = padding_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x, f"(batch, {self.in_channels}, height, width)",
                         x.ndim == 4 and x.shape[1] == self.in_channels)
        x = F.pad(x, (self.padding,) * 4, mode=PADDING_MODES[self.padding_mode])
        height, width = ((size - self.kernel_size) // self.stride + 1 for size in x.shape[2:])
        if self.learning:  # the rule needs the patches anyway: one product of them gives u
            patches = F.unfold(x, self.kernel_size, stride=self.stride)
            pre = patches.transpose(1, 2).reshape(-1, patches.shape[1])
            u_flat = F.linear(pre, self.weight.view(self.out_channels, -1), self.bias)
            shifted, y_flat = self.respond(u_flat)
            self.learn(pre.detach(), y_flat.detach(), u_flat.detach())
        else:
            u = F.conv2d(x, self.weight, self.bias, self.stride)
            shifted, y_flat = self.respond(u.permute(0, 2, 3, 1).reshape(-1, self.out_channels))
        channels_last = (len(x), height, width, self.out_channels)
        return self.emit(shifted.reshape(channels_last).permute(0, 3, 1, 2),
                         y_flat.reshape(channels_last).permute(0, 3, 1, 2))

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, "
                f"padding_mode={self.padding_mode!r}, lr={self.lr}, update={self.update!r}, "
                f"output={self.output!r}")
