"""Unpickling that admits numpy arrays and plain containers only, so a crafted file cannot run code.

A pickle is a program for a small stack machine: its GLOBAL opcodes import any callable
(``os.system``, ``builtins.eval``) and REDUCE calls it, so ``pickle.load`` on a file from
elsewhere runs whatever the file says. Data pickles such as CIFAR's batches hold dicts, lists,
bytes, strings, numbers — none of which needs an import — and numpy arrays, which need three:
the array reconstructor, ``numpy.ndarray`` and ``numpy.dtype``. :func:`load_arrays` imports
those and refuses every other global when it is asked for, before anything in the file runs.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from hebbnet.data.idx import DataFileError

ALLOWED_GLOBALS = frozenset({
    ("numpy.core.multiarray", "_reconstruct"),  # arrays pickled by numpy 1.x (CIFAR's own files)
    ("numpy._core.multiarray", "_reconstruct"),  # arrays pickled by numpy 2.x
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
})


class _ArraysOnly(pickle.Unpickler):
    """An unpickler whose only importable globals are :data:`ALLOWED_GLOBALS`."""

    def __init__(self, stream, path: Path) -> None:
        # "bytes": the strings of a Python 2 pickle (CIFAR's) stay bytes, as its array data must
        super().__init__(stream, encoding="bytes")
        self.path = path

    def find_class(self, module: str, name: str):
        if (module, name) not in ALLOWED_GLOBALS:
            raise DataFileError(
                f"{self.path} asks to import {module}.{name}, which no data file needs (one holds "
                "numpy arrays, lists, dicts, bytes and numbers only): refused before anything in "
                "it ran. The file is not an original data file; replace it with a fresh copy "
                "from the publisher."
            )
        return super().find_class(module, name)


def load_arrays(path: Path) -> object:
    """The object pickled in ``path``, built from numpy arrays, containers, bytes, strings and
    numbers only; a :class:`DataFileError` names the file where it asks for anything else, or
    is no readable pickle."""
    with open(path, "rb") as stream:
        try:
            return _ArraysOnly(stream, path).load()
        except DataFileError:
            raise
        except Exception as error:  # a damaged pickle fails in many ways, all meaning the same
            raise DataFileError(
                f"{path} is not a readable pickle ({type(error).__name__}: {error}); it is "
                "truncated or damaged. Replace it with a fresh copy."
            ) from error
