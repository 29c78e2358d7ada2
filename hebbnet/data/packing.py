"""Images quantised to a few bits per pixel and packed into bytes, for memories that count bytes.

A uint8 image with D pixels at b bits per pixel takes ⌈D·b/8⌉ bytes (1 bit: 98 bytes for a
28×28 digit instead of 784). Quantisation maps v ∈ {0…255} to round(v·L/255) with L = 2ᵇ − 1
levels and back to round(level·255/L), so packing an unpacked image again changes nothing.
Written here because neither torch nor numpy packs more than one bit per element
(``numpy.packbits`` is 1-bit only) and the stores keep tensors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

PIXEL_BITS = (1, 2, 4, 8)


def check_pixel_bits(bits: int, setting: str = "pixel_bits") -> None:
    if bits not in PIXEL_BITS:
        raise ValueError(f"{setting} must be one of {PIXEL_BITS}, got {bits}.")


def packed_size(n_pixels: int, bits: int) -> int:
    """Bytes of one image of ``n_pixels`` pixels at ``bits`` per pixel."""
    return math.ceil(n_pixels * bits / 8)


def _shifts(bits: int, device) -> torch.Tensor:
    return torch.arange(8 // bits - 1, -1, -1, dtype=torch.uint8, device=device) * bits


def pack_pixels(images: torch.Tensor, bits: int) -> torch.Tensor:
    """uint8 images (N, ...) → (N, packed_size) uint8, the first pixel in the highest bits."""
    if images.dtype != torch.uint8:
        raise ValueError(f"Packing needs uint8 images (0–255), got {images.dtype}.")
    flat = images.flatten(1)
    per_byte, levels = 8 // bits, 2 ** bits - 1
    values = (flat.float() * (levels / 255)).round().to(torch.uint8)
    size = packed_size(flat.shape[1], bits)
    padded = values.new_zeros(len(flat), size * per_byte)
    padded[:, : flat.shape[1]] = values
    shifted = padded.view(len(flat), size, per_byte) << _shifts(bits, images.device)
    return shifted.sum(2, dtype=torch.uint8)


def unpack_pixels(packed: torch.Tensor, bits: int, image_shape: Sequence[int]) -> torch.Tensor:
    """Packed images (N, packed_size) → uint8 images (N, *image_shape)."""
    levels = 2 ** bits - 1
    values = (packed.unsqueeze(-1) >> _shifts(bits, packed.device)) & levels
    values = values.flatten(1)[:, : math.prod(image_shape)]
    return (values.float() * (255 / levels)).round().to(torch.uint8).reshape(
        len(packed), *image_shape)
