"""The training loop a strategy runs on one experience, and the hooks strategies override.

A strategy owns the model's optimiser and decides, per experience, which data to train on
(:meth:`Strategy.training_set`), what loss one batch costs (:meth:`Strategy.batch_loss`), what
happens to the gradient before the step (:meth:`Strategy.before_step`), after it
(:meth:`Strategy.after_step`) and after the experience (:meth:`Strategy.after_experience`).
There is no callback chain: the loop is :meth:`Strategy.train_experience`, and one step is
:meth:`Strategy.training_step`, both read top to bottom.

Images stay uint8 until a batch reaches the model: :meth:`Strategy.training_inputs` augments a
training or replayed batch as the benchmark says, on its device, drawing from the strategy's
generator (the run's order generator, which every checkpoint saves, so a resumed run draws the
same crops), and turns it into the scenario's inputs; evaluation uses the scenario's inputs
alone. With ``train.precision=bf16`` each batch's loss is computed under autocast.

A model that learns by local rules only (a :class:`~hebbnet.models.plastic.PlasticNetwork`
whose ``learns_locally``) has no gradient and no optimiser: each step shows it the batch
(:meth:`Strategy.local_step`). Strategies that only decide what data the model sees can train
it (``trains_local_learners``); those built on gradients (EWC, SI, LwF, A-GEM, DER++) cannot,
and say so before training starts.

Under ``torchrun`` (see :mod:`hebbnet.distributed`) every rank draws the same batches of
indices and trains on its share of each; the gradients are averaged over the ranks before the
optimiser steps, so the replicas stay equal and, for a loss that is a mean over the batch,
step as one process would on the whole batch. A strategy whose state grows from the batches
it sees (a replay memory filled from the stream) would hold a different memory on each rank:
it says ``data_parallel = False`` and is refused there.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, cast

import torch
import torch.nn.functional as F
from torch import nn

from hebbnet.continual.benchmark import Experience, TensorSet
from hebbnet.continual.scenario import Scenario, mask_logits
from hebbnet.data.augment import augment
from hebbnet.distributed import average_over_ranks, shard, world_size
from hebbnet.models.contract import LocalLearner, TaskAware
from hebbnet.models.plastic import module_device

if TYPE_CHECKING:  # the run-level schema imports this module for its default strategy
    from hebbnet.config.schema import TrainConfig

OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}
PRECISIONS = {"fp32": None, "bf16": torch.bfloat16}  # train.precision: the autocast dtype


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


def check_schedule(schedule: TrainConfig) -> None:
    """Reject a training schedule that cannot run, naming the setting to fix."""
    if schedule.optimizer not in OPTIMIZERS:
        raise ValueError(
            f"Unknown train.optimizer {schedule.optimizer!r}; valid: {', '.join(OPTIMIZERS)}."
        )
    if schedule.precision not in PRECISIONS:
        raise ValueError(
            f"Unknown train.precision {schedule.precision!r}; valid: {', '.join(PRECISIONS)}."
        )
    if (schedule.iterations is None) == (schedule.epochs is None):
        raise ValueError(
            "Set exactly one of train.iterations and train.epochs (the other to null); "
            f"got iterations={schedule.iterations}, epochs={schedule.epochs}."
        )
    for name in ("lr", "batch_size", "iterations", "epochs"):
        value = getattr(schedule, name)
        if value is not None and value <= 0:
            raise ValueError(f"train.{name} must be positive, got {value}.")


def steps_per_task(schedule: TrainConfig, n_samples: int) -> int:
    """``train.iterations`` optimiser steps (van de Ven et al.), or ``train.epochs`` passes
    over the task's data (Mammoth), whichever is set."""
    if schedule.iterations is not None:
        return schedule.iterations
    assert schedule.epochs is not None  # check_schedule: exactly one of the two is set
    return math.ceil(schedule.epochs * n_samples / schedule.batch_size)


@dataclass(frozen=True)
class TrainStats:
    steps: int
    samples: int
    seconds: float


StepMonitor = Callable[[int, int, float], None]
"""Called after every optimiser step with (step within task, steps in task, loss)."""


class FirstPass:
    """The part of each batch that the task's stream shows for the first time. The loop's
    batches are back-to-back random permutations of the task's data, so the first ``n``
    samples drawn are each sample once: a store that must be offered every sample once (a
    class reservoir, the hippocampus) takes these and no repeats."""

    def __init__(self) -> None:
        self.remaining = 0

    def start(self, n_samples: int) -> None:
        self.remaining = n_samples

    def take(self, batch: TensorSet) -> TensorSet | None:
        """The first-pass samples of ``batch`` (None once the pass is over)."""
        if self.remaining <= 0:
            return None
        new = batch.select(slice(0, self.remaining))
        self.remaining -= len(new)
        return new


@dataclass
class StrategyConfig:
    """What every strategy's config holds; each strategy's config extends it beside the
    strategy's class (typed and validated by Hydra as ``strategy.*``)."""

    name: str = "naive"
    # Tuned values per named experiment, applied by train.py (see hebbnet/config/published.py).
    published: Dict[str, Any] = field(default_factory=dict)


class Strategy:
    """Trains one model on one experience at a time; by default plain fine-tuning.

    Subclasses change what is trained on (:meth:`training_set`), what is minimised
    (:meth:`loss`), and what happens around an experience (:meth:`after_experience`). A
    subclass's settings come in one object, ``options``, an instance of its config dataclass
    (None: that dataclass's defaults), where the settings and their defaults are written once.

    Args:
        model: the network it trains.
        scenario: which output units each task trains and is tested on.
        schedule: the run's ``train.*`` settings (optimiser, rate, batch, steps).
        generator: the source of every random choice it makes (batches, replay draws).
        options: its own settings (a :class:`StrategyConfig` subclass).
    """

    trains_local_learners = True  # False for strategies whose method needs gradients
    data_parallel = True  # False for strategies whose state comes from the batches they see

    def __init__(
        self,
        model: nn.Module,
        scenario: Scenario,
        schedule: TrainConfig,
        generator: torch.Generator,
        options: StrategyConfig | None = None,
    ) -> None:
        check_schedule(schedule)
        self._check_data_parallel(schedule)
        self.model = model
        self.scenario = scenario
        self.schedule = schedule
        self.generator = generator
        self.learns_locally = isinstance(model, LocalLearner) and model.learns_locally
        if self.learns_locally and not self.trains_local_learners:
            raise ValueError(
                f"{type(self).__name__} needs a model trained by gradients, and this model "
                f"learns by local rules only (model.readout={_readout_name(model)}). Train it "
                "with a strategy that only chooses its data (strategy=naive, joint, er or "
                "cls), or give it a gradient-trained readout (model.readout=backprop)."
            )
        self.optimizer = None if self.learns_locally else self._make_optimizer()

    def training_set(self, experience: Experience, seen: Sequence[Experience]) -> TensorSet:
        """The data to train on for ``experience``; ``seen`` holds experiences 0..current."""
        return experience.train

    def loss(self, logits: torch.Tensor, y: torch.Tensor, t: torch.Tensor, task: int) -> torch.Tensor:
        """Cross-entropy over the output units the scenario allows for each sample."""
        return F.cross_entropy(mask_logits(logits, self.scenario.train_mask(task, t)), y)

    def batch_loss(self, batch: TensorSet, task: int) -> torch.Tensor:
        """What one optimiser step minimises on ``batch`` (plain fine-tuning: :meth:`loss`)."""
        return self.loss(self.model(self.training_inputs(batch.x)), batch.y, batch.t, task)

    def training_inputs(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images of a training or replayed batch as the model learns from them:
        augmented as the benchmark says (drawing from :attr:`generator`), then
        :meth:`Scenario.inputs <hebbnet.continual.scenario.Scenario.inputs>`."""
        return self.scenario.inputs(augment(images, self.scenario.augment, self.generator))

    def before_step(self, task: int) -> None:
        """Hook between ``backward()`` and the optimiser step (gradient projection)."""

    def after_step(self) -> None:
        """Hook after every optimiser step (online importance estimates)."""

    def after_experience(self, experience: Experience) -> None:
        """Hook for work once an experience is learned (consolidation, buffer updates)."""

    def memory_bytes(self) -> int:
        """Bytes this strategy keeps beyond the model and optimiser (buffers, importances)."""
        return 0

    @property
    def predictor(self) -> nn.Module:
        """The model that answers at test time: the trained model itself, unless a strategy
        answers with another (CLS-ER's stable moving average)."""
        return self.model

    def train_experience(
        self,
        experience: Experience,
        seen: Sequence[Experience],
        monitor: StepMonitor | None = None,
        final: bool = False,
    ) -> TrainStats:
        """Train on ``experience`` for the scheduled number of steps. ``final``: no experience
        follows, so :meth:`after_experience` (importance, anchors, memory for later tasks) is
        skipped — its result could not be used (e.g. EWC's Fisher after the last task)."""
        if self.schedule.reset_optimizer and self.optimizer is not None:
            self.optimizer = self._make_optimizer()
        if isinstance(self.model, TaskAware):  # plastic networks; a code that grows units
            self.model.start_task(experience.task_id)
        data = self.training_set(experience, seen)
        steps = steps_per_task(self.schedule, len(data))
        device = module_device(self.model)
        self.model.train()
        start = time.perf_counter()
        for step, index in enumerate(self._batches(len(data), steps).to(device)):
            loss = self.training_step(data, index, experience.task_id)
            if monitor is not None:
                monitor(step, steps, loss)
        if not final:
            self.after_experience(experience)
        return TrainStats(steps, steps * self.schedule.batch_size, time.perf_counter() - start)

    def training_step(self, data: TensorSet, index: torch.Tensor, task: int) -> float:
        """One optimiser step on the samples ``index`` of ``data``; returns the loss (for a
        model that learns locally: one :meth:`local_step`, returning its error rate). With
        ``train.precision=bf16`` the loss is computed under autocast (matrix products and
        convolutions in bfloat16, reductions and the loss in float32) and the backward pass
        runs outside it, as PyTorch recommends."""
        if self.optimizer is None:  # the model learns locally
            return self.local_step(data.select(index), task)
        dtype = PRECISIONS[self.schedule.precision]
        with torch.autocast(index.device.type, dtype=dtype, enabled=dtype is not None):
            loss = self.batch_loss(data.select(index), task)
        return self.gradient_step(loss, task, self.optimizer)

    def gradient_step(self, loss: torch.Tensor, task: int, optimizer: torch.optim.Optimizer) -> float:
        """One step of ``optimizer`` down ``loss``, with the hooks around it; a NaN or infinite
        loss stops the run instead. Returns the loss."""
        value = loss.item()
        if not math.isfinite(value):
            raise NonFiniteLossError(
                f"The training loss became {value} during task {task}. "
                "Lower train.lr (strategy.sleep_lr in a CLS's sleep), or check the data for "
                "NaN or Inf."
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.before_step(task)
        average_over_ranks(p.grad for group in optimizer.param_groups for p in group["params"]
                           if p.grad is not None)
        optimizer.step()
        self.after_step()
        return value

    @property
    def sleeps_after_experience(self) -> bool:
        """True for a strategy that sleeps as its own phase after each task: the runner then
        calls its ``sleep(task)``, which returns a dataclass report, between training and
        testing."""
        return False

    def local_step(self, batch: TensorSet, task: int) -> float:
        """Show a locally learning model ``batch`` with its targets and the output units the
        scenario allows; returns the batch's error rate before the step."""
        active = self.scenario.train_mask(task, batch.t)
        logits = cast(LocalLearner, self.model).learn(self.training_inputs(batch.x), batch.y, active)
        return float((mask_logits(logits, active).argmax(1) != batch.y).float().mean())

    def state_dict(self) -> dict:
        return {"optimizer": self.optimizer.state_dict() if self.optimizer is not None else None}

    def load_state_dict(self, state: dict) -> None:
        if self.optimizer is not None:
            self.optimizer.load_state_dict(state["optimizer"])

    def _make_optimizer(self, lr: float | None = None, fused: bool = True) -> torch.optim.Optimizer:
        """The configured optimiser at ``lr`` (None: ``train.lr``); with ``fused``, its fused
        kernel (one call for all parameters) on CPU and CUDA, where it is about twice as fast
        per step as the per-tensor loop."""
        params = list(self.model.parameters())
        fused = fused and all(p.device.type in ("cpu", "cuda") and p.is_floating_point()
                              for p in params)
        return OPTIMIZERS[self.schedule.optimizer](params, lr=lr or self.schedule.lr,
                                                   fused=fused)

    def _batches(self, n_samples: int, steps: int) -> torch.Tensor:
        """``steps`` batches of indices (steps, batch) from back-to-back random permutations of
        the data, drawn at once so that they reach the device in one copy."""
        size = self.schedule.batch_size
        n_permutations = math.ceil(steps * size / n_samples)
        order = torch.cat(
            [torch.randperm(n_samples, generator=self.generator) for _ in range(n_permutations)]
        )
        return shard(order[: steps * size].view(steps, size))

    def _check_data_parallel(self, schedule: TrainConfig) -> None:
        """Under ``torchrun``: refuse a strategy that cannot keep its replicas equal, and a
        batch that does not split evenly over the ranks."""
        ranks = world_size()
        if ranks == 1:
            return
        if not self.data_parallel:
            raise ValueError(
                f"{type(self).__name__} fills its memory from the batches it sees, so each of "
                f"the {ranks} ranks would keep a different one. Run it in one process (without "
                "torchrun); data-parallel runs take naive, joint, ewc, online_ewc, si and lwf.")
        if schedule.batch_size % ranks:
            raise ValueError(
                f"train.batch_size={schedule.batch_size} is split evenly over the {ranks} ranks "
                f"of this torchrun: choose a multiple of {ranks}.")


def _readout_name(model: nn.Module) -> str:
    readout = getattr(model, "readout", None)
    return type(readout).__name__ if readout is not None else type(model).__name__
