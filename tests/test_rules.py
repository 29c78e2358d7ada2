"""Each rule's one-step update against the textbook equation, written synapse by synapse."""

import math

import pytest
import torch

from hebbnet.rules import (
    BCM,
    RULES,
    Competitive,
    Hebb,
    KrotovHopfield,
    Oja,
    RewardModulatedHebb,
    Sanger,
    SoftHebb,
    krotov_hopfield_update,
    make_rule,
)

torch.manual_seed(0)
X = torch.tensor([[1.0, 0.5, -1.0], [0.2, -0.3, 0.8]], dtype=torch.float64)  # pre, (B=2, n=3)
W = torch.tensor([[0.4, -0.2, 0.1], [0.3, 0.6, -0.5]], dtype=torch.float64)  # (m=2, n=3)
U = X @ W.T  # drive (B, m)
B, M, N = 2, 2, 3


def by_hand(term) -> torch.Tensor:
    """ΔW[i, j] = mean over samples b of term(b, i, j)."""
    delta = torch.zeros(M, N, dtype=torch.float64)
    for i in range(M):
        for j in range(N):
            delta[i, j] = sum(term(b, i, j) for b in range(B)) / B
    return delta


def one_step(rule, y=None):
    y = rule.respond(U) if y is None else y
    return rule.update(X, y, U, W)


def test_hebb_with_decay():
    y = U
    expected = by_hand(lambda b, i, j: y[b, i] * X[b, j] - 0.1 * W[i, j])
    torch.testing.assert_close(one_step(Hebb(decay=0.1)), expected)


def test_oja():
    y = U
    expected = by_hand(lambda b, i, j: y[b, i] * (X[b, j] - y[b, i] * W[i, j]))
    torch.testing.assert_close(one_step(Oja()), expected)


def test_sanger():
    y = U
    expected = by_hand(
        lambda b, i, j: y[b, i] * (X[b, j] - sum(W[k, j] * y[b, k] for k in range(i + 1)))
    )
    torch.testing.assert_close(one_step(Sanger()), expected)


def test_bcm_step_and_threshold():
    """θ slides toward the batch's ⟨y²⟩ first; the batch is judged by the new threshold."""
    rule = BCM(n_out=M, tau=4.0, theta0=0.05).double()
    y = torch.relu(U)
    theta = 0.05 + ((y**2).mean(0) - 0.05) / 4.0
    expected = by_hand(lambda b, i, j: y[b, i] * (y[b, i] - theta[i]) * X[b, j])
    torch.testing.assert_close(one_step(rule), expected)
    torch.testing.assert_close(rule.theta, theta)


def test_competitive_instar_moves_only_winners():
    y = Competitive(k=1).respond(U)
    winner = U.argmax(1)
    expected = by_hand(lambda b, i, j: float(winner[b] == i) * (X[b, j] - W[i, j]))
    torch.testing.assert_close(one_step(Competitive(k=1)), expected)
    assert ((y != 0).sum(1) == 1).all()


def test_nearest_prototype_wins_and_winner_mean_is_k_means():
    rule = Competitive(k=1, nearest=True, winner_mean=True)
    distances = torch.cdist(X, W)
    nearest = distances.argmin(1)
    wins = torch.bincount(nearest, minlength=M).double()
    expected = torch.zeros(M, N, dtype=torch.float64)
    for b in range(B):
        expected[nearest[b]] += (X[b] - W[nearest[b]]) / wins[nearest[b]]
    torch.testing.assert_close(rule.update(X, U, U, W), expected)

    # A long weight vector wins on drive but is far away: only `nearest` picks the close one.
    x, w = torch.tensor([[1.0, 0.0]]), torch.tensor([[5.0, 0.0], [1.0, 0.1]])
    moved = lambda r: r.update(x, r.respond(x @ w.T), x @ w.T, w).abs().sum(1) > 0  # noqa: E731
    assert moved(Competitive(k=1)).tolist() == [True, False]
    assert moved(Competitive(k=1, nearest=True)).tolist() == [False, True]


def test_krotov_hopfield_rank_and_scale():
    p, delta = 3.0, 0.4
    currents = X @ (W.sign() * W.abs() ** (p - 1)).T
    order = currents.argsort(1, descending=True)
    g = torch.zeros(B, M, dtype=torch.float64)
    for b in range(B):
        g[b, order[b, 0]] = 1.0
        g[b, order[b, 1]] = -delta  # k = 2: the second-ranked unit
    raw = by_hand(lambda b, i, j: g[b, i] * (X[b, j] - currents[b, i] * W[i, j]))
    update = one_step(KrotovHopfield(p=p, k=2, delta=delta))
    torch.testing.assert_close(update, raw / raw.abs().max())


def test_krotov_hopfield_ranks_by_the_current_plus_the_homeostatic_shift():
    """A shift (a newborn's excitability) makes unit 0 the winner and unit 1 the k-th
    everywhere; the update's I is still the unshifted current."""
    p, delta = 3.0, 0.4
    currents = X @ (W.sign() * W.abs() ** (p - 1)).T
    shift = torch.zeros(B, M, dtype=torch.float64)
    shift[:, 0], shift[:, 1] = 1e3, 5e2
    g = torch.zeros(B, M, dtype=torch.float64)
    g[:, 0], g[:, 1] = 1.0, -delta
    raw = by_hand(lambda b, i, j: g[b, i] * (X[b, j] - currents[b, i] * W[i, j]))
    torch.testing.assert_close(krotov_hopfield_update(X, W, p, 2, delta, shift),
                               raw / raw.abs().max())


@pytest.mark.parametrize("anti", [False, True])
def test_softhebb(anti):
    y = torch.softmax(U / 0.5, dim=1)
    credit = y.clone()
    if anti:
        for b in range(B):
            for i in range(M):
                if i != y[b].argmax():
                    credit[b, i] = -y[b, i]
    expected = by_hand(lambda b, i, j: credit[b, i] * (X[b, j] - U[b, i] * W[i, j]))
    torch.testing.assert_close(one_step(SoftHebb(temperature=0.5, anti_hebbian=anti)), expected)


def test_softhebb_normalized_update_with_norm_adaptive_rate():
    y = torch.softmax(U, dim=1)
    raw = by_hand(lambda b, i, j: y[b, i] * (X[b, j] - U[b, i] * W[i, j]))
    rate = torch.tensor([[abs(math.sqrt(sum(W[i, j] ** 2 for j in range(N))) - 1) ** 0.5]
                         for i in range(M)], dtype=torch.float64)
    update = one_step(SoftHebb(adaptive_rate=0.5, normalize_update=True))
    torch.testing.assert_close(update, raw / raw.abs().max() * rate)


def test_three_factor_trace_and_modulated_change():
    rule = RewardModulatedHebb(n_out=M, n_in=N, tau=2.0).double()
    assert one_step(rule) is None  # tags only
    gamma = math.exp(-1 / 2.0)
    first = by_hand(lambda b, i, j: U[b, i] * X[b, j])
    torch.testing.assert_close(rule.trace, first)
    one_step(rule)
    torch.testing.assert_close(rule.trace, gamma * first + first)
    torch.testing.assert_close(rule.neuromodulated_update(0.5), 0.5 * rule.trace)
    torch.testing.assert_close(rule.neuromodulated_update(0.0), torch.zeros(M, N, dtype=torch.float64))
    assert rule.prediction_error(1.0).item() == 1.0
    assert rule.prediction_error(1.0).item() == pytest.approx(1.0 - 1.0 / 100)


def test_unknown_rule_lists_valid_names():
    with pytest.raises(ValueError, match="oja, sanger"):
        make_rule("ojas", 3, 2)


def test_make_rule_passes_sizes_only_where_needed():
    assert make_rule("bcm", 5, 3).theta.shape == (3,)
    assert make_rule("reward_hebb", 5, 3).trace.shape == (3, 5)
    assert set(RULES) >= {"hebb", "oja", "sanger", "bcm", "competitive", "krotov_hopfield",
                          "softhebb", "reward_hebb"}


def test_user_function_becomes_a_rule():
    def anti_hebb(pre, post, weight):
        return -post.T @ pre / len(pre)

    rule = make_rule(anti_hebb, N, M)
    torch.testing.assert_close(rule.update(X, U, U, W), -(U.T @ X) / B)
