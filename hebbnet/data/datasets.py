"""Image classification data sets, decoded once into uint8 tensors.

Images are kept as ``uint8`` tensors of shape ``(N, C, H, W)`` in [0, 255]; models receive
them as floats in [0, 1] (see :func:`hebbnet.data.to_float`). Keeping bytes rather than floats
makes a 10-task Permuted MNIST fit in under 0.6 GB.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from hebbnet.data.cache import cached_tensors
from hebbnet.data.idx import DataFileError, read_idx

IDX_FOLDERS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "kmnist": "KMNIST"}
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IDX_CLASSES = 10  # MNIST, Fashion-MNIST and KMNIST: ten classes each
DATASETS = ("digits", *IDX_FOLDERS)
INTEGER_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)
FRESH_COPY = "Replace it with a fresh copy of the original file."
RENUMBER = ("Labels are class ids 0..N-1: renumber them (torch.unique(y, return_inverse=True)), or "
            "declare the number of classes, ImageDataset(..., classes=N); without it, N is the "
            "first id with no training label.")
# name -> loader(data_root) -> ImageDataset; filled by hebbnet.registry.register_dataset
USER_DATASETS: dict[str, Callable[[Path], ImageDataset]] = {}


@dataclass(frozen=True)
class ImageDataset:
    """Train and test images (uint8, N×C×H×W) with integer labels, the class ids
    0..``n_classes``-1.

    ``classes`` declares how many classes there are (MNIST: 10). Left out, they are the ids
    from 0 up to the first with no training label. Labels outside them are refused here, since
    a stray label would otherwise widen the output layer and become a class of its own.
    """

    name: str
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    classes: int | None = None

    def __post_init__(self) -> None:
        if self.classes is not None and (not isinstance(self.classes, int) or self.classes < 1):
            raise ValueError(f"ImageDataset {self.name!r}: classes={self.classes!r}; it is the "
                             "number of classes, a positive int (or None to count them).")
        for split, labels in (("train", self.train_labels), ("test", self.test_labels)):
            check_labels(labels, range(self.n_classes), f"ImageDataset {self.name!r}, {split} labels",
                         RENUMBER)

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(self.train_images.shape[1:])

    @property
    def n_classes(self) -> int:
        return self.classes if self.classes is not None else first_missing(self.train_labels)


def first_missing(labels: torch.Tensor) -> int:
    """The smallest class id ≥ 0 with no label: the number of classes a label set implies."""
    present = torch.unique(labels[labels >= 0])
    gaps = (present != torch.arange(len(present), device=present.device)).nonzero()
    return int(gaps[0]) if len(gaps) else len(present)


def check_labels(labels: torch.Tensor, classes: Sequence[int], where: str, fix: str,
                 error: type[ValueError] = ValueError) -> None:
    """Refuse ``labels`` that are not integers, one per sample, or not all among ``classes``:
    one ``error`` naming ``where`` they are, the offending values, how many, and ``fix``."""
    if labels.dtype not in INTEGER_DTYPES or labels.ndim != 1:
        raise error(f"{where} are {labels.dtype} of shape {tuple(labels.shape)}; labels are "
                    f"integer class ids, one per image (y.long()). {fix}")
    allowed = torch.tensor(list(classes), dtype=torch.int64, device=labels.device)
    outside = labels[~torch.isin(labels.long(), allowed)]
    if len(outside):
        values = outside.unique().tolist()
        shown = ", ".join(map(str, values[:10])) + (", ..." if len(values) > 10 else "")
        raise error(f"{where}: {len(outside)} of {len(labels)} labels are not among the "
                    f"{len(allowed)} classes {_describe(classes)}: {shown}. {fix}")


def _describe(classes: Sequence[int]) -> str:
    """``0..9`` for a contiguous range from 0, else the tuple of ids."""
    ids = tuple(classes)
    return f"0..{len(ids) - 1}" if ids and ids == tuple(range(len(ids))) else str(ids)


def pad_images(data: ImageDataset, pixels: int) -> ImageDataset:
    """Add a border of ``pixels`` zeros on every side of every image (train and test)."""
    if pixels < 0:
        raise ValueError(f"benchmark.pad must be non-negative, got {pixels}.")
    if pixels == 0:
        return data
    border = (pixels,) * 4
    return replace(data, train_images=F.pad(data.train_images, border),
                   test_images=F.pad(data.test_images, border))


def to_float(images: torch.Tensor) -> torch.Tensor:
    """Map uint8 images in [0, 255] to float32 in [0, 1]."""
    return images.to(torch.float32).div_(255.0)


def load_dataset(name: str, root: str | Path = "data") -> ImageDataset:
    """Load ``digits`` (shipped with scikit-learn), an IDX data set found under ``root``, or
    one registered with :func:`hebbnet.registry.register_dataset`."""
    if name == "digits":
        return load_digits()
    if name in IDX_FOLDERS:
        return load_idx_dataset(name, Path(root).expanduser().resolve())
    if name in USER_DATASETS:
        data = USER_DATASETS[name](Path(root).expanduser())
        if not isinstance(data, ImageDataset):
            raise TypeError(f"The loader registered as dataset {name!r} returned a "
                            f"{type(data).__name__}; it must return a hebbnet.data.ImageDataset.")
        return data
    raise ValueError(f"Unknown dataset {name!r}; valid names: "
                     f"{', '.join([*DATASETS, *USER_DATASETS])}.")


@lru_cache(maxsize=1)
def load_digits() -> ImageDataset:
    """scikit-learn's 8×8 digits (1797 images, 10 classes), split 70/30 stratified, fixed.

    Pixel values 0..16 are rescaled to 0..255 so every data set shares one input range.
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    bunch = sklearn_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    x_train, x_test, y_train, y_test = train_test_split(
        images, bunch.target, test_size=0.3, stratify=bunch.target, random_state=0
    )
    return ImageDataset(
        "digits",
        torch.from_numpy(x_train),
        torch.from_numpy(y_train.astype(np.int64)),
        torch.from_numpy(x_test),
        torch.from_numpy(y_test.astype(np.int64)),
        classes=10,
    )


def load_idx_dataset(name: str, root: Path) -> ImageDataset:
    """Read the four IDX files of an MNIST-family data set from ``root/<Name>/raw/``
    (decoded once, then cached as tensors by their content: see :mod:`hebbnet.data.cache`).
    The labels are checked against the ten classes after the cache, so no entry written
    before the check, or damaged since, passes unchecked."""
    folder = root / IDX_FOLDERS[name] / "raw"
    files = {key: _find_idx_file(folder, stem, name) for key, stem in IDX_FILES.items()}
    tensors = cached_tensors(name, list(files.values()), lambda: _decode(folder, files))
    for key in ("train_labels", "test_labels"):
        check_labels(tensors[key], range(IDX_CLASSES), f"{name}, {files[key]}", FRESH_COPY,
                     DataFileError)
    return ImageDataset(name, **tensors, classes=IDX_CLASSES)


def _decode(folder: Path, files: dict[str, Path]) -> dict[str, torch.Tensor]:
    arrays = {key: read_idx(path) for key, path in files.items()}
    for split in ("train", "test"):
        _check_pair(files, split, arrays[f"{split}_images"], arrays[f"{split}_labels"])
    return {
        "train_images": torch.from_numpy(arrays["train_images"].copy())[:, None],
        "train_labels": torch.from_numpy(arrays["train_labels"].astype(np.int64)),
        "test_images": torch.from_numpy(arrays["test_images"].copy())[:, None],
        "test_labels": torch.from_numpy(arrays["test_labels"].astype(np.int64)),
    }


def _find_idx_file(folder: Path, stem: str, name: str) -> Path:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{name}: missing {folder / stem}.gz (or the uncompressed {stem}). Set data.root to the "
        f"folder that holds {IDX_FOLDERS[name]}/raw/ with the four IDX files "
        f"({', '.join(IDX_FILES.values())}, .gz or raw) — the layout torchvision's "
        f"{IDX_FOLDERS[name]}(root, download=True) creates. Nothing is downloaded at run time."
    )


def _check_pair(files: dict[str, Path], split: str, images: np.ndarray,
                labels: np.ndarray) -> None:
    image_file, label_file = files[f"{split}_images"], files[f"{split}_labels"]
    if images.dtype != np.uint8 or images.ndim != 3:
        raise DataFileError(
            f"{image_file}: images must be uint8 of shape (N, H, W) (IDX type byte 0x08, 3 "
            f"dimensions), got {images.dtype} {images.shape}. {FRESH_COPY}"
        )
    if labels.dtype.kind not in "iu" or labels.ndim != 1:
        raise DataFileError(
            f"{label_file}: labels must be integers of shape (N,), got {labels.dtype} "
            f"{labels.shape}. {FRESH_COPY}"
        )
    if len(labels) != len(images):
        raise DataFileError(
            f"{label_file}: {len(labels)} labels for the {len(images)} images of {image_file}; "
            "the image and label files do not belong together. Replace both with fresh copies "
            "of one release."
        )
