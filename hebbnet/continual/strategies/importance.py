"""Per-parameter importance for weight-penalty strategies: the diagonal Fisher and the penalty.

The Fisher is the exact expected one (van de Ven et al. 2022's ``fisher_labels="all"``):

.. math:: F_i = \\frac{1}{N}\\sum_n \\sum_c p(c\\mid x_n)
          \\Big(\\frac{\\partial \\log p(c\\mid x_n)}{\\partial\\theta_i}\\Big)^2

over the output units the scenario allows, with the model in ``eval()`` mode: BatchNorm layers
normalise by their running statistics (each sample's gradient is then its own, not mixed with
its batch's) and leave them as they are.

A network whose trainable parameters all lie in ``nn.Linear`` layers (the MLP) takes a short
cut: per-sample squared gradients of a linear layer follow from its input h and the gradient δ
at its output, (δ ⊗ h)² = δ² ⊗ h², so one backward pass per class — all classes batched into
one vectorised pass — gives every sample's contribution (Goodfellow 2015). Any other network of
linear, convolutional and normalisation layers (the ResNet) gets each sample's gradient from
``torch.func`` (``vmap`` of ``grad``), one class at a time, in chunks of samples whose
gradients fit in :data:`PER_SAMPLE_FLOATS` floats.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from hebbnet.continual.benchmark import TensorSet
from hebbnet.continual.scenario import mask_logits
from hebbnet.data import to_float

Tensors = dict[str, torch.Tensor]
MaskFunction = Callable[[torch.Tensor], torch.Tensor | None]  # task ids -> active units
InputFunction = Callable[[torch.Tensor], torch.Tensor]  # uint8 images -> the model's floats
# the layers whose parameters have a Fisher: their per-sample gradients vmap
FISHER_LAYERS = (nn.Linear, nn.modules.conv._ConvNd, nn.modules.batchnorm._BatchNorm,
                 nn.GroupNorm, nn.LayerNorm)
PER_SAMPLE_FLOATS = 2 ** 25  # per-sample gradients held at once (128 MB in float32)


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


def _layers(model: nn.Module) -> dict[str, nn.Module]:
    """The model's :data:`FISHER_LAYERS` that hold trainable parameters; refused, naming them,
    if any trainable parameter lies elsewhere."""
    params = trainable(model)
    layers: dict[str, nn.Module] = {
        name: m for name, m in model.named_modules()
        if isinstance(m, FISHER_LAYERS) and any(p.requires_grad for p in m.parameters(False))}
    covered = {f"{name}.{kind}" if name else kind
               for name, m in layers.items() for kind, _ in m.named_parameters(recurse=False)}
    missing = sorted(set(params) - covered)
    if missing:
        raise NotImplementedError(
            f"The diagonal Fisher is computed for linear, convolutional and normalisation layers; "
            f"these parameters are not in one: {', '.join(missing)}. Freeze them "
            "(requires_grad=False) or use strategy=si.")
    return layers


@torch.no_grad()
def _accumulate(fisher: Tensors, layers: dict[str, nn.Module], inputs: Tensors,
                squared_deltas: Tensors) -> None:
    """Σ_n Σ_c (δ_nc ⊗ h_n)² = Σ_n (Σ_c δ_nc²) ⊗ h_n²: one product per layer and batch."""
    for name, layer in layers.items():
        prefix = f"{name}." if name else ""
        fisher[prefix + "weight"] += squared_deltas[name].T @ inputs[name] ** 2
        if getattr(layer, "bias", None) is not None:
            fisher[prefix + "bias"] += squared_deltas[name].sum(0)


def diagonal_fisher(model: nn.Module, data: TensorSet, active_units: MaskFunction,
                    batch_size: int = 1024, inputs: InputFunction = to_float) -> Tensors:
    """The diagonal of the expected Fisher information of ``model`` on ``data``, its images
    turned into the model's inputs by ``inputs`` (a scenario's :meth:`~hebbnet.continual.
    scenario.Scenario.inputs`), in evaluation mode."""
    layers = _layers(model)
    was_training = model.training
    model.eval()
    try:
        if all(isinstance(layer, nn.Linear) for layer in layers.values()):
            fisher = _linear_fisher(model, layers, data, active_units, batch_size, inputs)
        else:
            fisher = _per_sample_fisher(model, data, active_units, batch_size, inputs)
    finally:
        model.train(was_training)
    return {name: f / len(data) for name, f in fisher.items()}


def _linear_fisher(model: nn.Module, layers: dict[str, nn.Module], data: TensorSet,
                   active_units: MaskFunction, batch_size: int, inputs: InputFunction) -> Tensors:
    """N·F of a network of ``nn.Linear`` layers, from their inputs and output gradients."""
    layer_inputs, outputs = {}, {}

    def record(name):
        def hook(module, args, output):
            layer_inputs[name], outputs[name] = args[0].detach(), output
        return hook

    handles = [layer.register_forward_hook(record(name)) for name, layer in layers.items()]
    fisher = {name: torch.zeros_like(p) for name, p in trainable(model).items()}
    try:
        with torch.enable_grad():
            for start in range(0, len(data), batch_size):
                batch = data.select(slice(start, start + batch_size))
                logits = model(inputs(batch.x))
                probs = torch.softmax(mask_logits(logits.detach(), active_units(batch.t)), dim=1)
                classes = (probs > 0).any(0).nonzero().flatten()
                # row c: √p_c (p − e_c), √p_c times the gradient of −log p_c at the logits
                upstream = probs.expand(len(classes), -1, -1).clone()
                upstream[torch.arange(len(classes)), :, classes] -= 1
                upstream *= probs.T[classes].sqrt().unsqueeze(2)
                deltas = torch.autograd.grad(logits, [outputs[n] for n in layers],
                                             grad_outputs=upstream, is_grads_batched=True)
                squared = {name: (d ** 2).sum(0) for name, d in zip(layers, deltas, strict=True)}
                _accumulate(fisher, layers, layer_inputs, squared)
    finally:
        for handle in handles:
            handle.remove()
    return fisher


def _per_sample_fisher(model: nn.Module, data: TensorSet, active_units: MaskFunction,
                       batch_size: int, inputs: InputFunction) -> Tensors:
    """N·F of any network of :data:`FISHER_LAYERS`: Σ_n Σ_c p_nc g_nc² with g_nc each sample's
    gradient of log p(c | x_n), from ``torch.func`` one class at a time."""
    params = {name: p.detach() for name, p in trainable(model).items()}
    fixed = {name: t for name, t in chain(model.named_parameters(), model.named_buffers())
             if name not in params}

    def log_probability(params: Tensors, x: torch.Tensor, active: torch.Tensor,
                        unit: int) -> torch.Tensor:
        logits = functional_call(model, (params, fixed), (x.unsqueeze(0),))
        return torch.log_softmax(mask_logits(logits, active.unsqueeze(0)), dim=1)[0, unit]

    per_sample = vmap(grad(log_probability), in_dims=(None, 0, 0, None))
    chunk = max(1, min(batch_size, PER_SAMPLE_FLOATS // sum(p.numel() for p in params.values())))
    fisher = {name: torch.zeros_like(p) for name, p in params.items()}
    for start in range(0, len(data), chunk):
        batch = data.select(slice(start, start + chunk))
        x = inputs(batch.x)
        with torch.no_grad():
            logits = model(x)
        active = active_units(batch.t)
        if active is None:
            active = torch.ones_like(logits, dtype=torch.bool)
        probs = torch.softmax(mask_logits(logits, active), dim=1)
        for unit in (probs > 0).any(0).nonzero().flatten().tolist():
            for name, g in per_sample(params, x, active, unit).items():
                fisher[name] += torch.einsum("n,n...->...", probs[:, unit], g ** 2)
    return fisher
