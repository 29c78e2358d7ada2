"""Per-parameter importance for weight-penalty strategies: the diagonal Fisher and the penalty.

The Fisher is the exact expected one (van de Ven et al. 2022's ``fisher_labels="all"``):

.. math:: F_i = \\frac{1}{N}\\sum_n \\sum_c p(c\\mid x_n)
          \\Big(\\frac{\\partial \\log p(c\\mid x_n)}{\\partial\\theta_i}\\Big)^2

over the output units the scenario allows. Per-sample squared gradients of an ``nn.Linear``
layer follow from its input h and the gradient δ at its output: (δ ⊗ h)² = δ² ⊗ h², so one
backward pass per class — all classes batched into one vectorised pass — gives every sample's
contribution (Goodfellow 2015) instead of one backward pass per sample and class.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from hebbnet.continual.benchmark import TensorSet
from hebbnet.continual.scenario import mask_logits
from hebbnet.data import to_float

Tensors = dict[str, torch.Tensor]
MaskFunction = Callable[[torch.Tensor], torch.Tensor | None]  # task ids -> active units


def trainable(model: nn.Module) -> dict[str, nn.Parameter]:
    return {name: p for name, p in model.named_parameters() if p.requires_grad}


def detached_copy(model: nn.Module) -> Tensors:
    return {name: p.detach().clone() for name, p in trainable(model).items()}


def quadratic_penalty(model: nn.Module, anchor: Tensors, importance: Tensors) -> torch.Tensor:
    """:math:`\\sum_i \\Omega_i (\\theta_i - \\theta^*_i)^2`."""
    return sum((((p - anchor[name]) ** 2 * importance[name]).sum()
                for name, p in trainable(model).items()), torch.zeros(()))


def tensors_nbytes(*groups: Tensors) -> int:
    return sum(t.nbytes for group in groups for t in group.values())


def _linear_layers(model: nn.Module) -> dict[str, nn.Linear]:
    layers = {name: m for name, m in model.named_modules() if isinstance(m, nn.Linear)}
    covered = {f"{name}.{kind}" if name else kind
               for name, m in layers.items() for kind in ("weight", "bias")
               if getattr(m, kind) is not None}
    missing = sorted(set(trainable(model)) - covered)
    if missing:
        raise NotImplementedError(
            f"The diagonal Fisher is computed for nn.Linear layers; these parameters are not in "
            f"one: {', '.join(missing)}. Freeze them (requires_grad=False) or use strategy=si.")
    return layers


@torch.no_grad()
def _accumulate(fisher: Tensors, layers: dict[str, nn.Linear], inputs: Tensors,
                squared_deltas: Tensors) -> None:
    """Σ_n Σ_c (δ_nc ⊗ h_n)² = Σ_n (Σ_c δ_nc²) ⊗ h_n²: one product per layer and batch."""
    for name, layer in layers.items():
        prefix = f"{name}." if name else ""
        fisher[prefix + "weight"] += squared_deltas[name].T @ inputs[name] ** 2
        if layer.bias is not None:
            fisher[prefix + "bias"] += squared_deltas[name].sum(0)


def diagonal_fisher(model: nn.Module, data: TensorSet, active_units: MaskFunction,
                    batch_size: int = 1024) -> Tensors:
    """The diagonal of the expected Fisher information of ``model`` on ``data``."""
    layers = _linear_layers(model)
    inputs, outputs = {}, {}

    def record(name):
        def hook(module, args, output):
            inputs[name], outputs[name] = args[0].detach(), output
        return hook

    handles = [layer.register_forward_hook(record(name)) for name, layer in layers.items()]
    fisher = {name: torch.zeros_like(p) for name, p in trainable(model).items()}
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            for start in range(0, len(data), batch_size):
                batch = data.select(slice(start, start + batch_size))
                logits = model(to_float(batch.x))
                probs = torch.softmax(mask_logits(logits.detach(), active_units(batch.t)), dim=1)
                classes = (probs > 0).any(0).nonzero().flatten()
                # row c: √p_c (p − e_c), √p_c times the gradient of −log p_c at the logits
                upstream = probs.expand(len(classes), -1, -1).clone()
                upstream[torch.arange(len(classes)), :, classes] -= 1
                upstream *= probs.T[classes].sqrt().unsqueeze(2)
                deltas = torch.autograd.grad(logits, [outputs[n] for n in layers],
                                             grad_outputs=upstream, is_grads_batched=True)
                squared = {name: (d ** 2).sum(0) for name, d in zip(layers, deltas, strict=True)}
                _accumulate(fisher, layers, inputs, squared)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return {name: f / len(data) for name, f in fisher.items()}
