"""Published hyperparameters, applied when a run reproduces a named experiment.

Each strategy's config file lists the values its authors tuned, per named experiment and per
setting within it (the scenario, and for replay methods the buffer size)::

    published:
      der2020_split_mnist:            # Buzzega et al. 2020 (Mammoth best_args, seq-mnist)
        class/500: {alpha: 1.0, beta: 0.5, replay_batch_size: 10, train.lr: 0.03}

``python train.py experiment=der2020_split_mnist strategy=derpp strategy.buffer_size=500``
then runs with those values. Keys without a dot are the strategy's own; dotted keys
(``train.lr``) address the whole config. A value given on the command line always wins.
"""

from __future__ import annotations

from typing import Any, cast

from omegaconf import DictConfig, OmegaConf


def _settings(cfg: DictConfig) -> list[str]:
    """This run's setting keys, most specific first: ``<scenario>/<buffer_size>``, ``<scenario>``."""
    if "buffer_size" in cfg.strategy:
        return [f"{cfg.scenario}/{cfg.strategy.buffer_size}", cfg.scenario]
    return [cfg.scenario]


def published_entry(cfg: DictConfig, experiment: str | None) -> dict[str, Any]:
    """The strategy's published values for ``experiment`` and this run's setting ({} if none).

    The setting is looked up as ``<scenario>/<buffer_size>`` first, then ``<scenario>``.
    """
    table = cfg.strategy.get("published") or {}
    if experiment is None or experiment not in table:
        return {}
    by_setting = table[experiment]
    for key in _settings(cfg):
        if key in by_setting:
            return cast(dict, OmegaConf.to_container(by_setting[key]))
    return {}


def unpublished_setting(cfg: DictConfig, experiment: str | None) -> str | None:
    """A warning when the strategy has published values for ``experiment`` but none for this
    run's setting (say a buffer size the authors never tuned), else None."""
    table = cfg.strategy.get("published") or {}
    if experiment is None or experiment not in table or published_entry(cfg, experiment):
        return None
    return (f"Strategy {cfg.strategy.name!r} has published values for {experiment} at "
            f"{', '.join(table[experiment])}, none for {_settings(cfg)[0]}: this run uses the "
            "strategy's defaults and the experiment's training settings for them.")


def apply_published(cfg: DictConfig, experiment: str | None, user_keys: set[str]) -> dict[str, Any]:
    """Write the matching published values into ``cfg``, except keys in ``user_keys`` (dotted
    paths set on the command line). Returns what was applied, by dotted path."""
    applied = {}
    for key, value in published_entry(cfg, experiment).items():
        path = key if "." in key else f"strategy.{key}"
        if path in user_keys:
            continue
        if OmegaConf.select(cfg, path, default="__missing__") == "__missing__":
            raise ValueError(f"The published values of strategy {cfg.strategy.name!r} for "
                             f"{experiment} name an unknown config key {path!r}.")
        OmegaConf.update(cfg, path, value, merge=False)
        applied[path] = value
    return applied


def override_keys(overrides: list[str]) -> set[str]:
    """Dotted keys set by command-line overrides such as ``strategy.alpha=0.3`` or ``+x=1``."""
    return {item.split("=", 1)[0].lstrip("+~") for item in overrides if "=" in item}
