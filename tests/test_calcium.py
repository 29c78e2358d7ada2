"""The calcium-threshold rule: the BCM-like frequency curve, coincidence detection, exactness."""

import pytest
import torch

from hebbnet.layers import SpikingLinear
from hebbnet.rules import CalciumRule
from hebbnet.spiking import LIF


def stimulate(frequency_hz: float, pulses: int, rho: float = 0.5, dt: float | None = None,
              post_delay_ms: float | None = None, **rule_kwargs) -> float:
    """Change of ρ after a presynaptic train (optionally each pulse followed by a post spike
    ``post_delay_ms`` later), then 500 ms of silence. Steps of ``dt`` (default: one period)."""
    period = 1000.0 / frequency_hz
    dt = dt or period
    rule = CalciumRule(1, 1, dt=dt, **rule_kwargs)
    w = torch.full((1, 1), rho, dtype=torch.float64)
    steps = round(pulses * period / dt) + round(500.0 / dt)
    pre_steps = {round(k * period / dt) for k in range(pulses)}
    post_steps = ({round((k * period + post_delay_ms) / dt) for k in range(pulses)}
                  if post_delay_ms is not None else set())
    for step in range(steps):
        pre = torch.tensor([[float(step in pre_steps)]], dtype=torch.float64)
        post = torch.tensor([[float(step in post_steps)]], dtype=torch.float64)
        w = w + rule.update(pre, post, None, w)
    return float(w) - rho


def test_a_100_hz_tetanus_potentiates():
    assert stimulate(100.0, pulses=100, dt=10.0) > 0.03


def test_1_hz_for_15_minutes_depresses():
    assert stimulate(1.0, pulses=900) < -0.05


def test_change_crosses_zero_at_an_intermediate_frequency():
    """Dudek & Bear's curve: 900 pulses depress at 1–5 Hz, potentiate at 20–100 Hz, and near
    10 Hz change little compared with either end."""
    curve = {f: stimulate(f, pulses=900) for f in (1.0, 5.0, 10.0, 20.0, 100.0)}
    assert curve[1.0] < 0 and curve[5.0] < 0
    assert curve[20.0] > 0 and curve[100.0] > 0
    assert abs(curve[10.0]) < 0.1 * min(abs(curve[1.0]), curve[100.0])


def test_result_does_not_depend_on_the_time_step():
    coarse = stimulate(10.0, pulses=20, dt=100.0)
    fine = stimulate(10.0, pulses=20, dt=1.0)
    assert fine == pytest.approx(coarse, rel=1e-6, abs=1e-9)
    paired_coarse = stimulate(5.0, pulses=20, dt=10.0, post_delay_ms=10.0)
    paired_fine = stimulate(5.0, pulses=20, dt=0.5, post_delay_ms=10.0)
    assert paired_fine == pytest.approx(paired_coarse, rel=1e-6)


def test_pre_then_post_coincidence_potentiates_where_pre_alone_depresses():
    """At 5 Hz the presynaptic train alone depresses; each pulse followed 10 ms later by a
    postsynaptic spike lets the NMDA coincidence term push calcium above θ_p."""
    assert stimulate(5.0, pulses=60, dt=10.0) < 0
    assert stimulate(5.0, pulses=60, dt=10.0, post_delay_ms=10.0) > 0


def test_efficacy_stays_within_zero_and_one():
    assert 0.5 + stimulate(100.0, pulses=5000, dt=10.0) <= 1.0
    assert 0.5 + stimulate(1.0, pulses=5000, dt=1000.0, gamma_d=1e-3) >= 0.0


def test_calcium_rule_drives_a_spiking_layer_and_round_trips():
    torch.manual_seed(0)
    layer = SpikingLinear(6, 2, rule="calcium", neurons=LIF(2), init_max=1.0)
    spikes = (torch.rand(30, 3, 6) < 0.3).float()
    before = layer.weight.clone()
    for step in spikes:
        layer(step)
    assert not torch.equal(before, layer.weight)
    copy = SpikingLinear(6, 2, rule="calcium", neurons=LIF(2))
    copy.load_state_dict(layer.state_dict())
    torch.testing.assert_close(copy.rule.calcium, layer.rule.calcium)


def test_bad_thresholds_are_rejected():
    with pytest.raises(ValueError, match="theta_d < theta_p"):
        CalciumRule(1, 1, theta_d=1.2, theta_p=1.1)
