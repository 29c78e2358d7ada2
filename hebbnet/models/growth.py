"""Structure that grows or rewires, built from a model's settings: units born per task
(:class:`~hebbnet.structural.Neurogenesis`) and synapse turnover
(:class:`~hebbnet.structural.SynapseTurnover`). The layer's own errors come back under the
config keys that set them (``model.neurons_per_task`` …), since a run's user wrote those."""

from __future__ import annotations

import torch

from hebbnet.structural import Neurogenesis, SynapseTurnover


def check_room(capacity: int, capacity_key: str, per_task: int, n_tasks: int,
               prefix: str = "") -> None:
    """Units born per task must fit the capacity for every task."""
    if not 0 < per_task * n_tasks <= capacity:
        raise ValueError(
            f"model.{prefix}neurons_per_task={per_task} for {n_tasks} tasks needs "
            f"{per_task * n_tasks} units, model.{capacity_key} is {capacity}. Raise "
            f"model.{capacity_key} or lower model.{prefix}neurons_per_task (at least 1).")


def neurogenesis(capacity: int, capacity_key: str, per_task: int, n_tasks: int,
                 excitability: float, maturation: float, prefix: str = "") -> Neurogenesis:
    """``per_task`` units born now and at the start of every later task."""
    check_room(capacity, capacity_key, per_task, n_tasks, prefix)
    try:
        return Neurogenesis(capacity, per_task, excitability, maturation)
    except ValueError as error:
        raise ValueError(f"model.{prefix}newborn_excitability / {prefix}newborn_maturation: "
                         f"{error}") from error


def turnover(density: float | None, rate: float, period: int) -> SynapseTurnover | None:
    """Synapse turnover keeping ``density`` of the synapses (None: no turnover), its generator
    seeded from the run's."""
    if density is None:
        return None
    try:
        return SynapseTurnover(density=density, rate=rate, period=period, growth="coactive",
                               prune="unused", seed=int(torch.randint(2**31, ())))
    except ValueError as error:
        raise ValueError(f"model.turnover_density / turnover_rate / turnover_period: {error}") from error
