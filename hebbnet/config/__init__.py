"""Typed configuration (plain dataclasses); Hydra registration lives in ``store``."""

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
