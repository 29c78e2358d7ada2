"""Learning without forgetting (Li & Hoiem 2017)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from hebbnet.continual.benchmark import Experience
from hebbnet.continual.strategies.base import Strategy, StrategyConfig
from hebbnet.registry import register_strategy


@dataclass
class LwFConfig(StrategyConfig):
    name: str = "lwf"
    alpha: float = 1.0  # weight of the distillation term
    temperature: float = 2.0


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    r"""Hinton et al. (2015): :math:`-T^2\,\langle\sum_c \mathrm{softmax}(z^\text{old}/T)_c
    \log\mathrm{softmax}(z/T)_c\rangle` over the batch."""
    targets = torch.softmax(teacher / temperature, dim=1)
    log_student = torch.log_softmax(student / temperature, dim=1)
    return -(targets * log_student).sum(1).mean() * temperature ** 2


@register_strategy("lwf", LwFConfig)
class LwF(Strategy):
    r"""Keep the outputs of earlier tasks as the model before this task gave them, on this task's
    inputs — no stored data:

    .. math:: L = L_\text{task} + \alpha \sum_j L_\text{KD}(z_j, z^\text{old}_j)

    where j runs over the earlier tasks' heads (task-incremental: one term per head), or is one
    term over the earlier classes (class-incremental) or all units (domain-incremental). As in
    van de Ven et al. (2022), the domain-incremental term counts once per earlier task.
    """

    trains_local_learners = False  # its method needs gradients

    def __init__(self, model, scenario, schedule, generator, options: LwFConfig | None = None):
        super().__init__(model, scenario, schedule, generator)
        options = options or LwFConfig()
        alpha, temperature = options.alpha, options.temperature
        if alpha < 0 or temperature <= 0:
            raise ValueError(f"Need alpha >= 0 and temperature > 0; got {alpha}, {temperature}.")
        self.alpha, self.temperature = alpha, temperature
        self.teacher: torch.nn.Module | None = None

    def batch_loss(self, batch, task):
        x = self.training_inputs(batch.x)  # the teacher sees the same augmented batch
        logits = self.model(x)
        loss = self.loss(logits, batch.y, batch.t, task)
        if self.teacher is None or task == 0:
            return loss
        with torch.no_grad():
            old = self.teacher(x)
        for units, weight in self._distilled_units(task):
            loss = loss + self.alpha * weight * distillation_loss(
                logits[:, units], old[:, units], self.temperature)
        return loss

    def _distilled_units(self, task: int) -> list[tuple[torch.Tensor, float]]:
        if self.scenario.kind == "task":
            return [(self.scenario.task_units[j], 1.0) for j in range(task)]
        if self.scenario.kind == "class":
            return [(self.scenario.seen_units[task - 1], 1.0)]
        return [(torch.ones_like(self.scenario.task_units[0]), float(task))]

    def after_experience(self, experience: Experience) -> None:
        self.teacher = copy.deepcopy(self.model).eval().requires_grad_(False)

    def memory_bytes(self) -> int:
        if self.teacher is None:
            return 0
        return sum(p.nbytes for p in self.teacher.state_dict().values())

    def state_dict(self) -> dict:
        teacher = None if self.teacher is None else self.teacher.state_dict()
        return {**super().state_dict(), "teacher": teacher}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        if state["teacher"] is not None:
            self.teacher = copy.deepcopy(self.model).eval().requires_grad_(False)
            self.teacher.load_state_dict(state["teacher"])
