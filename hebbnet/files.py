"""Files written whole or not at all: a reader never sees half a file, and two writers never
share a temporary file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch


def write_atomically(path: Path, write: Callable[[str], None]) -> None:
    """``write(temporary_path)``, then rename the temporary file over ``path``.

    The temporary file sits beside ``path`` (the rename stays on one file system) and has a
    name no other process or thread is given; it is removed if ``write`` fails.
    """
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(partial)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def save_tensors(payload, path: Path) -> None:
    """``torch.save(payload)`` to ``path`` atomically."""
    write_atomically(path, lambda partial: torch.save(payload, partial))


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    write_atomically(path, lambda partial: Path(partial).write_text(text))
