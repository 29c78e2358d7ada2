"""Registers the run-level schema with Hydra's ConfigStore so ``hebbnet/conf/`` is validated on
composition, and reads a run's saved ``config.yaml`` back into the typed :class:`Config`.

Each model's and strategy's own schema is stored as it registers (:mod:`hebbnet.registry`):
importing :mod:`hebbnet.config.schema` imports the built-in ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from hebbnet.config.schema import Config
from hebbnet.registry import MODELS, STRATEGIES, lookup

SCHEMA_NAME = "hebbnet_schema"


def register_configs() -> None:
    """Store ``Config`` as ``hebbnet_schema``: ``model`` and ``strategy`` are left unset there,
    since the chosen option's file brings its own schema through its defaults list
    (``/schema/model/mlp@_here_``)."""
    root = OmegaConf.structured(Config)
    root.model = MISSING
    root.strategy = MISSING
    ConfigStore.instance().store(name=SCHEMA_NAME, node=root)


def load_config(path: str | Path) -> Config:
    """The :class:`Config` a run wrote to ``path`` (its ``config.yaml``), typed again: the model
    and strategy take the schema their ``name`` chooses."""
    saved = cast(DictConfig, OmegaConf.load(path))
    for group, table in (("model", MODELS), ("strategy", STRATEGIES)):
        if saved[group].name not in table:
            raise ValueError(f"{path}: {group} {saved[group].name!r} is not known in this "
                             f"process; import the module that registers it "
                             f"(hebbnet.registry.register_{group}) first.")
    schema = Config(model=lookup(MODELS, "model", saved.model.name).config(),
                    strategy=lookup(STRATEGIES, "strategy", saved.strategy.name).config())
    return cast(Config, OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), saved)))
