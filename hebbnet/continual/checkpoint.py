"""Atomic checkpoint files: a run killed while writing never leaves a broken checkpoint, and
a damaged or foreign file is named, not unpickled into a traceback."""

from __future__ import annotations

from pathlib import Path

import torch

from hebbnet.files import save_tensors
from hebbnet.run_directory import CHECKPOINT_NAME, RunDirectoryError

__all__ = ["CHECKPOINT_ENTRIES", "CHECKPOINT_NAME", "CheckpointError", "load_checkpoint",
           "save_checkpoint"]
# What a run's checkpoint holds (hebbnet.continual.runner writes it).
CHECKPOINT_ENTRIES = ("config", "model", "strategy", "order_generator", "torch_rng", "state")


class CheckpointError(RunDirectoryError):
    """A run directory's checkpoint cannot be read, or is not a run's checkpoint."""


def save_checkpoint(path: Path, payload: dict) -> None:
    """Write ``payload`` to a temporary file of a unique name, then rename it over ``path``."""
    save_tensors(payload, path)


def load_checkpoint(path: Path) -> dict:
    """The checkpoint at ``path``: read with ``weights_only`` (tensors and plain data, never an
    object of the file's choosing) and checked to hold every entry a run writes."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a damaged file
        raise CheckpointError(
            f"Cannot read the checkpoint {path} ({type(error).__name__}: {error}). It is "
            "damaged or not a checkpoint: delete it (or move it away) to start the run "
            "afresh, or point hydra.run.dir at another run."
        ) from None
    missing = [e for e in CHECKPOINT_ENTRIES if not isinstance(payload, dict) or e not in payload]
    if missing:
        raise CheckpointError(
            f"{path} is not a hebbnet run's checkpoint (it lacks {', '.join(missing)}). Move it "
            "away to start the run afresh, or point hydra.run.dir at another run."
        )
    return payload
