"""Image classification data sets, decoded once into uint8 tensors.

Images are kept as ``uint8`` tensors of shape ``(N, C, H, W)`` in [0, 255]; models receive
them as floats in [0, 1] (see :func:`hebbnet.data.to_float`). Keeping bytes rather than floats
makes a 10-task Permuted MNIST fit in under 0.6 GB.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
DATASETS = ("digits", *IDX_FOLDERS)
# name -> loader(data_root) -> ImageDataset; filled by hebbnet.registry.register_dataset
USER_DATASETS: dict[str, Callable[[Path], ImageDataset]] = {}


@dataclass(frozen=True)
class ImageDataset:
    """Train and test images (uint8, N×C×H×W) with integer labels."""

    name: str
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(self.train_images.shape[1:])

    @property
    def n_classes(self) -> int:
        return int(self.train_labels.max()) + 1


def pad_images(data: ImageDataset, pixels: int) -> ImageDataset:
    """Add a border of ``pixels`` zeros on every side of every image (train and test)."""
    if pixels < 0:
        raise ValueError(f"benchmark.pad must be non-negative, got {pixels}.")
    if pixels == 0:
        return data
    border = (pixels,) * 4
    return ImageDataset(data.name, F.pad(data.train_images, border), data.train_labels,
                        F.pad(data.test_images, border), data.test_labels)


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
    )


def load_idx_dataset(name: str, root: Path) -> ImageDataset:
    """Read the four IDX files of an MNIST-family data set from ``root/<Name>/raw/``
    (decoded once, then cached as tensors by their content: see :mod:`hebbnet.data.cache`)."""
    folder = root / IDX_FOLDERS[name] / "raw"
    files = {key: _find_idx_file(folder, stem, name) for key, stem in IDX_FILES.items()}
    tensors = cached_tensors(name, list(files.values()), lambda: _decode(folder, files))
    return ImageDataset(name, **tensors)


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
    fresh = "Replace it with a fresh copy of the original file."
    if images.dtype != np.uint8 or images.ndim != 3:
        raise DataFileError(
            f"{image_file}: images must be uint8 of shape (N, H, W) (IDX type byte 0x08, 3 "
            f"dimensions), got {images.dtype} {images.shape}. {fresh}"
        )
    if labels.dtype.kind not in "iu" or labels.ndim != 1:
        raise DataFileError(
            f"{label_file}: labels must be integers of shape (N,), got {labels.dtype} "
            f"{labels.shape}. {fresh}"
        )
    if len(labels) != len(images):
        raise DataFileError(
            f"{label_file}: {len(labels)} labels for the {len(images)} images of {image_file}; "
            "the image and label files do not belong together. Replace both with fresh copies "
            "of one release."
        )
    if len(labels) and labels.min() < 0:
        raise DataFileError(f"{label_file}: labels must be non-negative, found {labels.min()}. "
                            f"{fresh}")
