"""The Diehl & Cook (2015) network: the sparse, event-driven presentation equals a dense
step-by-step simulation of the same equations; it learns to tell patterns apart; bad input."""

import dataclasses
import math

import pytest
import torch

from hebbnet.models.diehl_cook import (
    DiehlCook2015,
    DiehlCookParameters,
    assign_labels,
    predict,
)


def dense_reference(net: DiehlCook2015, spikes_in: torch.Tensor, lottery: torch.Generator):
    """The network's equations, one dense step at a time (BindsNET's order of operations)."""
    p = net.params
    steps, batch, _ = spikes_in.shape
    W, theta = net.weight.clone(), net.theta.clone()
    gain = 1.0 if p.theta_half is None else p.theta_half / (p.theta_half + theta)
    v = torch.full((batch, p.n_neurons), p.v_rest)
    refractory = torch.zeros(batch, p.n_neurons)
    pending = torch.zeros(p.inhibition_delay, batch, p.n_neurons)
    x, y1, y2 = torch.zeros(batch, net.n_inputs), torch.zeros_like(v), torch.zeros_like(v)
    out = torch.zeros(steps, batch, p.n_neurons, dtype=torch.bool)
    for t in range(steps):
        s_in = spikes_in[t].float()
        drive = s_in @ W
        v = p.v_rest + (v - p.v_rest) * math.exp(-p.dt / p.tau_mem)
        v = v + (drive - pending[t % p.inhibition_delay]) * (refractory <= 0)
        crossed = v >= p.v_threshold + theta
        draw = torch.rand(batch, generator=lottery)
        fired = torch.zeros_like(crossed)
        for b in range(batch):
            candidates = crossed[b].nonzero().flatten()
            if len(candidates):
                fired[b, candidates[int(draw[b] * len(candidates))]] = True
        v[crossed] = p.v_reset
        refractory = refractory - p.dt
        refractory[crossed] = p.refractory
        pending[t % p.inhibition_delay] = p.inhibition * (fired.any(1, keepdim=True) & ~fired)
        theta = theta * math.exp(-p.dt / p.tau_theta) + p.theta_plus * crossed.sum(0)
        x = x * math.exp(-p.dt / p.tau_pre)
        x[spikes_in[t]] = 1.0
        W = W - p.nu_pre * s_in.T @ (y1 * gain)
        y2_before = y2 * math.exp(-p.dt / p.tau_post2)
        teach = fired.float() * (y2_before if p.rule == "triplet" else 1.0) * gain
        W = W + p.nu_post * x.T @ teach
        W = W.clamp(0, p.w_max)
        y1 = y1 * math.exp(-p.dt / p.tau_post1)
        y1[fired] = 1.0
        y2 = y2_before.clone()
        y2[fired] = 1.0
        out[t] = fired
    return out, W, theta


@pytest.mark.parametrize("backend", ["compiled", "torch"])
@pytest.mark.parametrize("rule, theta_half", [("triplet", None), ("pair", None), ("triplet", 2.0)])
def test_presentation_equals_the_dense_step_by_step_simulation(backend, rule, theta_half):
    torch.manual_seed(0)
    params = DiehlCookParameters(n_neurons=6, steps=60, w_init=1.0, rule=rule,
                                 theta_half=theta_half)
    net = DiehlCook2015(40, params, backend=backend)
    net.theta.copy_(torch.tensor([0.0, 0.5, 1.0, 2.0, 4.0, 8.0]))  # gains 1 … 0.2 with θ½ = 2
    net.generator = torch.Generator().manual_seed(3)  # the lottery's stream, as the reference's
    spikes_in = torch.rand(60, 3, 40) < 0.15
    expected, weight, theta = dense_reference(net, spikes_in,
                                              torch.Generator().manual_seed(3))
    step, sample, index = spikes_in.nonzero(as_tuple=True)
    order = torch.argsort(sample * 60 + step, stable=True)
    spikes = net.present(step[order], sample[order], index[order], batch=3)
    assert expected.sum() > 10  # the comparison covers real activity
    assert torch.equal(spikes, expected)
    torch.testing.assert_close(net.weight, weight)
    torch.testing.assert_close(net.theta, theta)


@pytest.mark.parametrize("dtype, theta_half", [(torch.float32, None), (torch.float64, None),
                                               (torch.float32, 0.1)])
def test_both_backends_give_the_same_spikes_weights_and_thresholds(dtype, theta_half):
    images = two_patterns(12)[0].to(dtype)
    params = DiehlCookParameters(n_neurons=5, steps=80, max_rate=150.0, norm=8.0,
                                 theta_half=theta_half)

    def learn_then_respond(backend: str):
        net = DiehlCook2015(36, params, torch.Generator().manual_seed(0), backend).to(dtype)
        counts = [net(images[:4]), net(images[4:8])]
        counts.append(net.eval()(images[8:]))
        return torch.cat(counts), net

    (compiled, net), (stepwise, reference) = map(learn_then_respond, ("compiled", "torch"))
    assert compiled.sum() > 20
    assert torch.equal(compiled, stepwise)
    assert net.weight.dtype == dtype
    torch.testing.assert_close(net.weight, reference.weight)
    torch.testing.assert_close(net.theta, reference.theta)


def two_patterns(n: int = 200, seed: int = 0):
    """Bright left half (label 0) or right half (label 1) of a 6×6 image, with noise."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=generator)
    images = torch.zeros(n, 6, 6)
    images[labels == 0, :, :3] = 1.0
    images[labels == 1, :, 3:] = 1.0
    noisy = (images * 0.8 + 0.2 * torch.rand(n, 6, 6, generator=generator)).clamp(0, 1)
    return noisy.reshape(n, 36), labels


def test_network_learns_to_tell_two_patterns_apart():
    params = DiehlCookParameters(n_neurons=4, steps=100, max_rate=200.0, norm=8.0)
    net = DiehlCook2015(36, params, generator=torch.Generator().manual_seed(0))
    images, labels = two_patterns()
    for start in range(0, 200, 4):
        net(images[start:start + 4])
    net.eval()
    counts = net(images[:100])
    assignment = assign_labels(counts, labels[:100], 2)
    test_images, test_labels = two_patterns(100, seed=1)
    accuracy = (predict(net(test_images), assignment, 2) == test_labels).float().mean()
    assert accuracy > 0.95


def test_eval_freezes_weights_and_thresholds():
    net = DiehlCook2015(36, DiehlCookParameters(n_neurons=4, steps=50, max_rate=200.0),
                        generator=torch.Generator().manual_seed(0))
    images, _ = two_patterns(8)
    net(images)
    net.eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    assert net(images).sum() > 0
    for name, value in net.state_dict().items():
        assert torch.equal(value, before[name]), name


def test_labels_and_votes():
    counts = torch.tensor([[5, 0, 1], [4, 1, 0], [0, 6, 0], [1, 7, 0]])
    labels = torch.tensor([0, 0, 1, 1])
    assignment = assign_labels(counts, labels, 2)
    assert assignment.tolist() == [0, 1, 0]
    assert predict(torch.tensor([[3, 0, 0], [0, 2, 0], [0, 0, 0]]), assignment, 2).tolist()[:2] == [0, 1]
    silent = assign_labels(torch.zeros(2, 2), torch.tensor([0, 1]), 2)
    assert silent.tolist() == [-1, -1]


@pytest.mark.parametrize("images, message", [
    (torch.rand(2, 35), r"shape \(batch, 36\)"),
    (torch.full((2, 36), 2.0), r"\[0, 1\]"),
    (torch.full((2, 36), float("nan")), r"\[0, 1\]"),
])
def test_bad_images_are_rejected(images, message):
    with pytest.raises(ValueError, match=message):
        DiehlCook2015(36, DiehlCookParameters(n_neurons=2, steps=5))(images)


def test_unknown_backend_is_rejected():
    with pytest.raises(ValueError, match="Unknown backend 'numba'; valid: auto, compiled, torch"):
        DiehlCook2015(36, DiehlCookParameters(n_neurons=2), backend="numba")


def test_l2_normalisation_keeps_each_neurons_weight_length():
    params = DiehlCookParameters(n_neurons=4, steps=50, max_rate=200.0, weight_l2=3.0)
    net = DiehlCook2015(36, params, generator=torch.Generator().manual_seed(0))
    net(two_patterns(8)[0])
    assert torch.allclose(net.weight.norm(dim=0), torch.full((4,), 3.0))


def test_input_l2_presents_an_image_and_its_dimmed_copy_alike():
    params = DiehlCookParameters(n_neurons=4, steps=50, max_rate=200.0, input_l2=2.0)
    images = two_patterns(4)[0]
    counts = []
    for scale in (1.0, 0.25):
        net = DiehlCook2015(36, params, generator=torch.Generator().manual_seed(0))
        counts.append(net(images * scale))
    assert counts[0].sum() > 0
    assert torch.equal(counts[0], counts[1])


def test_bad_parameters_are_rejected():
    with pytest.raises(ValueError, match="Unknown rule 'stdp'"):
        DiehlCookParameters(rule="stdp")
    with pytest.raises(ValueError, match="inhibition_delay"):
        dataclasses.replace(DiehlCookParameters(), inhibition_delay=0)
    for name in ("weight_l2", "input_l2", "theta_half"):
        for value in (0.0, -1.0, math.inf):
            with pytest.raises(ValueError, match=f"model.{name} .* > 0"):
                DiehlCookParameters(**{name: value})
