"""Data sets read from files the project decodes itself (IDX) or that scikit-learn ships."""

from hebbnet.data.datasets import DATASETS, ImageDataset, load_dataset, pad_images, to_float
from hebbnet.data.idx import DataFileError, read_idx, write_idx
from hebbnet.data.samples import TensorSet

__all__ = [
    "DATASETS",
    "DataFileError",
    "ImageDataset",
    "TensorSet",
    "load_dataset",
    "pad_images",
    "read_idx",
    "to_float",
    "write_idx",
]
