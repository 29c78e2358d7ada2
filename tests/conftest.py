"""Shared fixtures: tiny IDX data sets written on the fly, and fast run configs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hebbnet.config import Config, LoggerConfig, TrainConfig
from hebbnet.continual.strategies import Strategy
from hebbnet.data import write_idx

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def write_fake_mnist(root: Path, folder: str = "MNIST", n_train: int = 300, n_test: int = 100,
                     seed: int = 0) -> Path:
    """Write four small gzip IDX files in the torchvision layout; classes 0..9 all present.

    Each class is a bright bar at its own row so that the tasks are learnable.
    """
    rng = np.random.default_rng(seed)
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n, dtype=np.uint8) % 10
        images = rng.integers(0, 60, size=(n, 28, 28), dtype=np.uint8)
        for i, label in enumerate(labels):
            images[i, 2 + 2 * label : 4 + 2 * label, 4:24] = 255
        write_idx(raw / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(raw / f"{split}-labels-idx1-ubyte.gz", labels)
    return root


@pytest.fixture(autouse=True)
def private_data_cache(tmp_path_factory, monkeypatch) -> Path:
    """Decoded-data caches of tests go to a temporary folder, never to ~/.cache."""
    folder = tmp_path_factory.getbasetemp() / "hebbnet-cache"
    monkeypatch.setenv("HEBBNET_CACHE", str(folder))
    return folder


@pytest.fixture
def fake_mnist_root(tmp_path: Path) -> Path:
    return write_fake_mnist(tmp_path / "data")


def quick_config(**overrides) -> Config:
    """Split Digits with a short schedule and no TensorBoard: a whole run in about a second."""
    cfg = Config(
        train=TrainConfig(batch_size=32, iterations=30),
        logger=LoggerConfig(name="none", progress=False),
    )
    for key, value in overrides.items():
        setattr(cfg, key, value)
    return cfg


def crash_during_task(monkeypatch, task: int, step: int, error: type[BaseException]) -> None:
    """Make training raise ``error`` right after step ``step`` of task ``task`` is logged,
    as a run killed mid-task would stop; ``monkeypatch.undo()`` restores normal training."""
    original = Strategy.train_experience

    def train_experience(self, experience, seen, monitor=None, final=False):
        if experience.task_id != task:
            return original(self, experience, seen, monitor, final)

        def monitor_then_crash(current, steps, loss):
            if monitor is not None:
                monitor(current, steps, loss)
            if current == step:
                raise error

        return original(self, experience, seen, monitor_then_crash, final)

    monkeypatch.setattr(Strategy, "train_experience", train_experience)


def killed_and_resumed(cfg: Config, run_dir: Path, monkeypatch, task: int = 2,
                       step: int = 5, **parts) -> dict:
    """Run ``cfg`` in ``run_dir`` (with the caller's own ``parts``, as ``run_experiment``
    takes them) until it is killed at ``step`` of ``task``, then resume it there; returns the
    resumed run's metrics. Undoes every patch of ``monkeypatch``."""
    from hebbnet.continual import run_experiment

    crash_during_task(monkeypatch, task=task, step=step, error=KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(cfg, run_dir, **parts)
    monkeypatch.undo()
    cfg.resume = True
    return run_experiment(cfg, run_dir, **parts)
