"""A dense layer of spiking neurons whose synapses learn by a spike-timing rule.

``SpikingLinear`` keeps the plastic-layer contract (:mod:`hebbnet.layers.plastic`): one
``forward`` is one time step of ``dt`` ms, taking presynaptic spikes (batch, in_features) and
returning the neurons' spikes (batch, out_features); while ``training`` and ``plastic`` the rule
updates the weights in place (``update="local"``) or writes ``−ΔW`` into ``weight.grad``
(``update="grad"``); ``eval()`` or ``plastic = False`` freezes the weights and the neurons'
adaptive thresholds alike. Call :meth:`reset` between independent inputs: it returns the
membranes to rest and clears the rule's traces.

Input must be spikes. While it learns by a spike-timing rule (STDP, triplet or reward-modulated
STDP, calcium), the layer refuses any input value but 0 and 1 with a ValueError naming the
encoders of :mod:`hebbnet.spiking.encoders` (:meth:`PlasticLayer.check_values`): the rules'
traces add each value as one spike, so spikes of height 10⁶ saturate depression and clip every
weight to 0, and a value of 0.5 (a rate or a probability fed by mistake) is half a spike, which
no neuron emits. Refused rather than binarised, which would learn from a probability as from a
certain spike. The check is one reduction over the input, the one that already refused NaN.

Weights are the voltage jump (mV) one presynaptic spike gives; they start uniform in
[0, ``init_max``] and, in local mode, are clipped to [0, ``w_max``] after every update.
A layer whose inputs spike while its neurons fire nothing in a window of 64 steps
(:data:`~hebbnet.layers.plastic.CHECK_EVERY`) warns once, with the depolarisation its drive
reaches against the threshold (:meth:`SpikingLinear.warn_if_silent`). It watches its first
window, then one in every :data:`SILENCE_EVERY` (a window costs two sums per step): learning
can silence a layer later (triplet STDP's default amplitudes on 200 Hz of uncorrelated input
depress a layer that fired a few spikes at first into silence within 4,000 steps).
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from hebbnet.homeostasis import Homeostasis
from hebbnet.layers.plastic import CHECK_EVERY, PlasticLayer
from hebbnet.plasticity.consolidation import TagAndCapture
from hebbnet.plasticity.schedules import PlasticitySchedule
from hebbnet.rules import RULES, make_rule
from hebbnet.spiking.neurons import LIF, AdaptiveLIF
from hebbnet.structural.turnover import SynapseTurnover

SILENCE_EVERY = 16  # the silence check watches one window of CHECK_EVERY steps in this many


class SpikingLinear(PlasticLayer):
    """Spiking neurons driven through plastic synapses, one time step per call.

    Args:
        in_features: input spike trains.
        out_features: neurons.
        rule: a name (``"stdp"``, ``"triplet_stdp"``, ``"reward_stdp"``, ...), a
            :class:`~hebbnet.rules.PlasticityRule` or a function.
        neurons: an :class:`LIF` or :class:`AdaptiveLIF` population of ``out_features``
            neurons (default: LIF at dt = 1 ms); the rule must step the same dt.
        w_max: weights are clipped to [0, w_max] after each update (None: not clipped).
        init_max: weights (mV per presynaptic spike) start uniform in [0, init_max].
        lr, update, homeostasis, consolidation, schedule, structure: as :class:`PlasticLayer`.

    Shape:
        - Input: (N, in_features) spikes (0/1) of one time step; other values are refused
          while a spike-timing rule learns (see the module).
        - Output: (N, out_features) spikes of that step.

    Example::

        >>> layer = SpikingLinear(64, 10, rule="stdp")
        >>> spikes = [layer((torch.rand(4, 64) < 0.05).float()) for _ in range(50)]
        >>> layer.reset()                       # before the next input: membranes at rest
    """

    def __init__(self, in_features: int, out_features: int, rule="stdp",
                 neurons: LIF | None = None, lr: float = 1.0, update: str = "local",
                 w_max: float | None = 1.0, init_max: float = 0.3,
                 homeostasis: Homeostasis | Sequence[Homeostasis] = (),
                 consolidation: TagAndCapture | None = None,
                 schedule: PlasticitySchedule | None = None,
                 structure: SynapseTurnover | None = None):
        neurons = neurons if neurons is not None else LIF(out_features)
        if neurons.n != out_features:
            raise ValueError(f"neurons has {neurons.n} neurons, the layer {out_features} outputs.")
        rule = _spiking_rule(rule, in_features, out_features, neurons.dt)
        if getattr(rule, "dt", neurons.dt) != neurons.dt:
            raise ValueError(f"The rule steps dt={rule.dt} ms, the neurons dt={neurons.dt} ms; "
                             "give both the same dt.")
        super().__init__((out_features, in_features), in_features, rule, lr, update, False,
                         homeostasis, "response", 1.0, consolidation, schedule, structure)
        # spike trains: see warn_if_silent
        self.checks_collapse = self.checks_spread = self.checks_silence = False
        if self.neurogenesis is not None:
            raise ValueError("SpikingLinear does not take Neurogenesis (its neurons integrate "
                             "the drive over time, so silencing it needs the neuron model's "
                             "help); SpikeCountFeatures(neurons_per_task=...) grows spiking neurons.")
        self.weight.data.uniform_(0, init_max)
        if structure is not None:
            structure.enforce(self.weight.data)
        self.neurons, self.w_max, self.init_max = neurons, w_max, init_max
        self.in_features, self.out_features = in_features, out_features
        self.silence_check: _SilenceCheck | None = _SilenceCheck()

    @property
    def takes_spikes(self) -> bool:
        """Whether the rule learns from spikes (STDP, triplet and reward-modulated STDP,
        calcium), so learning refuses other values (see the module)."""
        return self.rule.takes_spikes

    def reset(self) -> None:
        """Start a new input: membranes at rest, traces cleared (learned state is kept)."""
        self.neurons.reset()
        self.rule.reset()

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        self.check_input(spikes, f"(batch, {self.in_features})",
                         spikes.ndim == 2 and spikes.shape[1] == self.in_features)
        u = F.linear(spikes, self.weight)
        for mechanism in self.mechanisms:
            u = mechanism.drive(u)
        if isinstance(self.neurons, AdaptiveLIF):
            self.neurons.adapting = self.learning
        out = self.neurons(u)
        if self.learning:
            self.learn(spikes.detach(), out, u.detach())
        check = self.silence_check
        if check is not None and not torch.compiler.is_compiling():
            if check.observe(spikes.detach(), out.detach()):  # a window is full
                self.silence_check = None if self.warn_if_silent(check) else check.next()
        return out

    def warn_if_silent(self, check: _SilenceCheck) -> bool:
        """At the end of a watched window of :data:`CHECK_EVERY` steps: warn (and return True)
        if input spikes arrived and no neuron fired, with the depolarisation the drive reaches
        against the threshold."""
        inputs = torch.as_tensor(check.input_spikes)
        if int(check.output_spikes) or not int(inputs.sum()):
            return False
        per_step = self.weight.detach() @ (inputs / check.samples)  # mV, per neuron
        params = self.neurons.params
        lift = per_step / (1 - math.exp(-self.neurons.dt / params.tau_mem))  # steady state
        gap = params.v_threshold - params.v_rest
        learned = (f"Learning has moved its mean weight to {float(self.weight.mean()):.3g} mV "
                   f"(from about {self.init_max / 2:.3g} at the start). " if check.first else "")
        warnings.warn(
            f"{type(self).__name__}({self.extra_repr()}) fired no spike in {CHECK_EVERY} steps "
            f"(steps {check.first + 1} to {check.step}) while its inputs spiked "
            f"{int(inputs.sum())} times: at these input rates the drive lifts the membranes "
            f"{float(lift.mean()):.1f} mV above rest on average (at most {float(lift.max()):.1f}),"
            f" and {gap:.1f} mV reach the threshold. {learned}Start with larger weights "
            f"(init_max={self.init_max}), lower the neurons' v_threshold, lengthen their "
            "tau_mem, or raise the input rates.", stacklevel=3)
        return True

    def bound_weights(self) -> None:
        if self.w_max is not None:
            self.weight.data.clamp_(0, self.w_max)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"lr={self.lr}, update={self.update!r}, w_max={self.w_max}")


class _SilenceCheck:
    """Input and output spike counts over the window of :data:`CHECK_EVERY` steps after step
    ``first`` of a layer's life (``step``: the steps it has seen), kept on the device and
    read once, at the window's end."""

    def __init__(self, first: int = 0, step: int = 0) -> None:
        self.first, self.step, self.samples = first, step, 0
        self.input_spikes: torch.Tensor | float = 0.0
        self.output_spikes: torch.Tensor | float = 0.0

    def observe(self, spikes: torch.Tensor, out: torch.Tensor) -> bool:
        """Count one step (its spikes only within the window); True once the window is full."""
        self.step += 1
        if self.step <= self.first:
            return False
        self.input_spikes = self.input_spikes + spikes.sum(0)
        self.output_spikes = self.output_spikes + out.sum()
        self.samples += len(spikes)
        return self.step >= self.first + CHECK_EVERY

    def next(self) -> _SilenceCheck:
        """The check of the next watched window, :data:`SILENCE_EVERY` windows on."""
        return _SilenceCheck(self.first + SILENCE_EVERY * CHECK_EVERY, self.step)


def _spiking_rule(rule, n_in: int, n_out: int, dt: float):
    """Build a named rule at the neurons' time step when it has one."""
    if isinstance(rule, str):
        cls = RULES.get(rule)
        takes_dt = cls is not None and "dt" in inspect.signature(cls).parameters
        return make_rule(rule, n_in, n_out, **({"dt": dt} if takes_dt else {}))
    return make_rule(rule, n_in, n_out)
