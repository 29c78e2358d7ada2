"""Sleep's synaptic downscaling (Tononi & Cirelli's synaptic homeostasis hypothesis).

Waking potentiates synapses; sleep scales them back down, multiplicatively, so that what was
learned keeps its relative form while total strength returns toward a set point. Per layer,
each unit's incoming weight vector w_j (and its bias) is scaled by

.. math:: s_j = \\min\\bigl(1, (\\tau / \\lVert w_j \\rVert)^{\\,\\text{strength}}\\bigr),
          \\qquad \\tau = \\operatorname{median}_k \\lVert w_k \\rVert

so units that grew above the layer's median norm are brought down toward it and the others are
left alone (in the output layer, only the units in use — ``output_units`` — take part);
``strength`` 1 brings them to the median, 0 does nothing. In a class-incremental output layer
the units of the newest classes are the ones that grew (the recency bias), so downscaling there
acts like Zhao et al.'s (2020) weight aligning.
"""

from __future__ import annotations

import torch
from torch import nn

LAYERS = ("output", "all")


def check_downscaling(strength: float, layers: str) -> None:
    if not 0 <= strength <= 1:
        raise ValueError(f"Downscaling strength must be in [0, 1], got {strength}.")
    if layers not in LAYERS:
        raise ValueError(f"Unknown downscaling layers {layers!r}; valid: {', '.join(LAYERS)}.")


@torch.no_grad()
def downscale(model: nn.Module, strength: float, layers: str = "output",
              output_units: torch.Tensor | None = None) -> float:
    """Scale ``model``'s linear layers (the last one, or ``all``) as above; returns the
    relative change of their total weight norm, (‖W‖ after − before) / before."""
    check_downscaling(strength, layers)
    linear = [m for m in model.modules() if isinstance(m, nn.Linear)]
    chosen = linear[-1:] if layers == "output" else linear
    before = after = 0.0
    for layer in chosen:
        norms = layer.weight.norm(dim=1)
        before += float(norms.square().sum())
        units = torch.ones_like(norms, dtype=torch.bool)
        if layer is linear[-1] and output_units is not None:
            units = output_units.to(norms.device)
        factor = (norms[units].median() / norms.clamp_min(1e-12)).pow(strength).clamp(max=1.0)
        factor = torch.where(units, factor, torch.ones_like(factor))
        layer.weight.mul_(factor.unsqueeze(1))
        if layer.bias is not None:
            layer.bias.mul_(factor)
        after += float(layer.weight.norm(dim=1).square().sum())
    return (after ** 0.5 - before ** 0.5) / max(before ** 0.5, 1e-12)
