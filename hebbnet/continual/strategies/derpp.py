"""Dark experience replay++ (Buzzega et al. 2020)."""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F

from hebbnet.continual.strategies.replay import BufferedStrategy, StoredSamplesConfig
from hebbnet.registry import register_strategy


@dataclass
class DERppConfig(StoredSamplesConfig):
    name: str = "derpp"  # a reservoir buffer, each sample with its logits
    alpha: float = 0.2  # weight of the logit-matching term
    beta: float = 0.5  # weight of the stored-label term; 0 gives DER


@register_strategy("derpp", DERppConfig)
class DERpp(BufferedStrategy):
    r"""Replay stored samples with the logits the model gave them when they were stored:

    .. math:: L = L_\text{cur} + \alpha\,\lVert f(x') - z'\rVert^2 + \beta\,L_\text{CE}(f(x''), y'')

    with (x', z') and (x'', y'') two independent batches from a reservoir buffer (mean squared
    error over the logits, as in the authors' code). ``beta=0`` is DER. The buffer keeps the
    un-augmented images with the logits of their augmented view, as Mammoth does, and the
    logits in float32 whatever the training precision.
    """

    trains_local_learners = False  # its method needs gradients

    def __init__(self, model, scenario, schedule, generator, options: DERppConfig | None = None):
        options = options or DERppConfig()
        super().__init__(model, scenario, schedule, generator, options, store_logits=True)
        alpha, beta = options.alpha, options.beta
        if alpha < 0 or beta < 0:
            raise ValueError(f"Need alpha >= 0 and beta >= 0; got {alpha}, {beta}.")
        self.alpha, self.beta = alpha, beta

    def batch_loss(self, batch, task):
        logits = self.model(self.training_inputs(batch.x))
        loss = self.loss(logits, batch.y, batch.t, task)
        if len(self.buffer):
            replay, stored_logits = self.replay_batch()
            replayed = self.model(self.training_inputs(replay.x))
            loss = loss + self.alpha * F.mse_loss(replayed, stored_logits)
            replay, _ = self.replay_batch()
            loss = loss + self.beta * self.replay_loss(replay, task)
        self.remember(batch, logits.detach().float())
        return loss
