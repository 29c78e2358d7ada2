"""Builds a run's model from its config: the MLP, or a plastic network (features + readout)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from hebbnet.models.diehl_cook import DiehlCookParameters, SpikeCountFeatures
from hebbnet.models.fly import KenyonCells
from hebbnet.models.hebbian_dense import DenseHebbianFeatures
from hebbnet.models.mlp import MLP
from hebbnet.models.plastic import PlasticNetwork
from hebbnet.models.readouts import make_readout
from hebbnet.models.softhebb_conv import SoftHebbConvFeatures
from hebbnet.structural import SynapseTurnover

MODELS = ("mlp", "hebbian_dense", "softhebb_conv", "diehl_cook", "fly")


def build_model(cfg, input_shape: Sequence[int], n_outputs: int, n_tasks: int = 1) -> nn.Module:
    """``cfg`` is one of the model configs of :mod:`hebbnet.config.schema`; ``n_tasks`` sizes
    what grows per task."""
    if cfg.name not in MODELS:
        raise ValueError(f"Unknown model {cfg.name!r}; valid: {', '.join(MODELS)}.")
    if cfg.name == "mlp":
        return MLP(input_shape, list(cfg.hidden_sizes), n_outputs, cfg.activation, cfg.init,
                   cfg.code_size, cfg.code_active, cfg.code_calibrated, cfg.code_seed, cfg.bias)
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


def _features(cfg, input_shape: Sequence[int], n_tasks: int) -> nn.Module:
    if cfg.name == "hebbian_dense":
        return DenseHebbianFeatures(input_shape, cfg.width, cfg.rule, cfg.lr,
                                    dict(cfg.rule_options), cfg.activation, list(cfg.homeostasis),
                                    cfg.target, cfg.consolidation, _turnover(cfg))
    if cfg.name == "softhebb_conv":
        return SoftHebbConvFeatures(input_shape, cfg.depth)
    if cfg.name == "diehl_cook":
        params = DiehlCookParameters(n_neurons=cfg.n_neurons, steps=cfg.steps, rule=cfg.rule,
                                     theta_plus=cfg.theta_plus, inhibition=cfg.inhibition,
                                     nu_pre=cfg.nu_pre, nu_post=cfg.nu_post)
        if cfg.neurons_per_task is not None and cfg.neurons_per_task * n_tasks > cfg.n_neurons:
            raise ValueError(
                f"model.neurons_per_task={cfg.neurons_per_task} for {n_tasks} tasks needs "
                f"{cfg.neurons_per_task * n_tasks} neurons, model.n_neurons is {cfg.n_neurons}."
                " Raise model.n_neurons or lower model.neurons_per_task.")
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
