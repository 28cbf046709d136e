"""Hub access: snapshot resolution, listing, config/split resolution, HTTP range reads with retries."""

from .datafiles import DataFile, DatasetLayout, resolve_layout
from .http import HubHttp, RetryPolicy
from .snapshot import RepoFileInfo, Snapshot, list_files, resolve_snapshot

__all__ = ["DataFile", "DatasetLayout", "HubHttp", "RepoFileInfo", "RetryPolicy", "Snapshot", "list_files",
           "resolve_layout", "resolve_snapshot"]
