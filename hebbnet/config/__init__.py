"""Typed configuration of a run (plain dataclasses); Hydra registration lives in ``store``. A
model's or strategy's own config dataclass lives beside it (``hebbnet.models.MLPConfig``,
``hebbnet.continual.strategies.EWCConfig``, …); the two a default run uses are here too."""

from hebbnet.config.schema import (
    BenchmarkConfig,
    Config,
    DataConfig,
    LoggerConfig,
    MLPConfig,
    StrategyConfig,
    TrainConfig,
)

__all__ = [
    "BenchmarkConfig",
    "Config",
    "DataConfig",
    "LoggerConfig",
    "MLPConfig",
    "StrategyConfig",
    "TrainConfig",
]
