import math

import pytest
import torch

from hebbnet.models.mlp import MLP


def test_xavier_init_draws_within_the_glorot_bound_with_zero_biases():
    torch.manual_seed(0)
    net = MLP((1, 28, 28), [100, 100], 10, init="xavier")
    for layer in (net.features[0], net.features[2], net.head):
        fan_out, fan_in = layer.weight.shape
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        assert layer.weight.abs().max() <= bound
        assert layer.weight.abs().max() > 0.9 * bound  # uniform over the whole range
        assert torch.count_nonzero(layer.bias) == 0


def test_default_init_is_pytorchs_linear():
    torch.manual_seed(0)
    net = MLP((1, 28, 28), [100], 10)
    first = net.features[0]
    assert first.weight.abs().max() <= 1 / math.sqrt(784)
    assert torch.count_nonzero(first.bias) > 0


def test_unknown_init_is_rejected():
    with pytest.raises(ValueError, match="Unknown init 'he'; valid: default, xavier"):
        MLP((1, 8, 8), [4], 2, init="he")


def test_a_sparse_code_makes_the_hidden_layers_read_k_of_n_binary_units():
    torch.manual_seed(0)
    net = MLP((1, 8, 8), [16], 3, code_size=100, code_active=7)
    images = torch.rand(5, 1, 8, 8)
    codes = net.encode(images)
    assert codes.shape == (5, 100) and torch.equal(codes.sum(1), torch.full((5,), 7.0))
    assert set(codes.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(net(images), net.classify(codes))
    clone = MLP((1, 8, 8), [16], 3, code_size=100, code_active=7)
    clone.load_state_dict(net.state_dict())  # the projection travels with the weights
    assert torch.equal(clone.encode(images), codes)


def test_similar_inputs_get_less_similar_sparse_codes():
    from hebbnet.layers import SparseCode

    code = SparseCode(400, 2000, 50, torch.Generator().manual_seed(0))
    a = torch.rand(1, 400, generator=torch.Generator().manual_seed(1))
    b = a + 0.3 * torch.rand(1, 400, generator=torch.Generator().manual_seed(2))
    input_cosine = torch.nn.functional.cosine_similarity(a - a.mean(), b - b.mean())
    overlap = (code(a) * code(b)).sum() / 50
    assert overlap < input_cosine


def test_bad_sparse_codes_are_named():
    with pytest.raises(ValueError, match="0 < active <= size; got active=0"):
        MLP((1, 8, 8), [4], 2, code_size=10, code_active=0)
    with pytest.raises(ValueError, match="expects inputs of shape"):
        MLP((1, 8, 8), [4], 2, code_size=10, code_active=2)(torch.rand(3, 1, 7, 7))


def test_a_binary_sparse_code_sums_fan_in_inputs_per_unit_and_travels_with_the_model():
    from hebbnet.layers import SparseCode

    code = SparseCode(64, 300, 15, torch.Generator().manual_seed(0), fan_in=6)
    assert code.inputs.shape == (300, 6)
    assert all(len(set(row.tolist())) == 6 for row in code.inputs)  # distinct inputs per unit
    x = torch.rand(5, 64, generator=torch.Generator().manual_seed(1))
    dense = torch.zeros(300, 64).scatter_(1, code.inputs, 1.0)
    torch.testing.assert_close(code.drive(x), x @ dense.T)
    assert code(x).sum(1).eq(15).all()
    assert code(x).is_contiguous()  # row-major codes, whatever layout the sparse product has
    clone = SparseCode(64, 300, 15, fan_in=6)
    clone.load_state_dict(code.state_dict())
    assert torch.equal(clone(x), code(x))
    with pytest.raises(ValueError, match="fan_in must be in 1..64"):
        SparseCode(64, 300, 15, fan_in=65)


def test_a_calibrated_code_subtracts_each_units_mean_drive_and_spreads_its_winners():
    from hebbnet.data import load_dataset, to_float
    from hebbnet.layers import SparseCode

    images = to_float(load_dataset("digits").train_images).flatten(1)
    code = SparseCode(64, 500, 10, torch.Generator().manual_seed(0))
    raw = code(images)
    code.calibrate(images[:600], batch_size=256)
    torch.testing.assert_close(code.threshold, code.drive(images[:600]).mean(0))
    calibrated = code(images)
    assert torch.equal(calibrated.sum(1), torch.full((len(images),), 10.0))

    def mean_overlap(codes):
        return float((codes @ codes.T).fill_diagonal_(0).sum()) / (len(codes) ** 2 - len(codes))

    assert mean_overlap(calibrated) < 0.6 * mean_overlap(raw)  # the shared drive is gone
    assert calibrated.mean(0).max() < raw.mean(0).max()


def test_an_mlp_calibrates_its_code_only_when_asked_and_only_with_a_code():
    images = torch.randint(0, 256, (50, 1, 8, 8), dtype=torch.uint8)
    plain = MLP((1, 8, 8), [4], 2, code_size=30, code_active=3)
    plain.calibrate(images)
    assert torch.count_nonzero(plain.encoder[1].threshold) == 0
    asked = MLP((1, 8, 8), [4], 2, code_size=30, code_active=3, code_calibrated=True)
    asked.calibrate(images)
    assert torch.count_nonzero(asked.encoder[1].threshold) == 30
    with pytest.raises(ValueError, match="code_calibrated sets a sparse code's thresholds"):
        MLP((1, 8, 8), [4], 2, code_calibrated=True)


def test_the_runner_calibrates_on_the_first_tasks_training_images_alone(tmp_path, monkeypatch):
    from conftest import quick_config

    from hebbnet.config import MLPConfig
    from hebbnet.continual import run_experiment
    from hebbnet.continual.runner import run_benchmark

    seen = []
    monkeypatch.setattr(MLP, "calibrate", lambda self, images: seen.append(images.clone()))
    cfg = quick_config(model=MLPConfig(code_size=30, code_active=3, code_calibrated=True))
    cfg.benchmark.validation = 0.2
    run_experiment(cfg, tmp_path)
    first = run_benchmark(cfg).experiences[0]
    assert len(seen) == 1 and torch.equal(seen[0].cpu(), first.train.x)


def test_a_bias_free_mlp_has_no_bias_anywhere():
    net = MLP((1, 8, 8), [16, 16], 3, init="xavier", bias=False)
    assert all(layer.bias is None for layer in net.modules() if isinstance(layer, torch.nn.Linear))
    assert net(torch.zeros(2, 1, 8, 8)).abs().max() == 0  # no input, no output


@pytest.mark.parametrize("fan_in", [None, 6])
def test_a_seeded_code_is_drawn_again_from_its_seed_and_not_saved(fan_in):
    from hebbnet.layers import SparseCode

    code = SparseCode(64, 300, 15, fan_in=fan_in, seed=3)
    code.calibrate(torch.rand(20, 64))
    state = code.state_dict()
    assert list(state) == ["threshold"]  # the projection is the seed's, not the checkpoint's
    clone = SparseCode(64, 300, 15, fan_in=fan_in, seed=3)
    clone.load_state_dict(state)
    x = torch.rand(10, 64)
    assert torch.equal(clone(x), code(x))
    assert code.stored_bytes() == 8 + 300 * 4
    unseeded = SparseCode(64, 300, 15, fan_in=fan_in)
    assert unseeded.stored_bytes() == sum(b.nbytes for b in unseeded.buffers())
    with pytest.raises(ValueError, match="seed or a generator"):
        SparseCode(64, 300, 15, torch.Generator(), seed=3)


def test_a_code_with_neurogenesis_uses_born_units_and_recruits_newborns_for_a_new_task():
    """The dentate gyrus's adult neurogenesis: the first task's codes use only the first
    block; a task's newborns, excitable, take a new task's codes; after they mature, codes of
    old inputs are again those of the drive, among every born unit."""
    from hebbnet.structural import Neurogenesis

    torch.manual_seed(0)
    net = MLP((1, 8, 8), [16], 4, code_size=60, code_active=5,
              code_neurogenesis=Neurogenesis(60, 20, excitability=100.0, maturation=1.0))
    old, new = torch.rand(8, 1, 8, 8), torch.rand(8, 1, 8, 8)
    net.start_task(0)
    assert net.encode(old)[:, 20:].sum() == 0
    net.start_task(1)
    assert torch.equal(net.encode(new).nonzero()[:, 1] >= 20,
                       torch.ones(8 * 5, dtype=torch.bool))  # newborns take every winner
    net.train()
    for _ in range(50):  # training passes mature them: bonus 100·e^(−50) ≈ 0
        net.encode(new)
    code = net.encoder[1]
    drive = code.drive(old.flatten(1))
    drive[:, 40:] = -math.inf  # the third block is unborn
    expected = torch.zeros(8, 60).scatter_(1, drive.topk(5, dim=1).indices, 1.0)
    assert torch.equal(net.encode(old), expected)
    net.start_task(1)  # a repeated start (a resumed task) gives birth to nobody
    assert code.neurogenesis.born == 40
    with pytest.raises(ValueError, match="Cannot grow 40 units: 20 of the capacity 60"):
        code.grow(40)
    with pytest.raises(ValueError, match="at least active \\(5\\) units born"):
        MLP((1, 8, 8), [16], 4, code_size=60, code_active=5,
            code_neurogenesis=Neurogenesis(60, 3))
