"""Journé et al.'s (2023) convolutional SoftHebb network: three blocks of BatchNorm (no affine)
→ ``HebbianConv2d`` (SoftHebb with anti-Hebbian losers, norm-adaptive rates, updates scaled to
a unit maximum) → triangle activation → pooling, learning without labels or gradients.

Block by block (channels, kernel, inverse softmax temperature, triangle power, learning rate,
pooling), their MNIST/CIFAR-10 architecture: 96 5×5, 1.0, 0.7, 0.08, max 4/2;
384 3×3, 0.65, 1.4, 0.005, max 4/2; 1536 3×3, 0.25, 1.0, 0.01, average 2/2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from hebbnet.layers import HebbianConv2d, Triangle
from hebbnet.models.plastic import PlasticModelConfig, PlasticNetwork, plastic_network
from hebbnet.registry import register_model
from hebbnet.rules import SoftHebb


@dataclass
class SoftHebbConvConfig(PlasticModelConfig):
    name: str = "softhebb_conv"
    depth: int = 3  # blocks of Journé et al. (2023), 1-3

BLOCKS = (
    (96, 5, 1.0, 0.7, 0.08, lambda: nn.MaxPool2d(4, 2, 1)),
    (384, 3, 0.65, 1.4, 0.005, lambda: nn.MaxPool2d(4, 2, 1)),
    (1536, 3, 0.25, 1.0, 0.01, lambda: nn.AvgPool2d(2, 2)),
)


def build_network(depth: int = 3, in_channels: int = 1) -> nn.Sequential:
    """The first ``depth`` blocks, then Flatten."""
    if not 1 <= depth <= len(BLOCKS):
        raise ValueError(f"depth must be 1..{len(BLOCKS)}, got {depth} (model.depth).")
    blocks, channels = [], in_channels
    for width, kernel, inverse_temperature, power, lr, pool in BLOCKS[:depth]:
        rule = SoftHebb(temperature=1 / inverse_temperature, anti_hebbian=True,
                        adaptive_rate=0.5, normalize_update=True)
        conv = HebbianConv2d(channels, width, kernel, padding=kernel // 2, padding_mode="reflect",
                             rule=rule, lr=lr, output="drive", init_gain=25.0)
        blocks.append(nn.Sequential(nn.BatchNorm2d(channels, affine=False), conv,
                                    Triangle(power), pool()))
        channels = width
    return nn.Sequential(*blocks, nn.Flatten())


class SoftHebbConvFeatures(nn.Module):
    """The network of :func:`build_network` as a plastic network's features. BatchNorm keeps a
    cumulative average over every batch it has seen (``momentum=None``), so the statistics of
    one task do not replace another's.

    Args:
        input_shape: (C, H, W) of one image.
        depth: blocks, 1–3.

    Shape: x (N, C, H, W) → h (N, out_features).
    """

    def __init__(self, input_shape: Sequence[int], depth: int = 3):
        super().__init__()
        self.network = build_network(depth, input_shape[0])
        for module in self.network.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.momentum = None
        self.convs = [m for m in self.network.modules() if isinstance(m, HebbianConv2d)]
        self.base_lrs = [conv.lr for conv in self.convs]
        with torch.no_grad():
            probe = self.network.eval()(torch.zeros(1, *input_shape))
        self.network.train()
        self.out_features = probe.shape[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)

    def begin_task(self, task: int, gain: float) -> None:
        for conv, lr in zip(self.convs, self.base_lrs):
            conv.plastic = gain > 0
            conv.lr = lr * gain if gain > 0 else lr


@register_model("softhebb_conv", SoftHebbConvConfig)
def build_softhebb_conv(cfg: SoftHebbConvConfig, input_shape: Sequence[int], n_outputs: int,
                        n_tasks: int) -> PlasticNetwork:
    return plastic_network(cfg, SoftHebbConvFeatures(input_shape, cfg.depth), input_shape,
                           n_outputs)
