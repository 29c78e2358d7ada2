"""The decoded form of every image classification data set, and the check on its labels.

Images are kept as ``uint8`` tensors of shape ``(N, C, H, W)`` in [0, 255]; models receive
them as floats in [0, 1] (see :func:`hebbnet.data.to_float`). Keeping bytes rather than floats
makes a 10-task Permuted MNIST fit in under 0.6 GB.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

INTEGER_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)
RENUMBER = ("Labels are class ids 0..N-1: renumber them (torch.unique(y, return_inverse=True)), or "
            "declare the number of classes, ImageDataset(..., classes=N); without it, N is the "
            "first id with no training label.")


@dataclass(frozen=True)
class ImageDataset:
    """Train and test images (uint8, N×C×H×W) with integer labels, the class ids
    0..``n_classes``-1.

    ``classes`` declares how many classes there are (MNIST: 10). Left out, they are the ids
    from 0 up to the first with no training label. Labels outside them are refused here, since
    a stray label would otherwise widen the output layer and become a class of its own.
    ``class_names``, where the files name the classes (CIFAR: ``airplane``, ...), holds one
    name per class id, in id order.
    """

    name: str
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    classes: int | None = None
    class_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.classes is not None and (not isinstance(self.classes, int) or self.classes < 1):
            raise ValueError(f"ImageDataset {self.name!r}: classes={self.classes!r}; it is the "
                             "number of classes, a positive int (or None to count them).")
        for split, labels in (("train", self.train_labels), ("test", self.test_labels)):
            check_labels(labels, range(self.n_classes), f"ImageDataset {self.name!r}, {split} labels",
                         RENUMBER)
        if self.class_names is not None and len(self.class_names) != self.n_classes:
            raise ValueError(f"ImageDataset {self.name!r}: {len(self.class_names)} class_names for "
                             f"{self.n_classes} classes; give one name per class id, in id order.")

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
