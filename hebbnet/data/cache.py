"""Decoded data sets cached as tensor files, so a run decodes its source files only once.

The cache lives in ``$HEBBNET_CACHE`` (default ``~/.cache/hebbnet``; ``HEBBNET_CACHE=off``
disables it, and nothing is then kept in memory either). An entry is named after a SHA-256
of the source files' bytes, so any change to a file's content — whatever its size, times or
name — is decoded afresh, and the same files under another path share one entry. Hashing
reads the files on every load: 12 ms for MNIST's 11 MB here, against 24 ms to read the
entry and 0.5 s to decode, so no shortcut by size and modification time is kept (it is the
shortcut a rewritten file with a restored time defeats). Where more than the bytes decides
what they decode to — the folder a loose image lies in is its class — that text, the
``context``, is hashed with them. A cache that cannot be written is skipped.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

import torch

from hebbnet.files import save_tensors

log = logging.getLogger(__name__)
Tensors = dict[str, torch.Tensor]
_CHUNK = 1 << 20


def cache_dir() -> Path | None:
    setting = os.environ.get("HEBBNET_CACHE", "~/.cache/hebbnet")
    return None if setting.lower() in ("off", "") else Path(setting).expanduser()


def cached_tensors(name: str, sources: list[Path], decode: Callable[[], Tensors],
                   context: str = "") -> Tensors:
    """``decode()``'s tensors, read from the cache when files of the same content as
    ``sources`` (in this order), with the same ``context``, were decoded before."""
    folder = cache_dir()
    if folder is None:
        return decode()
    path = folder / f"{name}-{content_key(sources, context)}.pt"
    if path.is_file():
        try:
            return torch.load(path, weights_only=True)
        except Exception as error:  # a truncated or foreign file: decode again
            log.warning("Ignoring unreadable cache file %s (%s).", path, error)
    tensors = decode()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        save_tensors(tensors, path)
    except OSError as error:
        log.info("Not caching decoded %s in %s: %s", name, folder, error)
    return tensors


def content_key(sources: list[Path], context: str = "") -> str:
    """SHA-256 over ``context`` and the bytes of ``sources`` in order (each length delimits it)."""
    digest = hashlib.sha256(f"{len(context)}\n{context}".encode())
    for source in sources:
        digest.update(f"{source.stat().st_size}\n".encode())
        with open(source, "rb") as stream:
            for chunk in iter(lambda: stream.read(_CHUNK), b""):
                digest.update(chunk)
    return digest.hexdigest()[:32]

