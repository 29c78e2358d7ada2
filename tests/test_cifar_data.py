"""CIFAR's layouts and image trees: tiny files of each, written here, read back exactly; bad
files refused with a message naming the file and the fix, leaving no cache entry behind; a
pickle that tries to run code refused before it runs."""

import builtins
import io
import os
import pickle
import shutil
import zipfile

import numpy as np
import pytest
import torch
from conftest import SHARED_DATA
from PIL import Image

from hebbnet.data import DATASETS, DataFileError, ImageDataset, load_cifar100, load_dataset, load_image_folder
from hebbnet.data.cifar import CIFAR10_CLASSES

SHARED_ZIP = SHARED_DATA / "CIFAR10" / "cifar10-jpeg.zip"
TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
FINE_NAMES = [f"fine_{i}".encode() for i in range(100)]
COARSE_NAMES = [f"coarse_{i}".encode() for i in range(20)]


def images(n, seed, size=32):
    return np.random.default_rng(seed).integers(0, 256, (n, 3, size, size), dtype=np.uint8)


def pickle_to(path, obj):
    """Protocol 3: globals named by text lines (GLOBAL opcodes), as in CIFAR's own pickles."""
    path.write_bytes(pickle.dumps(obj, protocol=3))


def write_python_batches(root, per_batch=2):
    """cifar-10-batches-py/ with five train batches and a test batch; returns all the images
    and labels of each split, in file order."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    written = {}
    for split, names in (("train", TRAIN_BATCHES), ("test", ["test_batch"])):
        x = images(per_batch * len(names), seed=len(split))
        y = np.arange(len(x)) * 3 % 10
        for i, name in enumerate(names):
            part = slice(i * per_batch, (i + 1) * per_batch)
            pickle_to(folder / name, {b"batch_label": name.encode(), b"labels": y[part].tolist(),
                                      b"data": x[part].reshape(per_batch, -1),
                                      b"filenames": [b"x.png"] * per_batch})
        written[split] = (x, y)
    return written


def write_binary_batches(root, per_batch=2):
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    written = {}
    for split, names in (("train", TRAIN_BATCHES), ("test", ["test_batch"])):
        x = images(per_batch * len(names), seed=10 + len(split))
        y = (np.arange(len(x)) * 7 % 10).astype(np.uint8)
        records = np.concatenate([y[:, None], x.reshape(len(x), -1)], axis=1)
        for i, name in enumerate(names):
            (folder / f"{name}.bin").write_bytes(records[i * per_batch:(i + 1) * per_batch].tobytes())
        written[split] = (x, y)
    return written


def write_cifar100(root, n=6):
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    written = {}
    for split in ("train", "test"):
        x = images(n, seed=20 + len(split))
        fine = np.arange(n) * 17 % 100
        pickle_to(folder / split, {b"data": x.reshape(n, -1), b"fine_labels": fine.tolist(),
                                   b"coarse_labels": (fine // 5).tolist()})
        written[split] = (x, fine)
    pickle_to(folder / "meta", {b"fine_label_names": FINE_NAMES,
                                b"coarse_label_names": COARSE_NAMES})
    return written


def png(pixels):
    """PNG bytes of a 3×H×W uint8 image (lossless, so it reads back exactly)."""
    stream = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels.transpose(1, 2, 0))).save(stream, "PNG")
    return stream.getvalue()


TREE_CLASSES = ("cat", "ant", "bee")  # written unsorted; ids follow the sorted names


def tree_files(per_class=2):
    """{path in the tree: bytes} and each split's images and labels in class id order."""
    files, written = {}, {}
    for split in ("train", "test"):
        x = images(per_class * len(TREE_CLASSES), seed=30 + len(split))
        for i, name in enumerate(TREE_CLASSES):
            for j in range(per_class):
                files[f"{split}/{name}/{j:04d}.png"] = png(x[i * per_class + j])
        order = np.argsort(TREE_CLASSES)  # ant, bee, cat
        x = x.reshape(len(TREE_CLASSES), per_class, 3, 32, 32)[order].reshape(-1, 3, 32, 32)
        written[split] = (x, np.repeat(np.arange(len(TREE_CLASSES)), per_class))
    return files, written


def write_tree(folder, files):
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def write_zip(path, files, prefix=""):
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(prefix + name, data)
    return path


def assert_round_trip(data, written, classes):
    for split in ("train", "test"):
        x, y = written[split]
        assert getattr(data, f"{split}_images").dtype == torch.uint8
        assert getattr(data, f"{split}_labels").dtype == torch.int64
        assert torch.equal(getattr(data, f"{split}_images"), torch.from_numpy(x))
        assert getattr(data, f"{split}_labels").tolist() == y.tolist()
    assert data.n_classes == len(classes) and data.class_names == tuple(classes)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A cache of this test's own, to count the entries it leaves."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("HEBBNET_CACHE", str(folder))
    return folder


def entries(cache):
    return sorted(cache.glob("*.pt")) if cache.exists() else []


# --- each layout, read back exactly -----------------------------------------------------------

def test_cifar10_python_batches_round_trip(tmp_path):
    written = write_python_batches(tmp_path)
    data = load_dataset("cifar10", tmp_path)
    assert data.train_images.shape == (10, 3, 32, 32) and data.test_images.shape == (2, 3, 32, 32)
    assert_round_trip(data, written, CIFAR10_CLASSES)


def test_arrays_pickled_by_numpy_1_as_the_original_files_are_read(tmp_path):
    """CIFAR's own pickles name numpy 1's numpy.core.multiarray._reconstruct."""
    written = write_python_batches(tmp_path)
    for path in (tmp_path / "cifar-10-batches-py").iterdir():
        raw = path.read_bytes()
        assert b"cnumpy._core.multiarray\n_reconstruct\n" in raw
        path.write_bytes(raw.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n"))
    assert_round_trip(load_dataset("cifar10", tmp_path), written, CIFAR10_CLASSES)


def test_cifar10_binary_batches_round_trip(tmp_path):
    written = write_binary_batches(tmp_path)
    assert_round_trip(load_dataset("cifar10", tmp_path), written, CIFAR10_CLASSES)


def test_cifar100_has_fine_labels_and_coarse_as_an_option(tmp_path, cache):
    written = write_cifar100(tmp_path)
    fine = load_dataset("cifar100", tmp_path)
    assert_round_trip(fine, written, [name.decode() for name in FINE_NAMES])
    coarse = load_cifar100(tmp_path.resolve(), labels="coarse")
    assert coarse.n_classes == 20 and coarse.class_names[3] == "coarse_3"
    assert coarse.train_labels.tolist() == (written["train"][1] // 5).tolist()
    assert torch.equal(coarse.test_images, fine.test_images)
    assert len(entries(cache)) == 1  # one entry holds both kinds of label
    with pytest.raises(ValueError, match="labels='medium'.*'fine'.*'coarse'"):
        load_cifar100(tmp_path.resolve(), labels="medium")


@pytest.mark.parametrize("form", ["folder", "zip at its top", "zip under a folder"])
def test_an_image_tree_round_trips_with_classes_in_sorted_order(tmp_path, form):
    files, written = tree_files()
    source = {"folder": lambda: write_tree(tmp_path / "tree", files),
              "zip at its top": lambda: write_zip(tmp_path / "tree.zip", files),
              "zip under a folder": lambda: write_zip(tmp_path / "tree.zip", files, "mine/")}[form]()
    data = load_image_folder(source)
    assert data.name == "tree"
    assert_round_trip(data, written, sorted(TREE_CLASSES))


def test_tree_images_are_converted_to_rgb_and_jpegs_decode(tmp_path):
    grey = np.arange(32 * 32, dtype=np.uint8).reshape(32, 32)
    stream = io.BytesIO()
    Image.fromarray(np.full((32, 32, 3), (200, 40, 90), dtype=np.uint8)).save(stream, "JPEG", quality=95)
    grey_png = io.BytesIO()
    Image.fromarray(grey).save(grey_png, "PNG")
    files = {"train/a/grey.png": grey_png.getvalue(), "test/a/colour.JPG": stream.getvalue()}
    data = load_image_folder(write_tree(tmp_path / "tree", files))
    assert data.train_images.shape == (1, 3, 32, 32)
    assert all(torch.equal(data.train_images[0, c], torch.from_numpy(grey)) for c in range(3))
    colour = data.test_images[0].reshape(3, -1).float().mean(1)
    assert torch.allclose(colour, torch.tensor([200.0, 40.0, 90.0]), atol=3)


def test_cifar10_class_names_are_the_official_order_which_is_the_sorted_one(tmp_path):
    assert CIFAR10_CLASSES == ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                               "horse", "ship", "truck")
    assert tuple(sorted(CIFAR10_CLASSES)) == CIFAR10_CLASSES
    files = {f"{split}/{name}/0.png": png(images(1, seed=i)[0])
             for split in ("train", "test") for i, name in enumerate(CIFAR10_CLASSES)}
    write_zip(tmp_path / "CIFAR10" / "cifar10-jpeg.zip", files, "cifar10/")
    data = load_dataset("cifar10", tmp_path)
    assert data.class_names == CIFAR10_CLASSES and data.train_labels.tolist() == list(range(10))
    assert torch.equal(data.train_images[4], torch.from_numpy(images(1, seed=4)[0]))


# --- finding a layout under data.root ---------------------------------------------------------

def test_layouts_are_tried_in_their_documented_order(tmp_path):
    files = {f"{split}/{name}/0.png": png(images(1, seed=0)[0])
             for split in ("train", "test") for name in CIFAR10_CLASSES}
    write_tree(tmp_path / "cifar10", files)
    assert load_dataset("cifar10", tmp_path).train_images.shape[0] == 10
    extra = {**files, "train/cat/1.png": files["train/cat/0.png"]}
    write_zip(tmp_path / "CIFAR10" / "cifar10-jpeg.zip", extra, "cifar10/")
    assert load_dataset("cifar10", tmp_path).train_images.shape[0] == 11
    written = write_binary_batches(tmp_path)
    assert_round_trip(load_dataset("cifar10", tmp_path), written, CIFAR10_CLASSES)
    written = write_python_batches(tmp_path)
    assert_round_trip(load_dataset("cifar10", tmp_path), written, CIFAR10_CLASSES)


def test_a_missing_cifar10_names_every_place_looked_and_the_setting(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        load_dataset("cifar10", tmp_path)
    message = str(error.value)
    for place in ("cifar-10-batches-py", "cifar-10-batches-bin", "CIFAR10/cifar10-jpeg.zip", "cifar10"):
        assert str(tmp_path.resolve() / place) in message
    assert "data.root" in message and "cifar10" in DATASETS and "cifar100" in DATASETS


def test_cifar100_asked_of_a_root_holding_cifar10_names_what_it_found_and_expected(tmp_path):
    write_python_batches(tmp_path)
    with pytest.raises(FileNotFoundError) as error:
        load_dataset("cifar100", tmp_path)
    message = str(error.value)
    assert str(tmp_path.resolve() / "cifar-100-python") in message
    assert f"holds CIFAR-10 ({tmp_path.resolve() / 'cifar-10-batches-py'})" in message
    assert "data.root" in message


def test_a_cifar10_batch_in_the_cifar100_folder_is_named_with_its_keys(tmp_path, cache):
    write_cifar100(tmp_path)
    write_python_batches(tmp_path / "ten")
    (tmp_path / "cifar-100-python" / "train").write_bytes(
        (tmp_path / "ten" / "cifar-10-batches-py" / "data_batch_1").read_bytes())
    with pytest.raises(DataFileError, match=r"train holds batch_label, labels, data, filenames, not "
                                            r"fine_labels, coarse_labels.*fresh copy"):
        load_dataset("cifar100", tmp_path)
    assert not entries(cache)


def test_a_folder_missing_a_batch_names_it_and_what_it_holds(tmp_path):
    write_python_batches(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing data_batch_3; it holds data_batch_1, "
                                                r"data_batch_2, data_batch_4.*cifar-10-python.tar.gz"):
        load_dataset("cifar10", tmp_path)


# --- the cache --------------------------------------------------------------------------------

def test_batches_are_cached_and_decoded_afresh_when_a_file_changes(tmp_path, cache, monkeypatch):
    write_binary_batches(tmp_path)
    first = load_dataset("cifar10", tmp_path)
    with monkeypatch.context() as patch:
        patch.setattr("hebbnet.data.cifar._read_binary", lambda path: pytest.fail("decoded again"))
        assert torch.equal(load_dataset("cifar10", tmp_path).train_images, first.train_images)
    path = tmp_path / "cifar-10-batches-bin" / "test_batch.bin"
    raw = bytearray(path.read_bytes())
    raw[0] = (raw[0] + 1) % 10  # the first test label
    path.write_bytes(bytes(raw))
    again = load_dataset("cifar10", tmp_path)
    assert again.test_labels[0] == (first.test_labels[0] + 1) % 10 and len(entries(cache)) == 2


def test_a_tree_is_cached_and_decoded_afresh_when_an_image_moves_or_changes(tmp_path, cache,
                                                                            monkeypatch):
    files, _ = tree_files()
    root = write_tree(tmp_path / "tree", files)
    first = load_image_folder(root)
    with monkeypatch.context() as patch:
        patch.setattr("hebbnet.data.image_folder._decode_image", lambda *_: pytest.fail("decoded"))
        assert torch.equal(load_image_folder(root).train_images, first.train_images)
        elsewhere = write_tree(tmp_path / "copy", files)  # the same tree elsewhere: the same entry
        assert torch.equal(load_image_folder(elsewhere, "tree").test_images, first.test_images)
    (root / "train/ant/0001.png").rename(root / "train/bee/0002.png")  # same bytes, new label
    moved = load_image_folder(root)
    assert moved.train_labels.tolist() == [0, 1, 1, 1, 2, 2]
    (root / "test/cat/0000.png").write_bytes(png(np.zeros((3, 32, 32), dtype=np.uint8)))
    assert load_image_folder(root).test_images[4].sum() == 0 and len(entries(cache)) == 3


# --- bad input: a named error, nothing left behind --------------------------------------------

class RunsCode:
    """Unpickles as a call of ``function(argument)``: what a crafted pickle does."""

    def __init__(self, function, argument):
        self.function, self.argument = function, argument

    def __reduce__(self):
        return self.function, (self.argument,)


@pytest.mark.parametrize("make", [
    lambda marker: RunsCode(os.system, f"touch {marker}"),
    lambda marker: RunsCode(builtins.eval, f"open({str(marker)!r}, 'w').close()"),
], ids=["os.system", "builtins.eval"])
def test_a_pickle_that_would_run_code_is_refused_before_it_runs(tmp_path, cache, make):
    write_python_batches(tmp_path)
    marker = tmp_path / "ran"
    payload = make(marker)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_2"
    pickle_to(path, {b"data": payload, b"labels": [0]})
    pickle.loads(pickle.dumps(make(tmp_path / "control")))  # the payload does run when unpickled
    assert (tmp_path / "control").exists()
    module = payload.function.__module__
    with pytest.raises(DataFileError) as error:
        load_dataset("cifar10", tmp_path)
    assert str(path) in str(error.value)
    assert f"asks to import {module}.{payload.function.__name__}" in str(error.value)
    assert "fresh copy" in str(error.value)
    assert not marker.exists() and not entries(cache)


@pytest.mark.parametrize("content, message", [
    (lambda raw: raw[: len(raw) // 2], r"is not a readable pickle.*truncated"),
    (lambda raw: pickle.dumps([1, 2, 3]), r"holds a list of length 3, where a CIFAR file holds a dict"),
    (lambda raw: pickle.dumps({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}),
     r"data is an array of float32, shape \(2, 3072\), where a CIFAR batch holds uint8"),
    (lambda raw: pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": ["a", "b"]}),
     r"labels is a list of length 2, where a CIFAR batch holds 2 integer class ids"),
    (lambda raw: pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}),
     r"labels is a list of length 1, where a CIFAR batch holds 2 integer class ids"),
    (lambda raw: pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 12]}),
     r"data_batch_4, labels: 1 of 2 labels are not among the 10 classes 0\.\.9: 12"),
], ids=["truncated", "a list", "float data", "string labels", "too few labels", "label 12"])
def test_a_pickle_holding_anything_but_the_arrays_is_refused(tmp_path, cache, content, message):
    write_python_batches(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_4"
    path.write_bytes(content(path.read_bytes()))
    with pytest.raises(DataFileError, match=message) as error:
        load_dataset("cifar10", tmp_path)
    assert str(path) in str(error.value) and "fresh copy" in str(error.value)
    assert not entries(cache)


@pytest.mark.parametrize("cut", [1, 3073, None], ids=["a byte short", "a record short", "empty"])
def test_a_binary_batch_of_the_wrong_length_names_the_file_and_its_length(tmp_path, cache, cut):
    write_binary_batches(tmp_path)
    path = tmp_path / "cifar-10-batches-bin" / "data_batch_5.bin"
    raw = path.read_bytes()
    path.write_bytes(b"" if cut is None else raw[:-cut] + (b"\0" if cut == 3073 else b""))
    length = len(path.read_bytes())
    with pytest.raises(DataFileError, match=rf"data_batch_5.bin is {length:,} bytes long, where a "
                                            r"CIFAR-10 binary batch is one or more records of "
                                            r"3,073 bytes.*fresh copy"):
        load_dataset("cifar10", tmp_path)
    assert not entries(cache)


def test_a_binary_label_beyond_the_ten_classes_names_the_file(tmp_path, cache):
    write_binary_batches(tmp_path)
    path = tmp_path / "cifar-10-batches-bin" / "test_batch.bin"
    raw = bytearray(path.read_bytes())
    raw[0] = 200
    path.write_bytes(bytes(raw))
    with pytest.raises(DataFileError, match=r"test_batch.bin, labels: 1 of 2 labels are not among "
                                            r"the 10 classes 0\.\.9: 200"):
        load_dataset("cifar10", tmp_path)
    assert not entries(cache)


def grey(size):
    stream = io.BytesIO()
    Image.new("L", (size, size)).save(stream, "PNG")
    return stream.getvalue()


@pytest.mark.parametrize("change, message", [
    (lambda tree: (tree / "train/dog").mkdir(),
     r"train/dog/: a class folder with no images \(.png, .jpg, .jpeg\). Add its images, or remove"),
    (lambda tree: (tree / "train/ant/notes.txt").write_text("x"),
     r"train/ant/notes.txt is not a .png, .jpg, .jpeg image, and a class folder holds images only. "
     r"Remove it"),
    (lambda tree: (tree / "test/bee/0000.png").write_bytes(b"not an image"),
     r"test/bee/0000.png cannot be read as an image \(UnidentifiedImageError.*fresh copy, or remove"),
    (lambda tree: (tree / "test/bee/0000.png").write_bytes((tree / "test/bee/0001.png").read_bytes()[:200]),
     r"test/bee/0000.png cannot be read as an image"),
    (lambda tree: (tree / "test/cat/0001.png").write_bytes(grey(28)),
     r"test/cat/0001.png is 28×28 pixels, but .*train/ant/0000.png is 32×32; the images of a data "
     r"set share one size. Resize"),
    (lambda tree: (tree / "train/loose.png").write_bytes(grey(32)),
     r"train/loose.png lies in train/ outside any class folder.*Move it into its class folder"),
    (lambda tree: (tree / "train/ant/more").mkdir(),
     r"train/ant/more/ lies below a class folder.*Move its images up"),
    (lambda tree: shutil.rmtree(tree / "test/ant"),
     r"the splits' class folders differ \(train: ant, bee, cat; test: bee, cat\). Give both"),
    (lambda tree: shutil.rmtree(tree / "test"),
     r"test/: missing, or holds no class folders"),
], ids=["empty class", "not an image", "undecodable", "truncated png", "mixed sizes", "loose file",
        "nested folder", "classes differ", "no test split"])
@pytest.mark.parametrize("form", ["folder", "zip"])
def test_a_bad_tree_is_refused_naming_the_file_and_the_fix(tmp_path, cache, change, message, form):
    files, _ = tree_files()
    tree = write_tree(tmp_path / "tree", files)
    change(tree)
    source = tree
    if form == "zip":
        source = write_zip(tmp_path / "tree.zip", {path.relative_to(tree).as_posix() + "/" * path.is_dir():
                                                   b"" if path.is_dir() else path.read_bytes()
                                                   for path in tree.rglob("*")}, "top/")
    with pytest.raises(DataFileError, match=message) as error:
        load_image_folder(source)
    assert str(source) in str(error.value) and not entries(cache)


def test_a_tree_of_other_classes_is_not_taken_for_cifar10(tmp_path, cache):
    files, _ = tree_files()
    write_tree(tmp_path / "cifar10", files)
    with pytest.raises(DataFileError, match=r"holds the class folders ant, bee, cat, where cifar10 "
                                            r"has airplane, automobile.*truck.*without class_names"):
        load_dataset("cifar10", tmp_path)
    assert not entries(cache)


def test_a_zip_without_one_tree_or_a_damaged_zip_is_named(tmp_path):
    files, _ = tree_files()
    two = write_zip(tmp_path / "two.zip", {**{f"a/{k}": v for k, v in files.items()},
                                           **{f"b/{k}": v for k, v in files.items()}})
    with pytest.raises(DataFileError, match=r"two.zip holds no single image tree.*its top holds a, b"):
        load_image_folder(two)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(two.read_bytes()[:100])
    with pytest.raises(DataFileError, match=r"broken.zip is neither a folder nor a readable zip"):
        load_image_folder(broken)
    with pytest.raises(FileNotFoundError, match=r"nowhere: no such folder or zip"):
        load_image_folder(tmp_path / "nowhere")


def test_class_names_are_one_per_class():
    x, y = torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.tensor([0, 1])
    assert ImageDataset("x", x, y, x, y, class_names=("a", "b")).class_names == ("a", "b")
    with pytest.raises(ValueError, match="3 class_names for 2 classes; give one name per class id"):
        ImageDataset("x", x, y, x, y, class_names=("a", "b", "c"))


# --- the real copy ----------------------------------------------------------------------------

@pytest.mark.skipif(not SHARED_ZIP.exists(), reason="the shared CIFAR-10 JPEG copy is not present")
def test_real_cifar10_jpeg_copy():
    data = load_dataset("cifar10", SHARED_DATA)
    assert data.train_images.shape == (50000, 3, 32, 32) and data.test_images.shape == (10000, 3, 32, 32)
    assert torch.bincount(data.train_labels).tolist() == [5000] * 10
    assert torch.bincount(data.test_labels).tolist() == [1000] * 10
    assert data.class_names == CIFAR10_CLASSES
    means = data.test_images.float().mean(dim=(0, 2, 3)) / 255  # the README's figures
    assert torch.allclose(means, torch.tensor([0.494, 0.485, 0.450]), atol=0.001)
