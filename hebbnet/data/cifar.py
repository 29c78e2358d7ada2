"""CIFAR-10 and CIFAR-100 (Krizhevsky, 2009) in the layouts they are kept in, found under
``data.root``.

CIFAR-10 is looked for under the root in this order, the first found being read (the official
files first, as they hold the original pixels; the JPEG copy after):

1. ``cifar-10-batches-py/`` (``cifar-10-python.tar.gz``, what torchvision's ``CIFAR10``
   downloads): ``data_batch_1`` .. ``data_batch_5`` (train) and ``test_batch``, each a pickled
   dict of ``b"data"``, a uint8 array (N, 3072) — per image 1,024 red, then 1,024 green, then
   1,024 blue bytes, each plane row-major — and ``b"labels"``, a list of N class ids 0..9.
2. ``cifar-10-batches-bin/`` (``cifar-10-binary.tar.gz``): ``data_batch_1.bin`` ..
   ``data_batch_5.bin`` and ``test_batch.bin``, records of 3,073 bytes: a label byte, then the
   3,072 pixel bytes as above.
3. ``CIFAR10/cifar10-jpeg.zip`` (the shared copy), then ``cifar10/``: an image tree
   (:mod:`hebbnet.data.image_folder`) whose class folders are CIFAR-10's ten.

CIFAR-100 is read from ``cifar-100-python/`` (``cifar-100-python.tar.gz``): ``train`` and
``test``, dicts of ``b"data"`` as above, ``b"fine_labels"`` (100 classes) and
``b"coarse_labels"`` (their 20 superclasses), and ``meta``, which names both kinds of class.

Pickles are read by :func:`hebbnet.data.safe_pickle.load_arrays`, which refuses anything but
arrays and containers, so a crafted batch cannot run code. Files are decoded once, then read
from the cache by their content (:mod:`hebbnet.data.cache`). Images come out uint8,
N×3×32×32 (from an image tree: N×3×H×W, the size its images have), with int64 labels and the
class names.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from hebbnet.data.cache import Tensors, cached_tensors
from hebbnet.data.idx import DataFileError
from hebbnet.data.image_dataset import ImageDataset, check_labels
from hebbnet.data.image_folder import load_image_folder
from hebbnet.data.safe_pickle import load_arrays

# the official label order, which is also the sorted order of the names
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
IMAGE_SHAPE = (3, 32, 32)
PIXELS = 3 * 32 * 32
RECORD = 1 + PIXELS  # a binary batch's record: label byte, then the pixels
BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
CIFAR10_LABELS = {"labels": len(CIFAR10_CLASSES)}  # a batch's label key -> number of classes
CIFAR100_FOLDER = "cifar-100-python"
CIFAR100_LABELS = {"fine_labels": 100, "coarse_labels": 20}
FRESH = "Replace it with a fresh copy from https://www.cs.toronto.edu/~kriz/cifar.html."
Batch = tuple[np.ndarray, dict[str, np.ndarray]]  # images N×3×32×32; labels by key, int64


def read_cifar10_python(folder: Path) -> ImageDataset:
    """CIFAR-10 from ``cifar-10-batches-py/`` (pickled batches; see the module)."""
    files = _batches(folder, BATCHES, "cifar-10-python.tar.gz")
    tensors = cached_tensors("cifar10", _flat(files),
                             lambda: _decode(files, lambda path: _read_pickled(path, CIFAR10_LABELS)))
    return _dataset("cifar10", tensors, "labels", CIFAR10_CLASSES)


def read_cifar10_binary(folder: Path) -> ImageDataset:
    """CIFAR-10 from ``cifar-10-batches-bin/`` (3,073-byte records; see the module)."""
    names = {split: [f"{name}.bin" for name in batch] for split, batch in BATCHES.items()}
    files = _batches(folder, names, "cifar-10-binary.tar.gz")
    tensors = cached_tensors("cifar10", _flat(files), lambda: _decode(files, _read_binary))
    return _dataset("cifar10", tensors, "labels", CIFAR10_CLASSES)


def read_cifar10_tree(source: Path) -> ImageDataset:
    """CIFAR-10 from an image tree, a folder or zip (see :mod:`hebbnet.data.image_folder`),
    whose class folders must be CIFAR-10's; class ids follow the official order."""
    return load_image_folder(source, "cifar10", CIFAR10_CLASSES)


def read_cifar100_python(folder: Path, labels: str = "fine") -> ImageDataset:
    """CIFAR-100 from ``cifar-100-python/``, with its 100 ``fine`` classes or the 20
    ``coarse`` superclasses (both kinds are cached together, so switching decodes nothing)."""
    if labels not in ("fine", "coarse"):
        raise ValueError(f"CIFAR-100 labels={labels!r}; choose 'fine' (100 classes) or 'coarse' "
                         "(20 superclasses).")
    files = _batches(folder, {"train": ["train"], "test": ["test"]}, "cifar-100-python.tar.gz",
                     also=["meta"])
    key = f"{labels}_labels"
    class_names = _class_names(folder / "meta", f"{labels}_label_names", CIFAR100_LABELS[key])
    tensors = cached_tensors("cifar100", _flat(files),
                             lambda: _decode(files, lambda path: _read_pickled(path, CIFAR100_LABELS)))
    return _dataset("cifar100", tensors, key, class_names)


def _batches(folder: Path, names: dict[str, list[str]], archive: str,
             also: list[str] | None = None) -> dict[str, list[Path]]:
    """Each split's batch files in ``folder``, after checking that they (and ``also``) exist."""
    expected = [*(name for batch in names.values() for name in batch), *(also or [])]
    missing = [name for name in expected if not (folder / name).is_file()]
    if missing:
        present = sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []
        raise FileNotFoundError(
            f"{folder}: missing {', '.join(missing)}; it holds {', '.join(present) or 'nothing'}, "
            f"where {archive} unpacks {', '.join(expected)}. Replace the folder with a fresh copy "
            f"unpacked from {archive}."
        )
    return {split: [folder / name for name in batch] for split, batch in names.items()}


def _flat(files: dict[str, list[Path]]) -> list[Path]:
    return [path for paths in files.values() for path in paths]


def _decode(files: dict[str, list[Path]], read: Callable[[Path], Batch]) -> Tensors:
    """Each split's batches, read and joined: ``<split>_images`` and ``<split>_<label key>``."""
    tensors = {}
    for split, paths in files.items():
        batches = [read(path) for path in paths]
        tensors[f"{split}_images"] = torch.from_numpy(np.concatenate([images for images, _ in batches]))
        for key in batches[0][1]:
            tensors[f"{split}_{key}"] = torch.from_numpy(
                np.concatenate([labels[key] for _, labels in batches]))
    return tensors


def _dataset(name: str, tensors: Tensors, key: str, class_names: tuple[str, ...]) -> ImageDataset:
    return ImageDataset(name, tensors["train_images"], tensors[f"train_{key}"],
                        tensors["test_images"], tensors[f"test_{key}"], classes=len(class_names),
                        class_names=class_names)


def _read_binary(path: Path) -> Batch:
    raw = path.read_bytes()
    if not raw or len(raw) % RECORD:
        raise DataFileError(
            f"{path} is {len(raw):,} bytes long, where a CIFAR-10 binary batch is one or more "
            f"records of {RECORD:,} bytes (a label byte, then {PIXELS:,} pixel bytes): it is "
            f"truncated or another file. {FRESH}"
        )
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD)
    labels = records[:, 0].astype(np.int64)
    check_labels(torch.from_numpy(labels), range(len(CIFAR10_CLASSES)), f"{path}, labels", FRESH,
                 DataFileError)
    return records[:, 1:].reshape(-1, *IMAGE_SHAPE).copy(), {"labels": labels}


def _read_pickled(path: Path, label_classes: dict[str, int]) -> Batch:
    """A pickled batch's images and its labels under each key of ``label_classes`` (the
    number of classes each kind of label has)."""
    record = _read_dict(path, ["data", *label_classes])
    data = record["data"]
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.shape[1:] == (PIXELS,)):
        raise DataFileError(f"{path}: data is {_what(data)}, where a CIFAR batch holds uint8 of "
                            f"shape (N, {PIXELS}). {FRESH}")
    labels = {key: _labels(path, key, record[key], len(data), classes)
              for key, classes in label_classes.items()}
    return data.reshape(-1, *IMAGE_SHAPE), labels


def _read_dict(path: Path, keys: list[str]) -> dict[object, object]:
    """The dict pickled in ``path``, its bytes keys decoded, after checking it holds ``keys``."""
    record = load_arrays(path)
    if not isinstance(record, dict):
        raise DataFileError(f"{path} holds {_what(record)}, where a CIFAR file holds a dict of "
                            f"{', '.join(keys)}. {FRESH}")
    record = {key.decode("latin-1") if isinstance(key, bytes) else key: value
              for key, value in record.items()}
    missing = [key for key in keys if key not in record]
    if missing:
        raise DataFileError(f"{path} holds {', '.join(map(str, record)) or 'no keys'}, not "
                            f"{', '.join(missing)}: it is not the CIFAR file this reader expects "
                            f"(one with {', '.join(keys)}). {FRESH}")
    return record


def _labels(path: Path, key: str, value: object, count: int, classes: int) -> np.ndarray:
    """``value`` as ``count`` int64 class ids below ``classes``."""
    try:
        labels = np.asarray(value) if isinstance(value, (list, np.ndarray)) else None
    except (ValueError, OverflowError):  # a ragged or mixed list
        labels = None
    if labels is None or labels.dtype.kind not in "iu" or labels.shape != (count,):
        raise DataFileError(f"{path}: {key} is {_what(value)}, where a CIFAR batch holds {count} "
                            f"integer class ids, one per image. {FRESH}")
    labels = labels.astype(np.int64)
    check_labels(torch.from_numpy(labels), range(classes), f"{path}, {key}", FRESH, DataFileError)
    return labels


def _class_names(path: Path, key: str, count: int) -> tuple[str, ...]:
    """The ``count`` class names listed under ``key`` in a CIFAR ``meta`` file."""
    names = _read_dict(path, [key])[key]
    if not (isinstance(names, list) and len(names) == count
            and all(isinstance(name, (bytes, str)) for name in names)):
        raise DataFileError(f"{path}: {key} is {_what(names)}, where CIFAR's meta file lists "
                            f"{count} class names. {FRESH}")
    return tuple(name.decode("latin-1") if isinstance(name, bytes) else name for name in names)


def _what(value: object) -> str:
    """A value's kind, as an error message names it."""
    if isinstance(value, np.ndarray):
        return f"an array of {value.dtype}, shape {value.shape}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"


# where CIFAR-10 is looked for under data.root, in order, and how each place is read
CIFAR10_LAYOUTS: tuple[tuple[str, Callable[[Path], ImageDataset]], ...] = (
    ("cifar-10-batches-py", read_cifar10_python),
    ("cifar-10-batches-bin", read_cifar10_binary),
    ("CIFAR10/cifar10-jpeg.zip", read_cifar10_tree),
    ("cifar10", read_cifar10_tree),
)


def load_cifar10(root: Path) -> ImageDataset:
    """CIFAR-10 from the first of :data:`CIFAR10_LAYOUTS` found under ``root``.

    Returns uint8 images, 50,000 (train) and 10,000 (test) × 3×32×32 in the full data set,
    with int64 labels 0..9 in the official class order. A layout that is found but damaged
    raises its error; the next is not tried.
    """
    for place, read in CIFAR10_LAYOUTS:
        if (root / place).exists():
            return read(root / place)
    places = ", ".join(str(root / place) for place, _ in CIFAR10_LAYOUTS)
    raise FileNotFoundError(
        f"cifar10: no CIFAR-10 under {root}; looked for {places}, in that order. Set data.root to "
        "the folder that holds one of them (cifar-10-batches-py/ is what torchvision's "
        "CIFAR10(root, download=True) unpacks there). Nothing is downloaded at run time."
    )


def load_cifar100(root: Path, labels: str = "fine") -> ImageDataset:
    """CIFAR-100 from ``root/cifar-100-python/``, with ``fine`` (100) or ``coarse`` (20)
    classes; where ``root`` holds CIFAR-10 instead, the error says so."""
    folder = root / CIFAR100_FOLDER
    if folder.exists():
        return read_cifar100_python(folder, labels)
    found = [str(root / place) for place, _ in CIFAR10_LAYOUTS if (root / place).exists()]
    instead = f" It holds CIFAR-10 ({', '.join(found)}): ask for cifar10 to use that." if found else ""
    raise FileNotFoundError(
        f"cifar100: no CIFAR-100 under {root}; looked for {folder} (train, test, meta).{instead} "
        f"Set data.root to the folder that holds {CIFAR100_FOLDER}/ (what torchvision's "
        "CIFAR100(root, download=True) unpacks there). Nothing is downloaded at run time."
    )
