"""The shared shard planner: files -> byte-balanced shards pinned to one commit."""

from .model import FilePart, ReadPlan, Shard
from .planner import plan_read

__all__ = ["FilePart", "ReadPlan", "Shard", "plan_read"]
