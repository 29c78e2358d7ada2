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
from hebbnet.files import write_text
from hebbnet.run_directory import exclusive


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


# A process that runs train.py's command line in a child killed with SIGKILL at a kill point.
KILLED_TRAIN = """
import sys
from hebbnet.cli import run
from hebbnet.testing import run_killed
point, call = sys.argv[1], int(sys.argv[2])
sys.argv = ["train.py", *sys.argv[3:]]
sys.exit(0 if run_killed(run, point, call) else 1)
"""


def train_killed(point: str, call: int, *args: str) -> None:
    killed = subprocess.run([sys.executable, "-c", KILLED_TRAIN, point, str(call), *args],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert killed.returncode == 0, killed.stderr  # it died at the kill point


def final_weights(run_dir: Path) -> dict:
    import torch

    return torch.load(run_dir / "checkpoint.pt", weights_only=True)["model"]


def assert_same_run(run_dir: Path, straight_dir: Path) -> None:
    import json

    import torch

    metrics = [json.loads((d / "metrics.json").read_text()) for d in (run_dir, straight_dir)]
    assert metrics[0]["acc_matrix"] == metrics[1]["acc_matrix"]
    reference = final_weights(straight_dir)
    for key, tensor in final_weights(run_dir).items():
        assert torch.equal(tensor, reference[key]), key


def test_a_run_killed_as_it_starts_resumes_alone_as_itself_or_is_refused(tmp_path):
    """Killed before its record exists (the first seconds), ``resume=true hydra.run.dir=D``
    alone is refused with the fix, never run as the default config; killed once the record
    exists (at the first evaluation, before any training), it resumes as the run it was."""
    args = (*FAST, "seed=3", "strategy=ewc", "logger=none")
    assert train(*args, f"hydra.run.dir={tmp_path / 'straight'}").returncode == 0
    early, late = tmp_path / "killed before its record", tmp_path / "killed after it"
    train_killed("start", 1, *args, f"hydra.run.dir={early}")
    train_killed("evaluation", 1, *args, f"hydra.run.dir={late}")
    assert not (early / ".hydra").exists() and (late / ".hydra" / "overrides.yaml").exists()
    refused = train("resume=true", f"hydra.run.dir={early}")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert f"{early} holds no saved overrides and no checkpoint" in refused.stderr
    assert "Start it again with the overrides it was given" in refused.stderr
    assert not (early / "metrics.json").exists()
    resumed = train("resume=true", f"hydra.run.dir={late}")
    assert resumed.returncode == 0, resumed.stderr
    assert_same_run(late, tmp_path / "straight")
    again = train(*args, "resume=true", f"hydra.run.dir={early}")  # overrides given: a new start
    assert again.returncode == 0, again.stderr
    assert_same_run(early, tmp_path / "straight")


@pytest.mark.parametrize("name, quote", [("a folder with spaces", ""), ("ünïcødé, quoted", "'")])
def test_a_run_directory_of_any_name_resumes_alone(tmp_path, name, quote):
    """Hydra reads a path with spaces as it is, and one with non-ASCII letters or commas only
    quoted; either way the saved overrides are found under the path itself."""
    run_dir = f"hydra.run.dir={quote}{tmp_path / name}{quote}"
    first = train(*FAST, "seed=3", "strategy=ewc", "logger=none", run_dir)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / name / ".hydra" / "overrides.yaml").exists()
    resumed = train("resume=true", run_dir)
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming" in resumed.stderr and "strategy=ewc" in resumed.stderr


@pytest.mark.parametrize("entry, problem", [
    ("+hydra.callbacks.evil._target_=builtins.open", "sets Hydra's own settings"),
    ("hydra.run.dir=/elsewhere", "sets Hydra's own settings"),
    ("hydra/launcher=joblib", "sets Hydra's own settings"),
    ("+model._target_=os.system", "names a key of Hydra's instantiate"),
    ("model=../../../tmp/evil", "does not choose a model option by its name"),
    ("train.itrations=5", "Unknown config key 'train.itrations'"),
])
def test_planted_saved_overrides_are_refused_by_name_and_run_nothing(tmp_path, entry, problem):
    run_dir = tmp_path / "run"
    assert train(*FAST, "logger=none", f"hydra.run.dir={run_dir}").returncode == 0
    saved = run_dir / ".hydra" / "overrides.yaml"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    saved.write_text(saved.read_text() + f"- {entry}\n")
    before = snapshot(run_dir)
    result = train("resume=true", f"hydra.run.dir={run_dir}")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{saved} is not a record train.py wrote" in result.stderr and problem in result.stderr
    assert snapshot(run_dir) == before and victim.read_text() == "precious"


@pytest.mark.parametrize("text", ["- [unclosed\n", "model: mlp\n", "- 3\n- seed=1\n"])
def test_a_saved_overrides_file_that_is_not_a_list_of_overrides_is_refused(tmp_path, text):
    from hebbnet.cli import CONFIG_DIR
    from hebbnet.config.overrides import SavedOverridesError, read_saved_overrides

    saved = tmp_path / "overrides.yaml"
    saved.write_text(text)
    with pytest.raises(SavedOverridesError, match="is not a record train.py wrote"):
        read_saved_overrides(saved, CONFIG_DIR)


@pytest.mark.parametrize("link", [".hydra", "train.log", "tensorboard"])
def test_a_link_in_the_run_directory_cannot_redirect_its_writes(tmp_path, link):
    run_dir, elsewhere = tmp_path / "run", tmp_path / "elsewhere"
    run_dir.mkdir()
    elsewhere.mkdir()
    target = elsewhere / "file.txt" if link == "train.log" else elsewhere
    if link == "train.log":
        target.write_text("the user's own file\n")
    (run_dir / link).symlink_to(target)
    result = train(*FAST, f"hydra.run.dir={run_dir}")
    assert result.returncode == 1 and "is a symbolic link" in result.stderr
    assert sorted(p.name for p in elsewhere.iterdir()) == (["file.txt"] if link == "train.log" else [])
    if link == "train.log":
        assert target.read_text() == "the user's own file\n"


@pytest.mark.parametrize("damage", ["truncated", "foreign", "other shapes"])
def test_a_damaged_or_foreign_checkpoint_is_named_and_kept(tmp_path, damage):
    import torch

    run_dir = tmp_path / "run"
    assert train(*FAST, "logger=none", f"hydra.run.dir={run_dir}").returncode == 0
    checkpoint = run_dir / "checkpoint.pt"
    if damage == "truncated":
        checkpoint.write_bytes(checkpoint.read_bytes()[:1000])
    elif damage == "foreign":
        torch.save({"weight": torch.zeros(3)}, checkpoint)
    else:
        payload = torch.load(checkpoint, weights_only=True)
        payload["model"] = {k: torch.zeros(2, 2) for k in payload["model"]}
        torch.save(payload, checkpoint)
    before = checkpoint.read_bytes()
    result = train("resume=true", f"hydra.run.dir={run_dir}")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert str(checkpoint) in result.stderr
    assert ("delete it" in result.stderr) or ("Move it away" in result.stderr)
    assert checkpoint.read_bytes() == before


FULL_DISK = """
import resource, signal, sys
from pathlib import Path
import torch
from hebbnet.continual.checkpoint import save_checkpoint
path = Path(sys.argv[1])
save_checkpoint(path, {"w": torch.zeros(10)})
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
try:
    save_checkpoint(path, {"w": torch.zeros(100_000)})
except OSError as error:
    print(error)
"""


def test_a_checkpoint_that_cannot_be_written_is_named_and_the_last_one_kept(tmp_path):
    import torch

    path = tmp_path / "checkpoint.pt"
    result = subprocess.run([sys.executable, "-c", FULL_DISK, str(path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"Cannot write {path}" in result.stdout and "its previous version is kept" in result.stdout
    assert "MiB free" in result.stdout and "resume=true" in result.stdout
    assert torch.equal(torch.load(path, weights_only=True)["w"], torch.zeros(10))
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temporary left


def test_a_run_whose_checkpoint_cannot_be_written_stops_with_one_message_and_resumes(tmp_path):
    """A file size limit stands in for a full disk: the run stops at its first checkpoint with
    the file named, and resumed once there is room it ends as a run never stopped."""
    import resource

    args = (*FAST, "logger=none")
    assert train(*args, f"hydra.run.dir={tmp_path / 'straight'}").returncode == 0
    run_dir = tmp_path / "run"

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (16_384, resource.RLIM_INFINITY))

    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    full = subprocess.run([sys.executable, str(REPO / "train.py"), *args, f"hydra.run.dir={run_dir}"],
                          cwd=REPO, capture_output=True, text=True, env=env, timeout=300,
                          preexec_fn=small_files)
    assert full.returncode == 1 and "Traceback" not in full.stderr
    assert f"Cannot write {run_dir / 'checkpoint.pt'}" in full.stderr
    resumed = train("resume=true", f"hydra.run.dir={run_dir}")
    assert resumed.returncode == 0, resumed.stderr
    assert_same_run(run_dir, tmp_path / "straight")


def test_a_plastic_layer_that_diverges_names_its_config_key_and_claims_no_checkpoint(tmp_path):
    result = train("model=hebbian_dense", "model.rule=hebb", "model.lr=1000", "model.width=64",
                   "logger=none", f"hydra.run.dir={tmp_path}")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "its lr from model.lr=1000" in result.stderr and "train.lr" not in result.stderr
    assert "No task had finished, so no checkpoint was written" in result.stderr
