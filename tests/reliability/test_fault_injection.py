"""Runs killed with SIGKILL — mid-step, mid-evaluation, mid-sleep, with a torn checkpoint file,
between write and rename — resume to the same accuracy matrix and weights, bit for bit, for
every strategy. The kill points are drawn at random (seeded) among the calls a run really
makes; ``benchmarks/reliability.py kills`` runs the long campaign."""

import os
import random
from functools import partial

import pytest
import torch
from conftest import quick_config
from test_strategy_runs import OPTIONS

from hebbnet.config import LoggerConfig, TrainConfig
from hebbnet.continual import run_experiment
from hebbnet.continual.checkpoint import CHECKPOINT_NAME
from hebbnet.continual.strategies import STRATEGIES
from hebbnet.models import DiehlCookConfig, FlyConfig, HebbianDenseConfig
from hebbnet.testing import KILL_POINTS, TORN, count_calls, run_killed

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")


@pytest.fixture(autouse=True)
def one_thread():
    """The killed child computes with one thread; so must the runs it is compared with, as
    float sums can round differently when split over another number of threads."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


PLASTIC_MODELS = {
    "hebbian dense, delta rule": HebbianDenseConfig(width=64, readout="delta", lr_decay=0.5),
    "diehl & cook": DiehlCookConfig(n_neurons=20, steps=20),
    "fly": FlyConfig(kenyon_cells=500, active=25),
}


def config(name: str, resume: bool = False, logger: str = "none", model=None):
    strategy = STRATEGIES[name].config(**OPTIONS.get(name, {}))
    return quick_config(strategy=strategy, resume=resume,
                        train=TrainConfig(batch_size=16, iterations=12),
                        logger=LoggerConfig(name=logger, progress=False),
                        **({"model": model} if model is not None else {}))


def final_weights(run_dir):
    return torch.load(run_dir / CHECKPOINT_NAME, weights_only=True)["model"]


def assert_same_run(resumed: dict, straight: dict, resumed_dir, straight_dir) -> None:
    assert resumed["acc_matrix"] == straight["acc_matrix"]
    assert resumed["strategy_bytes"] == straight["strategy_bytes"]
    for key, tensor in final_weights(straight_dir).items():
        assert torch.equal(final_weights(resumed_dir)[key], tensor), key


def kill_everywhere_and_resume(name: str, tmp_path, model=None) -> None:
    """Kill a run once at a random call of every kill point it reaches; resume each."""
    straight = run_experiment(config(name, model=model), tmp_path / "straight")
    counts = count_calls(lambda: run_experiment(config(name, model=model), tmp_path / "counted"),
                         list(KILL_POINTS))
    draw = random.Random(name)
    for point, calls in counts.items():
        if calls == 0:  # no sleep outside the CLS
            continue
        run_dir = tmp_path / point.replace(" ", "_")
        call = draw.randint(1, calls)
        assert run_killed(partial(run_experiment, config(name, model=model), run_dir), point,
                          call), point
        resumed = run_experiment(config(name, resume=True, model=model), run_dir)
        assert_same_run(resumed, straight, run_dir, tmp_path / "straight")
        assert not list(run_dir.glob(".*.tmp"))  # a torn temporary file is cleared on resume


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_a_run_killed_anywhere_resumes_bit_for_bit(name, tmp_path):
    kill_everywhere_and_resume(name, tmp_path)


@pytest.mark.parametrize("model", PLASTIC_MODELS)
@pytest.mark.parametrize("name", ["naive", "cls"])
def test_a_plastic_network_killed_anywhere_resumes_bit_for_bit(model, name, tmp_path):
    kill_everywhere_and_resume(name, tmp_path, PLASTIC_MODELS[model])


def test_a_run_killed_twice_with_tensorboard_on_resumes_bit_for_bit(tmp_path):
    straight = run_experiment(config("er", logger="tensorboard"), tmp_path / "straight")
    run_dir = tmp_path / "killed"
    assert run_killed(lambda: run_experiment(config("er", logger="tensorboard"), run_dir),
                      "training step", 30)
    assert run_killed(lambda: run_experiment(config("er", True, "tensorboard"), run_dir),
                      TORN, 2)
    resumed = run_experiment(config("er", True, "tensorboard"), run_dir)
    assert_same_run(resumed, straight, run_dir, tmp_path / "straight")

