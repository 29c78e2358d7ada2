"""The three continual-learning scenarios of van de Ven, Tuytelaars & Tolias (2022).

A scenario decides how a benchmark's labels reach the model; the benchmark itself is the same.
It also carries how the benchmark's images reach it: whether they are images with
neighbourhoods (``spatial``: permuted pixels are not, so a learner must not move or blur them),
how training images are augmented (``augment``), and the one conversion of uint8 images to the
floats a model sees (:meth:`Scenario.inputs`, standardised per channel where the benchmark
says so), which training, replay and evaluation all use.

* ``task``: the task id is known at test time. One output unit per global class; training and
  testing only compare the units of the sample's own task (a multi-headed output layer).
* ``domain``: no task id; the model only has to solve the task at hand, whichever it is. One
  output unit per *within-task* class (Split MNIST: 2 units, "first or second class").
* ``class``: no task id; the model must also tell which task a sample came from. One unit per
  global class; training compares the units of all classes seen so far (the "expanding head",
  ``class_head="expanding"``) or all units from the first task on (``class_head="full"``, as
  Mammoth trains), testing compares all units.

Masking is applied to logits (``-inf`` on inactive units), so class ids need not be contiguous.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from hebbnet.continual.benchmark import Benchmark, ChannelStats, Experience, TensorSet
from hebbnet.data import to_float
from hebbnet.data.augment import check_augment

SCENARIOS = ("task", "domain", "class")
CLASS_HEADS = ("expanding", "full")


@dataclass(frozen=True)
class Scenario:
    kind: str
    task_units: torch.Tensor  # (T, n_outputs) bool: the output units of each task
    seen_units: torch.Tensor  # (T, n_outputs) bool: the units trained on during task t
    spatial: bool = True  # the inputs are images whose pixels keep their neighbours
    augment: str = "none"  # of training images: hebbnet.data.augment.AUGMENTATIONS
    mean: torch.Tensor | None = None  # (1, C, 1, 1): per-channel standardisation, or None
    std: torch.Tensor | None = None

    @staticmethod
    def from_benchmark(kind: str, benchmark: Benchmark, class_head: str = "expanding") -> Scenario:
        if kind not in SCENARIOS:
            raise ValueError(f"Unknown scenario {kind!r}; valid: {', '.join(SCENARIOS)}.")
        if class_head not in CLASS_HEADS:
            raise ValueError(f"Unknown class_head {class_head!r}; valid: {', '.join(CLASS_HEADS)}.")
        n_outputs = (
            max(len(e.classes) for e in benchmark.experiences)
            if kind == "domain"
            else benchmark.n_classes
        )
        task_units = torch.zeros(benchmark.n_tasks, n_outputs, dtype=torch.bool)
        for e in benchmark.experiences:
            units = list(range(len(e.classes))) if kind == "domain" else list(e.classes)
            task_units[e.task_id, units] = True
        seen_units = task_units.cumsum(0).bool()
        if class_head == "full":
            seen_units[:] = True
        check_augment(benchmark.augment, benchmark.spatial)
        mean, std = _channel_tensors(benchmark.normalization)
        return Scenario(kind, task_units, seen_units, benchmark.spatial, benchmark.augment, mean, std)

    def to(self, device: torch.device | str) -> Scenario:
        return replace(self, task_units=self.task_units.to(device),
                       seen_units=self.seen_units.to(device), mean=_moved(self.mean, device),
                       std=_moved(self.std, device))

    def inputs(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images as the model sees them: floats in [0, 1], standardised per channel
        where the benchmark is normalised."""
        return to_float(images, self.mean, self.std)

    @property
    def n_outputs(self) -> int:
        return self.task_units.shape[1]

    def relabel(self, experience: Experience) -> Experience:
        """Express labels as output-unit targets (within-task indices for ``domain``)."""
        if self.kind != "domain":
            return experience
        lookup = torch.full((max(experience.classes) + 1,), -1, dtype=torch.long)
        lookup[list(experience.classes)] = torch.arange(len(experience.classes))

        def relabelled(data: TensorSet) -> TensorSet:
            return TensorSet(data.x, lookup[data.y], data.t)

        validation = experience.validation
        return replace(experience, train=relabelled(experience.train),
                       test=relabelled(experience.test),
                       validation=None if validation is None else relabelled(validation))

    def train_mask(self, current_task: int, sample_tasks: torch.Tensor) -> torch.Tensor | None:
        """Active output units for each training sample, (B, n_outputs), or None for all."""
        if self.kind == "task":
            return self.task_units[sample_tasks]
        if self.kind == "class":
            return self.seen_units[current_task].expand(len(sample_tasks), -1)
        return None

    def test_mask(self, task: int) -> torch.Tensor | None:
        """Active output units when testing on ``task``, or None for all."""
        return self.task_units[task] if self.kind == "task" else None


def _channel_tensors(stats: ChannelStats | None) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The statistics as (1, C, 1, 1) tensors, or (None, None) without them."""
    if stats is None:
        return None, None
    return (torch.tensor(stats.mean, dtype=torch.float32).view(1, -1, 1, 1),
            torch.tensor(stats.std, dtype=torch.float32).view(1, -1, 1, 1))


def _moved(tensor: torch.Tensor | None, device: torch.device | str) -> torch.Tensor | None:
    return None if tensor is None else tensor.to(device)


def mask_logits(logits: torch.Tensor, active: torch.Tensor | None) -> torch.Tensor:
    """Set the logits of inactive units to ``-inf`` so they never win and get no gradient."""
    if active is None:
        return logits
    return logits.masked_fill(~active, float("-inf"))
