"""Hostile input to a plastic part gets a named error or a warning, never a silent NaN or a
silent wrong answer (issue 33): outputs that turn non-finite stop the run on their step, spike
rules refuse values that are not spikes, fixed codes refuse NaN, a BCM layer that falls silent
says why, rules that rank k units refuse smaller layers, and bfloat16 maps and codes work.
``benchmarks/reliability.py hostile`` runs every part on every hostile input for 10⁴ updates."""

import warnings

import pytest
import torch

from hebbnet.layers import (
    HebbianConv2d,
    HebbianLinear,
    PlasticityDivergedError,
    SparseCode,
    SpikingLinear,
    TopographicMap,
)
from hebbnet.models.hebbian_dense import DenseHebbianFeatures
from hebbnet.rules import BCM, Competitive, KrotovHopfield
from hebbnet.structural import Neurogenesis

HUGE = {  # a layer whose output overflows on 10⁶ input, and its input
    "dense hebb": (lambda: HebbianLinear(16, 8, rule="hebb"), (4, 16)),
    "dense reward_hebb": (lambda: HebbianLinear(16, 8, rule="reward_hebb"), (4, 16)),
    "conv hebb": (lambda: HebbianConv2d(1, 8, 3, rule="hebb"), (4, 1, 6, 6)),
}


def step(layer, x):
    y = layer(x)
    if hasattr(layer.rule, "prediction_error"):  # a three-factor rule: reward it
        layer.neuromodulate(layer.rule.prediction_error(1.0))
    return y


@pytest.mark.parametrize("kind", HUGE)
def test_an_output_that_turns_non_finite_stops_the_run_on_its_step(kind):
    make, shape = HUGE[kind]
    torch.manual_seed(0)
    layer = make()
    generator = torch.Generator().manual_seed(1)
    with pytest.raises(PlasticityDivergedError) as error:
        for _ in range(layer.check_every - 1):  # before the first weight check
            step(layer, torch.rand(shape, generator=generator) * 1e6)
    message = str(error.value)
    assert f"{type(layer).__name__}(" in message and repr(layer.rule) in message
    assert f"output became NaN or infinite at plastic update {layer.updates + 1}" in message
    assert "from finite input" in message and "Lower lr" in message
    assert layer.updates < 10


def test_on_an_accelerator_a_non_finite_output_is_named_at_the_next_check(monkeypatch):
    import hebbnet.layers.plastic as plastic

    monkeypatch.setattr(plastic, "_reads_are_free", lambda device: False)
    torch.manual_seed(0)
    layer = HebbianLinear(16, 8, rule="hebb")
    layer.check_every = 8
    generator = torch.Generator().manual_seed(1)
    for _ in range(7):  # Inf from the fifth update on: nothing read from the device yet
        layer(torch.rand(4, 16, generator=generator) * 1e6)
    with pytest.raises(PlasticityDivergedError, match="output became NaN or infinite within "
                                                      "its last 8 updates, from finite input"):
        layer(torch.rand(4, 16, generator=generator) * 1e6)


SPIKE_RULES = ("stdp", "triplet_stdp", "reward_stdp", "calcium")


@pytest.mark.parametrize("rule", SPIKE_RULES)
@pytest.mark.parametrize("value", [1e6, 0.5, 1e-30])
def test_a_spike_rule_refuses_input_that_is_not_spikes(rule, value):
    layer = SpikingLinear(16, 8, rule=rule)
    before = layer.weight.clone()
    spikes = (torch.rand(4, 16, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    with pytest.raises(ValueError, match=r"from spikes, values 0 or 1, but \d+ of its 64 inputs "
                                         r"are not.*poisson_spikes.*latency_spikes"):
        layer(spikes * value if value != 0.5 else torch.full((4, 16), 0.5))
    assert torch.equal(layer.weight, before)


@pytest.mark.parametrize("rule", SPIKE_RULES)
def test_a_spike_rule_takes_spikes_and_a_frozen_layer_takes_anything(rule):
    layer = SpikingLinear(16, 8, rule=rule)
    for _ in range(3):
        layer((torch.rand(4, 16) < 0.5).float())
    layer.eval()
    assert layer(torch.full((4, 16), 0.5)).shape == (4, 8)  # not learning: nothing to spoil


def test_a_spiking_layer_with_a_rule_of_its_own_takes_graded_input():
    layer = SpikingLinear(16, 8, rule=lambda pre, post, w: post.T @ pre)
    layer(torch.full((4, 16), 0.5))
    assert layer.updates == 1


def test_on_an_accelerator_input_that_is_not_spikes_is_named_at_the_next_check(monkeypatch):
    import hebbnet.layers.plastic as plastic

    monkeypatch.setattr(plastic, "_reads_are_free", lambda device: False)
    layer = SpikingLinear(16, 8)
    layer.check_every = 2
    layer(torch.full((4, 16), 0.5))
    with pytest.raises(ValueError, match="within its last 2 updates, or values other than 0 and 1"):
        layer(torch.zeros(4, 16))


CODES = {
    "dense": lambda: SparseCode(16, 32, 4, seed=0),
    "fan_in": lambda: SparseCode(16, 32, 4, fan_in=4, seed=0),
    "neurogenesis": lambda: SparseCode(16, 32, 4, seed=0, neurogenesis=Neurogenesis(32, 16, 1.0)),
}


@pytest.mark.parametrize("kind", CODES)
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_sparse_code_refuses_nan_or_inf_input(kind, value):
    x = torch.rand(3, 16)
    x[1, 5] = value
    code = CODES[kind]()
    with pytest.raises(ValueError, match=r"SparseCode.forward received NaN or Inf input \(1 of "
                                         r"48 values\).*Check what feeds it"):
        code(x)
    code.eval()  # a fixed code: refused whether training or not
    with pytest.raises(ValueError, match="SparseCode.forward"):
        code(x)


def test_calibrating_a_sparse_code_on_nan_is_refused_and_keeps_the_thresholds():
    code = SparseCode(16, 32, 4, seed=0)
    code.calibrate(torch.rand(50, 16))
    thresholds = code.threshold.clone()
    data = torch.rand(50, 16)
    data[7, 3] = float("nan")
    with pytest.raises(ValueError, match="SparseCode.calibrate received NaN or Inf input.*every "
                                         "threshold would become NaN"):
        code.calibrate(data)
    assert torch.equal(code.threshold, thresholds)


def test_a_binary_sparse_code_in_bfloat16_codes_as_in_float32():
    code = SparseCode(16, 32, 4, fan_in=4, seed=0)
    x = (torch.rand(5, 16) < 0.5).float()  # exact in bfloat16, so are the sums
    torch.testing.assert_close(code.to(torch.bfloat16)(x.bfloat16()).float(),
                               code.float()(x))


def test_a_bcm_layer_whose_units_all_fall_silent_warns_once_with_the_reason():
    """Constant input at lr 0.01 and tau 100: lr·⟨|x|²⟩·tau = 4, the threshold lags, the
    response overshoots and depression silences every unit (by update ~500)."""
    torch.manual_seed(0)
    layer = HebbianLinear(16, 8, rule="bcm")
    x = torch.full((4, 16), 0.5)
    with pytest.warns(UserWarning, match=r"every unit's response to the batch at plastic update "
                                         r"\d+ rounds to 0.*lr·⟨\|x\|²⟩·tau = 4 > 1.*tau"):
        for _ in range(1000):
            layer(x)
    assert float(layer(x).max()) < 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(200):
            layer(x)  # said once


def test_a_bcm_layer_whose_threshold_keeps_up_settles_and_says_nothing():
    torch.manual_seed(0)
    layer = HebbianLinear(16, 8, rule=BCM(8, tau=10.0))  # lr·⟨|x|²⟩·tau = 0.4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2000):
            y = layer(torch.full((4, 16), 0.5))
    assert y.max() == pytest.approx(1.0, abs=0.01)  # the one-pattern fixed point y = θ = 1


@pytest.mark.parametrize("rule", ["softhebb", "kohonen"])
def test_a_normalised_response_to_huge_drives_is_not_called_silent(rule):
    """A softmax or a neighbourhood peaks near 1 however large the drive: not silence."""
    torch.manual_seed(0)
    layer = HebbianLinear(16, 8, rule=rule).to(torch.bfloat16)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "every unit's response")
        for _ in range(200):
            layer((torch.rand(4, 16) * 1e6).bfloat16())


def test_a_spiking_layer_that_learning_silences_later_says_so_once():
    """Triplet STDP's default amplitudes on 200 Hz of uncorrelated input: a few spikes in the
    first window, none from step ~1,000 on; the layer watches one window in 16."""
    torch.manual_seed(0)
    layer = SpikingLinear(16, 8, rule="triplet_stdp")
    generator = torch.Generator().manual_seed(1)
    with pytest.warns(UserWarning, match=r"fired no spike in 64 steps \(steps 1025 to 1088\).*"
                                         r"Learning has moved its mean weight to 0\.1\d+ mV"):
        for _ in range(1088):
            layer((torch.rand(4, 16, generator=generator) < 0.2).float())
    assert layer.silence_check is None  # said once: the layer stops counting


def test_a_silent_layer_of_zero_input_is_not_warned_about():
    layer = HebbianLinear(16, 8, rule="bcm")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(200):
            layer(torch.zeros(4, 16))


@pytest.mark.parametrize("make", [
    lambda: HebbianLinear(16, 4, rule="krotov_hopfield"),
    lambda: HebbianConv2d(1, 4, 3, rule=KrotovHopfield(k=7)),
    lambda: SpikingLinear(16, 2, rule=Competitive(k=3)),
])
def test_a_rule_that_ranks_more_units_than_the_layer_has_is_refused_when_built(make):
    with pytest.raises(ValueError, match=r"\(k=(7|3)\) ranks the (7|3) largest drives of each "
                                         r"sample, but the layer has (4|2) units: give the layer "
                                         r"at least (7|3) units, or the rule a smaller k"):
        make()


def test_the_dense_model_names_its_keys_when_its_rule_does_not_fit():
    with pytest.raises(ValueError, match=r"model.rule=krotov_hopfield with model.rule_options=\{\} "
                                         r"and model.width=5: KrotovHopfield\(k=7\)"):
        DenseHebbianFeatures((1, 4, 4), 5)


@pytest.mark.parametrize("sheet", [(4, 4), (300,)])
def test_a_topographic_map_learns_in_bfloat16_on_an_exact_sheet(sheet):
    torch.manual_seed(0)
    layer = TopographicMap(16, sheet).to(torch.bfloat16)
    before = layer.weight.clone()
    y = layer(torch.rand(8, 16).bfloat16())
    assert y.dtype == torch.bfloat16 and y.max() == 1  # the winner's own neighbourhood
    assert not torch.equal(layer.weight, before)
    positions = layer.rule.coordinates.unique(dim=0)  # past 256 bfloat16 would round them
    assert len(positions) == layer.out_features and positions.max() == max(sheet) - 1


def test_sanger_in_bfloat16_on_huge_input_keeps_its_rows():
    """Its implicit step (I + ηL)⁻¹ΔW is added in float32: rounded to bfloat16 first, a step
    of nearly −W cancelled whole rows to exactly 0 (all of them within 1,200 updates)."""
    torch.manual_seed(0)
    layer = HebbianLinear(16, 8, rule="sanger").to(torch.bfloat16)
    generator = torch.Generator().manual_seed(1)
    for _ in range(1500):
        layer((torch.rand(4, 16, generator=generator) * 1e6).bfloat16())
    assert (layer.weight.float().norm(dim=1) > 0).all()
