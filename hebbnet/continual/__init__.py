"""Continual learning: benchmarks, scenarios, strategies, metrics and the run loop."""

from hebbnet.continual.benchmark import Benchmark, Experience, TensorSet
from hebbnet.continual.run_directory import RunDirectoryError
from hebbnet.continual.runner import NonFiniteStateError, run_experiment
from hebbnet.continual.scenario import SCENARIOS, Scenario

__all__ = [
    "SCENARIOS",
    "Benchmark",
    "Experience",
    "NonFiniteStateError",
    "RunDirectoryError",
    "Scenario",
    "TensorSet",
    "run_experiment",
]
