"""Image augmentation that keeps the pixel values, on whole batches of uint8 images (N, C, H, W)
where they lie (the run's device): random whole-pixel translations, and the published CIFAR
protocols' random crop with flip.

Every random choice is drawn from a ``torch.Generator`` on the CPU (a run's order generator,
saved in its checkpoints, so a resumed run draws the same choices), and only the few numbers
drawn travel to the device — to a GPU without waiting for it (pinned memory, non-blocking).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

AUGMENTATIONS = ("none", "crop_flip")  # benchmark.augment
CROP_PADDING = 4  # pixels of zero padding around the image the 32×32 crop is taken from


def check_augment(kind: str, spatial: bool) -> None:
    """Refuse an unknown ``benchmark.augment``, and one that moves pixels whose neighbours mean
    nothing (permuted images: ``spatial`` False)."""
    if kind not in AUGMENTATIONS:
        raise ValueError(f"Unknown benchmark.augment {kind!r}; valid: {', '.join(AUGMENTATIONS)}.")
    if kind != "none" and not spatial:
        raise ValueError(f"benchmark.augment={kind} moves pixels, but this benchmark's pixels are "
                         "permuted, so neighbours are not neighbours: use benchmark.augment=none.")


def augment(images: torch.Tensor, kind: str, generator: torch.Generator) -> torch.Tensor:
    """``images`` augmented as ``kind`` names (:data:`AUGMENTATIONS`): ``none`` returns them as
    they are (and draws nothing); ``crop_flip`` is :func:`random_crop_flip`."""
    if kind == "none":
        return images
    return random_crop_flip(images, generator)


def random_crop_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image cropped at a random place from itself padded by :data:`CROP_PADDING` zero
    pixels on every side, then mirrored left–right with probability 1/2 — torchvision's
    ``RandomCrop(32, padding=4)`` and ``RandomHorizontalFlip()``, as Mammoth (Buzzega et al.
    2020) and Caccia et al. (2022) augment CIFAR. A crop at offset (i, j) of the padded image is
    the image moved by (4 − i, 4 − j), so the crop is :func:`random_shift`."""
    return random_flip(random_shift(images, CROP_PADDING, generator), generator)


def random_shift(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each image (N, C, H, W) moved by its own (dy, dx) drawn uniformly from
    {−max_shift, …, max_shift}², the uncovered border filled with zeros."""
    if max_shift == 0:
        return images
    n, _, height, width = images.shape
    device = images.device
    shifts = _to_device(torch.randint(-max_shift, max_shift + 1, (n, 2), generator=generator), device)
    padded = F.pad(images, (max_shift,) * 4)
    rows = torch.arange(height, device=device) + max_shift - shifts[:, :1]  # (N, H)
    cols = torch.arange(width, device=device) + max_shift - shifts[:, 1:]  # (N, W)
    batch = torch.arange(n, device=device)[:, None, None]
    return padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def random_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image (N, C, H, W) mirrored left–right with probability 1/2."""
    flip = _to_device(torch.rand(len(images), generator=generator) < 0.5, images.device)
    return torch.where(flip[:, None, None, None], images.flip(3), images)


def _to_device(drawn: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Numbers drawn on the CPU, on ``device``: to a GPU through pinned memory without
    blocking, so the host runs on while the copy waits for the kernels before it."""
    if device.type != "cuda":
        return drawn.to(device)
    return drawn.pin_memory().to(device, non_blocking=True)
