"""The data sets known by name, as ``benchmark.dataset`` names them, found under ``data.root``;
and the MNIST family's loader (IDX files, decoded once and cached).

``digits`` ships with scikit-learn; ``mnist``, ``fashion_mnist`` and ``kmnist`` are read from
``<root>/<Name>/raw/`` (:func:`load_idx_dataset`); ``cifar10`` and ``cifar100`` from the
layouts :mod:`hebbnet.data.cifar` looks for; any other name is a loader registered with
:func:`hebbnet.registry.register_dataset`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from hebbnet.data.cache import cached_tensors
from hebbnet.data.cifar import load_cifar10, load_cifar100
from hebbnet.data.idx import DataFileError, read_idx
from hebbnet.data.image_dataset import ImageDataset, check_labels

IDX_FOLDERS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "kmnist": "KMNIST"}
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IDX_CLASSES = 10  # MNIST, Fashion-MNIST and KMNIST: ten classes each
# name -> loader(data_root) -> ImageDataset, the root resolved; each looks for its own layouts
FOUND_UNDER_ROOT: dict[str, Callable[[Path], ImageDataset]] = {
    "cifar10": load_cifar10,
    "cifar100": load_cifar100,
}
DATASETS = ("digits", *IDX_FOLDERS, *FOUND_UNDER_ROOT)
FRESH_COPY = "Replace it with a fresh copy of the original file."
# name -> loader(data_root) -> ImageDataset; filled by hebbnet.registry.register_dataset
USER_DATASETS: dict[str, Callable[[Path], ImageDataset]] = {}


def pad_images(data: ImageDataset, pixels: int) -> ImageDataset:
    """Add a border of ``pixels`` zeros on every side of every image (train and test)."""
    if pixels < 0:
        raise ValueError(f"benchmark.pad must be non-negative, got {pixels}.")
    if pixels == 0:
        return data
    border = (pixels,) * 4
    return replace(data, train_images=F.pad(data.train_images, border),
                   test_images=F.pad(data.test_images, border))


def to_float(images: torch.Tensor, mean: torch.Tensor | None = None,
             std: torch.Tensor | None = None) -> torch.Tensor:
    """Map uint8 images in [0, 255] to float32 in [0, 1]; given the per-channel ``mean`` and
    ``std`` of those values (shaped to broadcast over (N, C, H, W)), standardised as well:
    :math:`(x/255 - \\mu_c) / \\sigma_c`."""
    x = images.to(torch.float32).div_(255.0)
    if mean is None or std is None:
        return x
    return x.sub_(mean).div_(std)


def load_dataset(name: str, root: str | Path = "data") -> ImageDataset:
    """Load ``digits`` (shipped with scikit-learn), an IDX data set or CIFAR found under
    ``root``, or one registered with :func:`hebbnet.registry.register_dataset`."""
    if name == "digits":
        return load_digits()
    if name in IDX_FOLDERS:
        return load_idx_dataset(name, Path(root).expanduser().resolve())
    if name in FOUND_UNDER_ROOT:
        return FOUND_UNDER_ROOT[name](Path(root).expanduser().resolve())
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
    return ImageDataset(name, tensors["train_images"], tensors["train_labels"], tensors["test_images"],
                        tensors["test_labels"], classes=IDX_CLASSES)


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
