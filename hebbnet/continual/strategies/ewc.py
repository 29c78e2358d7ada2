"""Elastic weight consolidation (Kirkpatrick et al. 2017) and its online form (Schwarz et al. 2018)."""

from __future__ import annotations

import torch

from hebbnet.continual.benchmark import Experience
from hebbnet.continual.strategies.base import Strategy
from hebbnet.continual.strategies.importance import (
    detached_copy,
    diagonal_fisher,
    quadratic_penalty,
    tensors_nbytes,
)


class EWC(Strategy):
    r"""Penalise moving parameters the earlier tasks' likelihood is sensitive to:

    .. math:: L = L_\text{task} + \frac{\lambda}{2}\sum_k \sum_i F_{k,i}(\theta_i-\theta^*_{k,i})^2

    with :math:`F_k` the diagonal Fisher after task k and :math:`\theta^*_k` the parameters
    then; one term per past task. ``online=True`` keeps one term instead, with
    :math:`F \leftarrow \gamma F + F_k` and :math:`\theta^*` the latest parameters.
    ``fisher_samples`` caps the samples of a task used for F (None: all of them).
    """

    def __init__(self, model, scenario, schedule, generator, ewc_lambda: float,
                 online: bool = False, gamma: float = 1.0, fisher_samples: int | None = None):
        super().__init__(model, scenario, schedule, generator)
        if ewc_lambda < 0 or not 0 <= gamma <= 1:
            raise ValueError(f"Need ewc_lambda >= 0 and 0 <= gamma <= 1; got {ewc_lambda}, {gamma}.")
        if fisher_samples is not None and fisher_samples <= 0:
            raise ValueError(f"strategy.fisher_samples must be positive or null, got {fisher_samples}.")
        self.ewc_lambda, self.online, self.gamma = ewc_lambda, online, gamma
        self.fisher_samples = fisher_samples
        self.anchors: list[dict[str, torch.Tensor]] = []
        self.fishers: list[dict[str, torch.Tensor]] = []

    def batch_loss(self, batch, task):
        loss = super().batch_loss(batch, task)
        if self.fishers:
            penalty = sum(quadratic_penalty(self.model, anchor, fisher)
                          for anchor, fisher in zip(self.anchors, self.fishers))
            loss = loss + 0.5 * self.ewc_lambda * penalty
        return loss

    def after_experience(self, experience: Experience) -> None:
        data = experience.train
        if self.fisher_samples is not None and self.fisher_samples < len(data):
            data = data.select(torch.randperm(len(data), generator=self.generator)
                               [: self.fisher_samples].to(data.x.device))
        task = experience.task_id
        fisher = diagonal_fisher(self.model, data, lambda t: self.scenario.train_mask(task, t),
                                 self.schedule.eval_batch_size)
        anchor = detached_copy(self.model)
        if self.online and self.fishers:
            fisher = {name: self.gamma * self.fishers[0][name] + f for name, f in fisher.items()}
            self.anchors, self.fishers = [anchor], [fisher]
        else:
            self.anchors.append(anchor)
            self.fishers.append(fisher)

    def memory_bytes(self) -> int:
        return tensors_nbytes(*self.anchors, *self.fishers)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "anchors": self.anchors, "fishers": self.fishers}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.anchors, self.fishers = state["anchors"], state["fishers"]
