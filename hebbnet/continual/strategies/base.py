"""The training loop a strategy runs on one experience, and the hooks strategies override.

A strategy owns the model's optimiser and decides, per experience, which data to train on
(:meth:`Strategy.training_set`) and what loss to minimise (:meth:`Strategy.loss`). There is no
callback chain: the loop is :meth:`Strategy.train_experience`, read top to bottom.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from hebbnet.continual.benchmark import Experience, TensorSet
from hebbnet.continual.scenario import Scenario, mask_logits
from hebbnet.data import to_float

OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite."""


@dataclass(frozen=True)
class Schedule:
    """How long and how fast to train on each experience.

    Exactly one of ``iterations`` (optimiser steps per task, as van de Ven et al.) and
    ``epochs`` (passes over the task's data, as Mammoth) is set.
    """

    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 128
    iterations: int | None = 2000
    epochs: float | None = None
    reset_optimizer: bool = False

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"Unknown optimizer {self.optimizer!r}; valid: {', '.join(OPTIMIZERS)}."
            )
        if (self.iterations is None) == (self.epochs is None):
            raise ValueError(
                "Set exactly one of train.iterations and train.epochs (the other to null); "
                f"got iterations={self.iterations}, epochs={self.epochs}."
            )
        for name in ("lr", "batch_size", "iterations", "epochs"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"train.{name} must be positive, got {value}.")

    def n_steps(self, n_samples: int) -> int:
        if self.iterations is not None:
            return self.iterations
        return math.ceil(self.epochs * n_samples / self.batch_size)


@dataclass(frozen=True)
class TrainStats:
    steps: int
    samples: int
    seconds: float


StepMonitor = Callable[[int, int, float], None]
"""Called after every optimiser step with (step within task, steps in task, loss)."""


class Strategy:
    """Trains one model on one experience at a time; by default plain fine-tuning.

    Subclasses change what is trained on (:meth:`training_set`), what is minimised
    (:meth:`loss`), and what happens around an experience (:meth:`after_experience`).
    """

    def __init__(
        self,
        model: nn.Module,
        scenario: Scenario,
        schedule: Schedule,
        generator: torch.Generator,
    ) -> None:
        self.model = model
        self.scenario = scenario
        self.schedule = schedule
        self.generator = generator
        self.optimizer = self._make_optimizer()

    def training_set(self, experience: Experience, seen: Sequence[Experience]) -> TensorSet:
        """The data to train on for ``experience``; ``seen`` holds experiences 0..current."""
        return experience.train

    def loss(self, logits: torch.Tensor, y: torch.Tensor, t: torch.Tensor, task: int) -> torch.Tensor:
        """Cross-entropy over the output units the scenario allows for each sample."""
        return F.cross_entropy(mask_logits(logits, self.scenario.train_mask(task, t)), y)

    def after_experience(self, experience: Experience) -> None:
        """Hook for work once an experience is learned (consolidation, buffer updates)."""

    def train_experience(
        self,
        experience: Experience,
        seen: Sequence[Experience],
        monitor: StepMonitor | None = None,
    ) -> TrainStats:
        if self.schedule.reset_optimizer:
            self.optimizer = self._make_optimizer()
        data = self.training_set(experience, seen)
        steps = self.schedule.n_steps(len(data))
        device = next(self.model.parameters()).device
        self.model.train()
        start = time.perf_counter()
        for step, index in enumerate(self._batches(len(data), steps)):
            index = index.to(device)
            logits = self.model(to_float(data.x[index]))
            loss = self.loss(logits, data.y[index], data.t[index], experience.task_id)
            value = loss.item()
            if not math.isfinite(value):
                raise NonFiniteLossError(
                    f"The training loss became {value} at step {step} of task "
                    f"{experience.task_id}. Lower train.lr, or check the data for NaN or Inf."
                )
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            if monitor is not None:
                monitor(step, steps, value)
        self.after_experience(experience)
        return TrainStats(steps, steps * self.schedule.batch_size, time.perf_counter() - start)

    def state_dict(self) -> dict:
        return {"optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])

    def _make_optimizer(self) -> torch.optim.Optimizer:
        return OPTIMIZERS[self.schedule.optimizer](self.model.parameters(), lr=self.schedule.lr)

    def _batches(self, n_samples: int, steps: int) -> Iterator[torch.Tensor]:
        """``steps`` batches of indices from back-to-back random permutations of the data."""
        size = self.schedule.batch_size
        n_permutations = math.ceil(steps * size / n_samples)
        order = torch.cat(
            [torch.randperm(n_samples, generator=self.generator) for _ in range(n_permutations)]
        )
        return iter(order[: steps * size].view(steps, size))
