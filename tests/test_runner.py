import json

import numpy as np
import pytest
import torch
from conftest import crash_during_task, quick_config, write_fake_mnist

from hebbnet.config import BenchmarkConfig, MLPConfig, StrategyConfig, TrainConfig
from hebbnet.continual import RunDirectoryError, run_experiment
from hebbnet.continual.checkpoint import CHECKPOINT_NAME, load_checkpoint
from hebbnet.continual.strategies import (
    NonFiniteLossError,
    Strategy,
    check_schedule,
    steps_per_task,
)


def test_run_writes_metrics_consistent_with_the_matrix(tmp_path):
    result = run_experiment(quick_config(), tmp_path)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved == result  # JSON round-trips floats exactly
    R = np.array(saved["acc_matrix"])
    assert R.shape == (5, 5)
    assert ((R >= 0) & (R <= 1)).all()
    assert saved["acc"] == pytest.approx(R[-1].mean())
    assert len(saved["random_init_acc"]) == 5
    assert saved["train_samples"] == 5 * 30 * 32
    assert (tmp_path / "config.yaml").read_text().startswith("seed: 0")


def test_naive_forgets_and_joint_does_not_in_class_incremental(tmp_path):
    train = TrainConfig(batch_size=32, iterations=60)
    naive = run_experiment(quick_config(train=train), tmp_path / "naive")
    joint = run_experiment(
        quick_config(train=train, strategy=StrategyConfig("joint")), tmp_path / "joint"
    )
    assert naive["forgetting"] > 0.8 and naive["acc"] < 0.3
    assert joint["acc"] > 0.85 and joint["forgetting"] < 0.1


def test_task_incremental_masks_make_naive_strong(tmp_path):
    result = run_experiment(quick_config(scenario="task"), tmp_path)
    assert result["acc"] > 0.9


def test_domain_incremental_uses_two_output_units(tmp_path):
    run_experiment(quick_config(scenario="domain"), tmp_path)
    weights = load_checkpoint(tmp_path / CHECKPOINT_NAME)["model"]
    assert weights["head.weight"].shape == (2, 400)


def test_same_seed_same_results_bit_for_bit(tmp_path):
    cfg = quick_config(benchmark=BenchmarkConfig(shuffle_class_order=True))
    a = run_experiment(cfg, tmp_path / "a")
    b = run_experiment(cfg, tmp_path / "b")
    assert a["acc_matrix"] == b["acc_matrix"]
    weights_a = load_checkpoint(tmp_path / "a" / CHECKPOINT_NAME)["model"]
    weights_b = load_checkpoint(tmp_path / "b" / CHECKPOINT_NAME)["model"]
    assert all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)
    c = run_experiment(quick_config(seed=1), tmp_path / "c")
    assert c["acc_matrix"] != a["acc_matrix"]


def test_permuted_benchmark_is_reproducible(tmp_path, fake_mnist_root):
    cfg = quick_config(
        benchmark=BenchmarkConfig(name="permuted_mnist", dataset="mnist", kind="permuted", n_tasks=3),
        scenario="domain", model=MLPConfig(hidden_sizes=[32]),
    )
    cfg.data.root = str(fake_mnist_root)
    a = run_experiment(cfg, tmp_path / "a")
    b = run_experiment(cfg, tmp_path / "b")
    assert a["acc_matrix"] == b["acc_matrix"]
    assert len(a["acc_matrix"]) == 3


@pytest.mark.parametrize("dataset, folder", [("fashion_mnist", "FashionMNIST"), ("kmnist", "KMNIST")])
def test_user_supplied_idx_benchmarks_run(tmp_path, dataset, folder):
    root = write_fake_mnist(tmp_path / "data", folder=folder)
    cfg = quick_config(benchmark=BenchmarkConfig(name=f"split_{dataset}", dataset=dataset),
                       model=MLPConfig(hidden_sizes=[32]))
    cfg.data.root = str(root)
    result = run_experiment(cfg, tmp_path / "run")
    assert result["benchmark"] == f"split_{dataset}"
    assert np.array(result["acc_matrix"]).shape == (5, 5)


class _Interrupt(Exception):
    pass


def test_run_killed_during_task_3_resumes_to_the_same_matrix(tmp_path, monkeypatch):
    cfg = quick_config(strategy=StrategyConfig("joint"))
    reference = run_experiment(cfg, tmp_path / "reference")

    crash_during_task(monkeypatch, task=2, step=10, error=_Interrupt)
    with pytest.raises(_Interrupt):
        run_experiment(cfg, tmp_path / "resumed")
    assert load_checkpoint(tmp_path / "resumed" / CHECKPOINT_NAME)["state"]["next_task"] == 2
    monkeypatch.undo()

    cfg.resume = True
    resumed = run_experiment(cfg, tmp_path / "resumed")
    assert resumed["acc_matrix"] == reference["acc_matrix"]
    assert resumed["random_init_acc"] == reference["random_init_acc"]


def test_existing_checkpoint_needs_resume_true(tmp_path):
    run_experiment(quick_config(), tmp_path)
    with pytest.raises(RunDirectoryError, match="resume=true"):
        run_experiment(quick_config(), tmp_path)


def test_resume_with_a_different_config_names_the_difference(tmp_path):
    run_experiment(quick_config(), tmp_path)
    with pytest.raises(RunDirectoryError, match="train.lr"):
        run_experiment(quick_config(resume=True, train=TrainConfig(lr=0.5, iterations=30)), tmp_path)


def test_nan_loss_stops_the_run_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    original = Strategy.loss

    def nan_in_task_2(self, logits, y, t, task):
        loss = original(self, logits, y, t, task)
        return loss * float("nan") if task == 2 else loss

    monkeypatch.setattr(Strategy, "loss", nan_in_task_2)
    with pytest.raises(NonFiniteLossError, match="task 2"):
        run_experiment(quick_config(), tmp_path)
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)["state"]["next_task"] == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"iterations": 10, "epochs": 1.0}, "exactly one"),
        ({"iterations": None, "epochs": None}, "exactly one"),
        ({"lr": -1.0}, "train.lr must be positive"),
        ({"optimizer": "adamw"}, "adam, sgd"),
    ],
)
def test_bad_schedules_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_schedule(TrainConfig(**kwargs))


def test_epoch_schedule_counts_steps_from_the_data():
    assert steps_per_task(TrainConfig(batch_size=10, iterations=None, epochs=1), 12_000) == 1200
    assert steps_per_task(TrainConfig(batch_size=128, iterations=None, epochs=0.5), 1000) == 4


def test_cuda_request_without_cuda_is_an_error(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA is not available"):
        run_experiment(quick_config(device="cuda"), tmp_path)


@pytest.fixture
def torch_threads():
    """Give the test torch's thread count back afterwards."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.usefixtures("torch_threads")
def test_threads_come_from_the_config_else_torch_capped_at_the_usable_cores(tmp_path,
                                                                           monkeypatch):
    run_experiment(quick_config(threads=1), tmp_path / "set")
    assert torch.get_num_threads() == 1
    run_experiment(quick_config(), tmp_path / "kept")  # null never raises torch's count
    assert torch.get_num_threads() == 1
    torch.set_num_threads(2)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0}, raising=False)
    run_experiment(quick_config(), tmp_path / "capped")  # one usable core
    assert torch.get_num_threads() == 1


@pytest.mark.usefixtures("torch_threads")
def test_a_bad_thread_count_is_named(tmp_path):
    with pytest.raises(ValueError, match="threads=0: give a positive number"):
        run_experiment(quick_config(threads=0), tmp_path)


def test_nothing_is_prepared_after_the_final_task(tmp_path, monkeypatch):
    """after_experience (EWC's Fisher, SI's Ω, anchors) runs after every task but the last,
    whose result no later task could use."""
    prepared = []
    monkeypatch.setattr(Strategy, "after_experience",
                        lambda self, experience: prepared.append(experience.task_id))
    run_experiment(quick_config(), tmp_path)
    assert prepared == [0, 1, 2, 3]


def test_a_finished_run_reads_back_with_its_benchmark_and_last_weights(tmp_path):
    from hebbnet.runs import load_run

    metrics = run_experiment(quick_config(), tmp_path)
    run = load_run(tmp_path)
    saved = torch.load(tmp_path / CHECKPOINT_NAME, weights_only=True)["model"]
    assert all(torch.equal(run.model.state_dict()[k], v) for k, v in saved.items())
    assert run.benchmark.n_tasks == len(metrics["acc_matrix"]) and run.config == quick_config()
