"""Monitoring a run: TensorBoard logging and figures."""

from hebbnet.monitor.plots import plot_accuracy_matrix, plot_task_accuracies, receptive_field_grid
from hebbnet.monitor.tensorboard import LOGGERS, NullLogger, TensorBoardLogger

__all__ = [
    "LOGGERS",
    "NullLogger",
    "TensorBoardLogger",
    "plot_accuracy_matrix",
    "plot_task_accuracies",
    "receptive_field_grid",
]
