"""The shard reader: one shard -> bounded stream of Arrow RecordBatches (loaded on first use)."""

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from .reader import read_shard

__all__ = ["read_shard"]
__getattr__ = lazy_attributes(__name__, {"read_shard": ".reader"})
