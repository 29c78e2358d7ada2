"""Structural and developmental plasticity: the connectivity itself changes (synapse turnover)
and units are born into a layer (neurogenesis).
Cortical maps are :class:`hebbnet.layers.TopographicMap`; critical periods are plasticity
schedules (:mod:`hebbnet.plasticity.schedules`); the signature experiments are in
:mod:`hebbnet.signatures`."""

from hebbnet.structural.neurogenesis import Neurogenesis
from hebbnet.structural.report import structure_report
from hebbnet.structural.turnover import (
    GROWTH,
    PRUNING,
    SynapseTurnover,
    rewire,
    turnover_fraction,
)

__all__ = ["GROWTH", "PRUNING", "Neurogenesis", "SynapseTurnover", "rewire", "structure_report",
           "turnover_fraction"]
