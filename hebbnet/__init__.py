"""hebbnet: local plasticity and complementary learning systems for continual learning."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hebbnet")  # pyproject.toml's version, the one source
except PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "0+unknown"
