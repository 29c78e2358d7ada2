"""The dentate gyrus's code with adult neurogenesis: memories formed at different times get
more distinct codes, and the codes of old memories drift.

Two predictions from the literature meet here. Young granule cells, excitable, are recruited
into the memories formed while they are young, so memories from different times are coded by
different cells (Aimone, Wiles & Gage 2006/2011: temporal separation). And neurogenesis after
learning promotes forgetting of hippocampus-dependent memories (Akers et al. 2014, Science
344:598): new cells rewire the circuit that retrieves the old ones. In a fixed k-winner code
(:class:`hebbnet.layers.SparseCode`) both follow from the competition: once mature, the
newborns compete for old inputs too, and an old input's code changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from hebbnet.layers.sparse_code import SparseCode
from hebbnet.structural.neurogenesis import Neurogenesis


@dataclass
class DentateCodes:
    kept: list[float]  # per task: share of its inputs' winners at storage still winners at the end
    between_tasks: float  # mean overlap |c ∩ c′|/k of stored codes of two different tasks
    within_task: float  # the same for two different inputs of one task


def dentate_codes_across_tasks(per_task: int | None, excitability: float = 0.0,
                               images: torch.Tensor | None = None,
                               labels: torch.Tensor | None = None, size: int = 1000,
                               active: int = 20, steps_per_task: int = 2000,
                               maturation: float = 500.0, samples: int = 200,
                               seed: int = 0) -> DentateCodes:
    """A calibrated code of ``size`` units, ``active`` winners, sees five tasks of two classes
    each (``images`` (N, D) in [0, 1] with ``labels``; default scikit-learn's 8×8 digits) for
    ``steps_per_task`` training steps each; ``per_task`` units are born at the start of every
    task (None: all ``size`` units from the start), with excitability β = ``excitability``
    fading over ``maturation`` steps. ``samples`` inputs per task are stored halfway through
    their task; at the end the same inputs are coded again."""
    if images is None or labels is None:
        from sklearn.datasets import load_digits

        pixels, targets = load_digits(return_X_y=True)
        images, labels = torch.tensor(pixels, dtype=torch.float32) / 16, torch.tensor(targets)
    generator = torch.Generator().manual_seed(seed)
    tasks = []
    for task in range(5):
        members = torch.isin(labels, torch.tensor([2 * task, 2 * task + 1])).nonzero().squeeze(1)
        tasks.append(images[members[torch.randperm(len(members), generator=generator)[:samples]]])
    births = None if per_task is None else Neurogenesis(size, per_task, excitability, maturation)
    code = SparseCode(images.shape[1], size, active, seed=seed, neurogenesis=births)
    code.calibrate(tasks[0])
    stored = []
    for task, inputs in enumerate(tasks):
        if per_task is not None and task > 0:
            code.grow(per_task)
        if births is not None:  # training steps: in a fixed code, only the newborns' age changes
            births.mature(steps_per_task // 2)
        stored.append(code.eval()(inputs))
        if births is not None:
            births.mature(steps_per_task - steps_per_task // 2)
    code.eval()
    kept = [float((code(inputs) * codes).sum(1).mean() / active)
            for inputs, codes in zip(tasks, stored)]
    between = [float((a @ b.T).mean() / active)
               for i, a in enumerate(stored) for b in stored[i + 1:]]
    within = [float(((c @ c.T).sum() - active * len(c)) / (len(c) * (len(c) - 1)) / active)
              for c in stored]
    return DentateCodes(kept, sum(between) / len(between), sum(within) / len(within))

