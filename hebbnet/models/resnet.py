"""ResNet-18 for 32×32 images as continual learning uses it: the "reduced" one of width 20
(≈ 1.1 M parameters for ten classes) that GEM, A-GEM, MIR and ER-ACE train, and the full one
of width 64 (≈ 11.2 M) that Mammoth trains (DER, Buzzega et al. 2020).

The architecture is Lopez-Paz & Ranzato's (2017, facebookresearch/GradientEpisodicMemory,
``model/common.py``), kept as Mammoth's ``backbone/ResNet18.py`` and Caccia et al.'s
``pclucas14/AML/model.py`` have it: a 3×3 convolution of stride 1 (no max-pooling, unlike the
ImageNet ResNet), four stages of two basic blocks with nf, 2nf, 4nf, 8nf channels (stride 2
from the second stage on, a 1×1 convolution with BatchNorm on the shortcut where the shape
changes), global average pooling (``avg_pool2d(out, 4)`` on 32×32 inputs) and one linear
layer. Convolutions have no bias; every one is followed by BatchNorm. Weights keep PyTorch's
default initialisation, as in all three.

BatchNorm under the harness: the loop trains in ``train()`` mode (each forward pass normalises
by its own batch and updates the running statistics), evaluation runs in ``eval()`` mode (the
running statistics), and EWC's Fisher is computed in ``eval()`` mode, so it leaves them as
they are (:mod:`hebbnet.continual.strategies.importance`). Replay strategies pass the incoming
and the replayed batch through the network separately, as Caccia et al.'s code does, so each is
normalised by its own statistics (Mammoth's ER concatenates them into one batch).

The convolutions' weights are kept in PyTorch's ``channels_last`` layout, so every
convolution computes and returns its activations in it too: the layout cuDNN's convolutions
and bf16 autocast (``train.precision=bf16``) run fastest in on a GPU, and on this CPU a step
of the reduced network takes a quarter less time than in the contiguous layout. Inputs come in
any layout (per-sample gradients under ``torch.func.vmap``, EWC's Fisher, cannot convert them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from hebbnet.registry import register_model

STAGES = 4  # of two basic blocks each: 2 + 4·2·2 + 1 = 18 layers with weights


@dataclass
class ResNet18Config:
    name: str = "resnet18"
    width: int = 20  # nf, the first stage's channels: 20 reduced (GEM, ER-ACE), 64 full (Mammoth)


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with BatchNorm and a residual connection (He et al. 2016):
    ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``, the shortcut a strided 1×1
    convolution with BatchNorm where the shape changes, else the identity.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        stride: of the first convolution (2 halves height and width).

    Shape: (N, in_channels, H, W) → (N, out_channels, H / stride, W / stride).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet-18 for small images (see the module): a 3×3 stem, four stages of two
    :class:`BasicBlock` s, global average pooling and a linear readout.

    Args:
        in_channels: channels of the input images (3 for CIFAR).
        n_outputs: output units (logits).
        width: channels of the first stage (nf); the stages have nf, 2nf, 4nf and 8nf.

    Shape: (N, in_channels, H, W) images → (N, n_outputs) logits.
    """

    def __init__(self, in_channels: int, n_outputs: int, width: int = 20):
        super().__init__()
        if width < 1:
            raise ValueError(f"model.width is the first stage's channels (nf), a positive "
                             f"number: 20 (reduced ResNet-18) or 64 (full); got {width}.")
        self.conv1 = conv3x3(in_channels, width)
        self.bn1 = nn.BatchNorm2d(width)
        channels = [width * 2 ** stage for stage in range(STAGES)]
        stages, previous = [], width
        for stage, planes in enumerate(channels):
            stride = 1 if stage == 0 else 2
            stages.append(nn.Sequential(BasicBlock(previous, planes, stride), BasicBlock(planes, planes)))
            previous = planes
        self.stages = nn.Sequential(*stages)
        self.linear = nn.Linear(previous, n_outputs)
        self.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # not in the stub

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled output of the last stage, (N, 8·width)."""
        out = F.relu(self.bn1(self.conv1(x)))
        return F.adaptive_avg_pool2d(self.stages(out), 1).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(x))


@register_model("resnet18", ResNet18Config)
def build_resnet18(cfg: ResNet18Config, input_shape: Sequence[int], n_outputs: int,
                   n_tasks: int) -> ResNet18:
    return ResNet18(input_shape[0], n_outputs, cfg.width)
