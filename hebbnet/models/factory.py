"""Builds a run's model from its config: the MLP, or a plastic network (features + readout)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from hebbnet.models.diehl_cook import DiehlCookParameters, SpikeCountFeatures
from hebbnet.models.fly import KenyonCells
from hebbnet.models.hebbian_dense import DenseHebbianFeatures
from hebbnet.models.mlp import MLP
from hebbnet.models.plastic import Features, PlasticNetwork
from hebbnet.models.readouts import make_readout
from hebbnet.models.softhebb_conv import SoftHebbConvFeatures
from hebbnet.structural import Neurogenesis, SynapseTurnover

MODELS = ("mlp", "hebbian_dense", "softhebb_conv", "diehl_cook", "fly")
# name → builder(cfg, input_shape, n_outputs, n_tasks) of users' models (hebbnet.registry)
USER_MODELS: dict[str, Callable[..., nn.Module]] = {}


def build_model(cfg, input_shape: Sequence[int], n_outputs: int, n_tasks: int = 1) -> nn.Module:
    """``cfg`` is one of the model configs of :mod:`hebbnet.config.schema`; ``n_tasks`` sizes
    what grows per task."""
    if cfg.name in USER_MODELS:
        return USER_MODELS[cfg.name](cfg, tuple(input_shape), n_outputs, n_tasks)
    if cfg.name not in MODELS:
        raise ValueError(f"Unknown model {cfg.name!r}; valid: {', '.join(MODELS + tuple(USER_MODELS))}"
                         " (your own: hebbnet.registry.register_model).")
    if cfg.name == "mlp":
        if cfg.code_neurons_per_task is not None and cfg.code_size is None:
            raise ValueError(f"model.code_neurons_per_task={cfg.code_neurons_per_task} grows the "
                             "model's sparse code, and it has none: set model.code_size (its "
                             "capacity, e.g. 1000).")
        code_births = None if cfg.code_neurons_per_task is None else _neurogenesis(
            cfg.code_size, "code_size", cfg.code_neurons_per_task, n_tasks,
            cfg.code_newborn_excitability, cfg.code_newborn_maturation, "code_")
        return MLP(input_shape, list(cfg.hidden_sizes), n_outputs, cfg.activation, cfg.init,
                   cfg.code_size, cfg.code_active, cfg.code_calibrated, cfg.code_seed, cfg.bias,
                   code_births)
    features = _features(cfg, input_shape, n_tasks)
    if cfg.readout == "neuron_labels" and features.out_features < n_outputs:
        raise ValueError(
            f"model={cfg.name} has {features.out_features} feature neurons for {n_outputs} "
            "output classes: with model.readout=neuron_labels every class needs neurons. Use "
            "more neurons (model.n_neurons / model.width) or another model.readout."
        )
    readout = make_readout(cfg.readout, features.out_features, n_outputs, cfg.readout_lr,
                           cfg.readout_w_max)
    return PlasticNetwork(features, readout, input_shape, cfg.lr_decay)


def _features(cfg, input_shape: Sequence[int], n_tasks: int) -> Features:
    if cfg.name == "hebbian_dense":
        return DenseHebbianFeatures(input_shape, cfg.width, cfg.rule, cfg.lr,
                                    dict(cfg.rule_options), cfg.activation, list(cfg.homeostasis),
                                    cfg.target, cfg.consolidation, _turnover(cfg),
                                    None if cfg.neurons_per_task is None else _neurogenesis(
                                        cfg.width, "width", cfg.neurons_per_task, n_tasks,
                                        cfg.newborn_excitability, cfg.newborn_maturation))
    if cfg.name == "softhebb_conv":
        return SoftHebbConvFeatures(input_shape, cfg.depth)
    if cfg.name == "diehl_cook":
        params = DiehlCookParameters(n_neurons=cfg.n_neurons, steps=cfg.steps, rule=cfg.rule,
                                     theta_plus=cfg.theta_plus, inhibition=cfg.inhibition,
                                     nu_pre=cfg.nu_pre, nu_post=cfg.nu_post,
                                     weight_l2=cfg.weight_l2, input_l2=cfg.input_l2,
                                     theta_half=cfg.theta_half)
        if cfg.neurons_per_task is not None:
            _check_room(cfg.n_neurons, "n_neurons", cfg.neurons_per_task, n_tasks)
        return SpikeCountFeatures(input_shape, params, cfg.neurons_per_task,
                                  threshold_from_weights=cfg.threshold_from_weights)
    return KenyonCells(input_shape, cfg.kenyon_cells, cfg.active, cfg.fan_in)


def _turnover(cfg) -> SynapseTurnover | None:
    """The dense network's synapse turnover, its generator seeded from the run's."""
    if cfg.turnover_density is None:
        return None
    try:
        return SynapseTurnover(density=cfg.turnover_density, rate=cfg.turnover_rate,
                               period=cfg.turnover_period, growth="coactive", prune="unused",
                               seed=int(torch.randint(2**31, ())))
    except ValueError as error:
        raise ValueError(f"model.turnover_density / turnover_rate / turnover_period: {error}") from error


def _check_room(capacity: int, capacity_key: str, per_task: int, n_tasks: int,
                prefix: str = "") -> None:
    """Units born per task must fit the capacity for every task."""
    if not 0 < per_task * n_tasks <= capacity:
        raise ValueError(
            f"model.{prefix}neurons_per_task={per_task} for {n_tasks} tasks needs "
            f"{per_task * n_tasks} units, model.{capacity_key} is {capacity}. Raise "
            f"model.{capacity_key} or lower model.{prefix}neurons_per_task (at least 1).")


def _neurogenesis(capacity: int, capacity_key: str, per_task: int, n_tasks: int,
                  excitability: float, maturation: float, prefix: str = "") -> Neurogenesis:
    """``per_task`` units born now and at the start of every later task."""
    _check_room(capacity, capacity_key, per_task, n_tasks, prefix)
    try:
        return Neurogenesis(capacity, per_task, excitability, maturation)
    except ValueError as error:
        raise ValueError(f"model.{prefix}newborn_excitability / {prefix}newborn_maturation: "
                         f"{error}") from error
