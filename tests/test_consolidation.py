"""Two-timescale synapses: early changes fade unless tagged and captured."""

import math

import pytest
import torch

from hebbnet.layers import HebbianLinear, SpikingLinear
from hebbnet.plasticity import TagAndCapture
from hebbnet.spiking import LIF


def one_induction(strong: float = 0.2, weak: float = 0.02):
    """A rule that potentiates w[0,0] strongly and w[0,1] weakly once, then rests."""
    calls = []

    def rule(pre, post, weight):
        calls.append(1)
        delta = torch.zeros_like(weight)
        if len(calls) == 1:
            delta[0, 0], delta[0, 1] = strong, weak
        return delta

    return rule


def run(trigger_at: int | None, steps: int = 5000):
    torch.manual_seed(0)
    layer = HebbianLinear(3, 2, rule=one_induction(), lr=1.0,
                          consolidation=TagAndCapture(tau_early=1000.0, theta_tag=0.05,
                                                      tau_capture=100.0, tau_prp=500.0))
    baseline = layer.weight.clone()
    x = torch.ones(1, 3)
    for step in range(steps):
        if step == trigger_at:
            layer.consolidation.trigger(1.0)
        layer(x)
    return layer, layer.weight - baseline


def test_tagged_early_ltp_decays_without_capture():
    layer, change = run(trigger_at=None)
    assert layer.consolidation.tags(layer.weight).sum() == 0
    assert change.abs().max() < 0.2 * math.exp(-4)


def test_tagged_early_ltp_persists_when_prp_arrives():
    layer, change = run(trigger_at=100)
    assert change[0, 0] > 0.1  # half the induced 0.2 captured into the late part
    assert change[0, 1].abs() < 0.02 * math.exp(-4)  # untagged: faded despite the PRP
    assert (layer.consolidation.late - (layer.weight - layer.consolidation.early(layer.weight))
            ).abs().max() == 0


def test_prp_long_after_the_tag_has_faded_captures_nothing():
    _, change = run(trigger_at=4000)
    assert change[0, 0] < 0.2 * math.exp(-3)


def test_one_step_by_hand():
    consolidation = TagAndCapture(tau_early=10.0, theta_tag=0.1, tau_capture=2.0, tau_prp=5.0)
    consolidation.bind(torch.zeros(1, 2))
    weight = torch.tensor([[0.5, 0.05]])
    consolidation.trigger(1.0)
    consolidation.step(weight)
    early = torch.tensor([0.5, 0.05]) * math.exp(-0.1)
    moved = torch.tensor([early[0] * (1 - math.exp(-0.5)), 0.0])
    torch.testing.assert_close(consolidation.late[0], moved)
    torch.testing.assert_close(weight[0], early)
    assert consolidation.prp.item() == pytest.approx(math.exp(-0.2))


def test_eval_freezes_consolidation_and_state_dict_round_trips():
    layer, _ = run(trigger_at=100, steps=200)
    layer.eval()
    frozen = {k: v.clone() for k, v in layer.state_dict().items()}
    layer(torch.ones(1, 3))
    for name, value in frozen.items():
        assert torch.equal(layer.state_dict()[name], value)
    copy = SpikingLinear(3, 2, neurons=LIF(2), consolidation=TagAndCapture())
    copy.consolidation.load_state_dict(layer.consolidation.state_dict())
    torch.testing.assert_close(copy.consolidation.late, layer.consolidation.late)


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="positive time constants"):
        TagAndCapture(tau_early=0.0)
    with pytest.raises(ValueError, match="non-negative"):
        TagAndCapture().trigger(-1.0)
