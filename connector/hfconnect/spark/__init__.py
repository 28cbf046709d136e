"""Spark adapter: `spark.read.format("huggingface")` (registered automatically through pyspark_hfconnect).

If pyspark_huggingface is installed as well, both register the name "huggingface" and Spark keeps the one it
finds last on sys.path; `register(spark)` makes hfconnect the one that answers (explicit registration wins).

`HuggingFaceDataSource` is imported on first use, so that the pure-Arrow `hfconnect.spark.types` imports
without pyspark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .source import HuggingFaceDataSource

__all__ = ["HuggingFaceDataSource", "register"]


def __getattr__(name: str) -> Any:
    if name == "HuggingFaceDataSource":
        from .source import HuggingFaceDataSource

        return HuggingFaceDataSource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def register(spark: Any) -> None:
    """Make `format("huggingface")` hfconnect's in this session, whatever else is installed."""
    from .source import HuggingFaceDataSource

    spark.dataSource.register(HuggingFaceDataSource)
