"""The decoded-data cache never serves stale data: it is keyed by the files' content, ``off``
means off (in memory too), and damaged entries are decoded afresh."""

import gzip
import os

import numpy as np
import pytest
from conftest import write_fake_mnist

from hebbnet.data import DataFileError, read_idx, write_idx
from hebbnet.data.datasets import load_idx_dataset


def labels_file(root):
    return root / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz"


def test_a_rewritten_file_with_the_same_size_and_time_is_decoded_afresh(tmp_path):
    root = write_fake_mnist(tmp_path).resolve()
    first = load_idx_dataset("mnist", root)
    path = labels_file(root)
    stat = path.stat()
    labels = first.train_labels.numpy().astype(np.uint8)
    write_idx(path, (labels + 1) % 10)  # gzip of the same length: only the labels differ
    assert path.stat().st_size == stat.st_size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the old modification time
    again = load_idx_dataset("mnist", root)
    assert again.train_labels.tolist() == ((labels + 1) % 10).tolist()


def test_off_means_off_within_a_process(tmp_path, monkeypatch):
    root = write_fake_mnist(tmp_path).resolve()
    load_idx_dataset("mnist", root)  # cached on disk
    monkeypatch.setenv("HEBBNET_CACHE", "off")
    decoded = []
    monkeypatch.setattr("hebbnet.data.datasets.read_idx",
                        lambda path: decoded.append(path) or read_idx(path))
    load_idx_dataset("mnist", root)
    load_idx_dataset("mnist", root)
    assert len(decoded) == 8  # four files, decoded on each of the two loads


@pytest.mark.parametrize("damage", [b"", b"not a tensor file", None])
def test_a_damaged_cache_entry_is_decoded_afresh(tmp_path, private_data_cache, damage):
    root = write_fake_mnist(tmp_path).resolve()
    reference = load_idx_dataset("mnist", root)
    entry = next(private_data_cache.glob("mnist-*.pt"))
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2] if damage is None
                      else damage)
    again = load_idx_dataset("mnist", root)
    assert again.train_labels.tolist() == reference.train_labels.tolist()


def test_the_same_files_elsewhere_share_one_entry(tmp_path, private_data_cache):
    before = set(private_data_cache.glob("mnist-*.pt"))
    load_idx_dataset("mnist", write_fake_mnist(tmp_path / "a", seed=7).resolve())
    load_idx_dataset("mnist", write_fake_mnist(tmp_path / "b", seed=7).resolve())
    assert len(set(private_data_cache.glob("mnist-*.pt")) - before) == 1


def test_an_idx_file_of_the_wrong_type_names_the_file_and_the_fix(tmp_path):
    root = write_fake_mnist(tmp_path).resolve()
    images = root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz"
    write_idx(images, np.zeros((300, 28, 28), dtype=np.float32))  # type byte 0x0D
    with pytest.raises(DataFileError) as error:
        load_idx_dataset("mnist", root)
    assert str(images) in str(error.value) and "fresh copy" in str(error.value)
    raw = bytearray(gzip.decompress(images.read_bytes()))
    raw[2] = 0x42  # no IDX type
    images.write_bytes(bytes(raw))
    with pytest.raises(DataFileError, match="unknown IDX element type 0x42.*fresh copy"):
        load_idx_dataset("mnist", root)
