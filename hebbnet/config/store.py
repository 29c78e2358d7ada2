"""Registers the schema with Hydra's ConfigStore so ``hebbnet/conf/`` is validated on composition, and
reads a run's saved ``config.yaml`` back into the typed :class:`Config`."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from hebbnet.config.schema import MODEL_SCHEMAS, STRATEGY_SCHEMAS, Config

SCHEMA_NAME = "hebbnet_schema"


def register_configs() -> None:
    """Store ``Config`` as ``hebbnet_schema`` and each option's schema as ``schema/<group>/<name>``.

    ``model`` and ``strategy`` are left unset in the stored schema: the chosen option's file
    brings its own schema through its defaults list (``/schema/model/mlp@_here_``).
    """
    store = ConfigStore.instance()
    root = OmegaConf.structured(Config)
    root.model = MISSING
    root.strategy = MISSING
    store.store(name=SCHEMA_NAME, node=root)
    for group, schemas in (("model", MODEL_SCHEMAS), ("strategy", STRATEGY_SCHEMAS)):
        for name, schema in schemas.items():
            store.store(group=f"schema/{group}", name=name, node=schema)


def load_config(path: str | Path) -> Config:
    """The :class:`Config` a run wrote to ``path`` (its ``config.yaml``), typed again: the model
    and strategy take the schema their ``name`` chooses."""
    saved = cast(DictConfig, OmegaConf.load(path))
    for group, schemas in (("model", MODEL_SCHEMAS), ("strategy", STRATEGY_SCHEMAS)):
        if saved[group].name not in schemas:
            raise ValueError(f"{path}: {group} {saved[group].name!r} is not known in this "
                             f"process; import the module that registers it "
                             f"(hebbnet.registry.register_{group}) first.")
    schema = Config(model=MODEL_SCHEMAS[saved.model.name](),
                    strategy=STRATEGY_SCHEMAS[saved.strategy.name](name=saved.strategy.name))
    return cast(Config, OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), saved)))
