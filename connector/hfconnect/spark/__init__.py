"""Spark adapter: `spark.read.format("huggingface")` (registered automatically through pyspark_hfconnect)."""

from .source import HuggingFaceDataSource

__all__ = ["HuggingFaceDataSource"]
