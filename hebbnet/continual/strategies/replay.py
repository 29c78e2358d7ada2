"""Experience replay: rehearse stored samples of earlier tasks alongside the current batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F

from hebbnet.continual.benchmark import Experience, TensorSet
from hebbnet.continual.scenario import mask_logits
from hebbnet.continual.strategies.base import FirstPass, Strategy, StrategyConfig
from hebbnet.data.augment import random_shift
from hebbnet.memory_systems.buffer import ReplayBuffer
from hebbnet.registry import register_strategy

WEIGHTINGS = ("tasks_seen", "concat", "sum")


@dataclass
class StoredSamplesConfig(StrategyConfig):
    """What every replay strategy shares: its buffer, and the CLS's storage and augmentation
    as options (for replay baselines at the CLS's bytes)."""

    buffer_size: int = 200  # stored samples
    replay_batch_size: Optional[int] = None  # stored samples per step; null: train.batch_size
    pixel_bits: Optional[int] = None  # 1 | 2 | 4 | 8: packed as the hippocampus packs; null: raw
    replay_shift: int = 0  # replayed images moved by up to this many pixels


@dataclass
class ReplayConfig(StoredSamplesConfig):
    policy: str = "reservoir"  # reservoir | class_balanced | class_reservoir (the hippocampus's)


@dataclass
class ERConfig(ReplayConfig):
    name: str = "er"
    weighting: str = "concat"  # concat (Mammoth) | tasks_seen (van de Ven et al.) | sum (Caccia et al.)


class BufferedStrategy(Strategy):
    """A strategy with a :class:`ReplayBuffer`: reservoir buffers take every training batch,
    class-balanced buffers take each task once it is learned, class reservoirs (the CLS's
    hippocampus's policy) each sample of a task's stream once, on its first pass.

    ``pixel_bits`` stores the samples packed as the CLS's hippocampus does, and
    ``replay_shift`` moves each replayed image by up to that many pixels, as the CLS moves its
    episodes (images only: no shift where the scenario's inputs are not spatial), so a replay
    baseline can have the CLS's storage and augmentation.

    The buffer keeps images as the stream showed them, before augmentation; replayed images are
    augmented afresh each time they are replayed, as the benchmark augments training batches
    (Mammoth and Caccia et al. store the un-augmented images and augment what they draw). Replayed and
    incoming samples go through the model in separate forward passes, so a BatchNorm layer
    normalises each by its own batch's statistics (Caccia et al.'s code; Mammoth's ER
    concatenates the two).
    """

    data_parallel = False  # its memory grows from the batches of its rank

    def __init__(self, model, scenario, schedule, generator, options: StoredSamplesConfig,
                 policy: str = "reservoir", store_logits: bool = False):
        super().__init__(model, scenario, schedule, generator)
        self.buffer = ReplayBuffer(options.buffer_size, policy, store_logits, options.pixel_bits)
        self.replay_batch_size = options.replay_batch_size or schedule.batch_size
        if self.replay_batch_size <= 0:
            raise ValueError("strategy.replay_batch_size must be positive, got "
                             f"{options.replay_batch_size}.")
        if options.replay_shift < 0:
            raise ValueError(f"strategy.replay_shift must be >= 0, got {options.replay_shift}.")
        self.replay_shift = options.replay_shift if scenario.spatial else 0
        self._first_pass = FirstPass()

    def train_experience(self, experience, seen, monitor=None, final=False):
        """As every strategy, with a class reservoir offered the stream's first pass."""
        self._first_pass.start(len(experience.train))
        return super().train_experience(experience, seen, monitor, final)

    def replay_batch(self) -> tuple[TensorSet, torch.Tensor | None] | None:
        """A random batch of stored samples (and their stored logits), or None while empty."""
        if len(self.buffer) == 0:
            return None
        replay, logits = self.buffer.sample(self.replay_batch_size, self.generator)
        moved = random_shift(replay.x, self.replay_shift, self.generator)
        return TensorSet(moved, replay.y, replay.t), logits

    def remember(self, batch: TensorSet, logits: torch.Tensor | None = None) -> None:
        if self.buffer.policy == "reservoir":
            self.buffer.add_stream(batch, self.generator, logits)
        elif self.buffer.policy == "class_reservoir":
            new = self._first_pass.take(batch)
            if new is not None:
                self.buffer.add_classes(new, self.generator)

    def replay_loss(self, replay: TensorSet, task: int) -> torch.Tensor:
        """Cross-entropy on stored samples, each masked as its own task requires (their images
        augmented as a training batch's: :meth:`~Strategy.training_inputs`)."""
        logits = self.model(self.training_inputs(replay.x))
        return F.cross_entropy(mask_logits(logits, self.scenario.train_mask(task, replay.t)),
                               replay.y)

    def after_experience(self, experience: Experience) -> None:
        if self.buffer.policy == "class_balanced":
            self.buffer.add_task(experience.train, self.generator)

    def memory_bytes(self) -> int:
        return self.buffer.nbytes

    def state_dict(self) -> dict:
        return {**super().state_dict(), "buffer": self.buffer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.buffer.load_state_dict(state["buffer"])


@register_strategy("er", ERConfig)
class ExperienceReplay(BufferedStrategy):
    r"""Train on the current batch and a batch drawn from the buffer (Chaudhry et al. 2019;
    Rolnick et al. 2019):

    * ``weighting="tasks_seen"`` (van de Ven et al. 2022): :math:`L = \frac1k L_\text{cur} +
      (1-\frac1k) L_\text{replay}` on the k-th task, so every task seen weighs the same;
    * ``weighting="concat"`` (Mammoth, Buzzega et al. 2020): one cross-entropy over the
      concatenated batch, :math:`L = \frac{n L_\text{cur} + m L_\text{replay}}{n+m}`;
    * ``weighting="sum"`` (Caccia et al. 2022, ``pclucas14/AML`` ``methods/er.py``):
      :math:`L = L_\text{cur} + L_\text{replay}`.
    """

    def __init__(self, model, scenario, schedule, generator, options: ERConfig | None = None):
        options = options or ERConfig()
        super().__init__(model, scenario, schedule, generator, options, options.policy)
        if options.weighting not in WEIGHTINGS:
            raise ValueError(f"Unknown strategy.weighting {options.weighting!r}; valid: "
                             f"{', '.join(WEIGHTINGS)}.")
        self.weighting = options.weighting

    def batch_loss(self, batch, task):
        drawn = self.replay_batch()
        self.remember(batch)
        return self.rehearsal_loss(batch, drawn[0] if drawn is not None else None, task)

    def rehearsal_loss(self, batch: TensorSet, replay: TensorSet | None, task: int) -> torch.Tensor:
        """The current batch's loss and, once anything is stored, ``replay``'s, weighted."""
        loss = super().batch_loss(batch, task)
        if replay is None:
            return loss
        replayed = self.replay_loss(replay, task)
        if self.weighting == "sum":
            return loss + replayed
        if self.weighting == "tasks_seen":
            current_share = 1 / (task + 1)
        else:
            current_share = len(batch) / (len(batch) + len(replay))
        return current_share * loss + (1 - current_share) * replayed

    def local_step(self, batch, task):
        """A locally learning model sees the current batch, then a batch of stored samples."""
        drawn = self.replay_batch()
        self.remember(batch)
        error = super().local_step(batch, task)
        if drawn is not None:
            super().local_step(drawn[0], task)
        return error
