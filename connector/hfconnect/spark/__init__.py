"""Spark adapter: `spark.read.format("huggingface")` (registered automatically through pyspark_hfconnect).

If pyspark_huggingface is installed as well, both register the name "huggingface" and Spark keeps the one it
finds last on sys.path; `register(spark)` makes hfconnect the one that answers (explicit registration wins).
"""

from __future__ import annotations

from typing import Any

from .source import HuggingFaceDataSource

__all__ = ["HuggingFaceDataSource", "register"]


def register(spark: Any) -> None:
    """Make `format("huggingface")` hfconnect's in this session, whatever else is installed."""
    spark.dataSource.register(HuggingFaceDataSource)
