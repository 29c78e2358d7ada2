"""Multilayer perceptron classifier, the backbone of the split-MNIST literature."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import List, Optional, cast

import torch
from torch import nn

from hebbnet.data import to_float
from hebbnet.layers.sparse_code import SparseCode
from hebbnet.models.growth import neurogenesis
from hebbnet.registry import register_model
from hebbnet.structural.neurogenesis import Neurogenesis

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}
INITS = ("default", "xavier")


@dataclass
class MLPConfig:
    name: str = "mlp"
    hidden_sizes: List[int] = field(default_factory=lambda: [400, 400])
    activation: str = "relu"  # relu | tanh | sigmoid | gelu
    init: str = "default"  # default (PyTorch's Linear) | xavier (Xavier-uniform, zero bias)
    code_size: Optional[int] = None  # a fixed sparse code (random expansion, k-WTA) first
    code_active: int = 200  # its k winners
    # each code unit's threshold set to its mean drive over the first task's training images
    # (once, before any learning; SparseCode.calibrate)
    code_calibrated: bool = False
    # the code's projection drawn from this seed and not saved (a CLS counts 8 bytes for it);
    # null: drawn from the run's seed, saved with the model and counted in full
    code_seed: Optional[int] = None
    bias: bool = True  # false: no biases (a network to run as spiking units, Tadros et al.)
    # neurogenesis in the code (the dentate gyrus's): code_size is its capacity, this many units
    # born per task, newborns' extra drive code_newborn_excitability fading over
    # code_newborn_maturation training steps; null: every code unit from the start
    code_neurons_per_task: Optional[int] = None
    code_newborn_excitability: float = 0.0
    code_newborn_maturation: float = 100.0


class MLP(nn.Module):
    """Flatten, then ``Linear → activation`` for each hidden size, then a linear output layer.

    ``MLP((1, 28, 28), [400, 400], 10)`` is the 784-400-400-10 network of van de Ven et al. (2022).
    ``init="default"`` keeps PyTorch's Linear initialisation, U(±1/√fan_in) for weights and
    biases; ``init="xavier"`` draws weights from U(±√(6/(fan_in+fan_out))) with zero biases,
    the initialisation of Mammoth's MNIST network (Buzzega et al. 2020).

    ``code_size=N`` puts a fixed sparse code before the hidden layers
    (:class:`hebbnet.layers.SparseCode`: N units, ``code_active`` of them on): the network then
    learns from binary codes, which a learner may store in place of images. ``encode`` gives
    what the hidden layers read (the flattened image, or its code), ``classify`` the rest.
    ``bias=False`` leaves the biases out (as Tadros et al.'s network, which is run as spiking
    units: :mod:`hebbnet.spiking.conversion`). With ``code_calibrated``, :meth:`calibrate` sets
    the code's thresholds from the first task's training images (the runner calls it before
    training starts); with ``code_seed``, the code's projection is drawn from that seed and left
    out of the ``state_dict``. With ``code_neurogenesis`` (a
    :class:`~hebbnet.structural.Neurogenesis` of capacity ``code_size``) the code is a dentate
    gyrus with adult neurogenesis: its ``born`` units exist at the start and as many more are
    born at the start of each task (:meth:`start_task`), excitable while young.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        hidden_sizes: Sequence[int],
        n_outputs: int,
        activation: str = "relu",
        init: str = "default",
        code_size: int | None = None,
        code_active: int = 200,
        code_calibrated: bool = False,
        code_seed: int | None = None,
        bias: bool = True,
        code_neurogenesis: Neurogenesis | None = None,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"Unknown activation {activation!r}; valid: {', '.join(ACTIVATIONS)}.")
        if init not in INITS:
            raise ValueError(f"Unknown init {init!r}; valid: {', '.join(INITS)}.")
        if any(size <= 0 for size in hidden_sizes) or n_outputs <= 0:
            raise ValueError(f"Layer sizes must be positive, got {list(hidden_sizes)} → {n_outputs}.")
        self.input_shape = tuple(input_shape)
        n_inputs = math.prod(self.input_shape)
        self.encoder = nn.Sequential(nn.Flatten())
        if code_calibrated and code_size is None:
            raise ValueError("model.code_calibrated sets a sparse code's thresholds; give the "
                             "model a code, e.g. model.code_size=1000.")
        if code_neurogenesis is not None and code_size is None:
            raise ValueError("model.code_neurons_per_task grows a sparse code's units; give the "
                             "model a code, e.g. model.code_size=1000.")
        self.code_calibrated = code_calibrated
        if code_size is not None:
            self.encoder.append(SparseCode(n_inputs, code_size, code_active, seed=code_seed,
                                           neurogenesis=code_neurogenesis))
        self.code_per_task = code_neurogenesis.born if code_neurogenesis is not None else None
        widths = [code_size or n_inputs, *hidden_sizes]
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(fan_in, fan_out, bias=bias), ACTIVATIONS[activation]()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(widths[-1], n_outputs, bias=bias)
        if init == "xavier":
            for layer in self.modules():
                if isinstance(layer, nn.Linear):
                    nn.init.xavier_uniform_(layer.weight)
                    if layer.bias is not None:
                        nn.init.zeros_(layer.bias)

    @property
    def codes(self) -> bool:
        """Whether the hidden layers read a sparse code rather than pixels."""
        return self.code is not None

    @property
    def code(self) -> SparseCode | None:
        """The sparse code the hidden layers read, if any."""
        return cast(SparseCode, self.encoder[1]) if len(self.encoder) > 1 else None

    def calibrate(self, images: torch.Tensor) -> None:
        """With ``code_calibrated``: the code's thresholds from ``images`` (uint8 or float)."""
        if self.code is not None and self.code_calibrated:
            self.code.calibrate(to_float(images))

    def start_task(self, task: int) -> None:
        """With a code that grows (``code_neurogenesis``): the task's code units are born."""
        code = self.code
        if code is None or code.neurogenesis is None or self.code_per_task is None:
            return
        if (missing := (task + 1) * self.code_per_task - code.neurogenesis.born) > 0:
            code.grow(missing)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(
                f"MLP expects inputs of shape (batch, {', '.join(map(str, self.input_shape))}), "
                f"got {tuple(x.shape)}."
            )
        return self.encoder(x)

    def classify(self, encoded: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(encoded))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.encode(x))


@register_model("mlp", MLPConfig)
def build_mlp(cfg: MLPConfig, input_shape: Sequence[int], n_outputs: int, n_tasks: int) -> MLP:
    if cfg.code_neurons_per_task is not None and cfg.code_size is None:
        raise ValueError(f"model.code_neurons_per_task={cfg.code_neurons_per_task} grows the "
                         "model's sparse code, and it has none: set model.code_size (its "
                         "capacity, e.g. 1000).")
    code_births = None if cfg.code_neurons_per_task is None else neurogenesis(
        cast(int, cfg.code_size), "code_size", cfg.code_neurons_per_task, n_tasks,
        cfg.code_newborn_excitability, cfg.code_newborn_maturation, "code_")
    return MLP(input_shape, list(cfg.hidden_sizes), n_outputs, cfg.activation, cfg.init,
               cfg.code_size, cfg.code_active, cfg.code_calibrated, cfg.code_seed, cfg.bias,
               code_births)
