"""The command line before Hydra sees it: mistyped keys named, a resumed run's overrides
read back.

Hydra rejects an unknown key (``model.hiden=3``) but neither lists the keys that exist nor
suggests the near miss; :func:`unknown_key_messages` composes the selected config groups and
does both. :func:`with_saved_overrides` lets ``resume=true hydra.run.dir=DIR`` alone continue
the run in DIR with the overrides it was started with.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import cast

# Hydra's own flags that take a value in the next argument.
_FLAGS_WITH_VALUE = {"--cfg", "-c", "--package", "-p", "--config-path", "-cp",
                     "--config-name", "-cn", "--config-dir", "-cd", "--experimental-rerun"}


def unknown_key_messages(args: list[str], config_dir: Path, config_name: str = "config") -> list[str]:
    """One message per override whose key the composed config does not have."""
    from hydra import compose, initialize_config_dir
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import OverrideType
    from omegaconf import OmegaConf

    try:
        overrides = OverridesParser.create().parse_overrides(_override_args(args))
    except Exception:
        return []  # a syntax error: Hydra explains those itself
    groups = {p.name for p in config_dir.iterdir() if p.is_dir()}
    selections, keys = [], []
    for override in overrides:
        if override.is_hydra_override() or override.type != OverrideType.CHANGE:
            continue
        if override.key_or_group.split("@")[0] in groups:
            selections.append(f"{override.key_or_group}={_first_value(override)}")
        else:
            keys.append(override.key_or_group)
    if not keys:
        return []
    try:
        with initialize_config_dir(config_dir=str(config_dir.resolve()), version_base="1.3"):
            composed = compose(config_name, overrides=selections)
    except Exception:
        return []  # a bad group option: Hydra lists the valid ones itself
    tree = cast(dict, OmegaConf.to_container(composed, resolve=False))
    return [m for m in (_check_key(tree, key) for key in keys) if m]


# Hydra's launcher plugins: option → (the plugin's module, the package that installs it).
LAUNCHER_PLUGINS = {
    "joblib": ("hydra_plugins.hydra_joblib_launcher", "hydra-joblib-launcher"),
    "submitit_local": ("hydra_plugins.hydra_submitit_launcher", "hydra-submitit-launcher"),
    "submitit_slurm": ("hydra_plugins.hydra_submitit_launcher", "hydra-submitit-launcher"),
    "ray": ("hydra_plugins.hydra_ray_launcher", "hydra-ray-launcher"),
    "rq": ("hydra_plugins.hydra_rq_launcher", "hydra-rq-launcher"),
}


def missing_launcher_message(args: list[str]) -> str | None:
    """What to install when ``hydra/launcher=X`` names a plugin that is not installed
    (Hydra itself only lists the options it has)."""
    import importlib.util

    for arg in _override_args(args):
        key, _, option = arg.partition("=")
        if key.lstrip("+") != "hydra/launcher" or option not in LAUNCHER_PLUGINS:
            continue
        module, package = LAUNCHER_PLUGINS[option]
        if importlib.util.find_spec(module) is None:
            return (f"hydra/launcher={option} needs Hydra's launcher plugin, which is not "
                    f"installed: pip install {package} (or pip install 'hebbnet[launchers]').")
    return None


def with_saved_overrides(args: list[str]) -> list[str]:
    """``args`` preceded by the overrides saved in ``DIR/.hydra/overrides.yaml`` when they ask
    to resume the run in DIR (``resume=true hydra.run.dir=DIR``); an override given again on
    the command line replaces its saved value (and the run then names any key that changed
    what was trained). Anything else: ``args`` as they are."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    parser = OverridesParser.create()
    try:
        given = {o.key_or_group: o for o in parser.parse_overrides(_override_args(args))}
    except Exception:
        return args  # a syntax error: Hydra explains those itself
    resume, run_dir = given.get("resume"), given.get("hydra.run.dir")
    if resume is None or run_dir is None or resume.value() is not True:
        return args
    saved_file = Path(run_dir.get_value_element_as_str()) / ".hydra" / "overrides.yaml"
    if not saved_file.exists():
        return args
    saved = [str(o) for o in OmegaConf.load(saved_file)]
    kept = [o for o, parsed in zip(saved, parser.parse_overrides(saved))
            if parsed.key_or_group not in given]
    return [*kept, *args]


def _override_args(args: list[str]) -> list[str]:
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = arg in _FLAGS_WITH_VALUE
        else:
            kept.append(arg)
    return kept


def _first_value(override) -> str:
    if override.is_sweep_override():
        return next(iter(override.sweep_string_iterator()))
    return override.get_value_element_as_str()


def _check_key(tree: dict, dotted: str) -> str | None:
    node, parts = tree, dotted.split(".")
    for depth, part in enumerate(parts):
        if not isinstance(node, dict):
            return None
        if part not in node:
            where = ".".join(parts[:depth])
            scope = f"'{where}'" if where else "the top level"
            valid = sorted(node)
            hint = difflib.get_close_matches(part, valid, n=1)
            guess = f" Did you mean '{'.'.join([*parts[:depth], hint[0]])}'?" if hint else ""
            return (f"Unknown config key '{dotted}': {scope} has no key '{part}'.{guess} "
                    f"Valid keys in {scope}: {', '.join(valid)}.")
        node = node[part]
    return None
