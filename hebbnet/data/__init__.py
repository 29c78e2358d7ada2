"""Data sets read from files the project decodes itself (IDX, CIFAR's batches, image trees)
or that scikit-learn ships."""

from hebbnet.data.cifar import load_cifar10, load_cifar100
from hebbnet.data.datasets import DATASETS, load_dataset, pad_images, to_float
from hebbnet.data.idx import DataFileError, read_idx, write_idx
from hebbnet.data.image_dataset import ImageDataset
from hebbnet.data.image_folder import load_image_folder
from hebbnet.data.samples import TensorSet

__all__ = [
    "DATASETS",
    "DataFileError",
    "ImageDataset",
    "TensorSet",
    "load_cifar10",
    "load_cifar100",
    "load_dataset",
    "load_image_folder",
    "pad_images",
    "read_idx",
    "to_float",
    "write_idx",
]
