"""Plastic layers that drop into any ``nn.Module``: ``from hebbnet.layers import HebbianLinear``."""

from hebbnet.layers.plastic import UPDATE_MODES, HebbianConv2d, HebbianLinear, PlasticLayer

__all__ = ["UPDATE_MODES", "HebbianConv2d", "HebbianLinear", "PlasticLayer"]
