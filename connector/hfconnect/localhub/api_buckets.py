"""Storage Bucket endpoints of the local hub, as huggingface_hub's bucket methods and HfFileSystem call them.

Rights follow the repos': a write token creates, deletes and writes; any token reads every bucket; anonymous
callers see public buckets only (a private one answers 404 RepoNotFound, which the client maps to
BucketNotFoundError). Files are Xet files only: a batch's `addFile` names a Xet hash the CAS already reconstructs
(uploaded through the bucket's xet-write-token), and `resolve` answers as for a Xet repo file: 302 to the bridge
on the other host, with `X-Xet-Hash` and the bucket's xet-read-token as `rel="xet-auth"`.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
from typing import Any
from urllib.parse import unquote, urlencode

from aiohttp import web

from .api_repos import iso
from .buckets import BucketEntry, BucketOp, BucketStore, check_bucket_id
from .cdn import bridge_url, reachable
from .context import RequestContext, json_response, read_json
from .errors import HubError
from .xet_auth import issue_token

__all__ = ["batch", "bucket_info", "create_bucket", "delete_bucket", "list_buckets", "paths_info", "resolve",
           "tree", "update_settings", "xet_token"]

TREE_PAGE = 1000
REPO_TYPES = ("model", "dataset", "space")


def _store(ctx: RequestContext) -> BucketStore:
    return ctx.state.buckets


def _namespace(ctx: RequestContext) -> str:
    """The namespace of the URL; `me` is the caller's own (401 when anonymous)."""
    ns = unquote(ctx.groups.get("ns") or "")
    if ns == "me":
        token = ctx.token
        if token is None:
            raise HubError(401, "Unauthorized", "You must be authenticated to use the 'me' namespace.")
        return token.user
    return ns


def _bucket_id(ctx: RequestContext) -> str:
    bucket_id = f"{_namespace(ctx)}/{unquote(ctx.groups.get('name') or '')}"
    check_bucket_id(bucket_id)
    return bucket_id


def _visible(ctx: RequestContext, bucket_id: str) -> dict[str, Any]:
    """The bucket's meta if the caller may see it; a private bucket is invisible without a token."""
    meta = _store(ctx).meta(bucket_id)
    if meta is None or (meta["private"] and ctx.token is None):
        raise HubError(404, "RepoNotFound", f"Bucket Not Found for url: {ctx.request.path}.")
    return meta


def _info(store: BucketStore, meta: dict[str, Any]) -> dict[str, Any]:
    files = store.files(meta["id"])
    return {"id": meta["id"], "private": meta["private"], "createdAt": iso(meta["createdAt"]),
            "size": sum(e.size for e in files.values()), "totalFiles": len(files), "author": meta.get("author")}


def file_json(path: str, entry: BucketEntry) -> dict[str, Any]:
    """A tree / paths-info entry as `BucketFile` parses it (mtime is the client's, in ms)."""
    out: dict[str, Any] = {"type": "file", "path": path, "size": entry.size, "xetHash": entry.xet_hash,
                           "mtime": iso(entry.mtime / 1000), "uploadedAt": iso(entry.uploaded_at)}
    if entry.content_type:
        out["contentType"] = entry.content_type
    return out


def listing(files: dict[str, BucketEntry], prefix: str, recursive: bool) -> list[dict[str, Any]]:
    """Entries whose path starts with `prefix` (lexically, as the Hub matches it), sorted by path. Not recursive:
    the files and directories one level below the prefix (below `prefix/` when it names a directory)."""
    if recursive:
        return [file_json(p, files[p]) for p in sorted(files) if p.startswith(prefix)]
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(files):
        if not path.startswith(prefix):
            continue
        entry = files[path]
        start = len(prefix) + 1 if path[len(prefix):len(prefix) + 1] == "/" else len(prefix)
        cut = path.find("/", start)
        if cut < 0:
            out[path] = file_json(path, entry)
            continue
        folder = path[:cut]
        found = out.get(folder)
        uploaded = iso(entry.uploaded_at)
        if found is None:
            out[folder] = {"type": "directory", "path": folder, "uploadedAt": uploaded}
        elif found["uploadedAt"] < uploaded:
            found["uploadedAt"] = uploaded
    return [out[k] for k in sorted(out)]


# ---- buckets ------------------------------------------------------------------------------------------
async def create_bucket(ctx: RequestContext) -> web.Response:
    """POST /api/buckets/{ns}/{name} ({"visibility": "private"}): 200 {"url"}, 409 when it exists."""
    token = ctx.require_write()
    body = await read_json(ctx, allow_empty=True)
    bucket_id = _bucket_id(ctx)
    private = bool(body.get("private")) or body.get("visibility") == "private"
    created = await asyncio.to_thread(_store(ctx).create, bucket_id, private=private, author=token.user)
    url = f"{ctx.base_url}/buckets/{bucket_id}"
    if not created:
        raise HubError(409, "Conflict", "You already created this bucket.")
    return json_response({"url": url, "name": bucket_id, "id": bucket_id})


async def bucket_info(ctx: RequestContext) -> web.Response:
    bucket_id = _bucket_id(ctx)
    return json_response(_info(_store(ctx), _visible(ctx, bucket_id)))


async def list_buckets(ctx: RequestContext) -> web.Response:
    """GET /api/buckets/{ns}[?search=]: the namespace's buckets the caller may see."""
    ns = _namespace(ctx)
    search = ctx.request.query.get("search", "").lower()
    store, can_see_private = _store(ctx), ctx.token is not None
    out = []
    for bucket_id in store.list_ids(ns):
        meta = store.meta(bucket_id)
        if meta is None or (meta["private"] and not can_see_private):
            continue
        if search and search not in bucket_id.split("/", 1)[1].lower():
            continue
        out.append(_info(store, meta))
    return json_response(out)


async def delete_bucket(ctx: RequestContext) -> web.Response:
    ctx.require_write()
    bucket_id = _bucket_id(ctx)
    _visible(ctx, bucket_id)
    await asyncio.to_thread(_store(ctx).delete, bucket_id)
    return json_response({})


async def update_settings(ctx: RequestContext) -> web.Response:
    """PUT /api/buckets/{ns}/{name}/settings ({"private": bool})."""
    ctx.require_write()
    bucket_id = _bucket_id(ctx)
    _visible(ctx, bucket_id)
    body = await read_json(ctx)
    private = body.get("private")
    if "visibility" in body:
        private = body["visibility"] == "private"
    if private is not None:
        await asyncio.to_thread(_store(ctx).set_private, bucket_id, bool(private))
    return json_response({})


# ---- files ---------------------------------------------------------------------------------------------
async def tree(ctx: RequestContext) -> web.Response:
    """GET /api/buckets/{ns}/{name}/tree[/{prefix}][?recursive=true]: pages of 1000 with an absolute Link."""
    bucket_id = _bucket_id(ctx)
    _visible(ctx, bucket_id)
    query = ctx.request.query
    prefix = unquote(ctx.groups.get("path") or "")
    recursive = query.get("recursive", "").lower() in ("1", "true")
    entries = listing(_store(ctx).files(bucket_id), prefix, recursive)
    page_size = min(TREE_PAGE, max(1, int(query.get("limit", TREE_PAGE))))
    cursor = int(query.get("cursor", "0") or 0)
    headers = {}
    if cursor + page_size < len(entries):
        params = {**query, "cursor": str(cursor + page_size)}
        headers["Link"] = f'<{ctx.base_url}{ctx.request.raw_path.split("?")[0]}?{urlencode(params)}>; rel="next"'
    return json_response(entries[cursor: cursor + page_size], headers=headers)


async def paths_info(ctx: RequestContext) -> web.Response:
    """POST /api/buckets/{ns}/{name}/paths-info ({"paths": [...]}): the files among them; others are skipped."""
    bucket_id = _bucket_id(ctx)
    _visible(ctx, bucket_id)
    paths = (await read_json(ctx)).get("paths")
    if not isinstance(paths, list):
        raise HubError(400, "BadRequest", "Expected {\"paths\": [...]}.")
    files = _store(ctx).files(bucket_id)
    return json_response([file_json(p, files[p]) for p in paths if isinstance(p, str) and p in files])


async def batch(ctx: RequestContext) -> web.Response:
    """POST /api/buckets/{ns}/{name}/batch (NDJSON addFile / copyFile / deleteFile): each operation on its own;
    200 {"failed": [...]} (422 when every operation failed)."""
    ctx.require_write()
    bucket_id = _bucket_id(ctx)
    _visible(ctx, bucket_id)
    ops = []
    for n, line in enumerate((await ctx.request.read()).splitlines(), 1):
        if not line.strip():
            continue
        try:
            ops.append(BucketOp.from_json(json.loads(line)))
        except ValueError as exc:
            raise HubError(400, "BadRequest", f"Malformed NDJSON line {n}: {exc}.") from None
    failed = await asyncio.to_thread(_store(ctx).apply, bucket_id, ops, lambda op: _admit(ctx, bucket_id, op))
    if ctx.decision.reset_after:  # the batch landed, but the client never hears it
        ctx.state.counters.add(ctx.route_class, faults=1)
        if ctx.request.transport is not None:
            ctx.request.transport.abort()
        raise ConnectionResetError("fault injection: reset after bucket batch")
    status = 422 if ops and len(failed) == len(ops) else 200
    return json_response({"failed": failed}, status=status)


def _admit(ctx: RequestContext, bucket_id: str, op: BucketOp) -> tuple[str, int]:
    """(xet hash, size) of the Xet file an add or copy names: it must be in the CAS, an add's uploaded with this
    bucket's write token (or held by it), and a copy's source must be visible to the caller and hold it (a hash
    alone does not open another repo's file)."""
    assert op.xet_hash is not None
    xet_store = ctx.state.xet_store
    if op.kind == "copyFile":
        source = op.source_id or ""
        if op.source_type == "bucket":
            meta = _store(ctx).meta(source)
            held = meta is not None and _store(ctx).holds(source, op.xet_hash)
        elif op.source_type in REPO_TYPES:
            meta = ctx.state.storage.repo_meta(op.source_type, source)
            held = meta is not None and xet_store.repo_holds(f"{op.source_type}/{source}", op.xet_hash)
        else:
            raise HubError(400, "BadRequest", f"unknown sourceRepoType {op.source_type!r}")
        if meta is None or (meta["private"] and ctx.token is None) or not held:
            raise HubError(404, "EntryNotFound", f"Xet file {op.xet_hash} not found in {op.source_type} {source}")
    elif not _store(ctx).may_add(bucket_id, op.xet_hash):
        raise HubError(404, "EntryNotFound", f"Xet file {op.xet_hash} was not uploaded for bucket {bucket_id}: "
                                             "upload it with the bucket's Xet write token first")
    found = xet_store.file(op.xet_hash)
    if found is None:
        raise HubError(404, "EntryNotFound", f"Xet file {op.xet_hash} is not in the CAS: upload it first")
    return found.file_hash, found.size


# ---- Xet ------------------------------------------------------------------------------------------------
async def xet_token(ctx: RequestContext) -> web.Response:
    """GET /api/buckets/{ns}/{name}/xet-{read|write}-token: as a repo's, for a token naming `bucket/{id}`."""
    write = ctx.groups.get("kind") == "write"
    if write:
        ctx.require_write()
    bucket_id = _bucket_id(ctx)
    _visible(ctx, bucket_id)
    state = ctx.state
    token, exp = issue_token(state.upload_secret, f"bucket/{bucket_id}", write, state.mode.xet_token_expiry)
    cas_url = reachable(state.cas_base, ctx.request)
    headers = {"X-Xet-Cas-Url": cas_url, "X-Xet-Access-Token": token, "X-Xet-Token-Expiration": str(exp)}
    return json_response({"accessToken": token, "exp": exp, "casUrl": cas_url}, headers=headers)


async def resolve(ctx: RequestContext) -> web.StreamResponse:
    """GET|HEAD /buckets/{ns}/{name}/resolve/{path}: 302 to the bridge, with the Xet headers (no ranges here)."""
    bucket_id = _bucket_id(ctx)
    _visible(ctx, bucket_id)
    path = unquote(ctx.groups.get("path") or "")
    entry = _store(ctx).files(bucket_id).get(path)
    if entry is None:
        raise HubError(404, "EntryNotFound", f"{path} does not exist in bucket {bucket_id}.")
    name = path.rsplit("/", 1)[-1]
    headers = {
        "ETag": f'"{entry.xet_hash}"',
        "Content-Type": entry.content_type or mimetypes.guess_type(name)[0] or "application/octet-stream",
        "Cache-Control": "no-cache",  # mutable: the next add may change it
        "X-Xet-Hash": entry.xet_hash,
        "X-Linked-Size": str(entry.size),
        "Link": f'<{ctx.base_url}/api/buckets/{bucket_id}/xet-read-token>; rel="xet-auth"',
        **ctx.extra_headers,
    }
    found = ctx.state.xet_store.file(entry.xet_hash)
    if found is None:
        if entry.size == 0:  # nothing to reconstruct
            return web.Response(status=200, body=b"", headers=headers)
        raise HubError(500, "InternalError", f"The CAS lost Xet file {entry.xet_hash}.")
    headers["X-Linked-Etag"] = f'"{found.sha256}"'
    headers["Location"] = bridge_url(ctx.state, found.sha256, name, ctx.request)
    return web.Response(status=302, headers=headers)
