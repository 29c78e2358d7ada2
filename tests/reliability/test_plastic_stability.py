"""Plastic dynamics never blow up unseen. The rules that are stable in theory stay finite on
random, constant, zero and huge (10⁶) input, in float32 and bfloat16, with and without
homeostasis; plain Hebb (and SoftHebb driven negative) may grow, but stops with a
PlasticityDivergedError naming the rule and the fix before its weights turn into NaN.
``benchmarks/reliability.py plastic`` runs the same for 10⁶ updates and reports the largest
norms."""

import itertools

import pytest
import torch

from hebbnet.homeostasis import IntrinsicPlasticity, SynapticScaling, WeightNormalization
from hebbnet.layers import HebbianConv2d, HebbianLinear, PlasticityDivergedError, SpikingLinear

STABLE_RULES = ("oja", "sanger", "bcm", "softhebb")
INPUTS = {
    "random": lambda g: torch.rand(4, 16, generator=g),
    "constant": lambda g: torch.full((4, 16), 0.5),
    "zero": lambda g: torch.zeros(4, 16),
    "huge": lambda g: torch.rand(4, 16, generator=g) * 1e6,
}
DTYPES = (torch.float32, torch.bfloat16)


def layer(rule: str, dtype=torch.float32, homeostasis: bool = False, lr: float = 0.01):
    torch.manual_seed(0)
    mechanisms = [SynapticScaling(8, target=0.5, strength=0.1), IntrinsicPlasticity(8, 0.5)]
    return HebbianLinear(16, 8, rule=rule, lr=lr,
                         homeostasis=mechanisms if homeostasis else []).to(dtype)


def drive(plastic, inputs: str, updates: int, dtype=torch.float32):
    g = torch.Generator().manual_seed(1)
    for _ in range(updates):
        plastic(INPUTS[inputs](g).to(dtype))
    return plastic.weight.float()


@pytest.mark.parametrize("rule, inputs, dtype, homeostasis",
                         list(itertools.product(STABLE_RULES, INPUTS, DTYPES, (False, True))))
def test_stable_rules_stay_finite_on_any_input(rule, inputs, dtype, homeostasis):
    weight = drive(layer(rule, dtype, homeostasis), inputs, 1000, dtype)
    assert torch.isfinite(weight).all()


@pytest.mark.parametrize("inputs, dtype", list(itertools.product(["random", "constant"], DTYPES)))
def test_oja_still_converges_to_unit_norm(inputs, dtype):
    weight = drive(layer("oja", dtype), inputs, 2000, dtype)
    torch.testing.assert_close(weight.norm(dim=1), torch.ones(8), atol=0.02, rtol=0)


@pytest.mark.parametrize("inputs, dtype", [("random", torch.float32), ("huge", torch.float32),
                                           ("random", torch.bfloat16), ("random", torch.float16)])
def test_plain_hebb_grows_but_stops_with_a_named_error_before_nan(inputs, dtype):
    plastic = layer("hebb", dtype)
    with pytest.raises(PlasticityDivergedError) as error:
        drive(plastic, inputs, 20_000, dtype)
    message = str(error.value)
    assert "HebbianLinear(in_features=16" in message and "Hebb(decay=0.0)" in message
    assert "Lower lr" in message and "homeostasis" in message
    assert ("use float32" in message) == (dtype != torch.float32)
    if inputs != "huge":  # caught before overflow (a 10⁶ input overflows within 64 updates)
        assert torch.isfinite(plastic.weight).all()


def test_softhebb_with_negative_drive_grows_and_stops_with_a_named_error():
    # ΔW_k = y_k (x − u_k W_k): with u_k < 0 the second term pushes W_k out, not back
    # (d‖W_k‖²/dt ∝ y_k u_k (1 − ‖W_k‖²)), so SoftHebb holds its norm only where drive is positive.
    plastic = layer("softhebb", torch.float32, False)
    plastic.weight.data = -2 * torch.ones(8, 16) / 4  # every unit: norm 2, negative drive
    with pytest.raises(PlasticityDivergedError) as error:
        drive(plastic, "random", 20_000, torch.float32)
    message = str(error.value)
    assert "SoftHebb(" in message and "use a stabilising rule" not in message


@pytest.mark.parametrize("rule", ["hebb", "oja", "softhebb"])
def test_synaptic_scaling_leaves_silent_units_alone(rule):
    plastic = HebbianLinear(16, 8, rule=rule, lr=0.01,
                            homeostasis=[SynapticScaling(8, target=0.5, strength=0.5)])
    before = plastic.weight.clone()
    drive(plastic, "zero", 2000)
    assert torch.equal(plastic.weight, before)  # no input, nothing to scale toward
    assert (plastic.homeostasis[0].rate < 0.5).all()  # the silence was still measured


def test_weight_normalization_in_half_precision_keeps_zero_rows_finite():
    for dtype in (torch.float16, torch.bfloat16):
        weight = torch.zeros(3, 4, dtype=dtype)
        weight[0] = 300.0  # its float16 norm, 600, is fine; its square sum overflows float16
        WeightNormalization(1.0).regulate(weight, torch.zeros(1, 3), torch.zeros(1, 3))
        assert torch.isfinite(weight).all() and weight[1:].eq(0).all()
        assert weight[0].float().norm().item() == pytest.approx(1.0, rel=0.01)


def test_weights_are_checked_every_check_every_updates_only(monkeypatch):
    plastic = layer("oja")
    checks = []
    monkeypatch.setattr(plastic, "check_weights", lambda: checks.append(plastic.updates))
    drive(plastic, "random", 200)
    assert checks == [64, 128, 192]


@pytest.mark.parametrize("make", [
    lambda: HebbianLinear(16, 8, rule="hebb", lr=1.0),
    lambda: HebbianConv2d(1, 4, 3, rule="hebb", lr=1.0),
    lambda: SpikingLinear(16, 8, rule=lambda pre, post, w: torch.full_like(w, float("nan")),
                          w_max=None),
])
def test_every_plastic_layer_checks_its_weights(make):
    plastic = make()
    plastic.check_every = 1
    x = torch.rand(2, 1, 6, 6) if isinstance(plastic, HebbianConv2d) else torch.rand(2, 16)
    with pytest.raises(PlasticityDivergedError):
        for _ in range(200):
            plastic(x * 100)
