"""Reader for the IDX format of MNIST, Fashion-MNIST and KMNIST (gzip-compressed or raw).

An IDX file is a 4-byte magic number ``0x00 0x00 <dtype code> <ndim>``, then ``ndim``
big-endian uint32 dimension sizes, then the array in C order, big-endian.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"


class DataFileError(ValueError):
    """A data file exists but cannot be read as what it claims to be."""


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (``.gz`` or raw) into a numpy array with its native dtype."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataFileError(f"{path} is not an IDX file (bad magic number {raw[:4].hex()!r}). "
                            "Replace it with a fresh copy of the IDX file.")
    dtype_code, ndim = raw[2], raw[3]
    if dtype_code not in IDX_DTYPES:
        valid = ", ".join(f"0x{code:02x}" for code in IDX_DTYPES)
        raise DataFileError(f"{path}: unknown IDX element type 0x{dtype_code:02x} (valid: "
                            f"{valid}); the file is corrupt. Replace it with a fresh copy.")
    header_end = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header_end:
        raise DataFileError(f"{path}: IDX header is truncated ({len(raw)} bytes). "
                            "Replace it with a fresh copy.")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[dtype_code]
    expected = int(np.prod(shape)) * dtype.itemsize
    found = len(raw) - header_end
    if found != expected:
        raise DataFileError(
            f"{path}: expected {expected} bytes of data for shape {shape}, found {found}; "
            "the file is truncated or corrupt. Replace it with a fresh copy."
        )
    array = np.frombuffer(raw, dtype=dtype, offset=header_end).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends in ``.gz`` (with no
    timestamp in the gzip header, so the same array always gives the same bytes)."""
    path = Path(path)
    codes = {dtype.newbyteorder(">"): code for code, dtype in IDX_DTYPES.items()}
    big_endian = array.astype(array.dtype.newbyteorder(">"), copy=False)
    code = codes[big_endian.dtype.newbyteorder(">")]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(big_endian).tobytes()
    path.write_bytes(gzip.compress(payload, mtime=0) if path.suffix == ".gz" else payload)


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise DataFileError(
            f"{path}: gzip data is truncated or corrupt ({error}). Replace it with a fresh copy."
        ) from error
