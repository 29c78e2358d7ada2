"""Benchmarks: a data set cut into a sequence of experiences (tasks).

Three ways to make tasks from one labelled data set:

* split — disjoint groups of classes per task (Split MNIST: {0,1}, {2,3}, ...);
* permuted — every task holds all classes, its pixels shuffled by a fixed seeded permutation;
* rotated — every task holds all classes, rotated by a fixed angle.

Labels here are *global* class ids: for split tasks the original class, for permuted and
rotated tasks ``task * n_classes + class`` so that each task's classes are distinct. How
labels are presented to a model (one head, one head per task, within-task labels) is the
scenario's business, see :mod:`hebbnet.continual.scenario`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from hebbnet.data import ImageDataset, TensorSet
from hebbnet.data.datasets import check_labels


@dataclass(frozen=True)
class Experience:
    """One task of a benchmark: its classes (global ids), its train and test sets, and the
    validation set carved from its training data (:func:`carve_validation`), if any."""

    task_id: int
    classes: tuple[int, ...]
    train: TensorSet
    test: TensorSet
    validation: TensorSet | None = None

    def to(self, device: torch.device | str) -> Experience:
        validation = self.validation.to(device) if self.validation is not None else None
        return replace(self, train=self.train.to(device), test=self.test.to(device),
                       validation=validation)


@dataclass(frozen=True)
class ChannelStats:
    """The mean and standard deviation of each channel's pixel values in [0, 1]."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @staticmethod
    def of(sets: Sequence[TensorSet], chunk: int = 1024) -> ChannelStats:
        """Over every pixel of every uint8 image in ``sets`` (population statistics), from exact
        integer sums, so the same images give the same numbers on any machine."""
        channels, device = sets[0].x.shape[1], sets[0].x.device
        sums = torch.zeros(channels, dtype=torch.int64, device=device)
        squares = torch.zeros_like(sums)
        for data in sets:
            for start in range(0, len(data), chunk):
                x = data.x[start : start + chunk].to(torch.int64)
                sums += x.sum((0, 2, 3))
                squares += (x * x).sum((0, 2, 3))
        count = sum(data.x.numel() for data in sets) // channels
        if count == 0:
            raise ValueError("benchmark.normalize needs training images, and the tasks have none "
                             "left: lower benchmark.validation.")
        pairs = list(zip(sums.tolist(), squares.tolist()))  # Python integers: exact products
        return ChannelStats(tuple(s / count / 255 for s, _ in pairs),
                            tuple(math.sqrt(count * q - s * s) / count / 255 for s, q in pairs))


@dataclass(frozen=True)
class Benchmark:
    """A data set cut into tasks, and how its training images reach a model: ``augment``
    (:data:`hebbnet.data.augment.AUGMENTATIONS`) draws a new variant of every training batch
    and replayed sample; ``normalization``, when set, standardises each channel of every image
    the model sees, training and test alike (:meth:`Scenario.inputs
    <hebbnet.continual.scenario.Scenario.inputs>`)."""

    name: str
    experiences: tuple[Experience, ...]
    n_classes: int
    image_shape: tuple[int, ...]
    spatial: bool = True  # neighbouring pixels are neighbours in the scene (not once permuted)
    augment: str = "none"
    normalization: ChannelStats | None = None

    @property
    def n_tasks(self) -> int:
        return len(self.experiences)


def normalized(benchmark: Benchmark) -> Benchmark:
    """``benchmark`` standardised by its own training data: the statistics of every task's
    training set (after :func:`carve_validation`, so no validation or test image counts).

    Computed from the run's data rather than taken from a paper, since the copy at hand may
    differ from the original (the shared CIFAR-10 is a JPEG copy, whose means differ in the
    third decimal). Off unless asked for (``benchmark.normalize``), so the MNIST benchmarks
    keep feeding the network pixel values in [0, 1], as their published protocols do, and
    their runs stay bit for bit as before."""
    return replace(benchmark, normalization=ChannelStats.of([e.train for e in benchmark.experiences]))


def split_tasks(
    data: ImageDataset, classes_per_task: int, n_tasks: int, class_order: list[int]
) -> Benchmark:
    """Task ``i`` holds classes ``class_order[i*k:(i+1)*k]``, k = ``classes_per_task``."""
    needed = classes_per_task * n_tasks
    if sorted(class_order) != sorted(set(class_order)) or len(class_order) < needed:
        raise ValueError(
            f"class_order {class_order} must list at least {needed} distinct classes "
            f"({n_tasks} tasks × {classes_per_task} classes)."
        )
    if max(class_order) >= data.n_classes or min(class_order) < 0:
        raise ValueError(f"class_order {class_order} names classes outside 0..{data.n_classes - 1}.")
    experiences = []
    for task in range(n_tasks):
        classes = tuple(class_order[task * classes_per_task : (task + 1) * classes_per_task])
        train = _select_classes(data.train_images, data.train_labels, classes, task)
        test = _select_classes(data.test_images, data.test_labels, classes, task)
        experiences.append(Experience(task, classes, train, test))
    return Benchmark(f"split_{data.name}", tuple(experiences), data.n_classes, data.image_shape)


def check_benchmark(benchmark: Benchmark) -> None:
    """A benchmark built outside the harness holds what the harness needs: tasks of uint8
    images (N, C, H, W) of one shape, with int64 labels among the task's classes, which lie in
    0..n_classes-1; else a ValueError naming the task."""
    if not benchmark.experiences:
        raise ValueError(f"Benchmark {benchmark.name!r} has no tasks.")
    for e in benchmark.experiences:
        task = f"Benchmark {benchmark.name!r}, task {e.task_id}"
        check_labels(torch.tensor(e.classes, dtype=torch.int64), range(benchmark.n_classes),
                     f"{task}, classes", f"A task's classes are ids in 0..n_classes-1 "
                     f"(Benchmark.n_classes = {benchmark.n_classes}).")
        for split, data in (("train", e.train), ("test", e.test)):
            _check_images(f"{task}, {split} images", data, benchmark.image_shape)
            check_labels(data.y, e.classes, f"{task}, {split} labels",
                         "Every label of a task is one of its classes (Experience.classes).")


def _check_images(where: str, data: TensorSet, image_shape: tuple[int, ...]) -> None:
    """uint8 images of ``image_shape``, one int64 label each, at least one."""
    if data.x.dtype != torch.uint8:
        raise ValueError(f"{where} are {data.x.dtype}; the harness keeps images as uint8 "
                         "in [0, 255]: convert with (x * 255).round().to(torch.uint8).")
    if tuple(data.x.shape[1:]) != tuple(image_shape) or data.x.ndim != 4:
        raise ValueError(f"{where} have shape {tuple(data.x.shape)}; expected (N, "
                         f"{', '.join(map(str, image_shape))}) — (N, C, H, W).")
    if data.y.dtype != torch.int64 or len(data.y) != len(data.x) or len(data) == 0:
        raise ValueError(f"{where}: need one int64 label per image and at least one "
                         f"image; got {len(data.y)} labels ({data.y.dtype}) for "
                         f"{len(data.x)} images.")


def carve_validation(benchmark: Benchmark, fraction: float,
                     generator: torch.Generator) -> Benchmark:
    """Hold out ``fraction`` of every task's training samples — a seeded random choice, the
    same for the same generator state — as that task's validation set; the model never trains
    on them. Settings are chosen on these, and the test set reports."""
    if not 0 <= fraction < 1:
        raise ValueError(f"benchmark.validation is the fraction of each task's training data "
                         f"held out, in [0, 1); got {fraction}.")
    if fraction == 0:
        return benchmark
    experiences = []
    for e in benchmark.experiences:
        order = torch.randperm(len(e.train), generator=generator)
        held = max(1, round(fraction * len(e.train)))
        experiences.append(replace(e, train=e.train.select(order[held:].sort().values),
                                   validation=e.train.select(order[:held].sort().values)))
    return replace(benchmark, experiences=tuple(experiences))


def permuted_tasks(
    data: ImageDataset, n_tasks: int, generator: torch.Generator, permute_first: bool = True
) -> Benchmark:
    """Task ``i`` shows every image with its pixels reordered by permutation ``i``."""
    n_pixels = int(torch.tensor(data.image_shape).prod())
    permutations = [torch.randperm(n_pixels, generator=generator) for _ in range(n_tasks)]
    if not permute_first:
        permutations[0] = torch.arange(n_pixels)

    def permute(images: torch.Tensor, task: int) -> torch.Tensor:
        flat = images.reshape(len(images), -1)[:, permutations[task]]
        return flat.reshape(images.shape)

    return replace(_transformed_tasks(data, n_tasks, permute, f"permuted_{data.name}"),
                   spatial=False)


def rotated_tasks(data: ImageDataset, angles: list[float]) -> Benchmark:
    """Task ``i`` shows every image rotated by ``angles[i]`` degrees about its centre."""

    def rotate(images: torch.Tensor, task: int) -> torch.Tensor:
        return rotate_images(images, angles[task])

    return _transformed_tasks(data, len(angles), rotate, f"rotated_{data.name}")


def rotate_images(images: torch.Tensor, degrees: float) -> torch.Tensor:
    """Rotate uint8 images (N×C×H×W) counter-clockwise, bilinear, zero fill, back to uint8."""
    theta = torch.tensor(degrees, dtype=torch.float64).deg2rad()
    cos, sin = float(theta.cos()), float(theta.sin())
    affine = torch.tensor([[cos, -sin, 0.0], [sin, cos, 0.0]], dtype=torch.float32)
    grid = F.affine_grid(affine.expand(len(images), 2, 3), list(images.shape), align_corners=False)
    rotated = F.grid_sample(images.float(), grid, mode="bilinear", align_corners=False)
    return rotated.round_().clamp_(0, 255).to(torch.uint8)


def _select_classes(
    images: torch.Tensor, labels: torch.Tensor, classes: tuple[int, ...], task: int
) -> TensorSet:
    keep = torch.isin(labels, torch.tensor(classes))
    y = labels[keep]
    return TensorSet(images[keep], y, torch.full_like(y, task))


def _transformed_tasks(data: ImageDataset, n_tasks: int, transform, name: str) -> Benchmark:
    k = data.n_classes
    experiences = []
    for task in range(n_tasks):
        sets = []
        for images, labels in (
            (data.train_images, data.train_labels),
            (data.test_images, data.test_labels),
        ):
            sets.append(TensorSet(transform(images, task), labels + task * k, torch.full_like(labels, task)))
        classes = tuple(range(task * k, (task + 1) * k))
        experiences.append(Experience(task, classes, *sets))
    return Benchmark(name, tuple(experiences), k * n_tasks, data.image_shape)
