"""Spike-timing-dependent plasticity with traces: pair-based, triplet, reward-modulated.

Per step of ``dt`` ms a rule sees presynaptic spikes ``pre`` (B, n_in) and postsynaptic spikes
``post`` (B, n_out). Each spike leaves a trace that decays exactly, x ← x·e^{−Δt/τ}, so a pair
of spikes Δt apart changes a weight by the same amount whatever ``dt`` is. Pairing:

* ``"all_to_all"``: a spike adds 1 to its trace; every earlier spike pairs with a new one.
* ``"nearest"``: a spike resets its trace to 1; only the most recent spike pairs.

Within a step, traces take the step's spikes first, then the update is read, so a pre and a
post spike in the same step count as both orders (Δt = 0, net A₊ − A₋). Updates are averaged
over the batch, as every rule's are; traces are per sample and start at zero after
:meth:`reset` or when the batch size changes.
"""

from __future__ import annotations

import math

import torch

from hebbnet.rules.base import OuterUpdate, PlasticityRule, ResizableBuffers, batch_outer
from hebbnet.rules.three_factor import modulated_update, reward_prediction_error

PAIRINGS = ("all_to_all", "nearest")
WEIGHT_DEPENDENCES = ("additive", "multiplicative")


def trace_step(trace: torch.Tensor, spikes: torch.Tensor, decay: float,
               pairing: str = "all_to_all") -> torch.Tensor:
    r"""All-to-all :math:`x \leftarrow x\,e^{-\Delta t/\tau} + s`; nearest
    :math:`x \leftarrow 1` where s = 1, else :math:`x\,e^{-\Delta t/\tau}`."""
    decayed = trace * decay
    if pairing == "nearest":
        return torch.where(spikes > 0, torch.ones_like(decayed), decayed)
    return decayed + spikes


def pair_stdp_update(pre_trace: torch.Tensor, post_trace: torch.Tensor, pre: torch.Tensor,
                     post: torch.Tensor, weight: torch.Tensor, a_plus: float, a_minus: float,
                     w_max: float = 1.0, weight_dependence: str = "additive") -> torch.Tensor:
    r"""Potentiate at post spikes by the pre trace, depress at pre spikes by the post trace:

    .. math:: \Delta W = A_+ f_+(W)\odot\langle s_\text{post}\,x_\text{pre}^\top\rangle
                       - A_- f_-(W)\odot\langle x_\text{post}\,s_\text{pre}^\top\rangle

    additive: :math:`f_\pm = 1` (the layer clips W to [0, w_max]); multiplicative (soft
    bounds, van Rossum et al. 2000): :math:`f_+ = w_\max - W,\ f_- = W`.
    """
    potentiation = batch_outer(post, pre_trace)
    depression = batch_outer(post_trace, pre)
    if weight_dependence == "multiplicative":
        return a_plus * (w_max - weight) * potentiation - a_minus * weight * depression
    return a_plus * potentiation - a_minus * depression


def triplet_stdp_update(r1: torch.Tensor, r2_before: torch.Tensor, o1: torch.Tensor,
                        o2_before: torch.Tensor, pre: torch.Tensor, post: torch.Tensor,
                        a2_plus: float, a3_plus: float, a2_minus: float,
                        a3_minus: float) -> torch.Tensor:
    r"""Pfister & Gerstner (2006), eqs. 3–4: at a post spike
    :math:`w \mathrel{+}= r_1\,(A_2^+ + A_3^+\,o_2(t-\epsilon))`, at a pre spike
    :math:`w \mathrel{-}= o_1\,(A_2^- + A_3^-\,r_2(t-\epsilon))`. r₁, o₁ (τ₊, τ₋) include this
    step's spikes; r₂, o₂ (τ_x, τ_y) are read before it (``*_before``).
    """
    potentiation = batch_outer(post * (a2_plus + a3_plus * o2_before), r1)
    depression = batch_outer(o1, pre * (a2_minus + a3_minus * r2_before))
    return potentiation - depression


class TracedRule(ResizableBuffers, PlasticityRule):
    """A rule whose per-sample spike traces are buffers of shape (batch, n), sized on the
    first step and after the batch size changes; ``state_dict`` holds them at their size."""

    trace_sizes: dict[str, str] = {}  # trace name → "n_in" or "n_out"
    takes_spikes = True

    def __init__(self, n_in: int, n_out: int, dt: float):
        super().__init__()
        if dt <= 0:
            raise ValueError(f"dt must be positive, got {dt}.")
        self.n_in, self.n_out, self.dt = n_in, n_out, dt
        for name in self.trace_sizes:
            self.register_buffer(name, torch.zeros(0, getattr(self, self.trace_sizes[name])))

    def decay(self, tau: float) -> float:
        return math.exp(-self.dt / tau)

    def prepare(self, pre: torch.Tensor, post: torch.Tensor) -> None:
        if pre.shape[1] != self.n_in or post.shape[1] != self.n_out:
            raise ValueError(f"{type(self).__name__} expects spikes of shape (batch, {self.n_in}) "
                             f"and (batch, {self.n_out}), got {tuple(pre.shape)} and "
                             f"{tuple(post.shape)}.")
        if getattr(self, next(iter(self.trace_sizes))).shape[0] != pre.shape[0]:
            for name, size in self.trace_sizes.items():
                setattr(self, name, pre.new_zeros(pre.shape[0], getattr(self, size)))

    def reset(self) -> None:
        for name, size in self.trace_sizes.items():
            setattr(self, name, getattr(self, name).new_zeros(0, getattr(self, size)))

    def resizable_buffers(self) -> tuple[str, ...]:
        return tuple(self.trace_sizes)


class STDP(TracedRule):
    """Pair-based STDP (Bi & Poo 1998; Song, Miller & Abbott 2000), see
    :func:`pair_stdp_update`. Amplitudes are per pair; the layer's ``lr`` scales them."""

    trace_sizes = {"pre_trace": "n_in", "post_trace": "n_out"}
    pre_trace: torch.Tensor
    post_trace: torch.Tensor

    def __init__(self, n_in: int, n_out: int, a_plus: float = 0.01, a_minus: float = 0.0105,
                 tau_plus: float = 20.0, tau_minus: float = 20.0, pairing: str = "all_to_all",
                 weight_dependence: str = "additive", w_max: float = 1.0, dt: float = 1.0):
        super().__init__(n_in, n_out, dt)
        if pairing not in PAIRINGS:
            raise ValueError(f"Unknown pairing {pairing!r}; valid: {', '.join(PAIRINGS)}.")
        if weight_dependence not in WEIGHT_DEPENDENCES:
            raise ValueError(f"Unknown weight_dependence {weight_dependence!r}; valid: "
                             f"{', '.join(WEIGHT_DEPENDENCES)}.")
        if min(tau_plus, tau_minus) <= 0 or min(a_plus, a_minus) < 0:
            raise ValueError("Need positive time constants and non-negative amplitudes.")
        self.a_plus, self.a_minus, self.tau_plus, self.tau_minus = a_plus, a_minus, tau_plus, tau_minus
        self.pairing, self.weight_dependence, self.w_max = pairing, weight_dependence, w_max

    def advance(self, pre: torch.Tensor, post: torch.Tensor) -> None:
        self.prepare(pre, post)
        self.pre_trace = trace_step(self.pre_trace, pre, self.decay(self.tau_plus), self.pairing)
        self.post_trace = trace_step(self.post_trace, post, self.decay(self.tau_minus),
                                     self.pairing)

    def pair_update(self, pre: torch.Tensor, post: torch.Tensor,
                    weight: torch.Tensor) -> torch.Tensor:
        self.advance(pre, post)
        return pair_stdp_update(self.pre_trace, self.post_trace, pre, post, weight,
                                self.a_plus, self.a_minus, self.w_max, self.weight_dependence)

    def outer_update(self, pre, post, u, weight):
        """Additive :func:`pair_stdp_update` as one outer product of stacked terms:
        p = [A₊ s_post; −A₋ x_post], x = [x_pre; s_pre]. Multiplicative: None (ΔW depends on W
        entry by entry)."""
        if self.weight_dependence != "additive":
            return None
        self.advance(pre, post)
        return OuterUpdate(torch.cat([self.a_plus * post, -self.a_minus * self.post_trace]),
                           torch.cat([self.pre_trace, pre]), batch=len(pre))

    def update(self, pre, post, u, weight):
        if self.weight_dependence == "additive":
            return super().update(pre, post, u, weight)
        return self.pair_update(pre, post, weight)

    def extra_repr(self) -> str:
        return (f"a_plus={self.a_plus}, a_minus={self.a_minus}, tau_plus={self.tau_plus}, "
                f"tau_minus={self.tau_minus}, pairing={self.pairing!r}, "
                f"weight_dependence={self.weight_dependence!r}, dt={self.dt}")


class TripletSTDP(TracedRule):
    """Triplet STDP (Pfister & Gerstner 2006), see :func:`triplet_stdp_update`. Defaults: their
    visual-cortex fit, all-to-all, full model (Table 4)."""

    trace_sizes = {"r1": "n_in", "r2": "n_in", "o1": "n_out", "o2": "n_out"}
    r1: torch.Tensor
    r2: torch.Tensor
    o1: torch.Tensor
    o2: torch.Tensor

    def __init__(self, n_in: int, n_out: int, a2_plus: float = 5e-10, a3_plus: float = 6.2e-3,
                 a2_minus: float = 7e-3, a3_minus: float = 2.3e-4, tau_plus: float = 16.8,
                 tau_minus: float = 33.7, tau_x: float = 101.0, tau_y: float = 125.0,
                 pairing: str = "all_to_all", dt: float = 1.0):
        super().__init__(n_in, n_out, dt)
        if pairing not in PAIRINGS:
            raise ValueError(f"Unknown pairing {pairing!r}; valid: {', '.join(PAIRINGS)}.")
        if min(tau_plus, tau_minus, tau_x, tau_y) <= 0:
            raise ValueError("Triplet STDP needs positive time constants.")
        self.amplitudes = (a2_plus, a3_plus, a2_minus, a3_minus)
        self.taus = {"r1": tau_plus, "r2": tau_x, "o1": tau_minus, "o2": tau_y}
        self.pairing = pairing

    def outer_update(self, pre, post, u, weight):
        """:func:`triplet_stdp_update` as one outer product of its two stacked terms."""
        self.prepare(pre, post)
        r2_before, o2_before = self.r2 * self.decay(self.taus["r2"]), self.o2 * self.decay(self.taus["o2"])
        for name, spikes in (("r1", pre), ("r2", pre), ("o1", post), ("o2", post)):
            setattr(self, name, trace_step(getattr(self, name), spikes,
                                           self.decay(self.taus[name]), self.pairing))
        a2_plus, a3_plus, a2_minus, a3_minus = self.amplitudes
        return OuterUpdate(torch.cat([post * (a2_plus + a3_plus * o2_before), -self.o1]),
                           torch.cat([self.r1, pre * (a2_minus + a3_minus * r2_before)]),
                           batch=len(pre))

    def extra_repr(self) -> str:
        return f"amplitudes={self.amplitudes}, taus={self.taus}, pairing={self.pairing!r}"


class RewardModulatedSTDP(STDP):
    r"""Three-factor STDP (Izhikevich 2007; Frémaux & Gerstner 2016): pairings do not change
    weights but an eligibility trace,

    .. math:: e \leftarrow e\,e^{-\Delta t/\tau_e} + \Delta W_\text{STDP},\qquad
              \Delta W = M\,e \ \text{when a neuromodulator M arrives}

    (``layer.neuromodulate(M)``); M is typically a dopamine-like reward prediction error
    δ = r − r̄ from :meth:`prediction_error`. ``tau_reward`` is the baseline's time constant
    in rewards.
    """

    eligibility: torch.Tensor
    reward_baseline: torch.Tensor

    def __init__(self, n_in: int, n_out: int, tau_eligibility: float = 1000.0,
                 tau_reward: float = 20.0, **stdp):
        super().__init__(n_in, n_out, **stdp)
        if tau_eligibility <= 0 or tau_reward < 1:
            raise ValueError("Need tau_eligibility > 0 and tau_reward >= 1.")
        self.tau_eligibility, self.tau_reward = tau_eligibility, tau_reward
        self.register_buffer("eligibility", torch.zeros(n_out, n_in))
        self.register_buffer("reward_baseline", torch.zeros(()))

    def outer_update(self, pre, post, u, weight):
        return None  # pairings change the eligibility, never the weights directly

    def update(self, pre, post, u, weight):
        change = self.pair_update(pre, post, weight)
        self.eligibility.mul_(self.decay(self.tau_eligibility)).add_(change)
        return None

    def neuromodulated_update(self, modulator: torch.Tensor | float) -> torch.Tensor:
        return modulated_update(self.eligibility, modulator)

    def prediction_error(self, reward: torch.Tensor | float) -> torch.Tensor:
        """See :func:`~hebbnet.rules.three_factor.reward_prediction_error`."""
        return reward_prediction_error(self.reward_baseline, reward, self.tau_reward)

    def reset(self) -> None:
        super().reset()
        self.eligibility.zero_()
