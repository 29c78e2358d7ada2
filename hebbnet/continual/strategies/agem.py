"""Averaged gradient episodic memory (Chaudhry et al. 2019)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from hebbnet.continual.strategies.importance import trainable
from hebbnet.continual.strategies.replay import BufferedStrategy, ReplayConfig
from hebbnet.registry import register_strategy


@dataclass
class AGEMConfig(ReplayConfig):
    name: str = "agem"


def project_gradient(gradient: torch.Tensor, reference: torch.Tensor,
                     eps: float = 1e-7) -> torch.Tensor:
    r"""Chaudhry et al. (2019), eq. 11: if :math:`g^\top g_\text{ref} < 0`, use
    :math:`g - \frac{g^\top g_\text{ref}}{g_\text{ref}^\top g_\text{ref}}\,g_\text{ref}`, the
    closest gradient that does not increase the loss on the memory (to first order)."""
    dot = gradient @ reference
    if dot >= 0:
        return gradient
    return gradient - dot / (reference @ reference + eps) * reference


@register_strategy("agem", AGEMConfig)
class AGEM(BufferedStrategy):
    """After the current batch's backward pass, project its gradient so that it does not point
    uphill for a batch of stored samples (the reference gradient)."""

    trains_local_learners = False  # its method needs gradients

    def __init__(self, model, scenario, schedule, generator, options: AGEMConfig | None = None):
        options = options or AGEMConfig()
        super().__init__(model, scenario, schedule, generator, options, options.policy)

    def batch_loss(self, batch, task):
        loss = super().batch_loss(batch, task)
        self.remember(batch)
        return loss

    def before_step(self, task: int) -> None:
        drawn = self.replay_batch()
        if drawn is None:
            return
        params = [p for p in trainable(self.model).values() if p.grad is not None]
        grads = [p.grad for p in params if p.grad is not None]  # the same; typed as present
        on_memory = torch.autograd.grad(self.replay_loss(drawn[0], task), params,
                                        allow_unused=True)
        reference = torch.cat([(r if r is not None else torch.zeros_like(p)).flatten()
                               for r, p in zip(on_memory, params)])
        projected = project_gradient(torch.cat([g.flatten() for g in grads]), reference)
        for grad, piece in zip(grads, projected.split([g.numel() for g in grads])):
            grad.copy_(piece.view_as(grad))
