"""Decoded data sets cached as tensor files, so a run decodes its IDX files only once.

The cache lives in ``$HEBBNET_CACHE`` (default ``~/.cache/hebbnet``; ``HEBBNET_CACHE=off``
disables it). An entry is named after the source files' paths, sizes and modification times,
so changed or replaced files are decoded afresh. A cache that cannot be written is skipped.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

import torch

log = logging.getLogger(__name__)
Tensors = dict[str, torch.Tensor]


def cache_dir() -> Path | None:
    setting = os.environ.get("HEBBNET_CACHE", "~/.cache/hebbnet")
    return None if setting.lower() in ("off", "") else Path(setting).expanduser()


def cached_tensors(name: str, sources: list[Path], decode: Callable[[], Tensors]) -> Tensors:
    """``decode()``'s tensors, read from the cache when the same ``sources`` were decoded before."""
    folder = cache_dir()
    if folder is None:
        return decode()
    path = folder / f"{name}-{_fingerprint(sources)}.pt"
    if path.is_file():
        try:
            return torch.load(path, weights_only=True)
        except Exception as error:  # a truncated or foreign file: decode again
            log.warning("Ignoring unreadable cache file %s (%s).", path, error)
    tensors = decode()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        torch.save(tensors, partial)
        os.replace(partial, path)
    except OSError as error:
        log.info("Not caching decoded %s in %s: %s", name, folder, error)
    return tensors


def _fingerprint(sources: list[Path]) -> str:
    digest = hashlib.sha256()
    for source in sources:
        stat = source.stat()
        digest.update(f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]
