"""Experience replay with asymmetric cross-entropy, ER-ACE (Caccia et al. 2022)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from hebbnet.continual.benchmark import TensorSet
from hebbnet.continual.scenario import mask_logits
from hebbnet.continual.strategies.replay import BufferedStrategy, ReplayConfig
from hebbnet.registry import register_strategy


@dataclass
class ERACEConfig(ReplayConfig):
    name: str = "er_ace"  # a reservoir buffer; replay_batch_size null: train.batch_size


@register_strategy("er_ace", ERACEConfig)
class ERACE(BufferedStrategy):
    r"""Experience replay whose incoming batch cannot push down the logits of earlier classes:

    .. math:: L = \mathrm{CE}_{P \cup U}\big(f(x), y\big) + \mathrm{CE}_{S}\big(f(x'), y'\big)

    for the incoming batch (x, y) and a batch (x', y') drawn from a reservoir buffer, where
    :math:`\mathrm{CE}_A` is the cross-entropy over the output units A only. P holds the
    classes present in the incoming batch, U those the stream has not shown yet, and S the
    units the scenario allows for each replayed sample (class-incremental: every class seen
    so far). A class seen before but absent from the incoming batch is masked out of its loss,
    so new classes learn to move away from the old ones rather than the reverse.

    As in the authors' code (Caccia et al. 2022, ``pclucas14/AML``, ``methods/er_ace.py``,
    ER-ACE forced task-free there): the mask applies from the first batch on, the "seen"
    classes are those of every incoming batch so far, the two losses add, replay starts as
    soon as the buffer holds a sample, and the batch joins the buffer after the replay batch
    is drawn. Their unseen classes are those above the largest seen id, which for their fixed
    class order are the ones not yet seen; here they are exactly those, whatever the order.
    Mammoth's ``models/er_ace.py`` differs in masking and replaying only from the second task
    on. The mask narrows the scenario's own: with the expanding head the units of future tasks
    stay out; with ``class_head=full``, as in both codes, they are in U.

    Args: as :class:`~hebbnet.continual.strategies.replay.ExperienceReplay` (buffer size,
        replay batch size, buffer policy; ``pixel_bits``, ``replay_shift``).
    """

    trains_local_learners = False  # its method needs gradients

    def __init__(self, model, scenario, schedule, generator, options: ERACEConfig | None = None):
        options = options or ERACEConfig()
        super().__init__(model, scenario, schedule, generator, options, options.policy)
        # output units that have been a label of an incoming batch
        self.seen = torch.zeros(scenario.n_outputs, dtype=torch.bool,
                                device=scenario.task_units.device)

    def batch_loss(self, batch, task):
        drawn = self.replay_batch()
        self.remember(batch)
        loss = self.incoming_loss(batch, task)
        if drawn is None:
            return loss
        return loss + self.replay_loss(drawn[0], task)

    def incoming_loss(self, batch: TensorSet, task: int) -> torch.Tensor:
        r""":math:`\mathrm{CE}_{P \cup U}` on the incoming batch; marks its classes seen."""
        present = torch.zeros_like(self.seen).index_fill_(0, batch.y, True)
        self.seen |= present
        allowed = present | ~self.seen  # P ∪ U: the earlier classes absent here are masked
        scenario = self.scenario.train_mask(task, batch.t)
        active = allowed.expand(len(batch), -1) if scenario is None else scenario & allowed
        logits = self.model(self.training_inputs(batch.x))
        return F.cross_entropy(mask_logits(logits, active), batch.y)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "seen": self.seen.clone()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.seen = state["seen"].to(self.seen.device)
