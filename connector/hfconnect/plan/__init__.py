"""The shared shard planner: files -> byte-balanced shards pinned to one commit.

Attributes load on first use (hfconnect._lazy): unpickling a plan imports only `plan.model`."""

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from .model import FilePart, ReadPlan, Shard
    from .planner import plan_read

__all__ = ["FilePart", "ReadPlan", "Shard", "plan_read"]
__getattr__ = lazy_attributes(__name__, {"FilePart": ".model", "ReadPlan": ".model", "Shard": ".model",
                                         "plan_read": ".planner"})
