"""hebbnet: local plasticity and complementary learning systems for continual learning."""

__version__ = "0.1.0"
