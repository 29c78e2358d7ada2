"""A plastic network: features that learn by local rules, then a readout — a model like any
other for the continual-learning runner (a :class:`~hebbnet.models.contract.LocalLearner`).

Contract (what the runner and the strategies rely on):

* ``forward(x)`` maps images (N, C, H, W) in [0, 1] to logits (N, n_outputs). In ``train()``
  the features learn from what passes through them by their own rules (no labels, no
  gradient); in ``eval()`` nothing changes.
* ``learns_locally``: True when the readout learns by a local rule as well. Then nothing has
  a gradient and a strategy trains the network with :meth:`PlasticNetwork.learn` (see
  ``Strategy.local_step``); otherwise the readout is a linear layer that any strategy's loss
  and optimiser train, while the features keep learning locally underneath.
* ``start_task(task)``: the critical period — the features' plasticity is scaled by
  ``lr_decay ** task`` (1: always open; 0: closed once the first task is learned).
* ``statistics_bytes()``: what the readout carries across tasks besides weights, counted in a
  run's memory.

Features modules (:class:`Features`) implement ``forward(x) -> (N, out_features)``,
``out_features`` and ``begin_task(task, gain)`` (their plasticity scaled by ``gain``, 0
freezing them; a network that grows units for a new task does so here); a module that lacks
one is refused when the network is built, with the missing names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional, Protocol

import torch
from torch import nn

from hebbnet.distributed import gather_over_ranks
from hebbnet.models.contract import missing
from hebbnet.models.readouts import Readout, make_readout


@dataclass
class PlasticModelConfig:
    """What every plastic network's config shares: its readout and its critical period."""

    name: str = "hebbian_dense"
    readout: str = "backprop"  # backprop | delta | hebbian | class_means | neuron_labels
    readout_lr: Optional[float] = None  # delta and hebbian readouts; null: the rule's default
    readout_w_max: Optional[float] = None  # hebbian readout: synapses saturate here; null: never
    lr_decay: float = 1.0  # the features' plasticity at task k is lr_decay^k (0: frozen after task 0)


class Features(Protocol):
    """What a plastic network's features module provides (see the module docstring)."""

    out_features: int

    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...

    def begin_task(self, task: int, gain: float) -> None: ...


class PlasticNetwork(nn.Module):
    """``readout(features(x))``.

    Args:
        features: the plastic feature module (see the module docstring).
        readout: a :class:`~hebbnet.models.readouts.Readout` over ``features.out_features``.
        input_shape: (C, H, W) of one image.
        lr_decay: the features' plasticity at task k is ``lr_decay ** k`` of its start.

    Shape: x (N, C, H, W) → logits (N, n_outputs).
    """

    def __init__(self, features: Features, readout: Readout, input_shape: Sequence[int],
                 lr_decay: float = 1.0):
        super().__init__()
        if not 0 <= lr_decay <= 1:
            raise ValueError(f"model.lr_decay must be in [0, 1] (1: plasticity never closes), "
                             f"got {lr_decay}.")
        if absent := missing(features, Features):
            raise TypeError(f"{type(features).__name__} lacks {', '.join(absent)}, which a "
                            "plastic network's features provide (hebbnet.models.plastic.Features: "
                            "forward(x) -> (N, out_features), out_features, begin_task(task, "
                            "gain)).")
        self.features, self.readout = features, readout
        self.input_shape, self.lr_decay = tuple(input_shape), lr_decay

    @property
    def learns_locally(self) -> bool:
        return self.readout.learns_locally

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"{type(self.features).__name__} network expects inputs of shape "
                             f"(batch, {', '.join(map(str, self.input_shape))}), "
                             f"got {tuple(x.shape)}.")
        return self.readout(self.features(x))

    @torch.no_grad()
    def learn(self, x: torch.Tensor, targets: torch.Tensor,
              active: torch.Tensor | None) -> torch.Tensor:
        """One local step on a labelled batch: the features learn as ``x`` passes (in
        ``train()``), then the readout learns from the features, the targets and the output
        units the scenario allows. Returns the logits the batch got before the readout's step.

        Under ``torchrun`` each rank holds a share of the batch: the features average their
        change over the ranks, and the readout learns from every rank's features (gathered),
        so its statistics and weights are those of one process on the whole batch."""
        h = self.features(x)
        logits = self.readout(h)
        if active is not None:
            active = gather_over_ranks(active)
        self.readout.learn(gather_over_ranks(h), gather_over_ranks(targets), active)
        return logits

    def start_task(self, task: int) -> None:
        self.features.begin_task(task, self.lr_decay ** task)

    def statistics_bytes(self) -> int:
        return self.readout.statistics_bytes()



def plastic_network(cfg: PlasticModelConfig, features: Features, input_shape: Sequence[int],
                    n_outputs: int) -> PlasticNetwork:
    """``features`` under the readout ``cfg`` chooses: what each plastic model's builder
    returns."""
    if cfg.readout == "neuron_labels" and features.out_features < n_outputs:
        raise ValueError(
            f"model={cfg.name} has {features.out_features} feature neurons for {n_outputs} "
            "output classes: with model.readout=neuron_labels every class needs neurons. Use "
            "more neurons (model.n_neurons / model.width) or another model.readout."
        )
    readout = make_readout(cfg.readout, features.out_features, n_outputs, cfg.readout_lr,
                           cfg.readout_w_max)
    return PlasticNetwork(features, readout, input_shape, cfg.lr_decay)


def module_device(module: nn.Module) -> torch.device:
    """Where ``module`` lives: the device of its first parameter or buffer (a network of
    buffers only, like Diehl & Cook's, has no parameters)."""
    for tensor in module.state_dict().values():
        return tensor.device
    return torch.device("cpu")
