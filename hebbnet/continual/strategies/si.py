"""Synaptic intelligence (Zenke, Poole & Ganguli 2017)."""

from __future__ import annotations

from dataclasses import dataclass

from hebbnet.continual.benchmark import Experience
from hebbnet.continual.strategies.base import Strategy, StrategyConfig
from hebbnet.continual.strategies.importance import (
    detached_copy,
    quadratic_penalty,
    tensors_nbytes,
    trainable,
)
from hebbnet.registry import register_strategy


@dataclass
class SIConfig(StrategyConfig):
    name: str = "si"
    c: float = 1.0  # strength of the surrogate penalty c Σ Ω (θ − θ*)²
    epsilon: float = 0.1  # ξ, damping of Ω = ω / (Δθ² + ξ)


@register_strategy("si", SIConfig)
class SI(Strategy):
    r"""Each parameter's contribution to the drop in loss along its path sets its importance:

    .. math:: \omega_i \mathrel{+}= -g_i\,\Delta\theta_i \quad\text{(every step)},\qquad
              \Omega_i \mathrel{+}= \frac{\omega_i}{(\theta_i-\theta^*_i)^2+\xi}
              \quad\text{(after a task)},

    .. math:: L = L_\text{task} + c\sum_i \Omega_i(\theta_i-\theta^*_i)^2

    with :math:`\theta^*` the parameters at the end of the previous task and g the gradient the
    optimiser stepped on (that of the total loss, as in van de Ven et al.'s implementation,
    whose tuned c this is meant to reuse).
    """

    trains_local_learners = False  # its method needs gradients

    def __init__(self, model, scenario, schedule, generator, options: SIConfig | None = None):
        super().__init__(model, scenario, schedule, generator)
        options = options or SIConfig()
        c, epsilon = options.c, options.epsilon
        if c < 0 or epsilon <= 0:
            raise ValueError(f"Need c >= 0 and epsilon > 0; got c={c}, epsilon={epsilon}.")
        self.c, self.epsilon = c, epsilon
        self.anchor = detached_copy(model)
        self.previous = detached_copy(model)
        self.path = {name: p.new_zeros(p.shape) for name, p in self.anchor.items()}
        self.omega = {name: p.new_zeros(p.shape) for name, p in self.anchor.items()}
        self.consolidated = False

    def batch_loss(self, batch, task):
        loss = super().batch_loss(batch, task)
        if self.consolidated:
            loss = loss + self.c * quadratic_penalty(self.model, self.anchor, self.omega)
        return loss

    def after_step(self) -> None:
        for name, p in trainable(self.model).items():
            if p.grad is not None:
                self.path[name] -= p.grad * (p.detach() - self.previous[name])
            self.previous[name].copy_(p.detach())

    def after_experience(self, experience: Experience) -> None:
        for name, p in trainable(self.model).items():
            change = p.detach() - self.anchor[name]
            self.omega[name] += self.path[name] / (change ** 2 + self.epsilon)
            self.path[name].zero_()
            self.anchor[name].copy_(p.detach())
        self.consolidated = True

    def memory_bytes(self) -> int:
        return tensors_nbytes(self.anchor, self.previous, self.path, self.omega)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "anchor": self.anchor, "previous": self.previous,
                "path": self.path, "omega": self.omega, "consolidated": self.consolidated}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.anchor, self.previous = state["anchor"], state["previous"]
        self.path, self.omega = state["path"], state["omega"]
        self.consolidated = state["consolidated"]
