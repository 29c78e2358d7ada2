"""Images kept as a tree of folders, one per split and class, on disk or in a zip.

Layout (torchvision's ``ImageFolder``, once per split)::

    <root>/train/<class>/<name>.png | .jpg | .jpeg
    <root>/test/<class>/<name>.png | .jpg | .jpeg

``<root>`` is a folder, or a zip holding the tree at its top or under one top folder (the
shared CIFAR-10 copy holds ``cifar10/train/airplane/0000.jpg``); entries beside ``train/`` and
``test/`` are not read. Both splits hold the same class folders. Class ids follow the sorted
class folder names, or the order the caller gives (CIFAR-10's official order, airplane ...
truck, which is also its sorted one), and a class's images follow their sorted file names: the
tree comes out sorted by class, so shuffle it (with a seed) before cutting anything by
position — the benchmark's job, not the loader's. Images are decoded with Pillow, as PNG or
JPEG only, and converted to RGB (a grey image gives three equal channels); all have one size.

The decoded tensors are cached by content (:mod:`hebbnet.data.cache`). A zip's key is its
bytes, names included; a folder's, the bytes of every image with its path in the tree (the
path is its label). For CIFAR-10's 60,000 images on this project's shared 2-core machine:
decoding, serial in one process, takes 8-13 s; hashing the 63 MB zip 0.05-0.2 s (a cached
load 0.8 s); hashing the same files unpacked into a folder 1.0-1.5 s with the page cache warm
(a cached load 2.5 s) — well below a decode, so no shortcut by file times is kept.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from hebbnet.data.cache import cached_tensors
from hebbnet.data.idx import DataFileError
from hebbnet.data.image_dataset import ImageDataset

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
FORMATS = ("PNG", "JPEG")  # what Pillow may read them as: no other parser sees the bytes
SPLITS = ("train", "test")
TREE = "train/<class>/<image> and test/<class>/<image>"
Layout = dict[str, dict[str, list[str]]]  # split -> class folder -> its images' entries


@dataclass(frozen=True)
class _Tree:
    """The entries of an image tree, as paths relative to its root (``train/cat/1.png``;
    folders end in ``/``), and where the tree is: a folder, or ``prefix`` inside a zip (``""``
    for a folder and for a zip holding the tree at its top)."""

    source: Path
    prefix: str
    entries: tuple[str, ...]

    def describe(self, entry: str) -> str:
        """The entry as a path: in a zip, the zip's path and the member's name."""
        return f"{self.source}/{self.prefix}{entry}"


def load_image_folder(source: str | Path, name: str | None = None,
                      class_names: tuple[str, ...] | None = None) -> ImageDataset:
    """Read the image tree in the folder or zip ``source`` (see the module's layout), decoded
    once and then read from the cache.

    Args:
        source: the folder that holds ``train/`` and ``test/``, or a zip of it.
        name: names the data set and its cache entries; by default ``source``'s stem.
        class_names: the class folders the tree must hold, in class id order (CIFAR-10's
            official order, say); by default the folders found, sorted.

    Returns an :class:`ImageDataset` of uint8 images, N×3×H×W, int64 labels and the class
    names. Raises :class:`DataFileError` naming the file and the fix for a class folder with no
    images, a file that is not an image or fails to decode, images of mixed sizes and class
    folders other than ``class_names``; nothing is cached then.
    """
    source = Path(source).expanduser()
    name = name or source.stem
    tree = _open_tree(source)
    layout = _layout(tree)
    class_names = class_names or tuple(sorted(layout["train"]))
    _check_classes(tree, layout, name, class_names)
    ordered = {split: [(entry, label) for label, folder in enumerate(class_names)
                       for entry in layout[split][folder]] for split in SPLITS}
    sources, context = _cache_key(tree, ordered)
    tensors = cached_tensors(name, sources, lambda: _decode(tree, ordered), context)
    return ImageDataset(name, tensors["train_images"], tensors["train_labels"],
                        tensors["test_images"], tensors["test_labels"], classes=len(class_names),
                        class_names=class_names)


def _cache_key(tree: _Tree, ordered: dict[str, list[tuple[str, int]]]) -> tuple[list[Path], str]:
    """The files whose bytes key the cache, and the context hashed with them: a zip alone (its
    bytes hold the names), or a folder's images in order with their paths, which are labels."""
    if not tree.source.is_dir():
        return [tree.source], ""
    entries = [entry for split in SPLITS for entry, _ in ordered[split]]
    return [tree.source / entry for entry in entries], "\n".join(entries)


def _open_tree(source: Path) -> _Tree:
    if source.is_dir():
        return _Tree(source, "", tuple(sorted(_folder_entries(source))))
    if not source.is_file():
        raise FileNotFoundError(f"{source}: no such folder or zip. Give the folder (or a zip of "
                                f"it) that holds {TREE}.")
    names = _zip_names(source)
    prefix = _zip_prefix(source, names)
    entries = (entry[len(prefix):] for entry in names if entry.startswith(prefix))
    return _Tree(source, prefix, tuple(sorted(e for e in entries if e.split("/")[0] in SPLITS)))


def _folder_entries(root: Path) -> Iterator[str]:
    for split in SPLITS:
        for folder, _, files in os.walk(root / split):
            where = Path(folder).relative_to(root).as_posix()
            yield f"{where}/"
            yield from (f"{where}/{file}" for file in files)


def _zip_names(source: Path) -> list[str]:
    try:
        with zipfile.ZipFile(source) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError) as error:
        raise DataFileError(f"{source} is neither a folder nor a readable zip ({error}). Give the "
                            f"folder that holds {TREE}, or a fresh zip of it.") from error


def _zip_prefix(source: Path, names: list[str]) -> str:
    """The folder in the zip holding ``train/`` and ``test/`` (or either, so that the other is
    then named as missing): its top, or one top folder."""
    tops = {name.split("/")[0] for name in names}
    if tops & set(SPLITS):
        return ""
    pairs = {tuple(name.split("/")[:2]) for name in names if name.count("/") >= 2}
    holders = sorted(top for top in tops if any((top, split) in pairs for split in SPLITS))
    if len(holders) != 1:
        raise DataFileError(f"{source} holds no single image tree: expected {TREE} at its top or "
                            f"under one top folder; its top holds {', '.join(sorted(tops))}. Zip "
                            "the folder that holds train/ and test/.")
    return f"{holders[0]}/"


def _layout(tree: _Tree) -> Layout:
    """Each split's class folders and their images, every entry checked to be in its place."""
    layout: Layout = {split: {} for split in SPLITS}
    for entry in tree.entries:
        split, *inside = entry.rstrip("/").split("/")
        if len(inside) > 2 or (len(inside) == 2 and entry.endswith("/")):
            raise DataFileError(f"{tree.describe(entry)} lies below a class folder; the tree holds "
                                f"{TREE}, one folder level per class. Move its images up into "
                                "their class folder, or out of the tree.")
        if len(inside) == 1 and not entry.endswith("/"):
            raise DataFileError(f"{tree.describe(entry)} lies in {split}/ outside any class folder; "
                                f"the tree holds {TREE}. Move it into its class folder, or out of "
                                "the tree.")
        if inside:
            layout[split].setdefault(inside[0], [])
        if len(inside) == 2:
            layout[split][inside[0]].append(_image_entry(tree, entry))
    _check_layout(tree, layout)
    return layout


def _image_entry(tree: _Tree, entry: str) -> str:
    if not entry.lower().endswith(IMAGE_SUFFIXES):
        raise DataFileError(f"{tree.describe(entry)} is not a {', '.join(IMAGE_SUFFIXES)} image, "
                            "and a class folder holds images only. Remove it, or move it out of "
                            "the tree.")
    return entry


def _check_layout(tree: _Tree, layout: Layout) -> None:
    for split, classes in layout.items():
        if not classes:
            raise DataFileError(f"{tree.describe(split + '/')}: missing, or holds no class folders; "
                                f"the tree holds {TREE}. Give the folder that holds both splits.")
        for folder, images in classes.items():
            if not images:
                raise DataFileError(f"{tree.describe(f'{split}/{folder}/')}: a class folder with no "
                                    f"images ({', '.join(IMAGE_SUFFIXES)}). Add its images, or "
                                    "remove the folder.")
    train, test = sorted(layout["train"]), sorted(layout["test"])
    if train != test:
        raise DataFileError(f"{tree.describe('')}: the splits' class folders differ (train: "
                            f"{', '.join(train)}; test: {', '.join(test)}). Give both splits the "
                            "same class folders.")


def _check_classes(tree: _Tree, layout: Layout, name: str, class_names: tuple[str, ...]) -> None:
    found = sorted(layout["train"])
    if found != sorted(class_names):
        raise DataFileError(f"{tree.describe('train/')} holds the class folders {', '.join(found)}, "
                            f"where {name} has {', '.join(class_names)}. Give a tree of {name}'s classes, "
                            "or load this one as a data set of its own: "
                            "hebbnet.data.load_image_folder(path), without class_names.")


def _decode(tree: _Tree, ordered: dict[str, list[tuple[str, int]]]) -> dict[str, torch.Tensor]:
    """Each split's images (uint8, N×3×H×W) and labels (int64), in the order given."""
    with _reader(tree) as read:
        first = ordered["train"][0][0]
        shape = _decode_image(tree, first, read).shape
        tensors = {}
        for split, entries in ordered.items():
            images = np.empty((len(entries), *shape), dtype=np.uint8)
            for index, (entry, _) in enumerate(entries):
                pixels = _decode_image(tree, entry, read)
                if pixels.shape != shape:
                    raise DataFileError(
                        f"{tree.describe(entry)} is {_size(pixels.shape)} pixels, but "
                        f"{tree.describe(first)} is {_size(shape)}; the images of a data set "
                        "share one size. Resize them to one size, or remove the odd ones.")
                images[index] = pixels
            tensors[f"{split}_images"] = torch.from_numpy(images)
            tensors[f"{split}_labels"] = torch.tensor([label for _, label in entries])
    return tensors


@contextmanager
def _reader(tree: _Tree) -> Iterator[Callable[[str], bytes]]:
    """``read(entry) -> bytes`` for the tree's files, the zip kept open while it is used."""
    if tree.source.is_dir():
        yield lambda entry: (tree.source / entry).read_bytes()
        return
    with zipfile.ZipFile(tree.source) as archive:
        yield lambda entry: archive.read(tree.prefix + entry)


def _decode_image(tree: _Tree, entry: str, read: Callable[[str], bytes]) -> np.ndarray:
    """One image as uint8 RGB, 3×H×W."""
    try:
        with Image.open(io.BytesIO(read(entry)), formats=FORMATS) as image:
            return np.asarray(image.convert("RGB")).transpose(2, 0, 1)
    except Exception as error:  # Pillow and zipfile fail in many ways, all meaning the same
        raise DataFileError(f"{tree.describe(entry)} cannot be read as an image "
                            f"({type(error).__name__}: {error}). Replace it with a fresh copy, "
                            "or remove it.") from error


def _size(shape: tuple[int, ...]) -> str:
    """Width×height of a 3×H×W image."""
    return f"{shape[2]}×{shape[1]}"
