r"""The complementary learning system (McClelland, McNaughton & O'Reilly 1995): a fast
hippocampal store and a slow cortex, consolidated by sleep.

Two phases, both read top to bottom here:

* **wake** (:meth:`ComplementaryLearningSystem.train_experience`) — the cortex (the model)
  learns each batch by gradient descent, interleaved with episodes the hippocampus replays
  (weighted as van de Ven et al.'s replay: 1/k for the current batch on the k-th task, the rest
  for replay), and the hippocampus encodes each sample of the stream the first time it comes by
  (:class:`hebbnet.memory_systems.Hippocampus`).
* **sleep** (:meth:`ComplementaryLearningSystem.sleep`) — NREM-like replay: ``sleep_steps``
  steps of learning on hippocampal episodes alone, all classes in equal shares, old and recent
  interleaved, with a fresh optimiser at ``sleep_lr``; then synaptic downscaling
  (:func:`hebbnet.memory_systems.sleep.downscale`).

A lesion (``lesion_after=k``) removes the hippocampus after the k-th sleep: from then on it
stores nothing and nothing is replayed, awake or asleep (downscaling, a cortical process, goes
on). Old tasks' accuracy at the end, against the number of sleeps before the lesion, is the
systems-consolidation curve (benchmarks/RESULTS.md).

A slow cortex (``slow_cortex_decay=d``): besides the cortex that learns, a copy whose weights
follow it as a moving average, :math:`\theta_s \leftarrow d\,\theta_s + (1-d)\,\theta`
after every wake and sleep step, answers at test time — the slowly integrating neocortex of the
theory, as CLS-ER's stable model (Arani et al. 2022) is. It counts as bytes beyond the model.

Sleep comes after every experience (the runner calls it, measuring accuracy right before and
after), or — ``sleep_every=N``, for streams whose task boundaries nobody announces — every N
wake steps, from inside the wake loop. ``memory_bytes`` is the hippocampus's budget: all it
holds (packed pixels, labels, task ids) stays within it. The bytes reported beyond the model
also count what the learner needs besides a plain model: with ``store="codes"`` the fixed
random code layer the episodes are read through.

``store="codes"`` keeps no pixels at all: the model reads its input through a fixed sparse code
(``model.code_size``, :class:`hebbnet.layers.SparseCode` — a random expansion with k winners,
pattern separation), the hippocampus stores each sample's binary code at one bit per unit, and
replay drives the layers above the code (``model.classify``). With ``hippocampus="attractor"``
the codes are not kept as samples at all: CA3 learns them in its synapses in one shot and
replay is the spontaneous reactivation of its attractors
(:class:`hebbnet.memory_systems.attractor.AttractorHippocampus`).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional, cast

import torch
import torch.nn.functional as F
from torch import nn

from hebbnet.continual.benchmark import Experience, TensorSet
from hebbnet.continual.scenario import mask_logits
from hebbnet.continual.strategies.base import (
    FirstPass,
    StepMonitor,
    Strategy,
    StrategyConfig,
    TrainStats,
)
from hebbnet.continual.strategies.clser import ema_update, parameter_bytes, warmed_decay
from hebbnet.data import to_float
from hebbnet.data.augment import random_shift
from hebbnet.layers.sparse_code import SparseCode
from hebbnet.memory_systems.attractor import AttractorConfig, AttractorHippocampus
from hebbnet.memory_systems.hippocampus import Hippocampus
from hebbnet.memory_systems.sleep import check_downscaling, downscale
from hebbnet.memory_systems.spiking_sleep import (
    SpikingSleepConfig,
    check_spiking_sleep,
    spiking_sleep,
)
from hebbnet.models.contract import Coded
from hebbnet.models.plastic import module_device
from hebbnet.registry import register_strategy
from hebbnet.spiking.conversion import layer_scales

STORES = ("pixels", "codes")
HIPPOCAMPI = ("slots", "attractor")


@dataclass
class CLSConfig(StrategyConfig):
    name: str = "cls"
    memory_bytes: int = 156_800  # the slot hippocampus's budget (200 raw 28×28 images)
    # slots: episodes kept as packed samples within memory_bytes | attractor: codes stored in
    # CA3's synapses (needs store=codes; its bytes are N²/8 for N code units, whatever it holds)
    hippocampus: str = "slots"
    attractor: AttractorConfig = field(default_factory=AttractorConfig)
    pixel_bits: int = 1  # 1 | 2 | 4 | 8 bits per stored pixel
    wake_replay: bool = True  # replay hippocampal episodes beside every wake batch
    sleep_steps: int = 500  # NREM replay steps per sleep
    sleep_lr: Optional[float] = None  # null: train.lr
    sleep_batch_size: int = 128  # episodes per sleep replay step (its own, not train.batch_size)
    downscaling: float = 1.0  # 0 (none) … 1 (units above the median norm brought to it)
    downscale_layers: str = "output"  # output | all
    sleep_every: Optional[int] = None  # null: sleep after every task; N: every N wake steps
    store: str = "pixels"  # pixels | codes (the model's sparse input code; needs model.code_size)
    replay_shift: int = 2  # replayed episodes moved by up to this many pixels
    code_size: int = 2000  # dentate-gyrus expansion
    code_active: int = 50  # its k winners
    # Systems consolidation: the hippocampus is removed after this many sleeps (it stores and
    # replays nothing from then on); null: never. 0: a CLS without a hippocampus.
    lesion_after: Optional[int] = None
    # A slowly consolidating copy of the cortex: the moving average of its weights, decay d per
    # step (at most; 1 − 1/(n+1) over the first steps), answers at test time; null: none.
    slow_cortex_decay: Optional[float] = None
    # Unsupervised sleep (Tadros et al. 2022): the cortex run as spiking units on noise.
    spiking_sleep: SpikingSleepConfig = field(default_factory=SpikingSleepConfig)


def check_store(store: str, model: nn.Module, pixel_bits: int, spiking_steps: int) -> bool:
    """Whether episodes are the model's sparse input codes; contradictory settings are errors."""
    if store not in STORES:
        raise ValueError(f"Unknown strategy.store {store!r}; valid: {', '.join(STORES)}.")
    if store == "pixels":
        return False
    if not (isinstance(model, Coded) and model.codes):
        raise ValueError("strategy.store=codes keeps the model's sparse input codes, but this "
                         "model reads pixels; give it a code, e.g. model.code_size=2000.")
    if pixel_bits != 1 or spiking_steps:
        raise ValueError("strategy.store=codes stores binary codes at one bit and drives no "
                         "spiking sleep; leave strategy.pixel_bits=1 and "
                         "strategy.spiking_sleep.steps=0.")
    return True


@dataclass(frozen=True)
class SleepReport:
    replayed: int  # episodes replayed into the cortex
    weight_norm_change: float  # relative change of the downscaled layers' norm
    spikes: int  # spikes in the cortex during spiking sleep
    episodes: int  # episodes the hippocampus holds
    bytes: int  # memory beyond the model (the hippocampus, the average input if used)


@register_strategy("cls", CLSConfig)
class ComplementaryLearningSystem(Strategy):
    """The complementary learning system (the module docstring describes it)."""

    data_parallel = False  # its hippocampus stores the batches of its rank

    def __init__(self, model, scenario, schedule, generator, options: CLSConfig | None = None):
        super().__init__(model, scenario, schedule, generator)
        options = options or CLSConfig()
        sleep_steps, replay_shift = options.sleep_steps, options.replay_shift
        sleep_batch_size, sleep_every = options.sleep_batch_size, options.sleep_every
        lesion_after, slow_cortex_decay = options.lesion_after, options.slow_cortex_decay
        if (sleep_steps < 0 or replay_shift < 0 or sleep_batch_size <= 0
                or (sleep_every is not None and sleep_every <= 0)):
            raise ValueError("strategy.sleep_steps and strategy.replay_shift must be >= 0, "
                             "strategy.sleep_batch_size positive and strategy.sleep_every "
                             f"positive or null; got {sleep_steps}, {replay_shift}, "
                             f"{sleep_batch_size}, {sleep_every}.")
        if lesion_after is not None and lesion_after < 0:
            raise ValueError("strategy.lesion_after is the number of sleeps before the "
                             f"hippocampus is removed: >= 0 or null (never); got {lesion_after}.")
        check_downscaling(options.downscaling, options.downscale_layers)
        self.spiking = options.spiking_sleep
        check_spiking_sleep(self.spiking)
        self.codes = check_store(options.store, model, options.pixel_bits, self.spiking.steps)
        self.hippocampus = self._make_hippocampus(
            options, seed=int(torch.randint(2**31, (1,), generator=generator)))
        self._first_pass = FirstPass()  # the hippocampus encodes each sample once
        self.wake_replay, self.sleep_steps = options.wake_replay, sleep_steps
        self.sleep_lr = options.sleep_lr or schedule.lr
        self.sleep_batch_size = sleep_batch_size
        self.downscaling, self.downscale_layers = options.downscaling, options.downscale_layers
        self.sleep_every = sleep_every
        # codes and permuted pixels have no neighbours to move to
        self.replay_shift = replay_shift if scenario.spatial and not self.codes else 0
        # the average input drives spiking sleep
        self.input_sum: torch.Tensor | None = None
        self.inputs_seen = 0
        self.wake_steps = 0  # over the whole run: the clock of task-free sleep
        self.lesion_after, self.sleeps = lesion_after, 0
        self.slow_cortex: nn.Module | None = None
        self.slow_cortex_decay = slow_cortex_decay or 0.0
        if slow_cortex_decay is not None:
            if not 0 < slow_cortex_decay < 1 or self.learns_locally:
                raise ValueError("strategy.slow_cortex_decay averages a gradient-trained "
                                 "cortex's weights: give a decay in (0, 1) (e.g. 0.999) for a "
                                 f"model trained by backprop, or null; got {slow_cortex_decay}.")
            self.slow_cortex = copy.deepcopy(model).requires_grad_(False)
        self.steps = 0  # optimiser steps, wake and sleep: the slow cortex's averaging clock

    def _make_hippocampus(self, options: CLSConfig, seed: int):
        """Slots of packed episodes, or — ``attractor`` — CA3 synapses storing the codes."""
        if options.hippocampus not in HIPPOCAMPI:
            raise ValueError(f"Unknown strategy.hippocampus {options.hippocampus!r}; valid: "
                             f"{', '.join(HIPPOCAMPI)}.")
        if options.hippocampus == "slots":
            return Hippocampus(options.memory_bytes, options.pixel_bits, options.code_size,
                               options.code_active, seed=seed)
        if not self.codes:
            raise ValueError("strategy.hippocampus=attractor stores the model's sparse input "
                             "codes in its synapses; set strategy.store=codes and give the "
                             "model a sparse code, e.g. model.code_size=2000 "
                             "model.code_active=20.")
        code = next(m for m in self.model.modules() if isinstance(m, SparseCode))
        return AttractorHippocampus(code.size, code.active, options.attractor, seed=seed)

    @property
    def lesioned(self) -> bool:
        """Whether the hippocampus has been removed (``lesion_after`` sleeps have passed)."""
        return self.lesion_after is not None and self.sleeps >= self.lesion_after

    @property
    def sleeps_after_experience(self) -> bool:
        return self.sleep_every is None

    def train_experience(self, experience: Experience, seen: Sequence[Experience],
                         monitor: StepMonitor | None = None, final: bool = False) -> TrainStats:
        """Wake: learn the stream of ``experience`` with replay, the hippocampus encoding the
        stream's first pass over the data (each sample once); task-free sleep on its clock."""
        self._first_pass.start(len(experience.train))

        def wake_clock(step: int, steps: int, loss: float) -> None:
            self.wake_steps += 1
            if self.sleep_every and self.wake_steps % self.sleep_every == 0:
                self.sleep(experience.task_id)
                self.model.train()
            if monitor is not None:
                monitor(step, steps, loss)

        return super().train_experience(experience, seen, wake_clock, final)

    def batch_loss(self, batch: TensorSet, task: int) -> torch.Tensor:
        loss = super().batch_loss(batch, task)
        if self.wake_replay and len(self.hippocampus):
            replay = self.hippocampus.sample(len(batch), self.generator).to(batch.x.device)
            current_share = 1 / (task + 1)
            loss = current_share * loss + (1 - current_share) * self._replay_loss(replay, task)
        self._encode(batch)
        return loss

    def local_step(self, batch: TensorSet, task: int) -> float:
        """A cortex that learns by local rules sees the batch, then as many replayed episodes."""
        error = super().local_step(batch, task)
        if self.wake_replay and len(self.hippocampus):
            replay = self.hippocampus.sample(len(batch), self.generator).to(batch.x.device)
            super().local_step(self._recollect(replay), task)
        self._encode(batch)
        return error

    def _encode(self, batch: TensorSet) -> None:
        """The hippocampus encodes the samples of the stream's first pass."""
        new = self._first_pass.take(batch)
        if new is not None and not self.lesioned:
            self.hippocampus.store(self._episodes(new), self.generator)
            if self.spiking.steps:
                self._remember_average(new)

    @torch.no_grad()
    def _episodes(self, new: TensorSet) -> TensorSet:
        """What the hippocampus keeps of new samples: the images, or the model's binary input
        codes (as bytes 0/255, stored at one bit)."""
        if not self.codes:
            return new
        codes = cast(Coded, self.model).encode(self.scenario.inputs(new.x))
        return TensorSet((codes * 255).to(torch.uint8), new.y, new.t)

    def _remember_average(self, new: TensorSet) -> None:
        total = to_float(new.x).sum(0).cpu()
        self.input_sum = total if self.input_sum is None else self.input_sum + total
        self.inputs_seen += len(new)

    def sleep(self, task: int) -> SleepReport:
        """NREM replay of hippocampal episodes into the cortex, then downscaling, then (if
        ``spiking_sleep.steps``) unsupervised spiking sleep on noise."""
        replayed = self._nrem_replay(task)
        change = 0.0
        if self.downscaling > 0:
            units = self.scenario.seen_units[task] if self.scenario.kind == "class" else None
            change = downscale(self.model, self.downscaling, self.downscale_layers, units)
        spikes = self._spiking_sleep(task) if self.spiking.steps else 0
        self.sleeps += 1
        if self.lesioned:
            self.hippocampus.clear()
        return SleepReport(replayed, change, spikes, len(self.hippocampus), self.memory_bytes())

    def _nrem_replay(self, task: int) -> int:
        """``sleep_steps`` steps of learning on hippocampal episodes alone (shown to a cortex
        that learns locally)."""
        replayed = 0
        if len(self.hippocampus) and self.sleep_steps:
            device = module_device(self.model)
            # a fresh optimiser for each sleep (unfused, as in the runs RESULTS.md reports)
            optimizer = None if self.learns_locally else self._make_optimizer(self.sleep_lr,
                                                                              fused=False)
            self.model.train()
            for _ in range(self.sleep_steps):
                replay = self.hippocampus.sample(self.sleep_batch_size, self.generator).to(device)
                if optimizer is None:
                    super().local_step(self._recollect(replay), task)
                else:
                    self.gradient_step(self._replay_loss(replay, task), task, optimizer)
                replayed += len(replay)
        return replayed

    def _spiking_sleep(self, task: int) -> int:
        """Tadros et al.'s unsupervised sleep on the cortex's linear layers; returns spikes."""
        layers = [m for m in self.model.modules() if isinstance(m, nn.Linear)]
        if self.input_sum is None:
            raise RuntimeError("Spiking sleep draws on the average input of the samples seen "
                               "awake, and none was seen.")
        mean = self.input_sum / max(self.inputs_seen, 1)
        episodes = self.hippocampus.episodes() if len(self.hippocampus) else None
        reference = to_float(episodes.x) if episodes is not None else mean.unsqueeze(0)
        scales = layer_scales(layers, reference.to(layers[0].weight.device))
        return sum(spiking_sleep(layers, mean, scales, self.spiking, self.generator, task))

    def _recollect(self, replay: TensorSet) -> TensorSet:
        """Replayed episodes, each moved by up to ``replay_shift`` pixels (a recollection is
        not a copy; codes and permuted pixels are not moved)."""
        return TensorSet(random_shift(replay.x, self.replay_shift, self.generator), replay.y,
                         replay.t)

    def _replay_loss(self, replay: TensorSet, task: int) -> torch.Tensor:
        """Cross-entropy on recollected episodes, masked as each one's own task requires."""
        recollection = self._recollect(replay)
        # codes are stored as bytes 0/255 of binary units: back to 0/1, never augmented
        x = to_float(recollection.x) if self.codes else self.training_inputs(recollection.x)
        logits = cast(Coded, self.model).classify(x) if self.codes else self.model(x)
        return F.cross_entropy(mask_logits(logits, self.scenario.train_mask(task, replay.t)),
                               replay.y)

    @property
    def predictor(self) -> nn.Module:
        """The slow cortex when there is one, else the cortex."""
        return self.slow_cortex if self.slow_cortex is not None else self.model

    def after_step(self) -> None:
        self.steps += 1
        if self.slow_cortex is not None:
            ema_update(self.slow_cortex, self.model,
                       warmed_decay(self.steps, self.slow_cortex_decay))

    def memory_bytes(self) -> int:
        """The hippocampus; the average input (float32 per pixel) when spiking sleep uses it;
        with stored codes, what rebuilds the fixed code layer that makes them (its projection,
        or the seed it is drawn from, and its thresholds); the slow cortex's weights."""
        average = self.input_sum.nbytes if self.input_sum is not None else 0
        code = sum(module.stored_bytes() for module in self.model.modules()
                   if isinstance(module, SparseCode))
        slow = parameter_bytes(self.slow_cortex) if self.slow_cortex is not None else 0
        return self.hippocampus.nbytes + average + (code if self.codes else 0) + slow

    def state_dict(self) -> dict:
        return {**super().state_dict(), "hippocampus": self.hippocampus.state_dict(),
                "wake_steps": self.wake_steps, "sleeps": self.sleeps, "input_sum": self.input_sum,
                "inputs_seen": self.inputs_seen, "steps": self.steps,
                "slow_cortex": (self.slow_cortex.state_dict()
                                if self.slow_cortex is not None else None)}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.hippocampus.load_state_dict(state["hippocampus"])
        self.wake_steps = state["wake_steps"]
        if "sleeps" not in state and self.lesion_after is not None:
            raise ValueError("This checkpoint predates strategy.lesion_after and does not say "
                             "how many sleeps have passed; start the lesioned run afresh.")
        self.sleeps = state.get("sleeps", 0)
        self.input_sum, self.inputs_seen = state["input_sum"], state["inputs_seen"]
        self.steps = state.get("steps", 0)  # absent from checkpoints before the slow cortex
        if self.slow_cortex is not None:
            if state.get("slow_cortex") is None:
                raise ValueError("This checkpoint has no slow cortex; start the run with "
                                 "strategy.slow_cortex_decay afresh.")
            self.slow_cortex.load_state_dict(state["slow_cortex"])
