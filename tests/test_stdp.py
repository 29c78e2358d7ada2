"""Spike-timing rules against their defining experiments and hand-computed updates."""

import math
from functools import partial

import pytest
import torch

from hebbnet.layers import SpikingLinear
from hebbnet.rules import STDP, RewardModulatedSTDP, TripletSTDP
from hebbnet.spiking import LIF, LIFParameters, poisson_spikes


def spike_train(times_ms, duration_ms, dt):
    train = torch.zeros(round(duration_ms / dt), 1, 1)
    for t in times_ms:
        train[round(t / dt), 0, 0] = 1.0
    return train


def weight_change(rule, pre_times, post_times, duration=200.0, weight=0.5):
    """Total ΔW of one synapse when the rule sees these spike times (ms)."""
    pre = spike_train(pre_times, duration, rule.dt)
    post = spike_train(post_times, duration, rule.dt)
    w = torch.full((1, 1), weight)
    return sum(float(rule.update(p, q, None, w)) for p, q in zip(pre, post))


@pytest.mark.parametrize("delta_t", [-50, -20, -5, 5, 20, 50])
def test_pair_window_follows_the_configured_exponentials(delta_t):
    """Pre Δt ms before post potentiates by A₊e^{−Δt/τ₊}; after, depresses by A₋e^{Δt/τ₋}."""
    rule = STDP(1, 1, a_plus=0.01, a_minus=0.012, tau_plus=17.0, tau_minus=34.0)
    change = weight_change(rule, pre_times=[100.0], post_times=[100.0 + delta_t])
    expected = (0.01 * math.exp(-delta_t / 17.0) if delta_t > 0
                else -0.012 * math.exp(delta_t / 34.0))
    assert change == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("delta_t", [-12.0, 8.0])
def test_halving_dt_gives_the_same_change(delta_t):
    changes = [weight_change(STDP(1, 1, dt=dt), [100.0], [100.0 + delta_t]) for dt in (1.0, 0.5)]
    assert changes[1] == pytest.approx(changes[0], rel=1e-4)


def test_nearest_pairing_counts_only_the_latest_presynaptic_spike():
    pre, post = [90.0, 100.0], [110.0]
    all_to_all = weight_change(STDP(1, 1, pairing="all_to_all"), pre, post)
    nearest = weight_change(STDP(1, 1, pairing="nearest"), pre, post)
    assert all_to_all == pytest.approx(0.01 * (math.exp(-20 / 20) + math.exp(-10 / 20)), rel=1e-5)
    assert nearest == pytest.approx(0.01 * math.exp(-10 / 20), rel=1e-5)


def test_multiplicative_dependence_softens_change_near_the_bounds():
    rule = partial(STDP, 1, 1, weight_dependence="multiplicative", w_max=1.0)
    low = weight_change(rule(), [100.0], [105.0], weight=0.1)
    high = weight_change(rule(), [100.0], [105.0], weight=0.9)
    assert low == pytest.approx(9 * high, rel=1e-5)  # ∝ (w_max − w)
    depress_low = weight_change(rule(), [105.0], [100.0], weight=0.1)
    depress_high = weight_change(rule(), [105.0], [100.0], weight=0.9)
    assert depress_high == pytest.approx(9 * depress_low, rel=1e-5)  # ∝ w


def test_triplet_step_equals_the_hand_computed_update():
    rule = TripletSTDP(2, 1, a2_plus=0.1, a3_plus=0.2, a2_minus=0.3, a3_minus=0.4,
                       tau_plus=10.0, tau_minus=20.0, tau_x=30.0, tau_y=40.0)
    w = torch.zeros(1, 2)
    rule.update(torch.tensor([[1.0, 1.0]]), torch.tensor([[1.0]]), None, w)  # t = 0: all fire
    change = rule.update(torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0]]), None, w)  # t = 1 ms
    r1 = torch.tensor([math.exp(-1 / 10) + 1, math.exp(-1 / 10)])
    r2_before = torch.tensor([math.exp(-1 / 30), math.exp(-1 / 30)])
    o1 = math.exp(-1 / 20) + 1
    o2_before = math.exp(-1 / 40)
    potentiation = r1 * (0.1 + 0.2 * o2_before)
    depression = o1 * (0.3 + 0.4 * r2_before) * torch.tensor([1.0, 0.0])
    torch.testing.assert_close(change[0], potentiation - depression)


def pairing_protocol_change(rule_factory, frequency_hz, delta_t, pairs=10):
    period = 1000.0 / frequency_hz
    pre = [50.0 + k * period for k in range(pairs)]
    post = [t + delta_t for t in pre]
    return weight_change(rule_factory(), pre, post, duration=pre[-1] + 200.0)


def test_triplet_rule_potentiation_grows_with_pairing_frequency():
    """Sjöström et al. (2001), reproduced by Pfister & Gerstner (2006): pre→post pairings
    (Δt = +10 ms) potentiate far more at 40 Hz than at 2 Hz, and post→pre pairings at 2 Hz
    depress; a pair rule has no such frequency dependence at low rates."""
    triplet = partial(TripletSTDP, 1, 1)
    low = pairing_protocol_change(triplet, 2.0, +10.0)
    high = pairing_protocol_change(triplet, 40.0, +10.0)
    assert high > 20 * abs(low)
    assert pairing_protocol_change(triplet, 2.0, -10.0) < 0
    pair_low = pairing_protocol_change(lambda: STDP(1, 1), 2.0, +10.0)
    pair_mid = pairing_protocol_change(lambda: STDP(1, 1), 5.0, +10.0)
    assert pair_mid == pytest.approx(pair_low, rel=0.05)


def test_rule_traces_follow_the_batch():
    rule = STDP(3, 2)
    rule.update(torch.ones(4, 3), torch.ones(4, 2), None, torch.zeros(2, 3))
    assert rule.pre_trace.shape == (4, 3)
    rule.update(torch.ones(1, 3), torch.ones(1, 2), None, torch.zeros(2, 3))
    assert rule.pre_trace.shape == (1, 3) and rule.pre_trace.max() == 1.0
    with pytest.raises(ValueError, match=r"\(batch, 3\)"):
        rule.update(torch.ones(1, 4), torch.ones(1, 2), None, torch.zeros(2, 3))


@pytest.mark.parametrize("kwargs, message", [
    ({"pairing": "closest"}, "Unknown pairing 'closest'"),
    ({"weight_dependence": "log"}, "Unknown weight_dependence 'log'"),
    ({"dt": 0.0}, "dt must be positive"),
])
def test_bad_stdp_settings_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        STDP(2, 2, **kwargs)


def go_no_go(layer: SpikingLinear, trials: int, rewarded: bool, seed: int = 0) -> list[float]:
    """Stimulus A (inputs 0–9) and B (10–19) alternate for 50 ms each; the reward is the
    neuron's spike count after A and minus it after B. Returns the spike count per trial."""
    generator = torch.Generator().manual_seed(seed)
    counts = []
    for trial in range(trials):
        stimulus = trial % 2
        rates = torch.zeros(1, 20)
        rates[0, 10 * stimulus: 10 * stimulus + 10] = 100.0
        layer.reset()
        count = float(sum(layer(s) for s in poisson_spikes(rates, 50, generator=generator)))
        counts.append(count)
        if layer.training:
            reward = (count if stimulus == 0 else -count) if rewarded else 0.0
            layer.neuromodulate(layer.rule.prediction_error(reward))
    return counts


def go_no_go_layer() -> SpikingLinear:
    torch.manual_seed(0)
    return SpikingLinear(20, 1, rule=RewardModulatedSTDP(20, 1, tau_eligibility=200.0),
                         neurons=LIF(1, LIFParameters(tau_mem=10.0, refractory=2.0)),
                         lr=5.0, init_max=3.0, w_max=3.0)


def test_reward_modulated_stdp_learns_a_go_no_go_association():
    layer = go_no_go_layer()
    before = go_no_go(layer.eval(), 40, rewarded=False, seed=1)
    go_no_go(layer.train(), 100, rewarded=True)
    after = go_no_go(layer.eval(), 40, rewarded=False, seed=1)
    to_a, to_b = sum(after[0::2]), sum(after[1::2])
    assert to_a > 2 * to_b  # fires for the rewarded stimulus, hardly for the other
    assert sum(before[1::2]) > 2 * to_b  # B's response was suppressed by learning
    w = layer.weight[0]
    assert w[:10].sum() > w[10:].sum() + 5


def test_without_reward_reward_modulated_stdp_learns_nothing():
    layer = go_no_go_layer()
    initial = layer.weight.clone()
    go_no_go(layer, 100, rewarded=False)
    torch.testing.assert_close(layer.weight, initial)
