"""A finished (or interrupted) run read back from its directory, for analyses that ask more of
it than its metrics: the config it ran, its benchmark rebuilt from its seed, and its model with
the weights of its last checkpoint.

    run = load_run("outputs/split_mnist/class/naive/seed1/2026-12-08_10-00-00")
    run.model.eval()
    features = run.model.features(run.benchmark.experiences[0].test.x.float() / 255)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from hebbnet.config.schema import Config
from hebbnet.config.store import load_config
from hebbnet.continual.benchmark import Benchmark
from hebbnet.continual.checkpoint import load_checkpoint
from hebbnet.continual.runner import run_benchmark
from hebbnet.continual.scenario import Scenario
from hebbnet.models.factory import build_model
from hebbnet.run_directory import CHECKPOINT_NAME, CONFIG_NAME


@dataclass(frozen=True)
class FinishedRun:
    config: Config
    benchmark: Benchmark  # as the run built it: tasks, orders and validation split
    scenario: Scenario
    model: nn.Module  # on the CPU, with the weights of the run's last checkpoint


def load_run(run_dir: str | Path) -> FinishedRun:
    """The run in ``run_dir``: its ``config.yaml``, and its ``checkpoint.pt`` loaded into the
    model its config builds (after the last finished task)."""
    run_dir = Path(run_dir)
    config = load_config(run_dir / CONFIG_NAME)
    benchmark = run_benchmark(config)
    scenario = Scenario.from_benchmark(config.scenario, benchmark, config.class_head)
    model = build_model(config.model, benchmark.image_shape, scenario.n_outputs, benchmark.n_tasks)
    model.load_state_dict(load_checkpoint(run_dir / CHECKPOINT_NAME)["model"])
    return FinishedRun(config, benchmark, scenario, model)
