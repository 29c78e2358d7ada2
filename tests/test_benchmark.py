import pytest
import torch

from hebbnet.config import BenchmarkConfig
from hebbnet.continual.benchmark import permuted_tasks, rotate_images, rotated_tasks, split_tasks
from hebbnet.continual.factory import build_benchmark
from hebbnet.data import load_dataset


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_split_tasks_hold_exactly_their_classes(digits):
    benchmark = split_tasks(digits, 2, 5, list(range(10)))
    assert [e.classes for e in benchmark.experiences] == [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
    total = 0
    for e in benchmark.experiences:
        assert set(e.train.y.tolist()) == set(e.classes) == set(e.test.y.tolist())
        assert (e.train.t == e.task_id).all()
        total += len(e.train)
    assert total == len(digits.train_labels)


def test_custom_class_order(digits):
    benchmark = split_tasks(digits, 3, 2, [9, 8, 7, 0, 1, 2])
    assert [e.classes for e in benchmark.experiences] == [(9, 8, 7), (0, 1, 2)]


@pytest.mark.parametrize("order", [[0, 0, 1, 2], [0, 1, 2], [0, 1, 2, 10]])
def test_bad_class_order_is_rejected(digits, order):
    with pytest.raises(ValueError, match="class"):
        split_tasks(digits, 2, 2, order)


def test_shuffled_class_order_is_seeded(digits):
    cfg = BenchmarkConfig(shuffle_class_order=True)
    orders = [
        [e.classes for e in build_benchmark(cfg, "", torch.Generator().manual_seed(s)).experiences]
        for s in (1, 1, 2)
    ]
    assert orders[0] == orders[1] != orders[2]


def test_permutations_are_seeded_and_preserve_pixels(digits):
    a = permuted_tasks(digits, 3, torch.Generator().manual_seed(0))
    b = permuted_tasks(digits, 3, torch.Generator().manual_seed(0))
    c = permuted_tasks(digits, 3, torch.Generator().manual_seed(1))
    assert torch.equal(a.experiences[2].train.x, b.experiences[2].train.x)
    assert not torch.equal(a.experiences[2].train.x, c.experiences[2].train.x)
    image = digits.train_images[0].flatten().sort().values
    assert torch.equal(a.experiences[1].train.x[0].flatten().sort().values, image)
    assert a.n_classes == 30
    assert a.experiences[2].classes == tuple(range(20, 30))
    assert torch.equal(a.experiences[2].train.y, digits.train_labels + 20)


def test_first_task_can_stay_unpermuted(digits):
    benchmark = permuted_tasks(digits, 2, torch.Generator().manual_seed(0), permute_first=False)
    assert torch.equal(benchmark.experiences[0].train.x, digits.train_images)


def test_rotation_by_90_degrees_is_exact_and_counter_clockwise():
    images = torch.randint(0, 256, (4, 1, 28, 28), dtype=torch.uint8)
    assert torch.equal(rotate_images(images, 0), images)
    assert torch.equal(rotate_images(images, 90), torch.rot90(images, 1, dims=(2, 3)))


def test_rotated_tasks_need_one_angle_per_task(digits):
    benchmark = rotated_tasks(digits, [0.0, 90.0])
    assert torch.equal(benchmark.experiences[1].test.x,
                       torch.rot90(digits.test_images, 1, dims=(2, 3)))
    with pytest.raises(ValueError, match="one angle per task"):
        build_benchmark(BenchmarkConfig(kind="rotated", n_tasks=3, angles=[0.0, 10.0]), "",
                        torch.Generator())


def test_random_angles_are_seeded():
    cfg = BenchmarkConfig(kind="rotated", n_tasks=3, random_angles=True)

    def first_test_images(seed):
        benchmark = build_benchmark(cfg, "", torch.Generator().manual_seed(seed))
        return [e.test.x[:5] for e in benchmark.experiences]

    a, b, c = first_test_images(0), first_test_images(0), first_test_images(1)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[1], c[1])


def test_unknown_benchmark_kind_lists_valid_kinds():
    with pytest.raises(ValueError, match="split, permuted, rotated"):
        build_benchmark(BenchmarkConfig(kind="shuffled"), "", torch.Generator())


def _keys(samples) -> set[tuple]:
    """Each sample as a hashable (pixels..., label)."""
    return {tuple(x.flatten().tolist()) + (int(y),) for x, y in zip(samples.x, samples.y)}


def test_validation_is_carved_from_training_data_never_overlaps_and_follows_the_seed():
    import torch

    from hebbnet.config import BenchmarkConfig
    from hebbnet.continual.factory import build_benchmark

    def build(seed):
        return build_benchmark(BenchmarkConfig(validation=0.2), "data",
                               torch.Generator().manual_seed(seed))

    plain = build_benchmark(BenchmarkConfig(), "data", torch.Generator().manual_seed(0))
    first, again, other = build(0), build(0), build(1)
    for task, e in enumerate(first.experiences):
        whole = plain.experiences[task].train
        assert len(e.train) + len(e.validation) == len(whole)
        assert len(e.validation) == round(0.2 * len(whole))
        assert not _keys(e.train) & _keys(e.validation)  # no sample in both
        assert torch.equal(e.validation.x, again.experiences[task].validation.x)
        assert torch.equal(e.test.x, plain.experiences[task].test.x)  # the test set untouched
    assert not torch.equal(first.experiences[0].validation.x, other.experiences[0].validation.x)


def test_a_run_with_validation_reports_its_own_matrix(tmp_path):
    from conftest import quick_config

    from hebbnet.config import BenchmarkConfig
    from hebbnet.continual import run_experiment

    result = run_experiment(quick_config(benchmark=BenchmarkConfig(validation=0.2)), tmp_path)
    assert len(result["validation"]["acc_matrix"]) == 5
    assert set(result["validation"]) >= {"acc", "bwt", "forgetting", "random_init_acc"}
    assert run_experiment(quick_config(), tmp_path / "none")["validation"] is None
