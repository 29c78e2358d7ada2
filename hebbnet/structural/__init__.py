"""Structural and developmental plasticity: the connectivity itself changes (synapse turnover)
and a sheet of units forms a map of its input surface (cortical maps). Critical periods are
plasticity schedules (:mod:`hebbnet.plasticity.schedules`); the signature experiments are in
:mod:`hebbnet.structural.signatures`."""

from hebbnet.structural.cortical_map import TopographicMap
from hebbnet.structural.turnover import GROWTH, SynapseTurnover, rewire, turnover_fraction

__all__ = ["GROWTH", "SynapseTurnover", "TopographicMap", "rewire", "turnover_fraction"]
