"""Files written whole or not at all: a reader never sees half a file, and two writers never
share a temporary file."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import torch

TEMPORARY_SUFFIX = ".tmp"


def write_atomically(path: Path, write: Callable[[str], object]) -> None:
    """``write(temporary_path)``, then rename the temporary file over ``path``.

    The temporary file sits beside ``path`` (the rename stays on one file system) and has a
    name no other process or thread is given (a random UUID; created with the usual umask, as
    ``tempfile.mkstemp``'s private 0600 files would not be); it is removed if ``write`` fails,
    and a failure to write (a full disk: torch says only "unexpected pos") raises an
    ``OSError`` naming the file and the space left, while ``path`` keeps its last version.
    """
    partial = str(path.with_name(f".{path.name}.{uuid.uuid4().hex}{TEMPORARY_SUFFIX}"))
    try:
        write(partial)
        os.replace(partial, path)
    except (OSError, RuntimeError) as error:
        Path(partial).unlink(missing_ok=True)
        raise _write_error(path, error) from error
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def _write_error(path: Path, error: Exception) -> OSError:
    try:
        free = f"{shutil.disk_usage(path.parent).free / 2**20:.1f} MiB free"
    except OSError:
        free = "free space unknown"
    kept = "its previous version is kept" if path.exists() else "nothing was written"
    named = OSError(f"Cannot write {path} ({error}); {kept}. The disk holding {path.parent} has "
                    f"{free}: if it is full, free space (or choose a folder on another disk) and "
                    "run again; a run resumes from its last checkpoint with resume=true.")
    named.errno = getattr(error, "errno", None)
    return named


def save_tensors(payload, path: Path) -> None:
    """``torch.save(payload)`` to ``path`` atomically."""
    write_atomically(path, lambda partial: torch.save(payload, partial))


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    write_atomically(path, lambda partial: Path(partial).write_text(text))


def remove_temporaries(folder: Path) -> list[Path]:
    """Delete the temporary files :func:`write_atomically` left in ``folder`` when its process
    was killed mid-write; call it only where no other writer can be at work (a locked run
    directory). Returns what was removed."""
    leftovers = sorted(folder.glob(f".*{TEMPORARY_SUFFIX}"))
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    return leftovers
