import gzip

import numpy as np
import pytest
import torch
from conftest import SHARED_DATA, write_fake_mnist

from hebbnet.data import DataFileError, load_dataset, read_idx, to_float, write_idx
from hebbnet.data.datasets import load_idx_dataset


@pytest.mark.parametrize("name", ["images.gz", "images"])
def test_idx_round_trip_gzip_and_raw(tmp_path, name):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / name, array)
    np.testing.assert_array_equal(read_idx(tmp_path / name), array)


def test_idx_round_trip_big_endian_types(tmp_path):
    array = np.array([[1.5, -2.0], [3.25, 1e6]], dtype=np.float32)
    write_idx(tmp_path / "f.idx", array)
    result = read_idx(tmp_path / "f.idx")
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, array)


def test_truncated_idx_names_the_file(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.zeros(100, dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataFileError, match="labels.*truncated"):
        read_idx(path)


def test_truncated_gzip_names_the_file(tmp_path):
    path = tmp_path / "images.gz"
    write_idx(path, np.zeros((5, 28, 28), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(DataFileError, match="images.gz.*gzip"):
        read_idx(path)


def test_bad_magic_is_rejected(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(b"PK\x03\x04 not an idx file"))
    with pytest.raises(DataFileError, match="not an IDX file"):
        read_idx(path)


def test_missing_file_names_expected_path_and_fix(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        load_dataset("mnist", tmp_path)
    message = str(error.value)
    assert str(tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte") in message
    assert "data.root" in message


def test_fake_mnist_loads_as_uint8_images(fake_mnist_root):
    data = load_dataset("mnist", fake_mnist_root)
    assert data.train_images.shape == (300, 1, 28, 28)
    assert data.train_images.dtype == torch.uint8
    assert data.test_labels.tolist()[:12] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert data.n_classes == 10


def test_image_and_label_counts_must_match(tmp_path):
    root = write_fake_mnist(tmp_path, folder="FashionMNIST")
    raw = root / "FashionMNIST" / "raw"
    write_idx(raw / "t10k-labels-idx1-ubyte.gz", np.zeros(7, dtype=np.uint8))
    with pytest.raises(DataFileError, match="do not belong together"):
        load_idx_dataset("fashion_mnist", root.resolve())


def test_digits_are_embedded_and_scaled_to_bytes():
    data = load_dataset("digits")
    assert data.image_shape == (1, 8, 8)
    assert len(data.train_labels) + len(data.test_labels) == 1797
    assert int(data.train_images.max()) == 255
    assert to_float(data.test_images).max() == 1.0


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(ValueError, match="digits, mnist, fashion_mnist, kmnist, cifar10, cifar100"):
        load_dataset("imagenet")


@pytest.mark.skipif(not (SHARED_DATA / "MNIST").exists(), reason="real MNIST not present")
def test_real_mnist_shapes():
    data = load_dataset("mnist", SHARED_DATA)
    assert data.train_images.shape == (60000, 1, 28, 28)
    assert data.test_images.shape == (10000, 1, 28, 28)
    assert torch.bincount(data.test_labels).tolist()[0] == 980


def test_decoded_idx_files_are_cached_and_refreshed_when_they_change(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("HEBBNET_CACHE", str(cache))
    root = write_fake_mnist(tmp_path / "data")
    first = load_idx_dataset("mnist", root)
    assert len(list(cache.glob("mnist-*.pt"))) == 1
    monkeypatch.setattr("hebbnet.data.datasets.read_idx", lambda path: pytest.fail("decoded again"))
    again = load_idx_dataset("mnist", root)
    assert torch.equal(again.train_images, first.train_images)
    monkeypatch.undo()
    monkeypatch.setenv("HEBBNET_CACHE", str(cache))
    write_fake_mnist(tmp_path / "data", n_train=200, seed=1)  # new files: a new entry
    changed = load_idx_dataset("mnist", root)
    assert len(changed.train_labels) == 200 and len(list(cache.glob("mnist-*.pt"))) == 2


def test_unreadable_cache_is_ignored_and_off_disables_it(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("HEBBNET_CACHE", str(cache))
    root = write_fake_mnist(tmp_path / "data")
    load_idx_dataset("mnist", root)
    entry = next(cache.glob("mnist-*.pt"))
    entry.write_bytes(b"not a tensor file")
    assert len(load_idx_dataset("mnist", root).train_labels) == 300
    monkeypatch.setenv("HEBBNET_CACHE", "off")
    load_idx_dataset("mnist", write_fake_mnist(tmp_path / "other"))
    assert len(list(cache.glob("*"))) == 1  # nothing new was cached


def test_pad_images_adds_a_zero_border_and_rejects_negative_widths():
    from hebbnet.data import load_dataset, pad_images

    data = load_dataset("digits")
    padded = pad_images(data, 2)
    assert padded.image_shape == (1, 12, 12)
    assert padded.train_images[:, :, :2].sum() == 0 and padded.test_images[..., -2:].sum() == 0
    assert torch.equal(padded.train_images[:, :, 2:-2, 2:-2], data.train_images)
    with pytest.raises(ValueError, match="benchmark.pad must be non-negative"):
        pad_images(data, -1)


def test_random_shift_moves_each_image_whole_pixels_within_the_limit():
    from hebbnet.data.augment import random_shift

    images = torch.zeros(200, 1, 9, 9, dtype=torch.uint8)
    images[:, 0, 4, 4] = 255
    moved = random_shift(images, 2, torch.Generator().manual_seed(0))
    assert moved.dtype == torch.uint8 and moved.shape == images.shape
    where = (moved[:, 0] == 255).nonzero()[:, 1:] - 4
    assert len(where) == 200 and where.abs().max() == 2
    assert len({tuple(w) for w in where.tolist()}) == 25  # every shift in {-2..2}² drawn
    assert torch.equal(random_shift(images, 0, torch.Generator()), images)
