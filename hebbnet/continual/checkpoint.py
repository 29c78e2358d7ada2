"""Atomic checkpoint files: a run killed while writing never leaves a broken checkpoint."""

from __future__ import annotations

from pathlib import Path

import torch

from hebbnet.files import save_tensors

CHECKPOINT_NAME = "checkpoint.pt"


def save_checkpoint(path: Path, payload: dict) -> None:
    """Write ``payload`` to a temporary file of a unique name, then rename it over ``path``."""
    save_tensors(payload, path)


def load_checkpoint(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a damaged file
        raise RuntimeError(
            f"Cannot read the checkpoint {path} ({type(error).__name__}: {error}). "
            "Delete it to start the run afresh, or point hydra.run.dir at another run."
        ) from error
