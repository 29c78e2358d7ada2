"""Dark experience replay++ (Buzzega et al. 2020)."""

from __future__ import annotations

import torch.nn.functional as F

from hebbnet.continual.strategies.replay import BufferedStrategy
from hebbnet.data import to_float


class DERpp(BufferedStrategy):
    r"""Replay stored samples with the logits the model gave them when they were stored:

    .. math:: L = L_\text{cur} + \alpha\,\lVert f(x') - z'\rVert^2 + \beta\,L_\text{CE}(f(x''), y'')

    with (x', z') and (x'', y'') two independent batches from a reservoir buffer (mean squared
    error over the logits, as in the authors' code). ``beta=0`` is DER.
    """

    trains_local_learners = False  # its method needs gradients

    def __init__(self, model, scenario, schedule, generator, buffer_size: int,
                 alpha: float = 0.2, beta: float = 0.5, replay_batch_size: int | None = None,
                 pixel_bits: int | None = None, replay_shift: int = 0):
        super().__init__(model, scenario, schedule, generator, buffer_size, "reservoir",
                         replay_batch_size, store_logits=True, pixel_bits=pixel_bits,
                         replay_shift=replay_shift)
        if alpha < 0 or beta < 0:
            raise ValueError(f"Need alpha >= 0 and beta >= 0; got {alpha}, {beta}.")
        self.alpha, self.beta = alpha, beta

    def batch_loss(self, batch, task):
        logits = self.model(to_float(batch.x))
        loss = self.loss(logits, batch.y, batch.t, task)
        if len(self.buffer):
            replay, stored_logits = self.replay_batch()
            loss = loss + self.alpha * F.mse_loss(self.model(to_float(replay.x)), stored_logits)
            replay, _ = self.replay_batch()
            loss = loss + self.beta * self.replay_loss(replay, task)
        self.remember(batch, logits.detach())
        return loss
