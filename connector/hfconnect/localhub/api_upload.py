"""Upload and commit endpoints: preupload, the git-lfs batch API with basic transfers, and NDJSON commits."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import time
from typing import Any
from urllib.parse import quote

from aiohttp import web

from .context import RequestContext, json_response, read_json
from .errors import HubError
from .storage import LFS_SUFFIXES, Operation, validate_repo_path

__all__ = ["commit", "lfs_batch", "lfs_upload", "lfs_verify", "preupload"]

LFS_THRESHOLD = 10 * 1024 * 1024
LFS_JSON = "application/vnd.git-lfs+json"
_OID_RE = re.compile(r"^[0-9a-f]{64}$")
log = logging.getLogger("hfconnect.localhub")


def upload_mode(path: str, size: int, sample: bytes) -> str:
    if size >= LFS_THRESHOLD or path.lower().endswith(LFS_SUFFIXES) or b"\0" in sample:
        return "lfs"
    return "regular"


async def preupload(ctx: RequestContext) -> web.Response:
    ctx.require_write()
    sha, _ = ctx.resolve()
    files = ctx.state.storage.commit(sha).files
    body = await read_json(ctx)
    items = body.get("files")
    if not isinstance(items, list):
        raise HubError(400, "BadRequest", "Expected {'files': [...]} in the preupload body.")
    out = []
    for item in items:
        path = validate_repo_path(item.get("path"))
        try:
            sample = base64.b64decode(item.get("sample") or "", validate=True)
        except (binascii.Error, ValueError):
            raise HubError(400, "BadRequest", f"'sample' of {path!r} is not base64.") from None
        mode = upload_mode(path, int(item.get("size") or 0), sample)
        row: dict[str, Any] = {"path": path, "uploadMode": mode, "shouldIgnore": False}
        if path in files:
            entry = files[path]
            row["oid"] = entry.sha256 if entry.lfs else entry.oid
        out.append(row)
    return json_response({"files": out, "commitOid": sha})


async def lfs_batch(ctx: RequestContext) -> web.Response:
    ctx.require_write()
    ctx.repo_meta()
    body = await read_json(ctx)
    if body.get("operation") != "upload":
        raise HubError(400, "BadRequest", "Only the 'upload' operation is served by the batch API here.")
    objects = []
    for obj in body.get("objects") or []:
        oid, size = str(obj.get("oid", "")), obj.get("size")
        if not _OID_RE.match(oid) or not isinstance(size, int) or size < 0:
            objects.append({"oid": oid, "size": size, "error": {"code": 422, "message": "Invalid oid or size"}})
            continue
        row: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
        if not ctx.state.storage.has_object(oid, size):
            sig = ctx.state.sign_upload(oid, size)
            row["actions"] = {
                "upload": {"href": f"{ctx.base_url}/_lfs/upload/{oid}?size={size}&sig={sig}"},
                "verify": {"href": f"{ctx.base_url}/_lfs/verify/{oid}"},
            }
        objects.append(row)
    return web.Response(body=json.dumps({"transfer": "basic", "objects": objects}).encode(),
                        headers={"Content-Type": LFS_JSON})


async def lfs_upload(ctx: RequestContext) -> web.Response:
    """Basic transfer: the raw bytes, authorised by the signature the batch call handed out."""
    oid = ctx.groups["oid"] or ""
    try:
        size = int(ctx.request.query.get("size", "-1"))
    except ValueError:
        size = -1
    expected = ctx.state.sign_upload(oid, size)
    if not hmac.compare_digest(expected, ctx.request.query.get("sig", "")):
        raise HubError(403, "Forbidden", "Upload URL signature is invalid: ask the LFS batch API for a new one.")
    storage = ctx.state.storage
    if storage.has_object(oid, size):
        await ctx.request.read()
        return web.Response(status=200)
    f, tmp = storage.new_upload()
    digest, received = hashlib.sha256(), 0
    try:
        async for chunk in ctx.request.content.iter_chunked(1 << 20):
            digest.update(chunk)
            f.write(chunk)
            received += len(chunk)
        if ctx.request.content_length is None:  # dispatch counted the announced length already
            ctx.state.counters.add(ctx.route_class, bytes_received=received)
        if received != size:
            raise HubError(400, "BadRequest", f"Received {received} bytes for {oid}, announced {size}.")
        await asyncio.to_thread(storage.finish_upload, f, tmp, oid, digest.hexdigest(), size)
    finally:
        if not f.closed:
            f.close()
        tmp.unlink(missing_ok=True)
    return web.Response(status=200)


async def lfs_verify(ctx: RequestContext) -> web.Response:
    ctx.require_write()
    body = await read_json(ctx)
    oid, size = ctx.groups["oid"] or "", body.get("size")
    if not ctx.state.storage.has_object(oid, size if isinstance(size, int) else None):
        raise HubError(404, "EntryNotFound", f"LFS object {oid} of size {size} was not uploaded.")
    return json_response({"oid": oid, "size": size})


async def commit(ctx: RequestContext) -> web.StreamResponse:
    started = time.monotonic()
    token = ctx.require_write()
    ctx.repo_meta()
    raw = await ctx.request.read()
    header, ops = parse_ndjson_commit(raw)
    mode = ctx.state.mode
    too_many = mode.commit_limits and 0 < mode.commit_max_operations < len(ops)
    late = too_many or (mode.commit_limits and time.monotonic() - started > mode.commit_timeout)
    if late and not mode.commit_timeout_lands:
        return _gateway_timeout(ctx, len(ops), landed=False)
    await _xet_checks(ctx, ops)
    xet_bytes = _mark_xet_files(ctx, ops)
    create_pr = ctx.request.query.get("create_pr", "").lower() in ("1", "true")
    summary = str(header.get("summary") or "").strip() or "Upload files"
    new_commit, pr_num = await asyncio.to_thread(
        ctx.state.storage.apply_commit, ctx.repo_type, ctx.repo_id, ctx.revision, ops,
        title=summary, message=str(header.get("description") or ""), author=token.user,
        parent_commit=header.get("parentCommit"), create_pr=create_pr,
    )
    ctx.state.counters.add_commit()
    if xet_bytes:
        ctx.state.counters.add_xet(file_bytes_committed=xet_bytes)
    if late or (mode.commit_limits and time.monotonic() - started > mode.commit_timeout):
        return _gateway_timeout(ctx, len(ops), landed=True)  # the Hub's "rare case": it landed all the same
    if ctx.decision.reset_after:  # the commit landed, but the client never hears it
        ctx.state.counters.add(ctx.route_class, faults=1)
        if ctx.request.transport is not None:
            ctx.request.transport.abort()
        raise ConnectionResetError("fault injection: reset after commit")
    prefix = {"dataset": "datasets/", "space": "spaces/"}.get(ctx.repo_type, "")
    out: dict[str, Any] = {
        "commitOid": new_commit.id,
        "commitUrl": f"{ctx.base_url}/{prefix}{ctx.repo_id}/commit/{new_commit.id}",
        "success": True,
    }
    if pr_num is not None:
        out["pullRequestUrl"] = f"{ctx.base_url}/{prefix}{ctx.repo_id}/discussions/{pr_num}"
        out["pullRequestRevision"] = quote(f"refs/pr/{pr_num}", safe="")
    return json_response(out)


def _gateway_timeout(ctx: RequestContext, n_ops: int, *, landed: bool) -> web.Response:
    """What the Hub's gateway answers a commit request past its 60 s: an HTML 504 with no X-Error-Code. The
    commit may have landed or not; the client cannot tell from the answer."""
    ctx.state.counters.add(ctx.route_class, errors=1)
    log.warning("commit of %d operations to %s past the commit timeout: 504 (%s)", n_ops, ctx.repo_id,
                "landed" if landed else "not applied")
    return web.Response(status=504, content_type="text/html",
                        text="<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway "
                             "Time-out</h1></center></body></html>\n")


async def _xet_checks(ctx: RequestContext, ops: list[Operation]) -> None:
    """Wait for the background sha256 checks of the Xet files the commit names (`XetStore.check_of`): a commit
    never lands bytes that do not hash to its sha256 (the check's HubError 400 says which)."""
    store = ctx.state.xet_store
    for op in ops:
        if op.kind == "lfsFile" and op.sha256 and (check := store.check_of(op.sha256)) is not None:
            await asyncio.wrap_future(check)


def _mark_xet_files(ctx: RequestContext, ops: list[Operation]) -> int:
    """Give each `lfsFile` whose sha256 arrived in a Xet shard its Xet file hash; their total size."""
    store = ctx.state.xet_store
    total = 0
    if not ctx.state.mode.xet:  # an LFS-only hub: what an earlier Xet run stored commits as plain LFS files
        return total
    for op in ops:
        if op.kind == "lfsFile" and op.sha256 and (found := store.file_hash_for_sha256(op.sha256)):
            op.xet_hash = found
            xet_file = store.file(found)
            total += xet_file.size if xet_file else op.size or 0
    return total


def parse_ndjson_commit(raw: bytes) -> tuple[dict[str, Any], list[Operation]]:
    """Parse and check every line before anything is applied: a malformed commit changes nothing."""
    header: dict[str, Any] | None = None
    ops: list[Operation] = []
    for lineno, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            key, value = item["key"], item["value"]
        except (ValueError, KeyError, TypeError):
            raise HubError(400, "BadRequest", f"Malformed NDJSON commit: line {lineno} is not "
                                               '{"key": ..., "value": {...}}.') from None
        if not isinstance(value, dict):
            raise HubError(400, "BadRequest", f"Malformed NDJSON commit: line {lineno} value is not an object.")
        if key == "header":
            header = value
        elif key == "file":
            if value.get("encoding", "base64") != "base64":
                raise HubError(400, "BadRequest", f"Line {lineno}: only base64 encoding is supported.")
            try:
                content = base64.b64decode(value.get("content") or "", validate=True)
            except (binascii.Error, ValueError):
                raise HubError(400, "BadRequest", f"Line {lineno}: 'content' is not valid base64.") from None
            ops.append(Operation("file", str(value.get("path")), content=content))
        elif key == "lfsFile":
            if value.get("algo", "sha256") != "sha256":
                raise HubError(400, "BadRequest", f"Line {lineno}: only sha256 LFS oids are supported.")
            size = value.get("size")
            ops.append(Operation("lfsFile", str(value.get("path")), sha256=str(value.get("oid")),
                                 size=size if isinstance(size, int) else None))
        elif key in ("deletedFile", "deletedFolder"):
            ops.append(Operation(key, str(value.get("path"))))
        else:
            raise HubError(400, "BadRequest", f"Line {lineno}: unknown commit line key {key!r}.")
    if header is None:
        raise HubError(400, "BadRequest", "Malformed NDJSON commit: the header line is missing.")
    return header, ops
