"""The three continual-learning scenarios of van de Ven, Tuytelaars & Tolias (2022).

A scenario decides how a benchmark's labels reach the model; the benchmark itself is the same.
It also tells the learner whether its inputs are images with neighbourhoods (``spatial``):
permuted pixels are not, so a learner must not move or blur them.

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

from hebbnet.continual.benchmark import Benchmark, Experience, TensorSet

SCENARIOS = ("task", "domain", "class")
CLASS_HEADS = ("expanding", "full")


@dataclass(frozen=True)
class Scenario:
    kind: str
    task_units: torch.Tensor  # (T, n_outputs) bool: the output units of each task
    seen_units: torch.Tensor  # (T, n_outputs) bool: the units trained on during task t
    spatial: bool = True  # the inputs are images whose pixels keep their neighbours

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
        return Scenario(kind, task_units, seen_units, benchmark.spatial)

    def to(self, device: torch.device | str) -> Scenario:
        return replace(self, task_units=self.task_units.to(device),
                       seen_units=self.seen_units.to(device))

    @property
    def n_outputs(self) -> int:
        return self.task_units.shape[1]

    def relabel(self, experience: Experience) -> Experience:
        """Express labels as output-unit targets (within-task indices for ``domain``)."""
        if self.kind != "domain":
            return experience
        lookup = torch.full((max(experience.classes) + 1,), -1, dtype=torch.long)
        lookup[list(experience.classes)] = torch.arange(len(experience.classes))
        train, test = (
            TensorSet(s.x, lookup[s.y], s.t) for s in (experience.train, experience.test)
        )
        return Experience(experience.task_id, experience.classes, train, test)

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


def mask_logits(logits: torch.Tensor, active: torch.Tensor | None) -> torch.Tensor:
    """Set the logits of inactive units to ``-inf`` so they never win and get no gradient."""
    if active is None:
        return logits
    return logits.masked_fill(~active, float("-inf"))
