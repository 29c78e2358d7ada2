"""Spiking neurons, encoders and the spiking layer: dynamics, contracts and bad input."""

import math
import warnings

import pytest
import torch

from hebbnet.layers import SpikingLinear
from hebbnet.spiking import (
    LIF,
    AdaptiveLIF,
    LIFParameters,
    ThresholdAdaptation,
    latency_spikes,
    lif_initial_state,
    lif_step,
    poisson_events,
    poisson_spikes,
)


def test_lif_step_relaxes_exactly_and_integrates_input():
    params = LIFParameters(tau_mem=10.0, v_rest=-65.0, v_threshold=-50.0)
    state = lif_initial_state((1, 1), params)
    state = state._replace(v=torch.tensor([[-55.0]]))
    state, spikes = lif_step(state, torch.tensor([[2.0]]), params, dt=1.0)
    assert state.v.item() == pytest.approx(-65.0 + 10.0 * math.exp(-0.1) + 2.0)
    assert spikes.item() == 0.0


def test_lif_fires_resets_and_stays_refractory():
    params = LIFParameters(tau_mem=10.0, v_rest=-65.0, v_reset=-70.0, v_threshold=-52.0,
                           refractory=3.0)
    neurons = LIF(1, params)
    assert neurons(torch.tensor([[20.0]])).item() == 1.0
    assert neurons.state.v.item() == -70.0
    for step in range(1, 4):  # input ignored for 3 ms; the membrane still relaxes to rest
        assert neurons(torch.tensor([[50.0]])).item() == 0.0
        assert neurons.state.v.item() == pytest.approx(-65.0 - 5.0 * math.exp(-step / 10))
    assert neurons(torch.tensor([[50.0]])).item() == 1.0


def test_constant_drive_rate_follows_the_lif_formula():
    """Interspike interval of an LIF neuron driven by a constant jump I per step:
    the first n with v_rest + I(1 − a^n)/(1 − a) ≥ ϑ, a = e^{−dt/τ}."""
    params = LIFParameters(tau_mem=20.0, v_rest=-65.0, v_reset=-65.0, v_threshold=-52.0)
    neurons = LIF(1, params)
    spikes = torch.cat([neurons(torch.tensor([[1.0]])) for _ in range(1000)])
    a = math.exp(-1 / 20)
    interval = next(n for n in range(1, 100) if 1.0 * (1 - a ** n) / (1 - a) >= 13.0)
    assert spikes.sum().item() == 1000 // interval


def test_adaptive_threshold_rises_with_spikes_and_is_frozen_in_eval():
    adaptation = ThresholdAdaptation(theta_plus=0.5, tau_theta=1e7)
    neurons = AdaptiveLIF(2, adaptation=adaptation)
    drive = torch.tensor([[30.0, 0.0]])
    neurons(drive)
    assert neurons.theta[0].item() == pytest.approx(0.5)
    assert neurons.theta[1].item() == 0.0
    neurons.eval()
    neurons.reset()
    neurons(drive)
    assert neurons.theta[0].item() == pytest.approx(0.5)


def test_poisson_spike_counts_match_the_rate():
    generator = torch.Generator().manual_seed(0)
    spikes = poisson_spikes(torch.full((4, 500), 50.0), steps=1000, dt=1.0, generator=generator)
    assert spikes.shape == (1000, 4, 500)
    assert set(spikes.unique().tolist()) <= {0.0, 1.0}
    rate = spikes.sum(0).mean().item()  # spikes per second per neuron
    assert rate == pytest.approx(50.0, rel=0.02)


def test_poisson_events_are_bernoulli_trains_listed_by_sample_then_step():
    generator = torch.Generator().manual_seed(0)
    rates = torch.tensor([[128.0, 0.0, 8.0], [64.0, 128.0, 0.0]])
    counts = torch.zeros(2, 3)
    same_step_pairs = 0
    for _ in range(400):
        step, sample, index = poisson_events(rates, steps=250, generator=generator)
        key = sample * 250 + step
        assert (key[1:] >= key[:-1]).all()
        assert len(set(zip(step.tolist(), sample.tolist(), index.tolist()))) == len(step)
        counts.index_put_((sample, index), torch.ones(len(step)), accumulate=True)
        dense = torch.zeros(250, 2, 3, dtype=torch.bool)
        dense[step, sample, index] = True
        same_step_pairs += int((dense[:, 1, 0] & dense[:, 1, 1]).sum())
    expected = rates * 0.25 * 400  # rate × 250 ms × 400 trains
    torch.testing.assert_close(counts, expected, rtol=0.03, atol=30)
    assert counts[0, 1] == 0 and counts[1, 2] == 0
    # independent inputs: coincidences at the product of the probabilities
    assert same_step_pairs / (400 * 250) == pytest.approx(0.064 * 0.128, rel=0.1)


def test_latency_code_fires_once_earlier_for_stronger_inputs():
    spikes = latency_spikes(torch.tensor([[1.0, 0.5, 0.0]]), steps=11)
    assert spikes[:, 0, 0].nonzero().item() == 0
    assert spikes[:, 0, 1].nonzero().item() == 5
    assert spikes[:, 0, 2].sum() == 0


@pytest.mark.parametrize("encode, bad, message", [
    (lambda x: poisson_spikes(x, 10), torch.tensor([float("nan")]), "NaN"),
    (lambda x: poisson_spikes(x, 10), torch.tensor([-1.0]), "non-negative"),
    (lambda x: poisson_spikes(x, 10), torch.tensor([2000.0]), "exceeds one spike per step"),
    (lambda x: latency_spikes(x, 10), torch.tensor([1.5]), r"\[0, 1\]"),
])
def test_encoders_reject_bad_intensities(encode, bad, message):
    with pytest.raises(ValueError, match=message):
        encode(bad)


def test_lif_parameters_that_cannot_work_are_rejected():
    with pytest.raises(ValueError, match="v_reset"):
        LIFParameters(v_reset=-50.0, v_threshold=-52.0)
    with pytest.raises(ValueError, match=r"shape \(batch, 3\)"):
        LIF(3)(torch.zeros(2, 4))


def _drive(layer: SpikingLinear, steps: int = 60, rate: float = 200.0, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    inputs = poisson_spikes(torch.full((2, layer.in_features), rate), steps, generator=generator)
    return torch.stack([layer(s) for s in inputs])


def test_spiking_layer_learns_in_training_and_freezes_everything_in_eval():
    torch.manual_seed(0)
    layer = SpikingLinear(30, 4, neurons=AdaptiveLIF(4), init_max=2.0)
    before = layer.weight.clone()
    _drive(layer)
    assert not torch.equal(layer.weight, before)
    assert (layer.neurons.theta > 0).any()
    assert layer.weight.min() >= 0 and layer.weight.max() <= layer.w_max
    layer.eval()
    frozen = {k: v.clone() for k, v in layer.state_dict().items() if "trace" not in k}
    layer.reset()
    out = _drive(layer, seed=1)
    assert out.sum() > 0
    for name, value in frozen.items():
        assert torch.equal(layer.state_dict()[name], value), name


def test_spiking_layer_grad_mode_hands_the_update_to_an_optimizer():
    torch.manual_seed(0)
    local = SpikingLinear(30, 4, init_max=2.0)
    grad = SpikingLinear(30, 4, init_max=2.0, update="grad")
    grad.load_state_dict(local.state_dict())
    optimizer = torch.optim.SGD(grad.parameters(), lr=1.0)
    generator = torch.Generator().manual_seed(0)
    for step in poisson_spikes(torch.full((2, 30), 200.0), 5, generator=generator):
        local(step)
        optimizer.zero_grad()
        grad(step)
        optimizer.step()
        grad.weight.data.clamp_(0, grad.w_max)
    torch.testing.assert_close(grad.weight, local.weight)


def test_spiking_layer_state_dict_round_trips_weights_thresholds_and_traces():
    torch.manual_seed(0)
    layer = SpikingLinear(30, 4, neurons=AdaptiveLIF(4), init_max=2.0)
    _drive(layer, steps=20)
    copy = SpikingLinear(30, 4, neurons=AdaptiveLIF(4))
    copy.load_state_dict(layer.state_dict())
    for name, value in layer.state_dict().items():
        torch.testing.assert_close(copy.state_dict()[name], value)
    assert copy.rule.pre_trace.shape == (2, 30)


def test_spiking_layer_runs_in_float64_and_batch_one():
    layer = SpikingLinear(10, 3, init_max=5.0).to(torch.float64)
    out = layer(torch.ones(1, 10, dtype=torch.float64))
    assert out.dtype == torch.float64 and out.shape == (1, 3)


def test_spiking_layer_rejects_mismatched_time_steps_and_nan_input():
    from hebbnet.rules import STDP

    with pytest.raises(ValueError, match="same dt"):
        SpikingLinear(5, 2, rule=STDP(5, 2, dt=0.5), neurons=LIF(2, dt=1.0))
    with pytest.raises(ValueError, match="NaN"):
        SpikingLinear(5, 2)(torch.full((1, 5), float("nan")))


def test_a_converted_bias_free_network_predicts_as_the_ann_does():
    """ANN→SNN conversion (data-based normalisation, non-leaky integrate-and-fire, Poisson
    input): on a small bias-free ReLU network trained on digits, the spiking network's most
    active output unit is the ANN's prediction for at least 95 % of the test images over 300
    steps, and its accuracy is within 3 points of the ANN's."""
    from hebbnet.data import load_dataset, to_float
    from hebbnet.models.mlp import MLP
    from hebbnet.spiking.conversion import layer_scales, spiking_forward

    digits = load_dataset("digits")
    x, y = to_float(digits.train_images), digits.train_labels
    torch.manual_seed(0)
    net = MLP((1, 8, 8), [100], 10, bias=False)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(150):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
    test_x, test_y = to_float(digits.test_images), digits.test_labels
    ann = net(test_x).argmax(1)
    layers = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    counts = spiking_forward(layers, test_x, layer_scales(layers, x), 300,
                             torch.Generator().manual_seed(0))
    snn = counts.argmax(1)
    assert (snn == ann).float().mean() >= 0.95
    assert abs((snn == test_y).float().mean() - (ann == test_y).float().mean()) <= 0.03


def test_a_spiking_layer_that_never_fires_says_why_once():
    """Defaults on an 8x8 input at <= 60 Hz once fired nothing, silently (issue 19)."""
    torch.manual_seed(0)
    layer = SpikingLinear(64, 10)
    spikes = poisson_spikes(torch.rand(4, 64) * 60, steps=70)
    with pytest.warns(UserWarning, match=r"fired no spike in 64 steps .* 5\.\d mV above rest "
                                         r".* 13\.0 mV reach the threshold.*init_max=0\.3"):
        for step in spikes[:64]:
            layer(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for step in spikes[64:]:
            layer(step)  # said once; the layer no longer counts
    firing = SpikingLinear(64, 10, init_max=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sum(float(firing(step).sum()) for step in spikes[:64]) > 0
