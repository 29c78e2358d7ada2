"""The attractor hippocampus: CA3 as a Willshaw network stores sparse patterns in one bit per
synapse, completes them from half a cue, signals when it is past capacity, and replaces the
CLS's slots (no sample kept) through the same strategy."""

import pytest
import torch
from conftest import killed_and_resumed, quick_config

from hebbnet.config import MLPConfig, TrainConfig
from hebbnet.continual import run_experiment
from hebbnet.continual.strategies import CLSConfig
from hebbnet.data import TensorSet, to_float
from hebbnet.memory_systems.attractor import (
    AttractorConfig,
    AttractorHippocampus,
    AttractorMemory,
    CapacityWarning,
)

N, K = 400, 10  # a = 0.025: capacity ln 2 / a² ≈ 1,100 patterns


def sparse_patterns(n: int, seed: int = 0) -> torch.Tensor:
    winners = torch.rand(n, N, generator=torch.Generator().manual_seed(seed)).topk(K, 1).indices
    return torch.zeros(n, N).scatter_(1, winners, 1.0)


def half_cues(patterns: torch.Tensor, seed: int = 1) -> torch.Tensor:
    """Each pattern with half of its ones switched off."""
    order = torch.rand(patterns.shape, generator=torch.Generator().manual_seed(seed)) * patterns
    dropped = order.topk(K // 2, 1).indices
    return patterns.clone().scatter_(1, dropped, 0.0)


def test_one_bit_per_synapse_and_the_clipped_hebbian_rule():
    memory = AttractorMemory(N, K)
    patterns = sparse_patterns(3)
    memory.store(patterns, torch.tensor([0, 1, 0]))
    expected = (patterns.T @ patterns > 0).float()  # W_ij = max over patterns of ξ_i ξ_j
    assert torch.equal(memory.synapses.weights, expected)
    assert memory.synapses.nbytes == N * N // 8
    assert torch.equal(memory.synapses.drive(patterns), patterns @ expected)  # the sparse product
    assert memory.load == pytest.approx(float(expected.mean()))
    assert memory.tag_sizes.tolist() == [2, 1]


def test_half_a_cue_completes_the_stored_pattern_and_its_tag():
    memory = AttractorMemory(N, K)
    patterns, tags = sparse_patterns(200), torch.arange(200) % 4
    memory.store(patterns, tags)
    recall = memory.complete(half_cues(patterns), torch.Generator().manual_seed(7))
    assert torch.equal(recall.patterns, patterns)
    assert (recall.stability == 1).all()
    reactivated = memory.reactivate(100, torch.Generator().manual_seed(7))
    overlap = (reactivated.patterns @ patterns.T).max(1).values / K
    assert (overlap == 1).float().mean() > 0.95  # noise settles into stored attractors


def test_past_capacity_it_warns_and_recall_says_it_is_unreliable():
    memory = AttractorMemory(N, K)
    patterns = sparse_patterns(4000)  # p₁ = 1 − (1 − a²)^M ≈ 0.92
    with pytest.warns(CapacityWarning, match="past its capacity"):
        memory.store(patterns, torch.zeros(4000, dtype=torch.long))
    recall = memory.complete(half_cues(patterns[:100]), torch.Generator().manual_seed(7))
    assert (recall.patterns * patterns[:100]).sum(1).float().mean() / K < 0.9
    assert recall.stability.mean() < 0.9  # the signal a caller can act on


def test_a_tag_is_read_by_every_unit_of_the_pattern_not_by_the_mean_count():
    """Tag 0: a varied class of 100 patterns, among them x; tag 1: 10 patterns that all share
    half of x's units. The mean count T[c]·x / n_c reads x as tag 1 (5 against about 0.2); a
    unit of x that no pattern of tag 1 ever used rules tag 1 out."""
    x = torch.zeros(1, N)
    x[0, :K] = 1
    small = torch.zeros(10, N)
    small[:, : K // 2] = 1  # half of x's units, and 5 units of their own each
    for i, pattern in enumerate(small):
        pattern[N // 2 + 5 * i: N // 2 + 5 * i + 5] = 1
    varied = torch.cat([x, sparse_patterns(99, seed=5)])
    memory = AttractorMemory(N, K)
    memory.store(varied, torch.zeros(100, dtype=torch.long))
    memory.store(small, torch.ones(10, dtype=torch.long))
    mean_count = x @ memory.tag_counts.float().T / memory.tag_sizes.float()
    assert mean_count.argmax(1).item() == 1  # the readout this one replaced gets it wrong
    assert memory.complete(x, torch.Generator().manual_seed(0)).tags.item() == 0


@pytest.mark.parametrize("patterns, tags, message", [
    (torch.ones(2, N), torch.zeros(2, dtype=torch.long), f"exactly {K} ones"),
    (torch.zeros(2, N + 1), torch.zeros(2, dtype=torch.long), f"rows of {N} zeros and ones"),
    (sparse_patterns(2), torch.tensor([0, -1]), "one non-negative tag per pattern"),
])
def test_bad_patterns_are_named(patterns, tags, message):
    with pytest.raises(ValueError, match=message):
        AttractorMemory(N, K).store(patterns, tags)


def test_state_round_trips_and_a_lesion_empties_the_synapses():
    hippocampus = AttractorHippocampus(N, K, AttractorConfig(store_probability=1.0))
    data = TensorSet((sparse_patterns(20) * 255).to(torch.uint8), torch.arange(20) % 2,
                     torch.full((20,), 3))
    hippocampus.store(data, torch.Generator().manual_seed(0))
    copy = AttractorHippocampus(N, K, AttractorConfig(store_probability=1.0))
    copy.load_state_dict(hippocampus.state_dict())
    replay = copy.sample(8, torch.Generator().manual_seed(0))
    assert set(replay.t.tolist()) == {3} and set(replay.y.tolist()) <= {0, 1}
    assert len(copy) == 20 and copy.nbytes == N * N // 8 + 4 * 2 * N + 8 * 2 + 2 * 2
    hippocampus.clear()
    assert len(hippocampus) == 0 and hippocampus.memory.load == 0


def codes_with_a_shared_core(n: int, units: int = 300, active: int = 30) -> torch.Tensor:
    """Correlated codes: 10 units on in every code, the other 20 at random."""
    rest = torch.rand(n, units - 10, generator=torch.Generator().manual_seed(3))
    codes = torch.zeros(n, units - 10).scatter_(1, rest.topk(active - 10, 1).indices, 1.0)
    return torch.cat([torch.ones(n, 10), codes], 1)


def larger_ca3() -> AttractorHippocampus:
    settings = AttractorConfig(store_probability=1.0, ca3_units=2000, ca3_active=10)
    return AttractorHippocampus(300, 30, settings, seed=5)


def test_a_ca3_larger_than_the_code_replays_the_stored_codes_through_its_readout():
    hippocampus = larger_ca3()
    codes = codes_with_a_shared_core(150)
    labels = torch.arange(150) % 3
    hippocampus.store(TensorSet((codes * 255).to(torch.uint8), labels, torch.zeros(150)),
                      torch.Generator().manual_seed(0))
    dentate = hippocampus.dentate(codes)
    share = (codes @ codes.T / 30).fill_diagonal_(0).sum() / (150 * 149)  # 0.36 by the core
    # separated by the dentate: 0.005 (0.05 without its inhibition of the mean code)
    assert (dentate @ dentate.T / 10).fill_diagonal_(0).sum() / (150 * 149) < share / 20
    replay = hippocampus.sample(200, torch.Generator().manual_seed(1))
    overlap, nearest = (to_float(replay.x) @ codes.T / 30).max(1)
    assert (overlap == 1).float().mean() > 0.95  # the readout gives the stored code back
    assert (labels[nearest] == replay.y).float().mean() > 0.95
    ca3, readout = 2000 * 250 + 4 * 3 * 2000 + 8 * 3, 2000 * 38  # bits, tag counts, bits
    dentate_state = 4 * 2000 + 8 + 4 * 300 + 8  # thresholds, seed, the code sum and its count
    assert hippocampus.nbytes == ca3 + 2 * 3 + readout + dentate_state


def test_a_larger_ca3_resumes_bit_exactly_and_refuses_a_store_of_another_shape():
    hippocampus = larger_ca3()
    codes = codes_with_a_shared_core(40)
    hippocampus.store(TensorSet((codes * 255).to(torch.uint8), torch.arange(40) % 2,
                                torch.zeros(40)), torch.Generator().manual_seed(0))
    copy = larger_ca3()
    copy.load_state_dict(hippocampus.state_dict())
    first, second = (h.sample(16, torch.Generator().manual_seed(2)) for h in (hippocampus, copy))
    assert torch.equal(first.x, second.x) and torch.equal(first.y, second.y)
    with pytest.raises(ValueError, match="ca3_units"):
        AttractorHippocampus(300, 30, AttractorConfig(store_probability=1.0)).load_state_dict(
            hippocampus.state_dict())
    with pytest.raises(ValueError, match="ca3_active is the dentate's winners"):
        AttractorHippocampus(300, 30, AttractorConfig(store_probability=1.0, ca3_units=100, ca3_active=200))


def attractor_cls(**attractor):
    return quick_config(train=TrainConfig(batch_size=32, iterations=40),
                        model=MLPConfig(code_size=300, code_active=10),
                        strategy=CLSConfig(store="codes", hippocampus="attractor",
                                           attractor=AttractorConfig(store_probability=0.1,
                                                                     **attractor),
                                           sleep_steps=20, sleep_batch_size=32))


@pytest.mark.parametrize("attractor, extra_bytes", [
    ({}, 300 * 38),  # CA3 is the code: a row of 300 bits packed into 38 bytes
    # a larger CA3 (bits), its readout to the code (bits), the dentate (thresholds, seed), the
    # code sum and its count
    ({"ca3_units": 600, "ca3_active": 10}, 600 * 75 + 600 * 38 + 4 * 600 + 8 + 4 * 300 + 8),
])
def test_a_cls_with_an_attractor_hippocampus_keeps_no_sample_and_forgets_less(
        tmp_path, monkeypatch, attractor, extra_bytes):
    naive = run_experiment(quick_config(train=TrainConfig(batch_size=32, iterations=40),
                                        model=MLPConfig(code_size=300, code_active=10)),
                           tmp_path / "naive")
    cfg = attractor_cls(**attractor)
    straight = run_experiment(cfg, tmp_path / "attractor")
    code_layer = 300 * (64 + 1) * 4  # the fixed projection and the thresholds
    ca3 = attractor.get("ca3_units", 300)
    tags = 10 * (4 * ca3 + 8 + 2)  # a count row, a size and a (task, label) pair per class
    assert straight["strategy_bytes"] - code_layer - extra_bytes == tags
    assert straight["acc"] > naive["acc"] + 0.2
    resumed = killed_and_resumed(cfg, tmp_path / "resumed", monkeypatch)
    assert resumed["acc_matrix"] == straight["acc_matrix"]


def test_an_attractor_hippocampus_needs_codes(tmp_path):
    with pytest.raises(ValueError, match="hippocampus=attractor stores the model's sparse"):
        run_experiment(quick_config(strategy=CLSConfig(hippocampus="attractor")), tmp_path)
    with pytest.raises(ValueError, match="Unknown strategy.hippocampus 'cortex'"):
        run_experiment(quick_config(strategy=CLSConfig(hippocampus="cortex")), tmp_path)
