"""Diehl & Cook (2015): unsupervised digit learning with STDP, lateral inhibition and adaptive
thresholds — the network BindsNET ships as ``DiehlAndCook2015``.

Each image is shown for ``steps`` steps of ``dt`` ms as Poisson trains (rate ∝ pixel, up to
``max_rate``) to ``n_neurons`` excitatory LIF neurons (τ_m = 100 ms, rest −65, reset −60,
threshold −52 + θ mV, 5 ms refractory). Each excitatory spike drives its inhibitory partner,
which removes ``inhibition`` mV from every *other* excitatory neuron ``inhibition_delay`` steps
later (the inhibitory population is folded into that delayed jump, as both of its synapses are
one-to-one and all-but-one). A refractory neuron ignores all input, inhibition included. As in
BindsNET's ``DiehlAndCookNodes``, every neuron that crosses threshold is reset, turns refractory
and raises its θ, but at most one per step and sample — chosen at random among them — emits
the spike that inhibits and teaches. (Choosing the one furthest above threshold instead let a
few neurons win everything: 36 % instead of 72 % after 2,000 images in a probe.)

Learning (Diehl & Cook's Brian code; ``rule="pair"`` drops the y⁽²⁾ factor, as BindsNET's
``PostPre`` does) happens at every step, with the weights shared by the batch and the batch's
changes summed, as in BindsNET; traces are nearest-spike (a spike sets its trace to 1):

.. math:: \\Delta w_{ij} = \\nu_\\text{post}\\, x_i\\, y^{(2)}_j(t^-) \\text{ at a spike of } j,
          \\qquad \\Delta w_{ij} = -\\nu_\\text{pre}\\, y^{(1)}_j \\text{ at a spike of } i

x (τ 20 ms) the input trace, y⁽¹⁾ (τ 20 ms) and y⁽²⁾ (τ 40 ms, read just before the spike) the
neuron's traces. W is clipped to [0, w_max] after every step and each neuron's input weights
are rescaled to sum to ``norm`` after every presentation — or, with ``weight_l2``, to that
Euclidean length, and with ``input_l2`` each image is rescaled to that length before it is
encoded (the L2 normalisation of weights and input of Allred & Roy's 2020 Controlled Forgetting
Networks; see ``SpikeCountFeatures`` for why it makes the race to threshold a cosine match).
Learning within the presentation matters: accumulating the changes and applying them once per
image gave 56 % instead of 68 % after 2,000 images in a probe. In ``eval()`` nothing learns
and θ stays fixed.

With ``theta_half`` (metaplasticity, not in Diehl & Cook) both rates of neuron j are scaled by

.. math:: g_j = \\frac{\\theta_{1/2}}{\\theta_{1/2} + \\theta_j},

its adaptive threshold θ_j read at the start of the presentation: θ_j counts the times j
crossed threshold (θ₊ each), so a neuron learns less the more it has fired, and its weights
settle towards the mean of the inputs it won — online k-means' 1/n step (MacQueen 1967) —
instead of following the last few.

The input is generated and applied as sparse events (a few spikes per step): each step gathers
the weight rows of the inputs that fired, and the weight change touches only those rows and
the columns of the neurons that fired. ``backend="torch"`` runs that as one vectorised torch
step per time step, on any device; ``backend="compiled"`` runs the whole presentation as one
compiled loop on the CPU (``diehl_cook_compiled.py``, Numba), 4–40× faster at these sizes;
``"auto"`` (the default) takes the compiled loop for CPU weights. Both give the same spikes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from hebbnet.distributed import average_over_ranks
from hebbnet.models.growth import check_room
from hebbnet.models.plastic import PlasticModelConfig, PlasticNetwork, plastic_network
from hebbnet.models.readouts import label_neurons, vote
from hebbnet.registry import register_model
from hebbnet.spiking.encoders import poisson_events

BACKENDS = ("auto", "compiled", "torch")  # auto: compiled on the CPU, torch elsewhere


@dataclass(frozen=True)
class DiehlCookParameters:
    n_neurons: int = 100
    steps: int = 250  # time steps per image
    dt: float = 1.0  # ms
    max_rate: float = 63.75  # Hz for a white pixel (Diehl & Cook: pixel / 4)
    tau_mem: float = 100.0
    v_rest: float = -65.0
    v_reset: float = -60.0
    v_threshold: float = -52.0
    refractory: float = 5.0  # ms
    theta_plus: float = 0.05  # mV per spike
    tau_theta: float = 1e7  # ms
    inhibition: float = 120.0  # mV removed from the other neurons per spike
    inhibition_delay: int = 2  # steps: excitatory → inhibitory → excitatory
    w_init: float = 0.3  # initial weights U(0, w_init)
    w_max: float = 1.0
    norm: float = 78.4  # sum of each neuron's input weights
    weight_l2: float | None = None  # rescale each neuron's input weights to this length instead
    input_l2: float | None = None  # rescale each image to this length before encoding; None: not
    nu_pre: float = 1e-4
    nu_post: float = 1e-2
    theta_half: float | None = None  # mV of θ_j at which neuron j's rates are halved; None: fixed
    tau_pre: float = 20.0
    tau_post1: float = 20.0
    tau_post2: float = 40.0
    rule: str = "triplet"  # triplet: Diehl & Cook's Brian code; pair: BindsNET's PostPre

    def __post_init__(self):
        if self.n_neurons <= 0 or self.steps <= 0 or self.dt <= 0 or self.inhibition_delay < 1:
            raise ValueError(f"Need n_neurons, steps, dt > 0 and inhibition_delay >= 1: {self}.")
        if self.rule not in ("triplet", "pair"):
            raise ValueError(f"Unknown rule {self.rule!r}; valid: triplet, pair.")
        for name in ("weight_l2", "input_l2", "theta_half"):
            value = getattr(self, name)
            if value is not None and not 0 < value < math.inf:
                raise ValueError(f"{name} (model.{name} in a run's config) must be finite "
                                 f"and > 0, or None to leave it out; got {value}.")

    def decays(self) -> dict[str, float]:
        """Per-step retention exp(−dt/τ) of the membrane, θ and the three traces."""
        return {name: math.exp(-self.dt / tau) for name, tau in (
            ("mem", self.tau_mem), ("theta", self.tau_theta), ("pre", self.tau_pre),
            ("post1", self.tau_post1), ("post2", self.tau_post2))}


class DiehlCook2015(nn.Module):
    """``forward(images)`` presents a batch of images (B, n_inputs) in [0, 1] and returns each
    neuron's spike count (B, n_neurons); while ``training`` it also learns."""

    weight: torch.Tensor
    theta: torch.Tensor

    def __init__(self, n_inputs: int = 784, params: DiehlCookParameters = DiehlCookParameters(),
                 generator: torch.Generator | None = None, backend: str = "auto"):
        super().__init__()
        if backend not in BACKENDS:
            raise ValueError(f"Unknown backend {backend!r}; valid: {', '.join(BACKENDS)}.")
        self.n_inputs, self.params, self.backend = n_inputs, params, backend
        weight = torch.rand(n_inputs, params.n_neurons, generator=generator) * params.w_init
        self.register_buffer("weight", weight)  # (inputs, neurons): rows gathered per spike
        self.register_buffer("theta", torch.zeros(params.n_neurons))
        self.generator = generator

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 2 or images.shape[1] != self.n_inputs:
            raise ValueError(f"DiehlCook2015 expects images of shape (batch, {self.n_inputs}) "
                             f"in [0, 1], got {tuple(images.shape)}.")
        if not torch.isfinite(images).all() or images.min() < 0 or images.max() > 1:
            raise ValueError("DiehlCook2015 needs finite pixel intensities in [0, 1]; "
                             "scale the images first (hebbnet.data.to_float).")
        p = self.params
        if p.input_l2 is not None:
            images = images * (p.input_l2 / images.norm(dim=1, keepdim=True).clamp_min(1e-12))
        step, sample, index = poisson_events(images * p.max_rate, p.steps, p.dt, self.generator)
        spikes = self.present(step, sample, index, len(images))
        if self.training:
            self.normalise_weights()
        return spikes.sum(0)

    def plasticity_gain(self) -> torch.Tensor:
        """Each neuron's factor g_j on its STDP rates (n_neurons,): 1 without ``theta_half``."""
        half = self.params.theta_half
        if half is None:
            return torch.ones_like(self.theta)
        return half / (half + self.theta.clamp_min(0))

    def normalise_weights(self) -> None:
        """Each neuron's input weights back to sum ``norm`` (Diehl & Cook) or, with
        ``weight_l2``, to that Euclidean length (Allred & Roy 2020)."""
        p = self.params
        if p.weight_l2 is None:
            self.weight.mul_(p.norm / self.weight.sum(0, keepdim=True).clamp_min(1e-12))
        else:
            self.weight.mul_(p.weight_l2 / self.weight.norm(dim=0, keepdim=True).clamp_min(1e-12))

    @torch.no_grad()
    def present(self, step: torch.Tensor, sample: torch.Tensor, index: torch.Tensor,
                batch: int) -> torch.Tensor:
        """Run one presentation from input events; returns spikes (steps, batch, neurons)."""
        p = self.params
        bag = step * batch + sample  # (step, sample) bags: one per row of drive
        inputs = index[torch.argsort(bag, stable=True)]
        per_bag = torch.bincount(bag, minlength=p.steps * batch)
        bag_start = torch.cat([per_bag.new_zeros(1), torch.cumsum(per_bag, 0)])
        lottery = torch.rand(p.steps, batch, generator=self.generator, device=self.weight.device)
        if self._compiled():  # imported here: Numba costs every other run 0.3 s of start-up
            from hebbnet.models.diehl_cook_compiled import present_compiled
            return present_compiled(self, inputs, bag_start, lottery, batch)
        return self._present_stepwise(inputs, bag_start, per_bag, lottery, batch)

    def _compiled(self) -> bool:
        if self.backend == "auto":
            return self.weight.device.type == "cpu"
        if self.backend == "compiled" and self.weight.device.type != "cpu":
            raise ValueError("backend='compiled' runs on the CPU only; use backend='torch' "
                             f"(or 'auto') for weights on {self.weight.device}.")
        return self.backend == "compiled"

    def _present_stepwise(self, inputs: torch.Tensor, bag_start: torch.Tensor,
                          per_bag: torch.Tensor, lottery: torch.Tensor,
                          batch: int) -> torch.Tensor:
        """The presentation as one vectorised torch step per time step (any device)."""
        p = self.params
        starts = bag_start[:-1].view(p.steps, batch)
        offsets = starts - starts[:, :1]  # where each sample starts within its step's slice
        bounds = bag_start[::batch].tolist()
        rows = torch.repeat_interleave(
            torch.arange(batch, device=inputs.device).repeat(p.steps), per_bag)
        state = _PresentationState(self, batch)
        spikes = torch.zeros(p.steps, batch, p.n_neurons, dtype=torch.bool,
                             device=self.weight.device)
        for t in range(p.steps):
            first, last = bounds[t], bounds[t + 1]
            step_inputs = inputs[first:last]
            drive = F.embedding_bag(step_inputs, self.weight, offsets[t], mode="sum")
            fired, winner, any_fired = state.step(t, drive, lottery[t])
            spikes[t] = fired
            if self.training:
                state.learn(rows[first:last], step_inputs, fired, winner, any_fired)
        if self.training:
            self.theta.copy_(state.theta)
        return spikes


class SpikeCountFeatures(nn.Module):
    r"""A Diehl & Cook network as a plastic network's features: each image's spike counts per
    excitatory neuron. The network learns by STDP whenever it runs in training mode; its
    random numbers (initial weights, Poisson input, lottery) come from torch's global
    generator, which a run's checkpoint saves, so a resumed run draws the same spikes.

    Neurogenesis (``neurons_per_task=m``): the neurons are born m at a time, one block per task
    (as the dentate gyrus adds neurons in adulthood; Aimone et al. 2011). Until its task comes,
    a block is silent (its threshold out of reach), and it is born at rest (θ = 0); once a later
    task starts, it is protected — its weights and adaptive thresholds stay as they were —
    while it still fires and inhibits.

    Thresholds from the weights (``threshold_from_weights=κ``): while evaluating, neuron j's
    adaptive threshold is

    .. math:: \theta_j = \kappa\, \lVert w_j \rVert^2

    instead of the θ it learned (unborn neurons stay silent; the learned θ is kept and learning
    goes on with it). Why: with the rate approximation v − v_rest ≈ τ_m r_max w·x, the race to
    threshold picks argmax_j (τ_m r_max w_j·x − θ_j), and θ_j ∝ ‖w_j‖² makes that a nearest
    prototype in Euclidean distance (exactly so at κ = τ_m r_max/2, 3.2 mV at the defaults).
    Within a block of neurons that learned together the learned θ already follows ‖w_j‖²
    (r ≥ 0.98, measured in benchmarks/RESULTS.md), but its scale grows with the spikes a block
    fired, so across blocks it records *when* a neuron learned: a block trained while
    protected neurons fired and inhibited fires less, keeps a lower θ, and at test takes older
    classes' images. Tying θ to the weights makes the test-time competition independent of the
    order of learning; κ itself is chosen on a validation split. With every neuron's weights
    at one Euclidean length (``params.weight_l2``) θ_j is the same for all born neurons, and
    the race picks the largest w_j·x: the prototype nearest in angle (cosine), not in
    distance, which does not favour images with more ink.

    Args:
        input_shape: (C, H, W) of one image, intensities in [0, 1].
        params: the network's :class:`DiehlCookParameters`.
        neurons_per_task: neurons born per task; None: all plastic from the start.
        threshold_from_weights: κ in mV per squared weight unit, ≥ 0; None: evaluate with the
            learned θ, as Diehl & Cook do.
        chunk: images per presentation when not learning (bounds the spike tensor's memory;
            learning presents each training batch whole, as the paper's loop does).

    Shape: x (N, C, H, W) → h (N, n_neurons) float spike counts.
    """

    SILENT = 1e9  # mV of threshold: a neuron not yet born never fires

    def __init__(self, input_shape: Sequence[int],
                 params: DiehlCookParameters = DiehlCookParameters(),
                 neurons_per_task: int | None = None, chunk: int = 256, backend: str = "auto",
                 threshold_from_weights: float | None = None):
        super().__init__()
        if neurons_per_task is not None and not 0 < neurons_per_task <= params.n_neurons:
            raise ValueError(f"neurons_per_task must be in 1..n_neurons ({params.n_neurons}), "
                             f"got {neurons_per_task}.")
        if threshold_from_weights is not None and not 0 <= threshold_from_weights < math.inf:
            raise ValueError("threshold_from_weights (model.threshold_from_weights) is κ in "
                             "θ = κ‖w‖², a finite number ≥ 0 (or null for the learned θ), got "
                             f"{threshold_from_weights}.")
        self.threshold_from_weights = threshold_from_weights
        self.network = DiehlCook2015(math.prod(input_shape), params, backend=backend)
        self.base_params, self.chunk, self.out_features = params, chunk, params.n_neurons
        self.neurons_per_task = neurons_per_task
        self.frozen = False
        self.protected = torch.zeros(params.n_neurons, dtype=torch.bool)
        if neurons_per_task is not None:
            self.network.theta[neurons_per_task:] = self.SILENT

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1)
        if self.training and not self.frozen:
            return self._learn(flat)
        self.network.eval()
        with self._evaluation_thresholds():
            return torch.cat([self.network(part) for part in flat.split(self.chunk)]).float()

    @contextmanager
    def _evaluation_thresholds(self) -> Iterator[None]:
        """θ_j = κ‖w_j‖² for the born neurons while the block runs, the learned θ after."""
        if self.threshold_from_weights is None:
            yield
            return
        theta = self.network.theta
        learned = theta.clone()
        from_weights = self.threshold_from_weights * self.network.weight.square().sum(0)
        theta.copy_(torch.where(self._unborn(learned), learned, from_weights))
        try:
            yield
        finally:
            theta.copy_(learned)

    def _unborn(self, theta: torch.Tensor) -> torch.Tensor:
        """Which of these thresholds are a not-yet-born neuron's (θ decays, slowly, from SILENT)."""
        return theta > self.SILENT / 2

    def _learn(self, flat: torch.Tensor) -> torch.Tensor:
        """Present and learn; protected neurons' weights and thresholds are put back after.
        Under ``torchrun`` each rank presents its share of the batch and the ranks' weights
        and thresholds are averaged after (STDP is sequential, so this is not one process's
        learning on the whole batch, only close to it)."""
        net, protected = self.network.train(), self.protected.to(self.network.weight.device)
        kept = (net.weight[:, protected].clone(), net.theta[protected].clone())
        counts = net(flat).float()
        net.weight[:, protected], net.theta[protected] = kept
        average_over_ranks([net.weight, net.theta])  # data-parallel: replicas stay equal
        return counts

    def begin_task(self, task: int, gain: float) -> None:
        """STDP at ``gain`` times its rates ν_pre, ν_post (0 stops learning and θ's growth);
        with neurogenesis, the task's block is born and the earlier ones protected."""
        self.frozen = gain == 0
        self.network.params = replace(self.base_params, nu_pre=self.base_params.nu_pre * gain,
                                      nu_post=self.base_params.nu_post * gain)
        if self.neurons_per_task is not None:
            start = task * self.neurons_per_task
            if start + self.neurons_per_task > self.out_features:
                raise ValueError(
                    f"Task {task} needs neurons {start}..{start + self.neurons_per_task - 1}, "
                    f"but the network has {self.out_features}: model.n_neurons must be at least "
                    "model.neurons_per_task × the number of tasks.")
            born = slice(start, start + self.neurons_per_task)
            if self._unborn(self.network.theta[born]).all():
                self.network.theta[born] = 0.0
            self.protected[:start] = True


class _PresentationState:
    """Membranes, refractory clocks, inhibition in flight and traces during one presentation."""

    def __init__(self, net: DiehlCook2015, batch: int):
        p, weight = net.params, net.weight
        self.net, self.p = net, p
        self.v = weight.new_full((batch, p.n_neurons), p.v_rest)
        self.refractory = weight.new_zeros(batch, p.n_neurons)
        self.pending = weight.new_zeros(p.inhibition_delay, batch, p.n_neurons)
        self.theta = net.theta.clone()
        self.neuron = torch.arange(p.n_neurons, device=weight.device)
        self.pre_trace = weight.new_zeros(batch, net.n_inputs)
        self.post1 = weight.new_zeros(batch, p.n_neurons)
        self.post2 = weight.new_zeros(batch, p.n_neurons)
        self.decay = p.decays()
        self.gain = net.plasticity_gain() if p.theta_half is not None else None

    def step(self, t: int, drive: torch.Tensor, lottery: torch.Tensor):
        """Relax, integrate (unless refractory), let one neuron at most per sample fire, reset,
        send inhibition. Returns the spikes (batch, neurons) as bool, and per sample the
        neuron that fired and whether one did."""
        p, v, slot = self.p, self.v, t % self.p.inhibition_delay
        v.mul_(self.decay["mem"]).add_(p.v_rest * (1 - self.decay["mem"]))
        v.add_((drive - self.pending[slot]) * (self.refractory <= 0))
        crossed = v >= p.v_threshold + self.theta
        winner, any_fired = self.draw(crossed, lottery)
        fired = (self.neuron == winner.unsqueeze(1)) & any_fired.unsqueeze(1)
        v.masked_fill_(crossed, p.v_reset)
        self.refractory.sub_(p.dt).masked_fill_(crossed, p.refractory)
        self.pending[slot] = p.inhibition * (any_fired.unsqueeze(1) & ~fired)
        if self.net.training:
            self.theta.mul_(self.decay["theta"]).add_(p.theta_plus * crossed.sum(0))
        return fired, winner, any_fired

    def draw(self, crossed: torch.Tensor,
             lottery: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One neuron per sample, uniformly among those that crossed: the k-th of them,
        k = ⌊u·count⌋ with u the sample's uniform ``lottery``. Returns its index and whether any
        crossed, both (batch,)."""
        count = crossed.sum(1)
        k = (lottery * count).long()
        winner = (crossed.cumsum(1) > k.unsqueeze(1)).int().argmax(1)
        return winner, count > 0

    def learn(self, rows: torch.Tensor, inputs: torch.Tensor, fired: torch.Tensor,
              winner: torch.Tensor, any_fired: torch.Tensor) -> None:
        """This step's weight change, summed over the batch, applied at once."""
        p, weight = self.p, self.net.weight
        self.pre_trace.mul_(self.decay["pre"]).index_put_((rows, inputs),
                                                          self.pre_trace.new_ones(()))
        depressed = self.post1[rows] if self.gain is None else self.post1[rows] * self.gain
        weight.index_add_(0, inputs, depressed, alpha=-p.nu_pre)
        post2_before = self.post2.mul_(self.decay["post2"])
        teach = any_fired.to(weight.dtype)
        if p.rule == "triplet":  # y2(t⁻) of each sample's spiking neuron
            teach = teach * post2_before.gather(1, winner.unsqueeze(1)).squeeze(1)
        if self.gain is not None:
            teach = teach * self.gain[winner]
        weight.index_add_(1, winner, (self.pre_trace * (p.nu_post * teach).unsqueeze(1)).T)
        weight.clamp_(0, p.w_max)
        self.post1.mul_(self.decay["post1"]).masked_fill_(fired, 1.0)
        self.post2.masked_fill_(fired, 1.0)


def assign_labels(counts: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Each neuron's class: the one whose images made it fire most on average (Diehl & Cook).
    ``counts`` (N, neurons) from labelled *training* images; neurons that never fired get -1."""
    activity = torch.zeros(n_classes, counts.shape[1], device=counts.device)
    activity.index_add_(0, labels, counts.float())
    return label_neurons(activity, torch.bincount(labels, minlength=n_classes))


def predict(counts: torch.Tensor, assignment: torch.Tensor, n_classes: int) -> torch.Tensor:
    """The class whose assigned neurons fired most on average ("all-activity" vote)."""
    return vote(counts.float(), assignment, n_classes).argmax(1)


@dataclass
class DiehlCookConfig(PlasticModelConfig):
    """``model=diehl_cook``: the network as a plastic model's features (spike counts), read out
    by the neurons' labels unless another readout is chosen."""

    name: str = "diehl_cook"
    readout: str = "neuron_labels"
    n_neurons: int = 400
    steps: int = 250  # time steps (ms) per image
    rule: str = "triplet"  # triplet (Diehl & Cook's code) | pair (BindsNET's PostPre)
    theta_plus: float = 0.05  # mV of adaptive threshold per spike
    inhibition: float = 120.0  # mV
    nu_pre: float = 1e-4
    nu_post: float = 1e-2
    # metaplasticity: neuron j's STDP rates × θ½/(θ½ + θ_j), θ_j its adaptive threshold (mV);
    # null: the same rates for every neuron
    theta_half: Optional[float] = None
    # L2 normalisation (Allred & Roy 2020): each neuron's input weights rescaled to this
    # Euclidean length instead of summing to 78.4, and each image to input_l2; null: not
    weight_l2: Optional[float] = None
    input_l2: Optional[float] = None
    neurons_per_task: Optional[int] = None  # neurogenesis: a block born per task, older protected
    # κ: evaluate with thresholds θ = κ‖w‖² (mV) instead of the learned θ; null: the learned θ
    threshold_from_weights: Optional[float] = None


@register_model("diehl_cook", DiehlCookConfig)
def build_diehl_cook(cfg: DiehlCookConfig, input_shape: Sequence[int], n_outputs: int,
                     n_tasks: int) -> PlasticNetwork:
    params = DiehlCookParameters(n_neurons=cfg.n_neurons, steps=cfg.steps, rule=cfg.rule,
                                 theta_plus=cfg.theta_plus, inhibition=cfg.inhibition,
                                 nu_pre=cfg.nu_pre, nu_post=cfg.nu_post,
                                 weight_l2=cfg.weight_l2, input_l2=cfg.input_l2,
                                 theta_half=cfg.theta_half)
    if cfg.neurons_per_task is not None:
        check_room(cfg.n_neurons, "n_neurons", cfg.neurons_per_task, n_tasks)
    features = SpikeCountFeatures(input_shape, params, cfg.neurons_per_task,
                                  threshold_from_weights=cfg.threshold_from_weights)
    return plastic_network(cfg, features, input_shape, n_outputs)
