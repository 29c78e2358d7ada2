"""One run per run directory; a refused start leaves the directory byte for byte as it was;
a killed run leaves no lock; bad output directories and keys get one message each."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, quick_config
from test_cli import FAST, train

from hebbnet.continual import RunDirectoryError, run_experiment
from hebbnet.continual.run_directory import exclusive
from hebbnet.files import write_text


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes, and every folder (as None)."""
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
            for p in sorted(folder.rglob("*"))}


def test_a_run_into_a_locked_directory_is_refused_and_writes_nothing(tmp_path):
    with exclusive(tmp_path):
        with pytest.raises(RunDirectoryError, match="Another run is using"):
            run_experiment(quick_config(), tmp_path)
    assert snapshot(tmp_path) == {}
    run_experiment(quick_config(), tmp_path)  # free again once the lock is released


def test_two_runs_started_together_into_one_directory_one_is_refused(tmp_path):
    args = [sys.executable, str(REPO / "train.py"), *FAST, "train.iterations=3000",
            "logger=none", f"hydra.run.dir={tmp_path}"]
    runs = [subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    codes = sorted(run.returncode for run in runs)
    assert codes == [0, 1], outputs
    refused = next(err for run, (_, err) in zip(runs, outputs) if run.returncode == 1)
    assert "Another run is using" in refused
    log = (tmp_path / "train.log").read_text()
    assert log.count("task 4:") == 1  # one run's lines, not two interleaved


def test_a_refused_resume_leaves_the_directory_byte_for_byte(tmp_path):
    assert train(*FAST, "logger=none", f"hydra.run.dir={tmp_path}").returncode == 0
    before = snapshot(tmp_path)
    refused = train(*FAST, "logger=none", "resume=true", "train.lr=0.5",
                    f"hydra.run.dir={tmp_path}")
    assert refused.returncode == 1 and "differs in: train.lr" in refused.stderr
    not_resumed = train(*FAST, "logger=none", f"hydra.run.dir={tmp_path}")
    assert not_resumed.returncode == 1 and "resume=true" in not_resumed.stderr
    assert snapshot(tmp_path) == before
    assert b"train.lr=0.5" not in before[".hydra/overrides.yaml"]


def test_a_killed_run_leaves_no_lock(tmp_path):
    args = [sys.executable, str(REPO / "train.py"), *FAST, "train.iterations=100000",
            "logger=none", f"hydra.run.dir={tmp_path}"]
    run = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (tmp_path / "train.log").exists() and time.monotonic() < deadline:
        time.sleep(0.2)  # the run is accepted, and holds the lock, once it writes its log
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    resumed = train(*FAST, "logger=none", "resume=true", f"hydra.run.dir={tmp_path}")
    assert resumed.returncode == 0, resumed.stderr


def test_an_accepted_run_clears_temporary_files_of_a_killed_writer(tmp_path):
    leftover = tmp_path / ".checkpoint.pt.0123abcd.tmp"
    leftover.write_bytes(b"half a checkpoint")
    run_experiment(quick_config(), tmp_path)
    assert not leftover.exists()


def test_atomic_writes_from_many_threads_never_share_a_temporary_file(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    target = tmp_path / "record.txt"
    texts = [f"writer {i} " * 2000 for i in range(16)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda text: write_text(target, text), texts))
    assert target.read_text() in texts  # one writer's whole text, never a mix
    assert [p.name for p in tmp_path.iterdir()] == ["record.txt"]


def test_an_output_directory_that_cannot_be_created_gets_one_message(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    result = train(*FAST, f"hydra.run.dir={blocker}/run")
    assert result.returncode == 1
    assert f"Cannot create the run directory {blocker}/run" in result.stderr
    assert "hydra.run.dir" in result.stderr and "Traceback" not in result.stderr
    sweep = train("--multirun", *FAST, "seed=1,2", f"hydra.sweep.dir={blocker}/sweep")
    assert sweep.returncode == 1 and "Cannot create the run directory" in sweep.stderr


def test_an_unknown_key_gets_only_the_helpful_message(tmp_path):
    result = train("train.itrations=5", f"hydra.run.dir={tmp_path}/run")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Unknown config key 'train.itrations'")
    assert not (tmp_path / "run").exists()
