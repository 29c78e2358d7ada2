"""Monitoring a run: TensorBoard logging and figures."""

from hebbnet.monitor.plots import (
    accuracy_matrix_image,
    plot_accuracy_matrix,
    plot_sleeps,
    plot_task_accuracies,
    receptive_field_grid,
)
from hebbnet.monitor.tensorboard import LOGGERS, NullLogger, TensorBoardLogger

__all__ = [
    "LOGGERS",
    "NullLogger",
    "TensorBoardLogger",
    "accuracy_matrix_image",
    "plot_accuracy_matrix",
    "plot_sleeps",
    "plot_task_accuracies",
    "receptive_field_grid",
]
