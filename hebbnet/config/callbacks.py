"""A Hydra callback that names an output directory which cannot be created, before Hydra
tries to create it and fails with a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from hebbnet.run_directory import RunDirectoryError, make_run_directory


class OutputDirectoryCheck(Callback):
    """Creates ``hydra.run.dir`` (``hydra.sweep.dir`` for ``--multirun``) as Hydra is about to,
    and stops with a one-line message when that fails. The directory is the one Hydra then
    uses: ``${now:}`` is resolved once per config."""

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        _make(config, "hydra.run.dir")

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        _make(config, "hydra.sweep.dir")


def _make(config: DictConfig, key: str) -> None:
    try:
        make_run_directory(Path(str(OmegaConf.select(config, key))))
    except RunDirectoryError as error:
        sys.exit(str(error))
