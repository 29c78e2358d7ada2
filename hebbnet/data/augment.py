"""Image augmentation that keeps the pixel values: random whole-pixel translations."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def random_shift(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each image (N, C, H, W) moved by its own (dy, dx) drawn uniformly from
    {−max_shift, …, max_shift}², the uncovered border filled with zeros."""
    if max_shift == 0:
        return images
    n, _, height, width = images.shape
    shifts = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=generator)
    padded = F.pad(images, (max_shift,) * 4)
    rows = (torch.arange(height) + max_shift - shifts[:, :1]).to(images.device)  # (N, H)
    cols = (torch.arange(width) + max_shift - shifts[:, 1:]).to(images.device)  # (N, W)
    batch = torch.arange(n, device=images.device)[:, None, None]
    return padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
