"""Multilayer perceptron classifier, the backbone of the split-MNIST literature."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}
INITS = ("default", "xavier")


class MLP(nn.Module):
    """Flatten, then ``Linear → activation`` for each hidden size, then a linear output layer.

    ``MLP((1, 28, 28), [400, 400], 10)`` is the 784-400-400-10 network of van de Ven et al. (2022).
    ``init="default"`` keeps PyTorch's Linear initialisation, U(±1/√fan_in) for weights and
    biases; ``init="xavier"`` draws weights from U(±√(6/(fan_in+fan_out))) with zero biases,
    the initialisation of Mammoth's MNIST network (Buzzega et al. 2020).
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        hidden_sizes: Sequence[int],
        n_outputs: int,
        activation: str = "relu",
        init: str = "default",
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"Unknown activation {activation!r}; valid: {', '.join(ACTIVATIONS)}.")
        if init not in INITS:
            raise ValueError(f"Unknown init {init!r}; valid: {', '.join(INITS)}.")
        if any(size <= 0 for size in hidden_sizes) or n_outputs <= 0:
            raise ValueError(f"Layer sizes must be positive, got {list(hidden_sizes)} → {n_outputs}.")
        self.input_shape = tuple(input_shape)
        widths = [int(torch.tensor(self.input_shape).prod()), *hidden_sizes]
        layers: list[nn.Module] = [nn.Flatten()]
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(fan_in, fan_out), ACTIVATIONS[activation]()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(widths[-1], n_outputs)
        if init == "xavier":
            for layer in self.modules():
                if isinstance(layer, nn.Linear):
                    nn.init.xavier_uniform_(layer.weight)
                    nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(
                f"MLP expects inputs of shape (batch, {', '.join(map(str, self.input_shape))}), "
                f"got {tuple(x.shape)}."
            )
        return self.head(self.features(x))
