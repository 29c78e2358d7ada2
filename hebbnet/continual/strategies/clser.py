"""CLS-ER: experience replay with a plastic and a stable semantic memory (Arani et al. 2022)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from hebbnet.continual.strategies.replay import ERConfig, ExperienceReplay
from hebbnet.registry import register_strategy


@dataclass
class CLSERConfig(ERConfig):
    """Defaults of the authors' code (NeurAI-Lab/CLS-ER, models/clser.py); their tuned values
    per setting are in hebbnet/conf/strategy/clser.yaml."""

    name: str = "clser"
    reg_weight: float = 0.1  # λ of the consistency term toward the better memory's logits
    plastic_update_rate: float = 0.9  # probability of updating the plastic memory after a step
    plastic_decay: float = 0.999  # its moving average's decay at most
    stable_update_rate: float = 0.7
    stable_decay: float = 0.999


@torch.no_grad()
def ema_update(average: nn.Module, model: nn.Module, decay: float) -> None:
    r""":math:`\theta_\text{avg} \leftarrow d\,\theta_\text{avg} + (1-d)\,\theta` for every
    parameter and every floating-point buffer (BatchNorm's running statistics, which the average
    answers with in evaluation mode; a fixed input code is the same in both and stays as it
    is); integer buffers (BatchNorm's batch count) are copied.
    Written here because the decay changes from step to step, which
    ``torch.optim.swa_utils.AveragedModel`` (one fixed averaging function) does not allow."""
    for kept, current in zip(average.parameters(), model.parameters()):
        kept.lerp_(current, 1 - decay)
    for kept_buffer, current_buffer in zip(average.buffers(), model.buffers()):
        if kept_buffer.is_floating_point():
            kept_buffer.lerp_(current_buffer, 1 - decay)
        else:
            kept_buffer.copy_(current_buffer)


def warmed_decay(steps: int, decay: float) -> float:
    """The averaging decay after ``steps`` steps: 1 − 1/(steps + 1), a plain running mean, until
    it reaches ``decay`` — so an average is not dominated by the untrained model it copied."""
    return min(1 - 1 / (steps + 1), decay)


def parameter_bytes(module: nn.Module) -> int:
    """What storing ``module``'s parameters costs."""
    return sum(p.numel() * p.element_size() for p in module.parameters())


@register_strategy("clser", CLSERConfig)
class CLSER(ExperienceReplay):
    r"""Experience replay whose working model is also pulled toward two exponential moving
    averages of itself, a plastic (fast) and a stable (slow) semantic memory:

    .. math:: L = L_\text{ER} + \lambda\,\lVert f(x') - z'\rVert^2,\qquad
              z' = \begin{cases} g_S(x') & p_S(y'\mid x') > p_P(y'\mid x')\\
                                 g_P(x') & \text{otherwise}\end{cases}

    for a replayed batch (x', y'): the logits of whichever memory gives the true class the
    higher softmax probability (mean squared error over the logits, as in the authors' code).
    After each step the plastic memory is updated with probability ``plastic_update_rate`` and
    the stable one with ``stable_update_rate``, each as
    :math:`\theta \leftarrow d\,\theta + (1-d)\,\theta_W` with
    :math:`d = \min(1 - 1/(n+1), \text{decay})` after n steps. The stable memory answers at
    test time (:attr:`predictor`), as in the paper. Both memories count as bytes beyond the
    model, besides the buffer.

    Args:
        reg_weight: λ, the weight of the consistency term.
        plastic_update_rate, stable_update_rate: probability of an update after a step.
        plastic_decay, stable_decay: the decay at most (0.99 ≈ averaging the last 100 steps).
        Others: as :class:`ExperienceReplay` (Mammoth: a reservoir buffer, ``concat``).
    """

    trains_local_learners = False  # its method needs gradients

    def __init__(self, model, scenario, schedule, generator, options: CLSERConfig | None = None):
        options = options or CLSERConfig()
        super().__init__(model, scenario, schedule, generator, options)
        if options.reg_weight < 0:
            raise ValueError(f"strategy.reg_weight must be >= 0, got {options.reg_weight}.")
        for name in ("plastic_update_rate", "plastic_decay", "stable_update_rate", "stable_decay"):
            if not 0 <= getattr(options, name) <= 1:
                raise ValueError(f"strategy.{name} must lie in [0, 1], got "
                                 f"{getattr(options, name)}.")
        self.reg_weight = options.reg_weight
        self.memories = {
            "plastic": (copy.deepcopy(model), options.plastic_update_rate, options.plastic_decay),
            "stable": (copy.deepcopy(model), options.stable_update_rate, options.stable_decay)}
        for memory, _, _ in self.memories.values():
            memory.requires_grad_(False)
        self.steps = 0

    @property
    def predictor(self) -> nn.Module:
        """The stable memory: CLS-ER's answers at test time."""
        return self.memories["stable"][0]

    def batch_loss(self, batch, task):
        drawn = self.replay_batch()
        self.remember(batch)
        replay = drawn[0] if drawn is not None else None
        loss = self.rehearsal_loss(batch, replay, task)
        if replay is None or self.reg_weight == 0:
            return loss
        x = self.training_inputs(replay.x)
        return loss + self.reg_weight * F.mse_loss(self.model(x), self.memory_logits(x, replay.y))

    @torch.no_grad()
    def memory_logits(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Per sample, the logits of the memory that gives the true class more probability."""
        plastic = self.memories["plastic"][0].eval()(x)
        stable = self.memories["stable"][0].eval()(x)
        true = y.unsqueeze(1)
        stable_wins = (stable.softmax(1).gather(1, true) > plastic.softmax(1).gather(1, true))
        return torch.where(stable_wins, stable, plastic)

    def after_step(self) -> None:
        self.steps += 1
        for memory, rate, decay in self.memories.values():
            if float(torch.rand((), generator=self.generator)) < rate:
                ema_update(memory, self.model, warmed_decay(self.steps, decay))

    def memory_bytes(self) -> int:
        """The buffer and both memories' parameters."""
        return super().memory_bytes() + sum(
            parameter_bytes(memory) for memory, _, _ in self.memories.values())

    def state_dict(self) -> dict:
        return {**super().state_dict(), "steps": self.steps,
                **{name: memory.state_dict() for name, (memory, _, _) in self.memories.items()}}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.steps = state["steps"]
        for name, (memory, _, _) in self.memories.items():
            memory.load_state_dict(state[name])
