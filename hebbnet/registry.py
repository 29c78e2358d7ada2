"""Your own model, strategy or data set, usable by name like the built-in ones.

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

A data set registers with its loader, ``loader(data_root: Path) -> ImageDataset`` (uint8
images, N×C×H×W, int64 labels); ``benchmark.dataset=<name>`` then loads it and the benchmark's
``kind`` (split, permuted, rotated) cuts it into tasks like any built-in one:

    @register_dataset("letters")
    def load_letters(root: Path) -> ImageDataset:
        ...  # read root / "letters" / ...

A strategy registers the same way, as a :class:`~hebbnet.continual.strategies.Strategy`
subclass whose constructor takes ``(model, scenario, schedule, generator, **options)``, the
options being its config's fields other than ``name``. The config dataclass's ``name`` field
must default to the registered name. To pass objects instead of names, see
:func:`~hebbnet.continual.run_experiment`'s ``model=``, ``strategy=`` and ``benchmark=``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, is_dataclass

from hydra.core.config_store import ConfigStore

from hebbnet.config.schema import MODEL_SCHEMAS, STRATEGY_SCHEMAS
from hebbnet.continual.strategies import STRATEGIES, Strategy
from hebbnet.data.datasets import DATASETS, USER_DATASETS
from hebbnet.models.factory import USER_MODELS


def register_model(name: str, config: type) -> Callable[[Callable], Callable]:
    """Decorate ``builder(cfg, input_shape, n_outputs, n_tasks) -> nn.Module`` to make
    ``model=<name>`` (config dataclass ``config``) build it. Returns the builder unchanged."""
    return _registrar("model", name, config, MODEL_SCHEMAS, USER_MODELS, callable,
                      "a function (cfg, input_shape, n_outputs, n_tasks) -> nn.Module")


def register_strategy(name: str, config: type) -> Callable[[type], type]:
    """Decorate a :class:`Strategy` subclass to make ``strategy=<name>`` (config dataclass
    ``config``) build it. Returns the class unchanged."""
    return _registrar("strategy", name, config, STRATEGY_SCHEMAS, STRATEGIES,
                      lambda cls: isinstance(cls, type) and issubclass(cls, Strategy),
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


def _registrar(group: str, name: str, config: type, schemas: dict, builders: dict,
               accepts: Callable[[object], bool], expected: str) -> Callable:
    """The decorator that files ``name``'s config and builder in the ``group``'s tables and
    in Hydra's config store."""
    _check(name, config, schemas, group)

    def register(builder):
        if not accepts(builder):
            raise TypeError(f"register_{group}({name!r}) decorates {expected}, got {builder!r}.")
        schemas[name], builders[name] = config, builder
        ConfigStore.instance().store(group=group, name=name, node=config)
        return builder

    return register


def _check(name: str, config: type, taken: dict, group: str) -> None:
    if name in taken:
        raise ValueError(f"A {group} named {name!r} exists already ({taken[name].__name__}); "
                         f"register yours under another name.")
    if not is_dataclass(config):
        raise TypeError(f"The config of {group} {name!r} must be a dataclass (its fields are "
                        f"the {group}.* settings), got {config!r}.")
    defaults = {f.name: f.default for f in fields(config)}
    if defaults.get("name") != name:
        raise ValueError(f"The config {config.__name__} of {group} {name!r} needs a field "
                         f"name: str = {name!r}, so that a saved run names its {group}.")
