"""The route table: each Hub URL the real clients use maps to its handler, its route class (what faults and
counters key on) and its parts."""

from __future__ import annotations

import pytest

from hfconnect.localhub.app import match_route

SHA = "a" * 40
ROUTES = [
    ("GET", "/api/whoami-v2", "api", "whoami", {}),
    ("POST", "/api/repos/create", "api", "create_repo", {}),
    ("DELETE", "/api/repos/delete", "api", "delete_repo", {}),
    ("POST", "/api/validate-yaml", "api", "validate_yaml", {}),
    ("GET", "/api/datasets/o/n", "api", "repo_info", {"types": "datasets", "repo": "o/n"}),
    ("GET", "/api/models/gpt2", "api", "repo_info", {"types": "models", "repo": "gpt2"}),
    ("GET", "/api/datasets/o/n/revision/main", "api", "repo_info", {"repo": "o/n", "rev": "main"}),
    ("GET", "/api/datasets/o/n/revision/refs%2Fconvert%2Fparquet", "api", "repo_info",
     {"rev": "refs%2Fconvert%2Fparquet"}),
    ("GET", "/api/datasets/o/n/revision/refs/pr/3", "api", "repo_info", {"rev": "refs/pr/3"}),
    ("GET", "/api/datasets/o/n/tree/main", "api", "tree", {"rev": "main", "path": None}),
    ("GET", "/api/datasets/o/n/tree/main/data/sub", "api", "tree", {"rev": "main", "path": "data/sub"}),
    ("POST", "/api/datasets/o/n/paths-info/" + SHA, "api", "paths_info", {"rev": SHA}),
    ("GET", "/api/datasets/o/n/refs", "api", "list_refs", {"repo": "o/n"}),
    ("POST", "/api/datasets/o/n/branch/dev", "api", "create_branch", {"rev": "dev"}),
    ("DELETE", "/api/datasets/o/n/branch/dev", "api", "delete_branch", {"rev": "dev"}),
    ("POST", "/api/datasets/o/n/tag/v1", "api", "create_tag", {"rev": "v1"}),
    ("DELETE", "/api/datasets/o/n/tag/v1", "api", "delete_tag", {"rev": "v1"}),
    ("GET", "/api/datasets/o/n/commits/main", "api", "list_commits", {"rev": "main"}),
    ("PUT", "/api/datasets/o/n/settings", "api", "update_settings", {"repo": "o/n"}),
    ("GET", "/api/datasets/o/n/parquet", "api", "parquet_listing", {"config": None, "split": None}),
    ("GET", "/api/datasets/o/n/parquet/default/train", "api", "parquet_listing",
     {"config": "default", "split": "train"}),
    ("GET", "/api/datasets/o/n/parquet/default/train/0.parquet", "api", "parquet_redirect", {"n": "0"}),
    ("GET", "/api/datasets", "api", "list_repos", {"types": "datasets"}),
    ("POST", "/api/datasets/o/n/preupload/main", "upload", "preupload", {"rev": "main"}),
    ("POST", "/datasets/o/n.git/info/lfs/objects/batch", "upload", "lfs_batch", {"repo": "o/n"}),
    ("PUT", "/_lfs/upload/" + "b" * 64, "upload", "lfs_upload", {"oid": "b" * 64}),
    ("POST", "/_lfs/verify/" + "b" * 64, "upload", "lfs_verify", {"oid": "b" * 64}),
    ("POST", "/api/datasets/o/n/commit/main", "commit", "commit", {"rev": "main"}),
    ("GET", "/datasets/o/n/resolve/main/data/train.parquet", "resolve", "resolve_file",
     {"types": "datasets", "repo": "o/n", "rev": "main", "path": "data/train.parquet"}),
    ("HEAD", f"/datasets/o/n/resolve/{SHA}/README.md", "resolve", "resolve_file", {"rev": SHA}),
    ("GET", "/datasets/o/n/resolve/refs%2Fpr%2F1/a.txt", "resolve", "resolve_file", {"rev": "refs%2Fpr%2F1"}),
    ("GET", "/gpt2/resolve/main/config.json", "resolve", "resolve_file", {"types": None, "repo": "gpt2"}),
    ("GET", "/api/datasets/o/n/tree/main?recursive=true&cursor=x", "api", "tree", {"path": None}),
]


@pytest.mark.parametrize(("method", "path", "route_class", "handler", "groups"), ROUTES,
                         ids=[f"{m} {p}" for m, p, *_ in ROUTES])
def test_routes(method: str, path: str, route_class: str, handler: str, groups: dict) -> None:
    found = match_route(method, path)
    assert found is not None
    route, got = found
    assert (route.route_class, route.handler.__name__) == (route_class, handler)
    assert {k: got[k] for k in groups} == groups


@pytest.mark.parametrize(("method", "path"), [
    ("PATCH", "/api/datasets/o/n"), ("GET", "/api/datasets/o/n/commit/main"), ("DELETE", "/api/whoami-v2"),
    ("GET", "/nothing-here"), ("PUT", "/_lfs/upload/not-a-sha"),
])
def test_unknown_routes(method: str, path: str) -> None:
    assert match_route(method, path) is None
