r"""Continual-learning metrics computed from the accuracy matrix.

``R[i, j]`` is the test accuracy on task ``j`` after training on tasks ``0..i`` (a fraction),
``b[j]`` the accuracy on task ``j`` of the model at its random initialisation, and ``T`` the
number of tasks. Definitions of Lopez-Paz & Ranzato (2017, GEM) and Chaudhry et al. (2018,
Riemannian Walk):

.. math::

    \mathrm{ACC} = \frac{1}{T}\sum_{j=0}^{T-1} R_{T-1,j}

    \mathrm{BWT} = \frac{1}{T-1}\sum_{j=0}^{T-2} \left(R_{T-1,j} - R_{j,j}\right)

    \mathrm{FWT} = \frac{1}{T-1}\sum_{j=1}^{T-1} \left(R_{j-1,j} - b_j\right)

    f_j = \max_{l \in \{0..T-2\}} R_{l,j} - R_{T-1,j}, \qquad
    \mathrm{Forgetting} = \frac{1}{T-1}\sum_{j=0}^{T-2} f_j

Rows ``l < j`` enter ``f_j``'s maximum too; they are accuracies before task ``j`` was trained,
and rarely exceed ``R[j, j]``.
"""

from __future__ import annotations

import numpy as np

SCALARS = ("acc", "bwt", "fwt", "forgetting")


def average_accuracy(R: np.ndarray) -> float:
    """ACC: mean accuracy over all tasks after the last one."""
    return float(np.mean(R[-1]))


def backward_transfer(R: np.ndarray) -> float:
    """BWT: how training later tasks changed accuracy on earlier ones (negative: forgetting)."""
    T = _check_square(R)
    if T < 2:
        return 0.0
    return float(np.mean(R[-1, :-1] - np.diag(R)[:-1]))


def forward_transfer(R: np.ndarray, random_init: np.ndarray) -> float:
    """FWT: accuracy on task j before training on it, beyond the random-init accuracy b_j."""
    T = _check_square(R)
    if len(random_init) != T:
        raise ValueError(f"random_init has {len(random_init)} entries for {T} tasks.")
    if T < 2:
        return 0.0
    before = np.array([R[j - 1, j] for j in range(1, T)])
    return float(np.mean(before - random_init[1:]))


def forgetting_per_task(R: np.ndarray) -> np.ndarray:
    """f_j for j < T-1: best accuracy before the last task minus the final accuracy."""
    T = _check_square(R)
    if T < 2:
        return np.zeros(0)
    return R[:-1, :-1].max(axis=0) - R[-1, :-1]


def average_forgetting(R: np.ndarray) -> float:
    per_task = forgetting_per_task(R)
    return float(per_task.mean()) if per_task.size else 0.0


def summarize(R: np.ndarray, random_init: np.ndarray) -> dict[str, float | list]:
    """All metrics of one run, ready for ``metrics.json``."""
    return {
        "acc": average_accuracy(R),
        "bwt": backward_transfer(R),
        "fwt": forward_transfer(R, random_init),
        "forgetting": average_forgetting(R),
        "forgetting_per_task": forgetting_per_task(R).tolist(),
    }


def _check_square(R: np.ndarray) -> int:
    if R.ndim != 2 or R.shape[0] != R.shape[1]:
        raise ValueError(f"The accuracy matrix must be square (T×T), got shape {R.shape}.")
    return R.shape[0]
