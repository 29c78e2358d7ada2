"""Bad input to a plastic layer gets one message naming the argument and the fix, never a raw
torch error or a silent wrong result."""

import pytest
import torch

from hebbnet.layers import HebbianConv2d, HebbianLinear, SpikingLinear

LAYERS = {
    "dense": (lambda: HebbianLinear(16, 8), (2, 16)),
    "conv": (lambda: HebbianConv2d(1, 4, 3), (2, 1, 6, 6)),
    "spiking": (lambda: SpikingLinear(16, 8), (2, 16)),
}


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("dtype, fix", [(torch.float64, r"x.to\(torch.float32\) or "
                                                       r"layer.to\(torch.float64\)"),
                                        (torch.int64, r"floating-point input.*/ 255")])
def test_an_input_of_another_dtype_names_both_dtypes_and_the_fix(kind, dtype, fix):
    make, shape = LAYERS[kind]
    with pytest.raises(TypeError, match=rf"weights are torch.float32, its input is {dtype}"
                                        rf".*{fix}"):
        make()(torch.ones(shape, dtype=dtype))


@pytest.mark.parametrize("kind", LAYERS)
def test_an_input_on_another_device_names_both_devices(kind):
    make, shape = LAYERS[kind]
    with pytest.raises(ValueError, match=r"weights are on cpu, its input on meta.*x.to\('cpu'\)"):
        make()(torch.ones(shape, device="meta"))


@pytest.mark.parametrize("kind", LAYERS)
def test_nan_input_while_learning_is_refused(kind):
    make, shape = LAYERS[kind]
    x = torch.ones(shape)
    x.view(-1)[0] = float("nan")
    with pytest.raises(ValueError, match="NaN or Inf input"):
        make()(x)


@pytest.mark.parametrize("kind", LAYERS)
def test_on_an_accelerator_nan_input_is_named_at_the_next_check_without_a_sync_per_step(
        kind, monkeypatch):
    """Where reading a value waits for the device (CUDA), the finiteness of the inputs is kept
    on the device and read at the periodic weight check: no error on the bad step itself, the
    error (naming the input, not the NaN weights) at the check."""
    import hebbnet.layers.plastic as plastic

    monkeypatch.setattr(plastic, "_reads_are_free", lambda device: False)
    make, shape = LAYERS[kind]
    layer = make()
    layer.check_every = 4
    bad = torch.ones(shape)
    bad.view(-1)[0] = float("nan")
    layer(torch.ones(shape))
    layer(bad)  # accepted for now: nothing read from the device
    layer(torch.ones(shape))
    with pytest.raises(ValueError, match="NaN or Inf input within its last 4 updates"):
        layer(torch.ones(shape))
