"""Run loggers: TensorBoard event files, or nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from hebbnet.monitor.plots import (
    accuracy_matrix_image,
    plot_accuracy_matrix,
    plot_sleeps,
    plot_task_accuracies,
    receptive_field_grid,
)

LOGGERS = ("tensorboard", "none")
# TensorBoard's Custom Scalars tab: every task's test accuracy in one chart, instead of a card
# of two or three points per tag. (TensorBoard colours a chart's lines by run, so one run's
# tasks share a colour there; the figures under Images — the labelled matrix, the forgetting
# curves, each sleep's before and after as arrows — tell them apart. A sleep's before and after
# share one step, so as scalars they cannot show the change: the figure does.)
LAYOUT = {
    "continual learning": {
        "test accuracy per task": ["Multiline", [r"test_acc/task_\d+", "test_acc/average_seen"]],
        "training loss": ["Multiline", ["train/loss"]],
        "learning rate": ["Multiline", ["train/lr"]],
    },
}


class NullLogger:
    """Accepts every call and writes nothing."""

    log_dir: Path | None = None

    def scalar(self, tag: str, value: float, step: int) -> None:
        pass

    def task_end(self, task: int, R: np.ndarray, model: nn.Module, step: int) -> None:
        pass

    def run_end(self, R: np.ndarray, sleeps: list[dict], step: int) -> None:
        pass

    def sleep(self, task: int, before: list[float], after: list[float], report: dict,
              step: int) -> None:
        pass

    def receptive_fields(self, tag: str, weight: torch.Tensor, image_shape: tuple[int, int, int],
                         step: int, columns: int = 10) -> None:
        pass

    def hparams(self, hparams: dict, metrics: dict) -> None:
        pass

    def close(self) -> None:
        pass


class TensorBoardLogger(NullLogger):
    """Scalars (grouped by :data:`LAYOUT` in the Custom Scalars tab), the accuracy matrix as a
    cheap image after every task, and at the end of the run three figures (the matrix with its
    numbers, the forgetting curves, each sleep's before and after), weight histograms and
    hparams. Figures are drawn once: matplotlib costs a short run ~0.3 s each.

    ``purge_step`` drops events a resumed run logged after its last checkpoint.
    """

    def __init__(self, log_dir: Path, histograms: bool = True, purge_step: int | None = None):
        from torch.utils.tensorboard import SummaryWriter

        self.log_dir = Path(log_dir)
        self.histograms = histograms
        self.writer = SummaryWriter(str(self.log_dir), purge_step=purge_step)
        self.writer.add_custom_scalars(LAYOUT)

    def scalar(self, tag: str, value: float, step: int) -> None:
        self.writer.add_scalar(tag, value, step)

    def task_end(self, task: int, R: np.ndarray, model: nn.Module, step: int) -> None:
        for j in range(task + 1):
            self.writer.add_scalar(f"test_acc/task_{j}", R[task, j], step)
        self.writer.add_scalar("test_acc/average_seen", float(np.mean(R[task, : task + 1])), step)
        self.writer.add_image("accuracy/matrix_after_each_task", accuracy_matrix_image(R), step)
        if self.histograms:
            for name, parameter in model.named_parameters():
                self.histogram(f"weights/{name}", parameter.detach(), step)

    def run_end(self, R: np.ndarray, sleeps: list[dict], step: int) -> None:
        """The run's figures, from everything it did (a resumed run's earlier sleeps too)."""
        self.writer.add_figure("accuracy/final_matrix", plot_accuracy_matrix(R), step)
        self.writer.add_figure("accuracy/forgetting_curves", plot_task_accuracies(R), step)
        if sleeps:
            self.writer.add_figure("sleep/before_and_after", plot_sleeps(sleeps), step)

    def histogram(self, tag: str, values: torch.Tensor, step: int, bins: int = 64) -> None:
        """A weight histogram computed by torch. (With ``add_histogram``, which goes through
        NumPy, the training after each task ran ~20 % slower on the 2-core benchmark VM:
        1.1 s instead of 0.9 s per Split MNIST epoch, four A/B pairs.)"""
        values = values.flatten().double()
        low, high = float(values.min()), float(values.max())
        high = high if high > low else low + 1.0
        counts = torch.histc(values, bins=bins, min=low, max=high)
        edges = torch.linspace(low, high, bins + 1, dtype=torch.float64)[1:]
        self.writer.add_histogram_raw(tag, low, high, values.numel(), float(values.sum()),
                                      float(values.square().sum()), edges.tolist(),
                                      counts.tolist(), step)

    def sleep(self, task: int, before: list[float], after: list[float], report: dict,
              step: int) -> None:
        """Per sleep: each task's accuracy right before and after, and what sleep did."""
        for j, (a, b) in enumerate(zip(before, after)):
            self.writer.add_scalar(f"sleep/acc_before/task_{j}", a, step)
            self.writer.add_scalar(f"sleep/acc_after/task_{j}", b, step)
        for name, value in report.items():
            self.writer.add_scalar(f"sleep/{name}", value, step)

    def receptive_fields(self, tag: str, weight: torch.Tensor, image_shape: tuple[int, int, int],
                         step: int, columns: int = 10) -> None:
        """Each unit's incoming weights as one image grid (see :func:`receptive_field_grid`)."""
        self.writer.add_image(tag, receptive_field_grid(weight, image_shape, columns), step)

    def hparams(self, hparams: dict, metrics: dict) -> None:
        """Write an HParams entry so runs can be compared side by side in TensorBoard."""
        from torch.utils.tensorboard.summary import hparams as hparams_summary

        experiment, start, end = hparams_summary(hparams, metrics)
        file_writer = self.writer.file_writer
        assert file_writer is not None  # open from the constructor until close()
        for summary in (experiment, start, end):
            file_writer.add_summary(summary)
        for name, value in metrics.items():
            self.writer.add_scalar(name, value)

    def close(self) -> None:
        self.writer.close()
