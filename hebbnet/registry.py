"""Models, strategies and data sets by name — the built-in ones and your own, registered the
same way: a config dataclass beside the class it configures, one decorator.

    @dataclass
    class TinyConfig:
        name: str = "tiny"
        width: int = 32

    @register_model("tiny", TinyConfig)
    def build_tiny(cfg: TinyConfig, input_shape, n_outputs: int, n_tasks: int) -> nn.Module:
        return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), cfg.width),
                             nn.ReLU(), nn.Linear(cfg.width, n_outputs))

After that, ``Config(model=TinyConfig())`` runs through :func:`hebbnet.continual.run_experiment`,
a run's saved ``config.yaml`` reads back (:func:`hebbnet.config.store.load_config`), and from
the command line ``model=tiny model.width=64`` works in any script that imports the module
with the registration before calling :func:`hebbnet.cli.main` (Hydra composes the config
before a run could import anything):

    # my_train.py
    import my_models  # noqa: F401  (registers "tiny")
    from hebbnet.cli import main
    main()

A strategy registers the same way, as a :class:`~hebbnet.continual.strategies.Strategy`
subclass whose constructor takes ``(model, scenario, schedule, generator, options)``,
``options`` being an instance of its config dataclass (every built-in strategy is one: see
:mod:`hebbnet.continual.strategies.ewc`). The config dataclass's ``name`` field must default to
the registered name, and its defaults are the only ones: the class reads its settings from it.

A data set registers with its loader, ``loader(data_root: Path) -> ImageDataset`` (uint8
images, N×C×H×W, int64 labels); ``benchmark.dataset=<name>`` then loads it and the benchmark's
``kind`` (split, permuted, rotated) cuts it into tasks like any built-in one:

    @register_dataset("letters")
    def load_letters(root: Path) -> ImageDataset:
        ...  # read root / "letters" / ...

To pass objects instead of names, see :func:`~hebbnet.continual.run_experiment`'s ``model=``,
``strategy=`` and ``benchmark=``.

This module is the bottom of the package's layers: the modules that define models and
strategies import it to register themselves, and it imports none of them. Whoever looks a name
up imports the package of built-ins first (:mod:`hebbnet.models`,
:mod:`hebbnet.continual.strategies`), so that they are registered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore

from hebbnet.data.datasets import DATASETS, USER_DATASETS

PACKAGED_CONFIGS = Path(__file__).resolve().parent / "conf"  # the options' YAML files


@dataclass(frozen=True)
class Registered:
    """One option of a config group: its config dataclass, and what builds it from one."""

    config: type
    build: Callable[..., Any]


# name → Registered(config, builder(cfg, input_shape, n_outputs, n_tasks) -> nn.Module)
MODELS: dict[str, Registered] = {}
# name → Registered(config, Strategy subclass taking (model, scenario, schedule, generator, cfg))
STRATEGIES: dict[str, Registered] = {}


def register_model(name: str, config: type) -> Callable[[Callable], Callable]:
    """Decorate ``builder(cfg, input_shape, n_outputs, n_tasks) -> nn.Module`` to make
    ``model=<name>`` (config dataclass ``config``) build it. Returns the builder unchanged."""
    return _registrar("model", name, config, MODELS, callable,
                      "a function (cfg, input_shape, n_outputs, n_tasks) -> nn.Module")


def register_strategy(name: str, config: type) -> Callable[[type], type]:
    """Decorate a :class:`~hebbnet.continual.strategies.Strategy` subclass to make
    ``strategy=<name>`` (config dataclass ``config``) build it. Returns the class unchanged
    (a class with a Strategy's ``train_experience``: this module imports no strategy)."""
    return _registrar("strategy", name, config, STRATEGIES,
                      lambda cls: isinstance(cls, type) and hasattr(cls, "train_experience"),
                      "a subclass of hebbnet.continual.strategies.Strategy")


def register_dataset(name: str) -> Callable[[Callable], Callable]:
    """Decorate ``loader(data_root) -> ImageDataset`` to make ``benchmark.dataset=<name>`` load
    it. Returns the loader unchanged."""
    if name in DATASETS or name in USER_DATASETS:
        raise ValueError(f"A dataset named {name!r} exists already; register yours under "
                         "another name.")

    def register(loader):
        if not callable(loader):
            raise TypeError(f"register_dataset({name!r}) decorates a function (data_root) -> "
                            f"ImageDataset, got {loader!r}.")
        USER_DATASETS[name] = loader
        return loader

    return register


def lookup(table: dict[str, Registered], group: str, name: str) -> Registered:
    """The registered option ``name`` of ``group``, or an error listing the valid ones."""
    if name not in table:
        raise ValueError(f"Unknown {group} {name!r}; valid: {', '.join(sorted(table))} (your "
                         f"own: hebbnet.registry.register_{group}).")
    return table[name]


def _registrar(group: str, name: str, config: type, table: dict[str, Registered],
               accepts: Callable[[object], bool], expected: str) -> Callable:
    """The decorator that files ``name``'s config and builder in ``table`` and in Hydra's
    config store: as ``schema/<group>/<name>`` (what an option's YAML file builds on) and, for
    an option with no YAML file of the package's, as ``<group>/<name>`` itself."""
    _check(name, config, table, group)

    def register(builder):
        if not accepts(builder):
            raise TypeError(f"register_{group}({name!r}) decorates {expected}, got {builder!r}.")
        table[name] = Registered(config, builder)
        store = ConfigStore.instance()
        store.store(group=f"schema/{group}", name=name, node=config)
        if not (PACKAGED_CONFIGS / group / f"{name}.yaml").exists():
            store.store(group=group, name=name, node=config)
        return builder

    return register


def _check(name: str, config: type, taken: dict[str, Registered], group: str) -> None:
    if name in taken:
        raise ValueError(f"A {group} named {name!r} exists already "
                         f"({taken[name].config.__name__}); register yours under another name.")
    if not is_dataclass(config):
        raise TypeError(f"The config of {group} {name!r} must be a dataclass (its fields are "
                        f"the {group}.* settings), got {config!r}.")
    defaults = {f.name: f.default for f in fields(config)}
    if defaults.get("name") != name:
        raise ValueError(f"The config {config.__name__} of {group} {name!r} needs a field "
                         f"name: str = {name!r}, so that a saved run names its {group}.")
