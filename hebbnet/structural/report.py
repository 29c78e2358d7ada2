"""What a model's structural plasticity has done so far, as scalars to log."""

from __future__ import annotations

from torch import nn

from hebbnet.structural.neurogenesis import Neurogenesis
from hebbnet.structural.turnover import SynapseTurnover


def structure_report(model: nn.Module) -> dict[str, float]:
    """``structure/<module>/…`` → value for every :class:`SynapseTurnover` (synapses present,
    replaced so far, the fraction of the budget new at the last rewiring) and every
    :class:`Neurogenesis` (units born) in ``model``; empty when it has none."""
    report: dict[str, float] = {}
    for name, module in model.named_modules():
        if isinstance(module, SynapseTurnover):
            report[f"structure/{name}/synapses"] = module.synapses
            report[f"structure/{name}/replaced"] = int(module.replaced)
            report[f"structure/{name}/last_turnover"] = float(module.last_turnover)
        elif isinstance(module, Neurogenesis):
            report[f"structure/{name}/born"] = module.born
    return report
