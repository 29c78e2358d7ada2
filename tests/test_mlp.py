import math

import pytest
import torch

from hebbnet.models.mlp import MLP


def test_xavier_init_draws_within_the_glorot_bound_with_zero_biases():
    torch.manual_seed(0)
    net = MLP((1, 28, 28), [100, 100], 10, init="xavier")
    for layer in (net.features[1], net.features[3], net.head):
        fan_out, fan_in = layer.weight.shape
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        assert layer.weight.abs().max() <= bound
        assert layer.weight.abs().max() > 0.9 * bound  # uniform over the whole range
        assert torch.count_nonzero(layer.bias) == 0


def test_default_init_is_pytorchs_linear():
    torch.manual_seed(0)
    net = MLP((1, 28, 28), [100], 10)
    first = net.features[1]
    assert first.weight.abs().max() <= 1 / math.sqrt(784)
    assert torch.count_nonzero(first.bias) > 0


def test_unknown_init_is_rejected():
    with pytest.raises(ValueError, match="Unknown init 'he'; valid: default, xavier"):
        MLP((1, 8, 8), [4], 2, init="he")
