"""Continual learning: benchmarks, scenarios, strategies, metrics and the run loop."""

from hebbnet.continual.benchmark import Benchmark, Experience, TensorSet
from hebbnet.continual.runner import RunDirectoryError, run_experiment
from hebbnet.continual.scenario import SCENARIOS, Scenario

__all__ = [
    "SCENARIOS",
    "Benchmark",
    "Experience",
    "RunDirectoryError",
    "Scenario",
    "TensorSet",
    "run_experiment",
]
