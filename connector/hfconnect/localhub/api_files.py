"""File endpoints of the local hub: tree listings, paths-info and `resolve` downloads with Range."""

from __future__ import annotations

import bisect
import hashlib
import mimetypes
import threading
from collections import OrderedDict
from typing import Any
from urllib.parse import unquote, urlencode

from aiohttp import web

from .api_repos import iso
from .cdn import bridge_url, signed_url
from .context import RequestContext, json_response
from .errors import HubError
from .ranges import parse_range, send_file_range, stored_body
from .storage import Commit, FileEntry, lfs_pointer

__all__ = ["paths_info", "resolve_file", "tree"]

TREE_PAGE = 1000
TREE_PAGE_EXPANDED = 50
_listing_cache: OrderedDict[tuple[str, str, bool], list[dict[str, Any]]] = OrderedDict()
_listing_lock = threading.Lock()


def file_json(path: str, entry: FileEntry, xet: bool = True) -> dict[str, Any]:
    """A tree/paths-info entry; `xetHash` only from a hub that speaks Xet (clients would ask it for a token)."""
    out: dict[str, Any] = {"type": "file", "oid": entry.oid, "size": entry.size, "path": path}
    if entry.lfs:
        out["lfs"] = {"oid": entry.sha256, "size": entry.size,
                      "pointerSize": len(lfs_pointer(entry.sha256, entry.size))}
    if entry.xet_hash and xet:
        out["xetHash"] = entry.xet_hash
    return out


def dir_json(commit: Commit, path: str) -> dict[str, Any]:
    oid = hashlib.sha1(f"{commit.id}:{path}".encode()).hexdigest()
    return {"type": "directory", "oid": oid, "size": 0, "path": path}


def _listing(commit: Commit, base: str, recursive: bool, xet: bool) -> list[dict[str, Any]]:
    """All entries under `base` (files and directories), sorted by path; cached per commit for paging."""
    key = (commit.id, base, recursive)
    with _listing_lock:
        if key in _listing_cache:
            _listing_cache.move_to_end(key)
            return _listing_cache[key]
    prefix = f"{base}/" if base else ""
    paths = commit.sorted_paths
    lo = bisect.bisect_left(paths, prefix)
    entries: dict[str, dict[str, Any]] = {}
    for path in paths[lo:]:
        if not path.startswith(prefix):
            break
        rest = path[len(prefix):].split("/")
        if not recursive:
            if len(rest) == 1:
                entries[path] = file_json(path, commit.files[path], xet)
            else:
                d = prefix + rest[0]
                entries.setdefault(d, dir_json(commit, d))
            continue
        for depth in range(1, len(rest)):
            d = prefix + "/".join(rest[:depth])
            if d not in entries:
                entries[d] = dir_json(commit, d)
        entries[path] = file_json(path, commit.files[path], xet)
    result = [entries[k] for k in sorted(entries)]
    with _listing_lock:
        _listing_cache[key] = result
        while len(_listing_cache) > 32:
            _listing_cache.popitem(last=False)
    return result


def _is_dir(commit: Commit, path: str) -> bool:
    prefix = path + "/"
    paths = commit.sorted_paths
    i = bisect.bisect_left(paths, prefix)
    return i < len(paths) and paths[i].startswith(prefix)


def _last_commit(ctx: RequestContext, head: Commit, path: str) -> dict[str, Any]:
    """The newest commit that changed `path` (or anything under it): what `expand=true` reports."""
    def state(c: Commit) -> Any:
        if path in c.files:
            return c.files[path]
        return tuple((p, c.files[p]) for p in c.sorted_paths if p.startswith(path + "/"))

    current, newest = state(head), head
    for commit in ctx.state.storage.history(head.id):
        if state(commit) != current:
            break
        newest = commit
    return {"id": newest.id, "title": newest.title, "date": iso(newest.date)}


async def tree(ctx: RequestContext) -> web.Response:
    sha, _ = ctx.resolve()
    commit = ctx.state.storage.commit(sha)
    base = unquote(ctx.groups.get("path") or "").strip("/")
    query = ctx.request.query
    recursive = query.get("recursive", "").lower() in ("1", "true")
    expand = query.get("expand", "").lower() in ("1", "true")
    if base and not _is_dir(commit, base):
        raise HubError(404, "EntryNotFound", f"Path {base!r} not found in {ctx.repo_id}@{ctx.revision}.",
                       headers={"X-Repo-Commit": sha})
    entries = _listing(commit, base, recursive, ctx.state.mode.xet)
    page_size = TREE_PAGE_EXPANDED if expand else TREE_PAGE
    page_size = min(page_size, max(1, int(query.get("limit", page_size))))
    cursor = int(query.get("cursor", "0") or 0)
    page = entries[cursor: cursor + page_size]
    if expand:
        page = [dict(e, lastCommit=_last_commit(ctx, commit, e["path"])) for e in page]
    headers = {"X-Repo-Commit": sha}
    if cursor + page_size < len(entries):
        params = {**query, "cursor": str(cursor + page_size)}
        headers["Link"] = f'<{ctx.base_url}{ctx.request.raw_path.split("?")[0]}?{urlencode(params)}>; rel="next"'
    return json_response(page, headers=headers)


async def paths_info(ctx: RequestContext) -> web.Response:
    sha, _ = ctx.resolve()
    commit = ctx.state.storage.commit(sha)
    if ctx.request.content_type == "application/json":
        body = await ctx.request.json()
        paths, expand = body.get("paths", []), bool(body.get("expand"))
    else:
        form = await ctx.request.post()
        paths = [str(p) for p in form.getall("paths", [])]
        expand = str(form.get("expand", "false")).lower() == "true"
    out = []
    for raw in paths:
        path = raw.strip("/")
        if path in commit.files:
            item = file_json(path, commit.files[path], ctx.state.mode.xet)
        elif path and _is_dir(commit, path):
            item = dir_json(commit, path)
        else:
            continue
        if expand:
            item["lastCommit"] = _last_commit(ctx, commit, path)
        out.append(item)
    return json_response(out)


async def resolve_file(ctx: RequestContext) -> web.StreamResponse:
    sha, _ = ctx.resolve()
    commit = ctx.state.storage.commit(sha)
    path = unquote(ctx.groups["path"] or "")
    entry = commit.files.get(path)
    if entry is None:
        raise HubError(404, "EntryNotFound", f"{path} does not exist on {ctx.revision}.",
                       headers={"X-Repo-Commit": sha})
    headers = {
        "X-Repo-Commit": sha,
        "ETag": f'"{entry.oid}"',
        "Accept-Ranges": "bytes",
        "Content-Type": mimetypes.guess_type(path)[0] or "application/octet-stream",
        "Cache-Control": "public, max-age=31536000, immutable" if ctx.groups["rev"] == sha else "no-cache",
    }
    if entry.lfs:
        headers["X-Linked-Etag"] = f'"{entry.sha256}"'
        headers["X-Linked-Size"] = str(entry.size)
    headers.update(ctx.extra_headers)
    if entry.xet_hash and ctx.state.mode.xet:
        # As huggingface.co does for a Xet file: the id and token route hf_xet downloads with, and a 302 to the
        # bridge on the other host for every other client.
        headers["X-Xet-Hash"] = entry.xet_hash
        headers["Link"] = (f"<{ctx.base_url}/api/{ctx.repo_type}s/{ctx.repo_id}/xet-read-token/{sha}>; "
                           'rel="xet-auth"')
        headers["Location"] = bridge_url(ctx.state, entry.sha256, path.rsplit("/", 1)[-1], ctx.request)
        headers.pop("Accept-Ranges")
        return web.Response(status=302, headers=headers)
    if entry.lfs and ctx.state.mode.redirects:
        # As huggingface.co does: LFS content lives on another host, behind an expiring signed URL.
        headers["Location"] = signed_url(ctx.state, entry.sha256, path.rsplit("/", 1)[-1], ctx.request)
        headers.pop("Accept-Ranges")
        return web.Response(status=302, headers=headers)
    rng = parse_range(ctx.request.headers.get("Range"), entry.size)
    start, end = rng if rng else (0, entry.size - 1)
    length = end - start + 1 if entry.size else 0
    status = 206 if rng else 200
    if rng:
        headers["Content-Range"] = f"bytes {start}-{end}/{entry.size}"
    resp = web.StreamResponse(status=status, headers=headers)
    resp.content_length = length
    if ctx.request.method == "HEAD":
        await resp.prepare(ctx.request)
        await resp.write_eof()
        return resp
    await send_file_range(ctx, resp, stored_body(ctx, entry.sha256), start, length)
    return resp
