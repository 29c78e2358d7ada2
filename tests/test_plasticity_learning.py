"""What the rules learn: principal components, selectivity, prototypes, and homeostasis
taming runaway Hebbian growth. Small seeded problems, a second or two each."""

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from hebbnet.homeostasis import SynapticScaling, WeightNormalization, unit_activity
from hebbnet.layers import HebbianLinear


def anisotropic(n: int, seed: int = 0) -> torch.Tensor:
    """Zero-mean 8-d Gaussian data with standard deviations 4, 3, 2, 1, 0.5, ... on random axes."""
    g = torch.Generator().manual_seed(seed)
    std = torch.tensor([4.0, 3.0, 2.0, 1.0, 0.5, 0.4, 0.3, 0.2])
    rotation, _ = torch.linalg.qr(torch.randn(8, 8, generator=g))
    return (torch.randn(n, 8, generator=g) * std) @ rotation.T


def stream(x: torch.Tensor, layer, batch: int = 32, epochs: int = 1):
    for _ in range(epochs):
        for start in range(0, len(x), batch):
            layer(x[start : start + batch])


def abs_cosine(a: torch.Tensor, b: np.ndarray) -> float:
    b = torch.as_tensor(b, dtype=a.dtype)
    return float((a @ b).abs() / (a.norm() * b.norm()))


def test_oja_finds_the_first_principal_component():
    torch.manual_seed(0)
    x = anisotropic(20_000)
    layer = HebbianLinear(8, 1, rule="oja", lr=0.002)
    stream(x, layer)
    first = PCA(n_components=1).fit(x.numpy()).components_[0]
    assert abs_cosine(layer.weight[0], first) >= 0.99
    assert layer.weight[0].norm().item() == pytest.approx(1.0, abs=0.02)


def test_sanger_finds_the_top_components_in_order():
    torch.manual_seed(0)
    x = anisotropic(40_000)
    layer = HebbianLinear(8, 3, rule="sanger", lr=0.002)
    stream(x, layer)
    components = PCA(n_components=3).fit(x.numpy()).components_
    for i in range(3):
        assert abs_cosine(layer.weight[i], components[i]) >= 0.99, i


def test_bcm_becomes_selective_and_its_threshold_tracks_mean_square_response():
    patterns = torch.eye(4) * 2.0 + 0.1  # four nearly orthogonal, non-negative inputs
    winners = set()
    for seed in range(3):
        layer = HebbianLinear(4, 1, rule="bcm", lr=0.005)
        layer.rule.tau = 10.0
        layer.weight.data = torch.rand(1, 4, generator=torch.Generator().manual_seed(seed)) * 0.2
        for _ in range(3000):
            layer(patterns)  # every batch shows all four patterns
        layer.eval()
        responses = layer(patterns).flatten()
        ranked = responses.sort().values
        assert ranked[-1] > 1.0 and (ranked[:3] < 0.01 * ranked[-1]).all()  # one pattern wins
        assert layer.rule.theta.item() == pytest.approx((responses**2).mean().item(), rel=0.01)
        winners.add(int(responses.argmax()))
    assert len(winners) > 1  # which pattern wins is decided by the initial weights


def test_competitive_units_become_cluster_prototypes():
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]])
    x = centres[torch.randint(0, 3, (6000,), generator=g)] + 0.1 * torch.randn(6000, 3, generator=g)
    layer = HebbianLinear(3, 3, rule="competitive", lr=0.05)
    layer.weight.data = 0.5 * centres + 0.5 * torch.rand(3, 3, generator=g)  # no dead units
    stream(x, layer, batch=16)
    distances = torch.cdist(centres, layer.weight)
    assert (distances.min(1).values < 0.1).all()


def test_softhebb_and_krotov_weights_converge_to_unit_norm():
    from sklearn.datasets import load_digits

    x = torch.tensor(load_digits().data, dtype=torch.float32) / 16.0
    torch.manual_seed(0)
    soft = HebbianLinear(64, 10, rule="softhebb", lr=0.05)
    stream(x, soft, batch=16, epochs=5)
    torch.testing.assert_close(soft.weight.norm(dim=1), torch.ones(10), atol=0.01, rtol=0)

    torch.manual_seed(0)
    krotov = HebbianLinear(64, 20, rule="krotov_hopfield", lr=0.05)
    stream(x, krotov, batch=100, epochs=10)
    lp_norms = krotov.weight.abs().pow(3).sum(1).pow(1 / 3)
    assert (lp_norms.sort().values[-10:] - 1).abs().max() < 0.01  # the units that won


def correlated_positive_stream(n: int, seed: int = 0) -> torch.Tensor:
    """Non-negative inputs with a shared fluctuating component: plain Hebb's worst case."""
    g = torch.Generator().manual_seed(seed)
    common = torch.rand(n, 1, generator=g)
    profile = torch.linspace(1.0, 0.2, 6)
    return common * profile + 0.2 * torch.rand(n, 6, generator=g)


def test_plain_hebb_runs_away_and_synaptic_scaling_holds_it_with_its_structure():
    x = correlated_positive_stream(10_000)
    torch.manual_seed(0)
    plain = HebbianLinear(6, 3, rule="hebb", lr=0.005)
    start_norm = plain.weight.norm()
    torch.manual_seed(0)
    scaled = HebbianLinear(6, 3, rule="hebb", lr=0.005,
                           homeostasis=[SynapticScaling(3, target=0.5, strength=0.5, tau=20)])
    stream(x, plain, batch=10)
    stream(x, scaled, batch=10)

    assert plain.weight.norm() > 100 * start_norm  # runaway
    assert scaled.weight.norm() < 2 * start_norm  # bounded
    cosines = torch.nn.functional.cosine_similarity(plain.weight, scaled.weight, dim=1)
    assert (cosines > 0.999).all()  # same receptive-field shape, different scale
    scaled.eval()
    activity = unit_activity(scaled(x[-1000:]))
    torch.testing.assert_close(activity, torch.full((3,), 0.5), rtol=0.1, atol=0.0)


def test_weight_normalization_keeps_rows_at_the_set_norm():
    x = correlated_positive_stream(500)
    layer = HebbianLinear(6, 3, rule="hebb", lr=0.05, homeostasis=[WeightNormalization(2.0)])
    stream(x, layer, batch=10)
    torch.testing.assert_close(layer.weight.norm(dim=1), torch.full((3,), 2.0))
