"""Every strategy through the runner and train.py: runs, reports its memory, resumes exactly,
and picks up its published hyperparameters for a named experiment."""

import json

import numpy as np
import pytest
from conftest import killed_and_resumed, quick_config, write_fake_mnist
from hydra import compose, initialize_config_dir
from test_cli import FAST, train

from hebbnet.cli import CONFIG_DIR
from hebbnet.config import TrainConfig
from hebbnet.config.published import apply_published, override_keys, unpublished_setting
from hebbnet.config.store import register_configs
from hebbnet.continual import run_experiment
from hebbnet.continual.strategies import STRATEGIES

OPTIONS = {
    "ewc": {"ewc_lambda": 100.0},
    "online_ewc": {"ewc_lambda": 100.0},
    "si": {"c": 1.0},
    "lwf": {},
    "er": {"buffer_size": 50},
    "agem": {"buffer_size": 50, "policy": "class_balanced"},
    "derpp": {"buffer_size": 50},
    "clser": {"buffer_size": 50, "stable_decay": 0.9},
    "cls": {"memory_bytes": 500, "sleep_steps": 10},
}


def strategy_config(name):
    return STRATEGIES[name].config(**OPTIONS[name])


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_strategy_runs_reports_memory_and_resumes_bit_for_bit(name, tmp_path, monkeypatch):
    cfg = quick_config(strategy=strategy_config(name), train=TrainConfig(batch_size=16, iterations=12))
    straight = run_experiment(cfg, tmp_path / "straight")
    assert straight["strategy_bytes"] > 0
    resumed = killed_and_resumed(cfg, tmp_path / "resumed", monkeypatch)
    assert resumed["acc_matrix"] == straight["acc_matrix"]
    assert resumed["strategy_bytes"] == straight["strategy_bytes"]


@pytest.mark.parametrize("name", ["er", "agem", "derpp", "clser"])
def test_replay_baselines_take_the_cls_storage_and_augmentation(name, tmp_path, monkeypatch):
    strategy = STRATEGIES[name].config(**OPTIONS[name], pixel_bits=1, replay_shift=2)
    cfg = quick_config(strategy=strategy, train=TrainConfig(batch_size=16, iterations=12))
    straight = run_experiment(cfg, tmp_path / "straight")
    logits = 10 * 4 if name == "derpp" else 0  # DER++ also keeps 10 float32 logits a sample
    memories = 2 * 4 * _parameters(cfg) if name == "clser" else 0  # CLS-ER's two averages
    assert straight["strategy_bytes"] == 50 * (8 + 1 + 1 + logits) + memories  # 8×8 px, 1 bit
    resumed = killed_and_resumed(cfg, tmp_path / "resumed", monkeypatch)
    assert resumed["acc_matrix"] == straight["acc_matrix"]


def _parameters(cfg) -> int:
    """Parameters of the run's MLP on 8×8 digits with ten outputs."""
    sizes = [64, *cfg.model.hidden_sizes, 10]
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def test_replay_forgets_less_than_fine_tuning(tmp_path):
    train_cfg = TrainConfig(batch_size=32, iterations=60)
    naive = run_experiment(quick_config(train=train_cfg), tmp_path / "naive")
    replay = run_experiment(quick_config(train=train_cfg, strategy=strategy_config("er")),
                            tmp_path / "er")
    assert naive["acc"] < 0.3 and replay["acc"] > 0.6


def test_buffer_bytes_are_the_stored_images_and_labels(tmp_path):
    result = run_experiment(quick_config(strategy=strategy_config("er")), tmp_path)
    assert result["strategy_bytes"] == 50 * (8 * 8 + 8 + 8)  # uint8 8×8 digits, int64 y and t


def compose_config(*overrides):
    register_configs()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("config", overrides=list(overrides))


def test_published_values_follow_the_experiment_setting_and_yield_to_the_command_line():
    overrides = ["experiment=der2020_split_mnist", "strategy=derpp", "strategy.buffer_size=500",
                 "strategy.beta=0.9"]
    cfg = compose_config(*overrides)
    applied = apply_published(cfg, "der2020_split_mnist", override_keys(overrides))
    assert applied == {"strategy.alpha": 1.0, "strategy.replay_batch_size": 10, "train.lr": 0.03}
    assert cfg.strategy.beta == 0.9

    cfg = compose_config("experiment=vdv2022_split_mnist", "strategy=ewc", "scenario=domain")
    assert apply_published(cfg, "vdv2022_split_mnist", set()) == {"strategy.ewc_lambda": 1e10}
    cfg = compose_config("strategy=ewc")
    assert apply_published(cfg, None, set()) == {}


def test_a_setting_without_published_values_is_named():
    cfg = compose_config("experiment=der2020_split_mnist", "strategy=er", "strategy.buffer_size=1568")
    assert apply_published(cfg, "der2020_split_mnist", set()) == {}
    warning = unpublished_setting(cfg, "der2020_split_mnist")
    assert "class/1568" in warning and "class/200, class/500, class/5120" in warning
    cfg = compose_config("experiment=der2020_split_mnist", "strategy=er", "strategy.buffer_size=500")
    assert unpublished_setting(cfg, "der2020_split_mnist") is None
    assert unpublished_setting(compose_config("strategy=er"), None) is None


def test_every_published_entry_names_real_keys():
    for name in sorted(OPTIONS):
        for experiment in ("vdv2022_split_mnist", "vdv2022_permuted_mnist", "der2020_split_mnist"):
            for scenario in ("task", "domain", "class"):
                for buffer in ("200", "500", "5120"):
                    extra = [f"strategy.buffer_size={buffer}"] if "buffer" in str(OPTIONS[name]) else []
                    cfg = compose_config(f"experiment={experiment}", f"strategy={name}",
                                         f"scenario={scenario}", *extra)
                    apply_published(cfg, experiment, set())  # raises on an unknown key


def test_train_py_applies_and_logs_published_values(tmp_path):
    root = write_fake_mnist(tmp_path / "data", n_train=200, n_test=50)
    result = train("experiment=der2020_split_mnist", "strategy=er", "strategy.buffer_size=500",
                   f"data.root={root}", "logger=none", "logger.progress=false",
                   f"hydra.run.dir={tmp_path}/run")
    assert result.returncode == 0, result.stderr
    assert "Published values for this experiment: {'strategy.replay_batch_size': 10, 'train.lr': 0.1}" \
        in result.stderr
    saved = (tmp_path / "run" / "config.yaml").read_text()
    assert "lr: 0.1" in saved and "replay_batch_size: 10" in saved
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["strategy"] == "er" and metrics["strategy_bytes"] == 500 * (784 + 16)  # allocated capacity


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_each_strategy_runs_from_the_command_line(name, tmp_path):
    result = train(*FAST, f"strategy={name}", "logger=none", f"hydra.run.dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    assert "Memory beyond the model:" in result.stdout
    assert np.isfinite(json.loads((tmp_path / "metrics.json").read_text())["acc"])
