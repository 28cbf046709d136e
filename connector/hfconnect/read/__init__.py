"""The shard reader: one shard -> bounded stream of Arrow RecordBatches."""

from .reader import read_shard

__all__ = ["read_shard"]
