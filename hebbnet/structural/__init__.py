"""Structural plasticity: the connectivity itself changes (synapse turnover), and maps of an
input surface form on a sheet of units (cortical maps)."""

from hebbnet.structural.turnover import GROWTH, SynapseTurnover, rewire, turnover_fraction

__all__ = ["GROWTH", "SynapseTurnover", "rewire", "turnover_fraction"]
