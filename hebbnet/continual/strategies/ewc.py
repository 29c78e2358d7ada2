"""Elastic weight consolidation (Kirkpatrick et al. 2017) and its online form (Schwarz et al. 2018)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from hebbnet.continual.benchmark import Experience
from hebbnet.continual.strategies.base import Strategy, StrategyConfig
from hebbnet.continual.strategies.importance import (
    detached_copy,
    diagonal_fisher,
    quadratic_penalty,
    tensors_nbytes,
)
from hebbnet.registry import register_strategy


@dataclass
class EWCConfig(StrategyConfig):
    name: str = "ewc"
    ewc_lambda: float = 5000.0  # λ of the penalty (λ/2) Σ F (θ − θ*)²
    online: bool = False  # one running penalty (Schwarz et al. 2018) instead of one per task
    gamma: float = 1.0  # online only: decay of the running Fisher
    fisher_samples: Optional[int] = None  # samples per task for the Fisher; null: all


@dataclass
class OnlineEWCConfig(EWCConfig):
    name: str = "online_ewc"
    online: bool = True


@register_strategy("ewc", EWCConfig)
class EWC(Strategy):
    r"""Penalise moving parameters the earlier tasks' likelihood is sensitive to:

    .. math:: L = L_\text{task} + \frac{\lambda}{2}\sum_k \sum_i F_{k,i}(\theta_i-\theta^*_{k,i})^2

    with :math:`F_k` the diagonal Fisher after task k and :math:`\theta^*_k` the parameters
    then; one term per past task. The sum of the terms is kept in closed form, so memory and
    cost per step do not grow with the number of tasks:

    .. math:: \sum_k F_k(\theta-\theta^*_k)^2 = F(\theta-\bar\theta)^2 + C,\quad
              F=\sum_k F_k,\ \bar\theta=\frac{\sum_k F_k\theta^*_k}{F},\
              C=\sum_k F_k{\theta^*_k}^2 - F\bar\theta^2 .

    ``online=True`` is online EWC instead: :math:`F \leftarrow \gamma F + F_k` anchored at the
    latest parameters. ``fisher_samples`` caps the samples of a task used for :math:`F_k`
    (None: all of them).
    """

    trains_local_learners = False  # its method needs gradients

    def __init__(self, model, scenario, schedule, generator, options: EWCConfig | None = None):
        super().__init__(model, scenario, schedule, generator)
        options = options or EWCConfig()
        ewc_lambda, online, gamma = options.ewc_lambda, options.online, options.gamma
        fisher_samples = options.fisher_samples
        if ewc_lambda < 0 or not 0 <= gamma <= 1:
            raise ValueError(f"Need ewc_lambda >= 0 and 0 <= gamma <= 1; got {ewc_lambda}, {gamma}.")
        if fisher_samples is not None and fisher_samples <= 0:
            raise ValueError(f"strategy.fisher_samples must be positive or null, got {fisher_samples}.")
        self.ewc_lambda, self.online, self.gamma = ewc_lambda, online, gamma
        self.fisher_samples = fisher_samples
        self.fisher: dict[str, torch.Tensor] = {}  # F
        self.anchor: dict[str, torch.Tensor] = {}  # θ̄ (online: the latest parameters)
        self.constant = 0.0  # C, so that the loss equals the sum of the separate terms

    def batch_loss(self, batch, task):
        loss = super().batch_loss(batch, task)
        if self.fisher:
            penalty = quadratic_penalty(self.model, self.anchor, self.fisher) + self.constant
            loss = loss + 0.5 * self.ewc_lambda * penalty
        return loss

    def after_experience(self, experience: Experience) -> None:
        data = experience.train
        if self.fisher_samples is not None and self.fisher_samples < len(data):
            data = data.select(torch.randperm(len(data), generator=self.generator)
                               [: self.fisher_samples].to(data.x.device))
        task = experience.task_id
        new = diagonal_fisher(self.model, data, lambda t: self.scenario.train_mask(task, t),
                              self.schedule.eval_batch_size, self.scenario.inputs)
        params = detached_copy(self.model)
        if self.online or not self.fisher:
            old = self.fisher or {name: torch.zeros_like(f) for name, f in new.items()}
            self.fisher = {name: self.gamma * old[name] + f for name, f in new.items()}
            self.anchor = params
            return
        self._merge(new, params)

    @torch.no_grad()
    def _merge(self, new: dict[str, torch.Tensor], params: dict[str, torch.Tensor]) -> None:
        """Add the term F_new (θ − θ_new)² to the closed form F (θ − θ̄)² + C."""
        for name, f_new in new.items():
            f_old, anchor_old = self.fisher[name], self.anchor[name]
            total = f_old + f_new
            weighted = f_old * anchor_old + f_new * params[name]
            mean = torch.where(total > 0, weighted / total.clamp_min(1e-30), params[name])
            self.constant += float((f_old * anchor_old ** 2 + f_new * params[name] ** 2
                                    - total * mean ** 2).sum())
            self.fisher[name], self.anchor[name] = total, mean

    def memory_bytes(self) -> int:
        return tensors_nbytes(self.anchor, self.fisher)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "fisher": self.fisher, "anchor": self.anchor,
                "constant": self.constant}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.fisher, self.anchor = state["fisher"], state["anchor"]
        self.constant = state["constant"]


register_strategy("online_ewc", OnlineEWCConfig)(EWC)
