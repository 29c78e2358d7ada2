"""Continual learning: benchmarks, scenarios, strategies, metrics and the run loop."""

from hebbnet.continual.benchmark import Benchmark, Experience, TensorSet
from hebbnet.continual.runner import NonFiniteStateError, run_experiment
from hebbnet.continual.scenario import SCENARIOS, Scenario
from hebbnet.run_directory import RunDirectoryError

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
