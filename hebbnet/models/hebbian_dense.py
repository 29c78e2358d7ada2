"""Dense Hebbian features: one plastic layer (Krotov–Hopfield, SoftHebb, competitive, …) with
optional homeostasis and two-timescale consolidation, then a fixed nonlinearity.

    h = φ(W x),  W learning by ``rule`` (local mode) while the network trains,
    φ = relu:      h_i = max(0, u_i)
    φ = triangle:  h_i = max(0, u_i − mean_j u_j)   (Coates & Ng's triangle code on the drive)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import torch
from torch import nn

from hebbnet.homeostasis import Homeostasis, IntrinsicPlasticity, SynapticScaling
from hebbnet.layers import HebbianLinear
from hebbnet.models.growth import neurogenesis, turnover
from hebbnet.models.plastic import PlasticModelConfig, PlasticNetwork, plastic_network
from hebbnet.plasticity import TagAndCapture
from hebbnet.registry import register_model
from hebbnet.rules import make_rule
from hebbnet.structural import Neurogenesis, SynapseTurnover

ACTIVATIONS = ("relu", "triangle")
HOMEOSTASIS = ("scaling", "intrinsic")


@dataclass
class HebbianDenseConfig(PlasticModelConfig):
    name: str = "hebbian_dense"
    width: int = 2000  # feature units
    rule: str = "krotov_hopfield"  # any rule of hebbnet.rules.RULES
    rule_options: Dict[str, Any] = field(default_factory=dict)  # the rule's keyword arguments
    lr: float = 0.02
    activation: str = "relu"  # relu | triangle
    homeostasis: List[str] = field(default_factory=list)  # scaling, intrinsic
    target: float = 0.05  # homeostatic target activity
    consolidation: bool = False  # tagging and capture on the feature layer
    # synapse turnover on the feature layer (SynapseTurnover, co-active growth, unused synapses
    # pruned): keep this fraction of the synapses; null: all, no turnover
    turnover_density: Optional[float] = None
    turnover_rate: float = 0.05  # the fraction of the kept synapses replaced per period
    turnover_period: int = 100  # plastic updates per period
    # neurogenesis: width is the capacity, this many units born per task, a newborn's extra
    # drive newborn_excitability fading over newborn_maturation plastic updates; null: all
    # units from the start
    neurons_per_task: Optional[int] = None
    newborn_excitability: float = 0.0
    newborn_maturation: float = 100.0


class DenseHebbianFeatures(nn.Module):
    """Args:
        input_shape: (C, H, W) of one image (flattened on the way in).
        width: number of feature units.
        rule: a rule name (:data:`hebbnet.rules.RULES`), with ``rule_options`` as its keyword
            arguments (e.g. ``{"nearest": True, "winner_mean": True}`` for ``competitive``).
        lr: the layer's learning rate.
        activation: ``relu`` or ``triangle``.
        homeostasis: any of ``scaling`` (SynapticScaling) and ``intrinsic``
            (IntrinsicPlasticity), toward ``target`` activity.
        consolidation: tagging and capture (:class:`TagAndCapture`): every change lands in a
            decaying early weight; plasticity-related products, released at the start of each
            task (a novel context), let tagged synapses capture it into the late weight.
        turnover: a :class:`SynapseTurnover` for the layer's synapses, or None.
        neurogenesis: a :class:`Neurogenesis` of capacity ``width`` whose ``born`` units exist
            at the start; each task gives birth to as many more (:meth:`start_task`), the
            newborns excitable. None: all ``width`` units from the start.

    Shape: x (N, C, H, W) → h (N, width).
    """

    def __init__(self, input_shape: Sequence[int], width: int, rule: str = "krotov_hopfield",
                 lr: float = 0.02, rule_options: dict | None = None, activation: str = "relu",
                 homeostasis: Sequence[str] = (), target: float = 0.05,
                 consolidation: bool = False, turnover: SynapseTurnover | None = None,
                 neurogenesis: Neurogenesis | None = None):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"Unknown model.activation {activation!r}; valid: "
                             f"{', '.join(ACTIVATIONS)}.")
        unknown = set(homeostasis) - set(HOMEOSTASIS)
        if unknown:
            raise ValueError(f"Unknown model.homeostasis {sorted(unknown)}; valid: "
                             f"{', '.join(HOMEOSTASIS)}.")
        n_in = math.prod(input_shape)
        mechanisms: list[Homeostasis] = [
            SynapticScaling(width, target) if name == "scaling"
            else IntrinsicPlasticity(width, target) for name in homeostasis]
        self.per_task = neurogenesis.born if neurogenesis is not None else None
        if neurogenesis is not None:
            mechanisms.append(neurogenesis)  # the last word on the competition
        try:  # the rule's own message, under the keys that set it
            built = make_rule(rule, n_in, width, **(rule_options or {}))
            built.check_units(width)
        except (TypeError, ValueError) as error:
            raise type(error)(f"model.rule={rule} with model.rule_options={dict(rule_options or {})}"
                              f" and model.width={width}: {error}") from error
        self.layer = HebbianLinear(n_in, width, built, lr=lr, output="drive", homeostasis=mechanisms,
                                   consolidation=TagAndCapture() if consolidation else None,
                                   structure=turnover)
        self.activation, self.base_lr, self.out_features = activation, lr, width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = self.layer(x.flatten(1))
        if self.activation == "triangle":  # the mean over the units that exist; unborn stay 0
            births = self.layer.neurogenesis
            if births is None:
                u = u - u.mean(1, keepdim=True)
            else:
                u = (u - u.sum(1, keepdim=True) / births.born) * births.alive
        return torch.relu(u)

    @property
    def born(self) -> int:
        """Feature units that exist (all ``width`` without neurogenesis)."""
        births = self.layer.neurogenesis
        return births.born if births is not None else self.out_features

    def begin_task(self, task: int, gain: float) -> None:
        """Plasticity at ``gain`` times the configured rate; 0 freezes the layer. A new task
        releases plasticity-related products for consolidation; with neurogenesis, the task's
        units are born (Gaussian weights at the born units' scale)."""
        if self.per_task is not None and (missing := (task + 1) * self.per_task - self.born) > 0:
            self.layer.grow(missing)
        self.layer.plastic = gain > 0
        self.layer.lr = self.base_lr * gain if gain > 0 else self.base_lr
        if self.layer.consolidation is not None:
            self.layer.consolidation.trigger()


@register_model("hebbian_dense", HebbianDenseConfig)
def build_hebbian_dense(cfg: HebbianDenseConfig, input_shape: Sequence[int], n_outputs: int,
                        n_tasks: int) -> PlasticNetwork:
    births = None if cfg.neurons_per_task is None else neurogenesis(
        cfg.width, "width", cfg.neurons_per_task, n_tasks, cfg.newborn_excitability,
        cfg.newborn_maturation)
    features = DenseHebbianFeatures(
        input_shape, cfg.width, cfg.rule, cfg.lr, dict(cfg.rule_options), cfg.activation,
        list(cfg.homeostasis), cfg.target, cfg.consolidation,
        turnover(cfg.turnover_density, cfg.turnover_rate, cfg.turnover_period), births)
    return plastic_network(cfg, features, input_shape, n_outputs)
