"""The layer contracts of DESIGN.md: two update modes, freezing, no graph, state, devices."""

import copy
import math
import warnings

import pytest
import torch
from torch import nn

from hebbnet.homeostasis import IntrinsicPlasticity, SynapticScaling
from hebbnet.layers import HebbianConv2d, HebbianLinear, Triangle
from hebbnet.rules import (
    BCM,
    STDP,
    Competitive,
    Hebb,
    Oja,
    SoftHebb,
    anti_hebbian_credit,
    bcm_threshold,
    bcm_update,
    hebb_update,
    implicit_step,
    instar_update,
    k_winners,
    norm_adaptive_rate,
    oja_update,
    softhebb_update,
)


def data(n=64, d=10, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def test_local_update_is_lr_times_rule_update():
    layer = HebbianLinear(10, 4, rule="hebb", lr=0.05)
    before = layer.weight.clone()
    x = data()
    y = layer(x)
    torch.testing.assert_close(layer.weight, before + 0.05 * hebb_update(x, x @ before.T, before))
    torch.testing.assert_close(y, x @ before.T)


def test_local_update_takes_the_restoring_term_implicitly():
    """Oja in local mode: W_i ← (W_i + lr⟨y_i x⟩)/(1 + lr⟨y_i²⟩), the explicit step to first
    order in lr."""
    layer = HebbianLinear(10, 4, rule="oja", lr=0.05)
    before = layer.weight.clone()
    x = data()
    y = x @ before.T
    layer(x)
    implicit = (before + 0.05 * y.T @ x / len(x)) / (1 + 0.05 * (y * y).mean(0))[:, None]
    torch.testing.assert_close(layer.weight, implicit)
    explicit = before + 0.05 * oja_update(x, y, before)
    assert (layer.weight - explicit).abs().max() < 0.05**2 * 20


def test_grad_mode_writes_negated_update_and_optimizer_applies_it():
    torch.manual_seed(0)
    local = HebbianLinear(10, 4, rule="hebb", lr=0.05, update="local")
    via_optimizer = copy.deepcopy(local)
    via_optimizer.update = "grad"
    optimizer = torch.optim.SGD(via_optimizer.parameters(), lr=0.05)
    for seed in range(3):
        x = data(seed=seed)
        expected_grad = -hebb_update(x, x @ via_optimizer.weight.T, via_optimizer.weight)
        local(x)
        optimizer.zero_grad()
        via_optimizer(x)
        torch.testing.assert_close(via_optimizer.weight.grad, expected_grad)
        optimizer.step()
    torch.testing.assert_close(via_optimizer.weight, local.weight)


def test_eval_and_switch_freeze_weights_rule_state_and_homeostasis():
    layer = HebbianLinear(10, 4, rule=BCM(4), lr=0.05,
                          homeostasis=[SynapticScaling(4, target=0.5), IntrinsicPlasticity(4, 0.5)])
    layer(data(seed=1))  # learn once so the state is not trivial
    frozen = {k: v.clone() for k, v in layer.state_dict().items()}
    layer.eval()
    layer(data(seed=2))
    layer.train()
    layer.plastic = False
    layer(data(seed=3))
    for key, value in layer.state_dict().items():
        assert torch.equal(value, frozen[key]), key


def test_plasticity_builds_no_graph_and_backprop_still_reaches_the_input():
    layer = HebbianLinear(10, 4, rule="softhebb", lr=0.05)
    y = layer(data())
    assert y.grad_fn is None and not layer.weight.requires_grad
    x = data().requires_grad_(True)
    layer(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert layer.weight.grad is None


def test_state_dict_round_trip_resumes_identically():
    torch.manual_seed(0)
    make = lambda: HebbianLinear(10, 4, rule="bcm", lr=0.05,  # noqa: E731
                                 homeostasis=[SynapticScaling(4, target=0.5)])
    layer = make()
    for seed in range(5):
        layer(data(seed=seed).abs())
    clone = make()
    clone.load_state_dict(layer.state_dict())
    assert torch.equal(clone.rule.theta, layer.rule.theta)
    assert torch.equal(clone.homeostasis[0].rate, layer.homeostasis[0].rate)
    for seed in range(5, 8):
        x = data(seed=seed).abs()
        assert torch.equal(layer(x), clone(x))
    assert torch.equal(layer.weight, clone.weight)


def test_float64_and_batch_size_one():
    layer = HebbianLinear(10, 4, rule="sanger", lr=0.01).double()
    before = layer.weight.clone()
    y = layer(data(n=1).double())
    assert y.dtype == torch.float64 and y.shape == (1, 4)
    assert layer.weight.dtype == torch.float64 and not torch.equal(layer.weight, before)


def test_same_seed_same_weights():
    def train(seed):
        torch.manual_seed(seed)
        layer = HebbianLinear(10, 4, rule="competitive", lr=0.1)
        for s in range(5):
            layer(data(seed=s))
        return layer.weight

    assert torch.equal(train(3), train(3))
    assert not torch.equal(train(3), train(4))


def test_conv_update_equals_the_rule_on_unfolded_patches():
    torch.manual_seed(0)
    conv = HebbianConv2d(2, 3, kernel_size=3, padding=1, rule="softhebb", lr=0.1)
    before = conv.weight.clone()
    x = torch.rand(2, 2, 6, 6)
    y = conv(x)
    assert y.shape == (2, 3, 6, 6)
    torch.testing.assert_close(y.sum(1), torch.ones(2, 6, 6))  # softmax over channels

    patches = torch.nn.functional.unfold(x, 3, padding=1).transpose(1, 2).reshape(-1, 18)
    dense = HebbianLinear(18, 3, rule="softhebb", lr=0.1)
    dense.weight.data.copy_(before.reshape(3, 18))
    dense(patches)
    torch.testing.assert_close(conv.weight.reshape(3, 18), dense.weight)


@pytest.mark.parametrize("output", ["response", "drive"])
def test_learning_conv_outputs_and_backpropagates_as_the_frozen_convolution(output):
    """While learning, the drive comes from the patches the rule needs (one product); output
    and input gradient equal those of the plain convolution ("grad" mode: the weights stay put
    until an optimizer steps; in "local" mode backward sees the moved weights, as documented)."""
    torch.manual_seed(0)
    conv = HebbianConv2d(2, 3, kernel_size=3, stride=2, padding=1, rule="softhebb",
                         update="grad", output=output, bias=True)
    frozen = copy.deepcopy(conv).eval()
    x = torch.rand(2, 2, 7, 7, requires_grad=True)
    x_frozen = x.detach().clone().requires_grad_(True)
    y, y_frozen = conv(x), frozen(x_frozen)
    assert y.shape == y_frozen.shape == (2, 3, 4, 4)
    torch.testing.assert_close(y, y_frozen)
    y.square().sum().backward()
    y_frozen.square().sum().backward()
    torch.testing.assert_close(x.grad, x_frozen.grad)
    assert conv.weight.grad is not None and frozen.weight.grad is None


def test_reflect_padded_conv_learns_from_reflected_patches_and_can_output_its_drive():
    torch.manual_seed(0)
    conv = HebbianConv2d(1, 4, kernel_size=3, padding=1, padding_mode="reflect",
                         rule="softhebb", lr=0.1, output="drive")
    before = conv.weight.clone()
    x = torch.rand(2, 1, 5, 5)
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1), mode="reflect")
    torch.testing.assert_close(conv(x), torch.nn.functional.conv2d(padded, before))

    patches = torch.nn.functional.unfold(padded, 3).transpose(1, 2).reshape(-1, 9)
    dense = HebbianLinear(9, 4, rule="softhebb", lr=0.1)
    dense.weight.data.copy_(before.reshape(4, 9))
    dense(patches)
    torch.testing.assert_close(conv.weight.reshape(4, 9), dense.weight)


def test_init_gain_sets_the_initial_weight_norm():
    torch.manual_seed(0)
    norms = HebbianLinear(400, 50, init_gain=25.0).weight.norm(dim=1)
    assert norms.mean().item() == pytest.approx(25.0, rel=0.05)


def test_triangle_passes_only_above_average_channels():
    u = torch.tensor([[1.0, 2.0, 6.0]]).reshape(1, 3, 1, 1)  # channel mean 3
    expected = torch.tensor([0.0, 0.0, 9.0]).reshape(1, 3, 1, 1)
    torch.testing.assert_close(Triangle(power=2.0)(u), expected)
    with pytest.raises(ValueError, match="power must be positive"):
        Triangle(power=0.0)


def test_three_factor_layer_learns_only_with_a_modulator():
    torch.manual_seed(0)
    layer = HebbianLinear(4, 2, rule="reward_hebb", lr=0.5)
    start = layer.weight.clone()
    x = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    layer(x)
    assert torch.equal(layer.weight, start)  # eligibility only
    layer.neuromodulate(0.0)
    assert torch.equal(layer.weight, start)
    layer.neuromodulate(1.0)
    changed = (layer.weight - start).abs() > 0
    assert changed[:, 0].all() and not changed[:, 1:].any()  # only the active input's synapses


def test_neuromodulating_a_two_factor_rule_is_an_error():
    with pytest.raises(TypeError, match="not a three-factor rule"):
        HebbianLinear(4, 2, rule="oja").neuromodulate(1.0)


@pytest.mark.parametrize(
    "make, bad, message",
    [
        (lambda: HebbianLinear(10, 4), torch.zeros(3, 9), r"\(\*, 10\)"),
        (lambda: HebbianLinear(10, 4), torch.zeros(2, 3, 11), r"\(\*, 10\)"),
        (lambda: HebbianConv2d(1, 4, 3), torch.zeros(2, 3, 8, 8), "batch, 1, height, width"),
        (lambda: HebbianLinear(2, 1), torch.tensor([[1.0, float("nan")]]), "NaN or Inf"),
    ],
)
def test_bad_input_is_named(make, bad, message):
    with pytest.raises(ValueError, match=message):
        make()(bad)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="local, grad"):
        HebbianLinear(4, 2, update="hebbian")
    with pytest.raises(ValueError, match="Unknown plasticity rule"):
        HebbianLinear(4, 2, rule="ojas")
    with pytest.raises(ValueError, match="response, drive"):
        HebbianLinear(4, 2, output="spikes")
    with pytest.raises(ValueError, match="zeros, reflect"):
        HebbianConv2d(1, 2, 3, padding_mode="circular")
    with pytest.raises(ValueError, match="adaptive_rate"):
        SoftHebb(adaptive_rate=-1.0)


def test_torch_compile_matches_eager():
    torch.manual_seed(0)
    layer = HebbianLinear(10, 4, rule="softhebb", lr=0.05).eval()
    compiled = torch.compile(layer)
    x = data()
    torch.testing.assert_close(compiled(x), layer(x))


def _references():
    """(rule, ΔW reference, restoring L) per rule in outer-product form, from the pure
    functions that state each rule's equation."""
    def softhebb_rate(w):
        return norm_adaptive_rate(w, 0.5)

    return {
        "hebb": (lambda: Hebb(), lambda x, y, u, w, r: hebb_update(x, y, w), lambda *a: None),
        "hebb_decay": (lambda: Hebb(0.3), lambda x, y, u, w, r: hebb_update(x, y, w, 0.3),
                       lambda x, y, u, w, r: torch.full((len(w),), 0.3)),
        "oja": (lambda: Oja(), lambda x, y, u, w, r: oja_update(x, y, w),
                lambda x, y, u, w, r: (y * y).mean(0)),
        "bcm": (lambda: BCM(4, tau=3.0),
                lambda x, y, u, w, r: bcm_update(x, y, r.theta),
                lambda x, y, u, w, r: r.theta.clamp_min(0) * (x * x).sum(1).mean()),
        "competitive": (lambda: Competitive(2),
                        lambda x, y, u, w, r: instar_update(x, k_winners(u, 2), w),
                        lambda *a: None),
        "k_means": (lambda: Competitive(1, nearest=True, winner_mean=True),
                    lambda x, y, u, w, r: instar_update(
                        x, k_winners(u - 0.5 * (w * w).sum(1), 1), w, winner_mean=True),
                    lambda *a: None),
        "stdp": (lambda: STDP(18, 4, a_plus=0.5, a_minus=0.3),
                 lambda x, y, u, w, r: r.pair_update(x, y, w), lambda *a: None),
        "softhebb": (lambda: SoftHebb(0.5, anti_hebbian=True, adaptive_rate=0.5),
                     lambda x, y, u, w, r: softhebb_update(x, anti_hebbian_credit(y), u, w)
                     * softhebb_rate(w),
                     lambda x, y, u, w, r: (anti_hebbian_credit(y) * u).mean(0).clamp_min(0)
                     * softhebb_rate(w)[:, 0]),
    }


@pytest.mark.parametrize("name", list(_references()))
@pytest.mark.parametrize("update", ["local", "grad"])
@pytest.mark.parametrize("conv", [False, True])
def test_in_place_outer_update_equals_the_rules_equation(name, update, conv):
    """The fused path (one addmm_, one scaling) gives the weights of
    W + lr·(I + lr·L)⁻¹ΔW (local) or the gradient −ΔW (grad), ΔW from the rule's equation."""
    make_rule, reference, restoring = _references()[name]
    torch.manual_seed(0)
    layer = (HebbianConv2d(2, 4, kernel_size=3, rule=make_rule(), lr=0.05, update=update) if conv
             else HebbianLinear(18, 4, rule=make_rule(), lr=0.05, update=update))
    rule_state = make_rule()  # the reference's own copy of the rule's state (BCM's θ)
    for seed in range(3):
        x = torch.rand(3, 2, 4, 4) if conv else data(n=8, d=18, seed=seed).abs()
        pre = (torch.nn.functional.unfold(x, 3).transpose(1, 2).reshape(-1, 18) if conv else x)
        w = layer.weight.detach().reshape(4, 18).clone()
        u = pre @ w.T
        y = rule_state.respond(u)
        if name == "bcm":
            rule_state.theta.copy_(bcm_threshold(rule_state.theta, y, rule_state.tau))
        delta = reference(pre, y, u, w, rule_state)
        layer.weight.grad = None
        layer(x)
        if update == "grad":
            torch.testing.assert_close(layer.weight.grad.reshape(4, 18), -delta)
            layer.weight.data.sub_(0.05 * layer.weight.grad)  # SGD's step, to move on
        else:
            expected = w + 0.05 * implicit_step(delta, restoring(pre, y, u, w, rule_state), 0.05)
            torch.testing.assert_close(layer.weight.reshape(4, 18), expected)


@pytest.mark.parametrize("conv", [False, True])
def test_a_learning_layer_compiles_whole_and_learns_as_in_eager(conv):
    """``torch.compile(fullgraph=True)``: no graph break (the input and weight checks, data-
    dependent branches, run only eagerly), and the same weights as eager mode."""
    torch.manual_seed(0)
    layer = (HebbianConv2d(1, 4, kernel_size=3, rule="softhebb", lr=0.05) if conv
             else HebbianLinear(10, 4, rule="oja", lr=0.05))
    eager = copy.deepcopy(layer)
    compiled = torch.compile(layer, fullgraph=True)
    for seed in range(3):
        x = torch.rand(2, 1, 6, 6) if conv else data(n=8, seed=seed)
        torch.testing.assert_close(compiled(x), eager(x))
    torch.testing.assert_close(layer.weight, eager.weight)


def test_conv_arguments_as_torch_nn_takes_them():
    """kernel_size=(k, k) and padding="same" as for nn.Conv2d; one mechanism needs no list."""
    conv = HebbianConv2d(1, 4, kernel_size=(3, 3), padding="same",
                         homeostasis=SynapticScaling(4, target=0.5))
    assert conv(torch.rand(2, 1, 7, 7)).shape == (2, 4, 7, 7)
    assert conv.kernel_size == 3 and conv.padding == 1 and len(conv.homeostasis) == 1


@pytest.mark.parametrize("make, error, message", [
    (lambda: HebbianConv2d(1, 4, kernel_size=(3, 5)), ValueError, "square"),
    (lambda: HebbianConv2d(1, 4, kernel_size=4, padding="same"), ValueError, "odd kernel_size"),
    (lambda: HebbianConv2d(1, 4, kernel_size=3, padding="valid"), ValueError, '"same"'),
    (lambda: HebbianLinear(10, 4, homeostasis=[torch.nn.ReLU()]), TypeError,
     "takes Homeostasis modules"),
    (lambda: HebbianLinear(10, 4, homeostasis=[SynapticScaling(8, target=0.5)]), ValueError,
     r"keeps rate for 8 units, the layer has 4 outputs: build it with SynapticScaling\(4"),
])
def test_bad_layer_arguments_name_the_argument_and_the_fix(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_the_drive_a_layer_outputs_carries_its_homeostatic_shift():
    """model.homeostasis=[intrinsic] once changed nothing: the drive was emitted unshifted."""
    intrinsic = IntrinsicPlasticity(3, target=0.1)
    intrinsic.threshold.copy_(torch.tensor([0.5, -1.0, 2.0]))
    layer = HebbianLinear(4, 3, output="drive", homeostasis=intrinsic).eval()
    x = torch.rand(5, 4)
    assert torch.allclose(layer(x), x @ layer.weight.T - intrinsic.threshold)


def test_a_competitive_unit_that_homeostasis_lets_win_is_the_one_that_learns():
    torch.manual_seed(0)
    intrinsic = IntrinsicPlasticity(3, target=0.1)
    layer = HebbianLinear(2, 3, rule="competitive", lr=0.5, homeostasis=intrinsic)
    layer.weight.data.copy_(torch.tensor([[1.0, 0.0], [0.9, 0.0], [0.0, 1.0]]))
    intrinsic.threshold.copy_(torch.tensor([1.0, 0.0, 0.0]))  # unit 0 made unexcitable
    before = layer.weight.clone()
    layer(torch.tensor([[1.0, 0.1]]))  # unit 0 has the largest W·x, unit 1 the largest drive
    changed = (layer.weight != before).any(1)
    assert changed.tolist() == [False, True, False]


def test_participation_ratio_counts_the_directions_the_units_outputs_span():
    from hebbnet.layers.plastic import participation_ratio

    generator = torch.Generator().manual_seed(0)
    signal = torch.randn(2000, 1, generator=generator)
    assert participation_ratio(signal * torch.tensor([1.0, -2.0, 0.5, 3.0])) == pytest.approx(1.0)
    independent = torch.randn(20000, 4, generator=generator)  # 4 directions of equal variance
    assert participation_ratio(independent) == pytest.approx(4.0, rel=0.02)
    scaled = torch.randn(20000, 4, generator=generator) * torch.tensor([1.0, 3.0, 10.0, 30.0])
    assert participation_ratio(scaled) == pytest.approx(4.0, rel=0.02)  # correlations: no scale
    assert math.isnan(participation_ratio(torch.ones(10, 4)))  # nothing varies
    one_winner = torch.zeros(32, 8)
    one_winner[:, 2] = torch.rand(32, generator=generator)  # a competition one unit won: the
    assert math.isnan(participation_ratio(one_winner))  # silent losers are no redundancy


def _digits_batches(n_batches: int):
    from sklearn.datasets import load_digits

    images = torch.tensor(load_digits().data, dtype=torch.float32) / 16
    return [images[i * 32 % 1760:][:32] for i in range(n_batches)]


def test_a_layer_whose_units_all_learn_the_same_thing_warns_once_naming_the_fix():
    """Oja's units, learning independently, all converge to the first principal component:
    the layer passes on one feature. It warns once; Sanger's units (which compete) do not."""
    torch.manual_seed(0)
    collapsed, competing = HebbianLinear(64, 16, rule="oja"), HebbianLinear(64, 16, rule="sanger")
    for layer in (collapsed, competing):
        layer.check_every = 16
    with pytest.warns(UserWarning, match="passes on one feature.*use a rule whose units "
                                         "compete") as caught:
        for batch in _digits_batches(400):
            collapsed(batch)
    assert len([w for w in caught if "one feature" in str(w.message)]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for batch in _digits_batches(400):
            competing(batch)


def test_the_layers_docstring_examples_run():
    import doctest

    import hebbnet.layers.plastic as plastic
    import hebbnet.layers.spiking as spiking

    for module in (plastic, spiking):
        result = doctest.testmod(module, extraglobs={"torch": torch, **vars(module)})
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_a_dense_layer_takes_leading_batch_dimensions_as_nn_linear_does():
    torch.manual_seed(0)
    layer = HebbianLinear(6, 4, rule="sanger")
    x = torch.rand(2, 3, 5, 6)
    reference = HebbianLinear(6, 4, rule="sanger")
    reference.load_state_dict(layer.state_dict())
    out = layer(x)
    assert out.shape == (2, 3, 5, 4)
    torch.testing.assert_close(out.reshape(30, 4), reference(x.reshape(30, 6)))
    torch.testing.assert_close(layer.weight, reference.weight)  # learned from the same 30 samples
    with pytest.raises(ValueError, match=r"expects input of shape \(\*, 6\)"):
        layer(torch.rand(3, 5))


def test_a_stack_of_default_layers_names_the_one_that_passes_on_a_near_constant_signal():
    """A user's stack of two SoftHebb convolutions at their defaults sat at chance without a
    word: the second one's softmax responses are about 1/32 for every sample (they vary by 7 %
    of their size). It says so, once, with the fix; the first, whose responses vary, does not."""
    torch.manual_seed(0)
    first = HebbianConv2d(1, 16, 3, padding=1, rule="softhebb")
    second = HebbianConv2d(16, 32, 3, padding=1, rule="softhebb")
    for layer in (first, second):
        layer.check_every = 16
    stack = nn.Sequential(first, nn.MaxPool2d(2), second)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for batch in _digits_batches(64):
            stack(batch.view(-1, 1, 8, 8))
    flat = [str(w.message) for w in caught if "near-constant signal" in str(w.message)]
    assert len(flat) == 1 and flat[0].startswith("HebbianConv2d(16, 32")
    assert "output='drive' through a nonlinearity" in flat[0]
