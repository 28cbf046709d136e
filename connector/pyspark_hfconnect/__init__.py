"""Spark 4 scans installed modules named `pyspark_*` for a `DefaultSource`: this registers "huggingface"."""

from hfconnect.spark import HuggingFaceDataSource as DefaultSource

__all__ = ["DefaultSource"]
