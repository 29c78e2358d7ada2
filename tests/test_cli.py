"""train.py as a user runs it: Hydra composition, overrides, errors, multirun, resume."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import REPO

from hebbnet.cli import CONFIG_DIR

FAST = ["train.iterations=15", "logger.progress=false", "model.hidden_sizes=[64]"]


def train(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run([sys.executable, str(REPO / "train.py"), *args], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300)


def test_default_run_prints_the_report_and_writes_its_files(tmp_path):
    result = train(*FAST, f"hydra.run.dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    for text in ("Accuracy matrix", "ACC", "BWT", "FWT", "Forgetting", "TensorBoard: tensorboard --logdir"):
        assert text in result.stdout
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["benchmark"] == "split_digits" and metrics["scenario"] == "class"
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    assert (tmp_path / ".hydra" / "overrides.yaml").exists()


def test_train_runs_under_torchrun_and_rank_0_alone_writes_and_reports(tmp_path):
    env = {**os.environ, "HYDRA_FULL_ERROR": "0", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         str(REPO / "train.py"), *FAST[:2], "logger.name=none", "model=hebbian_dense",
         "model.width=64", "model.readout=class_means"],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Accuracy matrix") == 1
    written = list(tmp_path.glob("outputs/**/metrics.json"))
    assert len(written) == 1  # one run directory, whatever each rank's clock said
    assert len(list(written[0].parent.parent.iterdir())) == 1


def test_unknown_key_lists_valid_keys_and_suggests_the_near_miss(tmp_path):
    result = train("train.itrations=5", f"hydra.run.dir={tmp_path}")
    assert result.returncode == 2
    assert "Unknown config key 'train.itrations'" in result.stderr
    assert "Did you mean 'train.iterations'?" in result.stderr
    assert "batch_size" in result.stderr


def test_unknown_group_option_lists_the_options(tmp_path):
    result = train("benchmark=split_cifar", f"hydra.run.dir={tmp_path}")
    assert result.returncode != 0
    assert "Available options in 'benchmark'" in result.stderr
    assert "split_mnist" in result.stderr


def test_bad_value_is_reported_with_valid_values(tmp_path):
    result = train(*FAST, "scenario=instance", f"hydra.run.dir={tmp_path}")
    assert result.returncode == 1
    assert "valid: task, domain, class" in result.stderr


def test_missing_data_names_the_file_and_the_setting(tmp_path):
    result = train("benchmark=split_mnist", f"data.root={tmp_path}/nowhere",
                   f"hydra.run.dir={tmp_path}/run")
    assert result.returncode == 1
    assert "nowhere/MNIST/raw/train-images-idx3-ubyte.gz" in result.stderr
    assert "data.root" in result.stderr


def test_multirun_over_seeds_and_rerun_needs_resume(tmp_path):
    result = train("--multirun", *FAST, "seed=1,2", "logger=none",
                   f"hydra.sweep.dir={tmp_path}", "hydra.sweep.subdir=seed${seed}")
    assert result.returncode == 0, result.stderr
    accs = [json.loads((tmp_path / f"seed{s}" / "metrics.json").read_text())["acc_matrix"]
            for s in (1, 2)]
    assert accs[0] != accs[1]
    aggregated = subprocess.run([sys.executable, "-m", "hebbnet.continual.aggregate", str(tmp_path)],
                                capture_output=True, text=True, cwd=REPO)
    assert aggregated.returncode == 0, aggregated.stderr
    assert "| 1,2 |" in aggregated.stdout  # one row: the two seeds of one setting
    again = train(*FAST, "seed=1", "logger=none", f"hydra.run.dir={tmp_path}/seed1")
    assert again.returncode == 1 and "resume=true" in again.stderr
    resumed = train(*FAST, "seed=1", "logger=none", "resume=true", f"hydra.run.dir={tmp_path}/seed1")
    assert resumed.returncode == 0, resumed.stderr


def test_resume_with_the_run_directory_alone_reads_its_overrides_back(tmp_path):
    run_dir = tmp_path / "run"
    first = train(*FAST, "seed=3", "strategy=ewc", "logger=none", f"hydra.run.dir={run_dir}")
    assert first.returncode == 0, first.stderr
    resumed = train("resume=true", f"hydra.run.dir={run_dir}")
    assert resumed.returncode == 0, resumed.stderr
    saved = (run_dir / ".hydra" / "overrides.yaml").read_text()
    assert "strategy=ewc" in saved and "seed=3" in saved
    changed = train("resume=true", "train.lr=0.5", f"hydra.run.dir={run_dir}")
    assert changed.returncode == 1 and "train.lr" in changed.stderr


@pytest.mark.parametrize("experiment, dataset", [
    ("vdv2022_split_mnist", "mnist"), ("vdv2022_permuted_mnist", "mnist"),
    ("der2020_split_mnist", "mnist"), ("online_split_cifar10", "cifar10"),
    ("der2020_split_cifar10", "cifar10")])
def test_named_experiments_compose_against_the_schema(experiment, dataset):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from hebbnet.config import Config
    from hebbnet.config.store import register_configs

    register_configs()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("config", overrides=[f"experiment={experiment}"])
    config = OmegaConf.to_object(cfg)
    assert isinstance(config, Config)
    assert config.benchmark.dataset == dataset


def test_the_package_reports_the_version_pyproject_gives():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    import hebbnet

    with open(REPO / "pyproject.toml", "rb") as project:
        assert hebbnet.__version__ == tomllib.load(project)["project"]["version"]


@pytest.mark.parametrize("launcher", ["hydra/launcher=joblib", "hydra/launcher=submitit_local"])
def test_sweeps_run_through_hydras_launcher_plugins(tmp_path, launcher):
    result = train("--multirun", launcher, *FAST, "seed=1,2", "logger=none",
                   f"hydra.sweep.dir={tmp_path}", "hydra.sweep.subdir=seed${seed}")
    assert result.returncode == 0, result.stderr
    for seed in (1, 2):
        assert json.loads((tmp_path / f"seed{seed}" / "metrics.json").read_text())["acc"] > 0


def test_a_launcher_that_is_not_installed_names_the_package():
    result = train("--multirun", "hydra/launcher=ray", *FAST)
    assert result.returncode == 2
    assert "pip install hydra-ray-launcher" in result.stderr


def test_the_package_runs_outside_the_repository_with_its_own_configs(tmp_path):
    """``python -m hebbnet`` from another folder (the configs ship inside the package); the
    installed console command ``hebbnet-train`` is the same (checked where it is installed)."""
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    module = subprocess.run([sys.executable, "-m", "hebbnet", *FAST, "logger=none",
                             f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path,
                            capture_output=True, text=True, env=env, timeout=300)
    assert module.returncode == 0, module.stderr
    assert (tmp_path / "run" / "train.log").exists() and (tmp_path / "run" / "metrics.json").exists()
    command = shutil.which("hebbnet-train", path=os.path.dirname(sys.executable))
    if command is None:
        pytest.skip("hebbnet-train is not installed next to this Python")
    helped = subprocess.run([command, "--help"], cwd=tmp_path, capture_output=True, text=True,
                            env=env, timeout=300)
    assert helped.returncode == 0 and "strategy:" in helped.stdout


def test_help_lists_the_groups_a_user_chooses_and_the_start_names_the_run(tmp_path):
    helped = train("--help")
    assert helped.returncode == 0
    assert "strategy: agem, cls, clser" in helped.stdout and "schema/" not in helped.stdout
    started = train(*FAST, "strategy=er", "logger=none", f"hydra.run.dir={tmp_path}")
    assert started.returncode == 0, started.stderr
    assert "Run: benchmark=split_digits logger=none model=mlp strategy=er" in started.stderr
