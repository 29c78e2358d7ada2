"""The command line before Hydra sees it: mistyped keys named, a resumed run's overrides
read back.

Hydra rejects an unknown key (``model.hiden=3``) but neither lists the keys that exist nor
suggests the near miss; :func:`unknown_key_messages` composes the selected config groups and
does both. :func:`with_saved_overrides` lets ``resume=true hydra.run.dir=DIR`` alone continue
the run in DIR with the overrides it was started with — read as data and checked, since a run
directory may have been handed over or edited (:func:`read_saved_overrides`) — and refuses
when DIR holds no record of a run, rather than start the defaults in its place.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import cast

from hebbnet.run_directory import CHECKPOINT_NAME, RESUMABLE_CHANGES, SAVED_OVERRIDES

# Keys with which Hydra's instantiate would build an object: never in a saved override.
_INSTANTIATE_KEYS = ("_target_", "_args_", "_partial_", "_recursive_", "_convert_")
_OPTION_NAME = re.compile(r"[\w\-]+")  # a config group option: a file's or a registration's name
_KEY = re.compile(r"[\w\-]+(\.[\w\-]+)*(@[\w\-.]+)?")  # a dotted key, or a group@package


class SavedOverridesError(ValueError):
    """A run directory's saved overrides cannot be used: missing where a resume needs them, or
    not what ``train.py`` writes."""


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


def with_saved_overrides(args: list[str], config_dir: Path) -> list[str]:
    """``args`` preceded by the overrides saved in ``DIR/.hydra/overrides.yaml`` when they ask
    to resume the run in DIR (``resume=true hydra.run.dir=DIR``); an override given again on
    the command line replaces its saved value (and the run then names any key that changed
    what was trained). Anything else: ``args`` as they are."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    try:
        given = {o.key_or_group: o for o in parser.parse_overrides(_override_args(args))}
    except Exception:
        return args  # a syntax error: Hydra explains those itself
    resume, run_dir = given.get("resume"), given.get("hydra.run.dir")
    if resume is None or run_dir is None or resume.value() is not True:
        return args
    directory = Path(str(run_dir.value()))  # the path itself, not its escaped form
    saved_file = directory / SAVED_OVERRIDES
    if not saved_file.exists():
        _refuse_a_resume_without_a_run(directory, given)
        return args
    saved = read_saved_overrides(saved_file, config_dir)
    kept = [o for o, parsed in zip(saved, parser.parse_overrides(saved))
            if parsed.key_or_group not in given]
    return [*kept, *args]


def read_saved_overrides(path: Path, config_dir: Path) -> list[str]:
    """The overrides saved in ``path`` (a run's ``.hydra/overrides.yaml``), read as data and
    checked against the config in ``config_dir``: a YAML list of strings, each a plain override
    of the run's own config — none of Hydra's settings (``hydra.*``: callbacks, launchers, the
    output directory), no key of Hydra's instantiate (``_target_`` …), config group options by
    name, only keys the composed config has. Anything else raises :class:`SavedOverridesError`
    naming the file and the entry: a file edited by hand, or planted in a directory someone
    handed over, runs no callable on resume."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    try:
        saved = OmegaConf.to_container(OmegaConf.load(path))
    except Exception as error:
        raise _not_saved_by_train(path, f"it does not read as YAML ({error})") from None
    if not isinstance(saved, list) or not all(isinstance(entry, str) for entry in saved):
        raise _not_saved_by_train(path, "it is not a list of overrides (strings)")
    try:
        parsed = OverridesParser.create().parse_overrides(saved)
    except Exception as error:
        raise _not_saved_by_train(path, f"an entry is not an override ({error})") from None
    groups = {p.name for p in config_dir.iterdir() if p.is_dir()}
    for entry, override in zip(saved, parsed):
        if problem := _unsafe(entry, override, groups):
            raise _not_saved_by_train(path, f"{entry!r} {problem}")
    if unknown := unknown_key_messages(saved, config_dir):
        raise _not_saved_by_train(path, unknown[0].rstrip("."))
    return saved


def _unsafe(entry: str, override, groups: set[str]) -> str | None:
    """Why a saved override is not one ``train.py`` writes for a run, or None."""
    key = override.key_or_group
    if key == "hydra" or key.startswith(("hydra.", "hydra/")):
        return "sets Hydra's own settings, which a run's saved overrides never hold"
    if any(word in entry for word in _INSTANTIATE_KEYS):
        return "names a key of Hydra's instantiate (an object to build)"
    if not _KEY.fullmatch(key):
        return "is not a key of the run's config"
    if key in groups and not _OPTION_NAME.fullmatch(str(override.value())):
        return f"does not choose a {key} option by its name"
    return None


def _not_saved_by_train(path: Path, problem: str) -> SavedOverridesError:
    return SavedOverridesError(
        f"{path} is not a record train.py wrote: {problem}. Nothing was run. Remove the entry "
        "(or the file, and give the run's overrides on the command line), or choose another "
        "hydra.run.dir."
    )


def _refuse_a_resume_without_a_run(directory: Path, given: dict) -> None:
    """``resume=true hydra.run.dir=DIR`` with nothing that says what to run, where DIR holds no
    saved overrides and no checkpoint (a run killed while it started, or a mistyped DIR):
    refuse, instead of running the default config as if it were that run. Overrides that
    define a run (anything but ``resume``, ``hydra.*`` and what a resume may change) start it
    afresh, as a job script that always passes ``resume=true`` expects."""
    defines_a_run = any(not key.startswith("hydra") and key.split(".")[0] not in RESUMABLE_CHANGES
                        for key in given)
    if defines_a_run or (directory / CHECKPOINT_NAME).exists():
        return
    state = "holds no saved overrides and no checkpoint" if directory.is_dir() else "does not exist"
    raise SavedOverridesError(
        f"resume=true: {directory} {state} ({SAVED_OVERRIDES} is written as a run starts), so "
        "there is no run to resume there — a run killed in its first seconds leaves none. "
        "Start it again with the overrides it was given (resume=true may stay), or point "
        "hydra.run.dir at the run's own directory."
    )


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
