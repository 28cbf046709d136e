"""Hub access, all of it through one `HubClient`: snapshots, listings, config/split resolution, file bytes
(resolved once, read from signed URLs), HfApi calls, one retry policy and one error mapping. Writes' Hub calls
are the modules `repos`, `pulls`, `history` and `bucket_admin` (imported where used, not here)."""

from .client import HubClient, resolve_token
from .datafiles import DataFile, DatasetLayout, resolve_layout
from .retry import RetryPolicy
from .snapshot import Changes, Head, RepoFileInfo, Snapshot

__all__ = ["Changes", "DataFile", "DatasetLayout", "Head", "HubClient", "RepoFileInfo", "RetryPolicy", "Snapshot",
           "resolve_layout", "resolve_token"]
