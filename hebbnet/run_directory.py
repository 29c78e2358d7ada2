"""A run directory: the names of what a run keeps there, and one run at a time in it.

A run holds an exclusive lock on its directory for as long as it lives: ``flock`` on the
directory itself, so nothing is written for it, and the kernel drops the lock when the process
ends however it ends — a killed run never leaves a stale lock behind. A second run started
into the same directory (two runs in the same second of ``${now:}``, or one resumed twice) is
refused at once instead of interleaving its logs and overwriting the first one's checkpoint.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no advisory locks
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"  # the run's progress, after each finished task
METRICS_NAME = "metrics.json"  # the run's results, once it ends
CONFIG_NAME = "config.yaml"  # the run's whole config
TENSORBOARD_NAME = "tensorboard"  # the TensorBoard logger's folder
SAVED_OVERRIDES = Path(".hydra") / "overrides.yaml"  # the command line's overrides (train.py)
# Config entries a resumed run may change: where data sits, where it runs, how it logs.
RESUMABLE_CHANGES = ("resume", "device", "threads", "data", "logger")


class RunDirectoryError(RuntimeError):
    """The run directory cannot take this run: another run holds it, or its checkpoint does
    not fit this run's config."""


def make_run_directory(run_dir: Path) -> None:
    """Create ``run_dir`` (and its parents), or say why it cannot be and what to do."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunDirectoryError(
            f"Cannot create the run directory {run_dir} ({error.strerror or error}). Choose a "
            "folder you can write to: hydra.run.dir=... (hydra.sweep.dir=... for --multirun)."
        ) from error


def refuse_links(run_dir: Path, names: list[str]) -> None:
    """Refuse a run directory in which any of ``names`` — files and folders the run opens to
    write into, rather than replace — is a symbolic link: writing through it would write
    wherever it points (a log appended to a file of the user's, say)."""
    links = [name for name in names if (run_dir / name).is_symlink()]
    if links:
        raise RunDirectoryError(
            f"{', '.join(str(run_dir / name) for name in links)} in the run directory is a "
            "symbolic link; a run writes only into its own directory. Remove the link, or "
            "choose another hydra.run.dir."
        )


@contextmanager
def exclusive(run_dir: Path) -> Iterator[None]:
    """Hold the lock on the existing directory ``run_dir``; refuse if another run holds it."""
    if fcntl is None:
        log.warning("No file locks on this platform: nothing stops a second run in %s.", run_dir)
        yield
        return
    handle = os.open(run_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunDirectoryError(
                f"Another run is using {run_dir} right now (it holds the directory's lock). "
                "Wait for it to finish, or choose another hydra.run.dir."
            ) from None
        except OSError as error:  # a file system without flock (some network mounts)
            log.warning("Cannot lock %s (%s): nothing stops a second run there.", run_dir, error)
        yield
    finally:
        os.close(handle)
