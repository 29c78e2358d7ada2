"""Figures of a continual-learning run: the accuracy matrix, per-task accuracy curves, sleep's
effect, receptive fields.

matplotlib is imported when a figure is drawn, so runs that draw none never load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def plot_accuracy_matrix(R: np.ndarray, title: str = "accuracy R[i, j]") -> Figure:
    """Heatmap of R (rows: after training task i; columns: tested on task j); NaN rows blank."""
    import matplotlib.pyplot as plt

    R = np.asarray(R, dtype=float)
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * R.shape[1], 0.8 + 0.55 * R.shape[0]))
    image = ax.imshow(R, vmin=0.0, vmax=1.0, cmap="viridis")
    for (i, j), value in np.ndenumerate(R):
        if np.isfinite(value):
            ax.text(j, i, f"{100 * value:.0f}", ha="center", va="center",
                    color="white" if value < 0.6 else "black", fontsize=8)
    ax.set_xlabel("tested on task j")
    ax.set_ylabel("after training task i")
    ax.set_xticks(range(R.shape[1]))
    ax.set_yticks(range(R.shape[0]))
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def accuracy_matrix_image(R: np.ndarray, cell: int = 16) -> torch.Tensor:
    """R as a (3, H, W) image: one ``cell``×``cell`` square per entry, viridis from 0 to 1,
    grey where R is not yet defined. Cheap enough to log after every task; the numbers are in
    the scalars and metrics.json, :func:`plot_accuracy_matrix` draws them."""
    import matplotlib

    R = np.asarray(R, dtype=float)
    colours = matplotlib.colormaps["viridis"](np.nan_to_num(np.clip(R, 0.0, 1.0)))[..., :3]
    colours[~np.isfinite(R)] = 0.5
    image = torch.from_numpy(colours).float().permute(2, 0, 1)
    return image.repeat_interleave(cell, dim=1).repeat_interleave(cell, dim=2)


def plot_task_accuracies(R: np.ndarray, title: str = "accuracy per task") -> Figure:
    """One line per task j: its accuracy after each training task i >= j (forgetting curves)."""
    import matplotlib.pyplot as plt

    R = np.asarray(R, dtype=float)
    fig, ax = plt.subplots(figsize=(5, 3.2))
    tasks = np.arange(R.shape[0])
    for j in range(R.shape[1]):
        ax.plot(tasks[j:], R[j:, j], marker="o", label=f"task {j}")
    ax.set_xlabel("after training task")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(tasks)
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def plot_sleeps(sleeps: list[dict], title: str = "accuracy before (○) and after (●) each sleep"
                ) -> Figure:
    """Each sleep (``after_task`` k, ``acc_before`` and ``acc_after`` per task seen) as a group
    of arrows, one per task in its own colour, from the accuracy before sleep to after: what
    sleep itself did, sleep by sleep."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.4))
    colours = plt.get_cmap("tab10")
    n_tasks = max(len(sleep["acc_before"]) for sleep in sleeps)
    width = 0.8 / n_tasks
    for position, sleep in enumerate(sleeps):
        for j, (before, after) in enumerate(zip(sleep["acc_before"], sleep["acc_after"])):
            x = position - 0.4 + width * (j + 0.5)
            ax.annotate("", (x, after), (x, before),
                        arrowprops={"arrowstyle": "->", "color": colours(j % 10)})
            ax.plot([x], [before], "o", mfc="none", color=colours(j % 10), ms=4)
            ax.plot([x], [after], "o", color=colours(j % 10), ms=4,
                    label=f"task {j}" if position == len(sleeps) - 1 else None)
    ax.set_xticks(range(len(sleeps)))
    ax.set_xticklabels([f"after\ntask {sleep['after_task']}" for sleep in sleeps], fontsize=8)
    ax.set_ylabel("test accuracy")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    fig.tight_layout()
    return fig


def receptive_field_grid(weight: torch.Tensor, image_shape: tuple[int, int, int],
                         columns: int = 10, padding: int = 1) -> torch.Tensor:
    """Tile each unit's incoming weights as an image: (n_out, C·H·W) → (C, rows·H', columns·W').

    Every field is scaled to [0, 1] on its own (its sign pattern, not its norm, is what shows);
    gaps between tiles are left at 0.5.
    """
    channels, height, width = image_shape
    fields = weight.detach().float().cpu().reshape(-1, channels, height, width)
    low = fields.amin(dim=(1, 2, 3), keepdim=True)
    high = fields.amax(dim=(1, 2, 3), keepdim=True)
    fields = (fields - low) / (high - low).clamp_min(1e-12)
    rows = -(-len(fields) // columns)
    cell_h, cell_w = height + padding, width + padding
    grid = torch.full((channels, rows * cell_h + padding, columns * cell_w + padding), 0.5)
    for index, field in enumerate(fields):
        top, left = padding + (index // columns) * cell_h, padding + (index % columns) * cell_w
        grid[:, top : top + height, left : left + width] = field
    return grid
