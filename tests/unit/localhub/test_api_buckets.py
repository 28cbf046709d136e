"""Bucket endpoints without a hub process: the route table sends each bucket URL the client uses to its handler
and route class; listings match the prefix lexically (as the Hub does) and cut one level below it; and the app,
served in-process, answers rights, batches and resolves as the Hub does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hfconnect.localhub.api_buckets import listing
from hfconnect.localhub.app import build_app, match_route
from hfconnect.localhub.buckets import BucketEntry
from hfconnect.localhub.context import HubState, Token
from hfconnect.localhub.faults import FaultPlan

ROUTES = [
    ("GET", "/api/buckets/me", "api", "list_buckets", {"ns": "me"}),
    ("POST", "/api/buckets/o/b", "api", "create_bucket", {"ns": "o", "name": "b"}),
    ("GET", "/api/buckets/o/b", "api", "bucket_info", {"name": "b"}),
    ("DELETE", "/api/buckets/o/b", "api", "delete_bucket", {"name": "b"}),
    ("PUT", "/api/buckets/o/b/settings", "api", "update_settings", {"name": "b"}),
    ("GET", "/api/buckets/o/b/tree", "api", "tree", {"path": None}),
    ("GET", "/api/buckets/o/b/tree/models%2Fsub", "api", "tree", {"path": "models%2Fsub"}),
    ("POST", "/api/buckets/o/b/paths-info", "api", "paths_info", {"name": "b"}),
    ("GET", "/api/buckets/o/b/xet-write-token", "xet-token", "xet_token", {"kind": "write"}),
    ("GET", "/api/buckets/o/b/xet-read-token", "xet-token", "xet_token", {"kind": "read"}),
    ("POST", "/api/buckets/o/b/batch", "commit", "batch", {"ns": "o", "name": "b"}),
    ("GET", "/buckets/o/b/resolve/dir%2Fa.bin", "resolve", "resolve", {"path": "dir%2Fa.bin"}),
    ("HEAD", "/buckets/o/b/resolve/dir/a.bin", "resolve", "resolve", {"path": "dir/a.bin"}),
]


@pytest.mark.parametrize(("method", "path", "route_class", "handler", "groups"), ROUTES)
def test_bucket_routes(method: str, path: str, route_class: str, handler: str, groups: dict[str, Any]) -> None:
    found = match_route(method, path)
    assert found is not None, path
    route, got = found
    assert (route.route_class, route.handler.__name__) == (route_class, handler)
    assert {k: got.get(k) for k in groups} == groups


def test_bucket_token_routes_exist_only_with_xet() -> None:
    assert match_route("GET", "/api/buckets/o/b/xet-read-token", xet=False) is None


def _entry(size: int = 1, uploaded: float = 1.0) -> BucketEntry:
    return BucketEntry("a" * 64, size, 1_700_000_000_000, uploaded)


FILES = {p: _entry(uploaded=i) for i, p in enumerate(
    ["logs.json", "logs/a.txt", "logs/sub/b.txt", "logs_backup/c.txt", "top.bin"])}


def _paths(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["type"], e["path"]) for e in entries]


def test_listing_matches_the_prefix_lexically_and_cuts_one_level_below() -> None:
    assert _paths(listing(FILES, "", False)) == [("directory", "logs"), ("file", "logs.json"),
                                                ("directory", "logs_backup"), ("file", "top.bin")]
    assert _paths(listing(FILES, "logs", False)) == [("file", "logs.json"), ("file", "logs/a.txt"),
                                                    ("directory", "logs/sub"), ("directory", "logs_backup")]
    assert _paths(listing(FILES, "logs/", False)) == [("file", "logs/a.txt"), ("directory", "logs/sub")]
    assert _paths(listing(FILES, "logs", True)) == [("file", p) for p in
                                                   ("logs.json", "logs/a.txt", "logs/sub/b.txt", "logs_backup/c.txt")]
    assert _paths(listing(FILES, "top.bin", False)) == [("file", "top.bin")]  # a file lists as itself
    assert listing(FILES, "nothing", True) == []
    folder = listing(FILES, "logs/", False)[1]
    assert folder["uploadedAt"].startswith("1970-01-01T00:00:02")  # its newest file's
    f = listing(FILES, "top.bin", False)[0]
    assert f["xetHash"] == "a" * 64 and f["size"] == 1 and f["mtime"] == "2023-11-14T22:13:20.000Z"


def _serve(tmp_path: Path, test: Callable[[TestClient], Awaitable[None]]) -> None:
    state = HubState.open(tmp_path, {"w": Token("u", "write"), "r": Token("u", "read")}, FaultPlan())

    async def run() -> None:
        async with TestClient(TestServer(build_app(state))) as client:
            await test(client)

    asyncio.run(run())


W, R = {"Authorization": "Bearer w"}, {"Authorization": "Bearer r"}


def test_rights_as_for_repos(tmp_path: Path) -> None:
    async def test(c: TestClient) -> None:
        assert (await c.post("/api/buckets/me/b", json={})).status == 401  # anonymous
        assert (await c.post("/api/buckets/me/b", json={}, headers=R)).status == 403  # read-only
        assert (await c.post("/api/buckets/me/b", json={}, headers={"Authorization": "Bearer nope"})).status == 401
        r = await c.post("/api/buckets/me/b", json={"visibility": "private"}, headers=W)
        assert r.status == 200 and (await r.json())["url"].endswith("/buckets/u/b")
        assert (await c.post("/api/buckets/u/b", json={}, headers=W)).status == 409
        r = await c.get("/api/buckets/u/b")  # private: invisible without a token
        assert r.status == 404 and r.headers["X-Error-Code"] == "RepoNotFound"
        assert (await c.get("/api/buckets/u/b/xet-read-token")).status == 404
        assert (await c.get("/api/buckets/u/b/xet-write-token", headers=R)).status == 403
        info = await (await c.get("/api/buckets/u/b", headers=R)).json()
        assert (info["id"], info["private"], info["size"], info["totalFiles"]) == ("u/b", True, 0, 0)
        assert [b["id"] for b in await (await c.get("/api/buckets/me", headers=R)).json()] == ["u/b"]
        assert await (await c.get("/api/buckets/u")).json() == []  # anonymous: public ones only
        r = await c.get("/api/buckets/u/b/xet-write-token", headers=W)
        body = await r.json()
        assert r.status == 200 and body["accessToken"] == r.headers["X-Xet-Access-Token"]
        assert (await c.put("/api/buckets/u/b/settings", json={"private": False}, headers=W)).status == 200
        assert (await c.get("/api/buckets/u/b")).status == 200  # public now
        assert (await c.delete("/api/buckets/u/b", headers=R)).status == 403
        assert (await c.delete("/api/buckets/u/b", headers=W)).status == 200
        assert (await c.get("/api/buckets/u/b", headers=W)).status == 404

    _serve(tmp_path, test)


def test_batches_name_files_the_cas_knows(tmp_path: Path) -> None:
    async def test(c: TestClient) -> None:
        assert (await c.post("/api/buckets/u/b", json={}, headers=W)).status == 200
        lines = [{"type": "addFile", "path": "x.bin", "xetHash": "e" * 64, "mtime": 1},
                 {"type": "deleteFile", "path": "gone"}]
        data = "\n".join(json.dumps(line) for line in lines).encode()
        headers = {**W, "Content-Type": "application/x-ndjson"}
        r = await c.post("/api/buckets/u/b/batch", data=data, headers=headers)
        assert r.status == 422 and [f["path"] for f in (await r.json())["failed"]] == ["x.bin", "gone"]
        r = await c.post("/api/buckets/u/b/batch", data=b"{not json", headers=headers)
        assert r.status == 400
        assert (await c.post("/api/buckets/u/b/batch", data=data, headers={**R, "Content-Type": "x"})).status == 403
        r = await c.get("/buckets/u/b/resolve/x.bin")
        assert r.status == 404 and r.headers["X-Error-Code"] == "EntryNotFound"
        r = await c.post("/api/buckets/u/b/paths-info", json={"paths": ["x.bin"]})
        assert r.status == 200 and await r.json() == []

    _serve(tmp_path, test)
