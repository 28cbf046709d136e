"""The CAS API handlers (xorbs, shards, global dedup, reconstructions, telemetry) and the ranged xorb reads.

Routes the client probes and falls back from (xorb grants, v2 shards, v2 reconstructions) answer 404, as the
reference says hf_xet 1.8 handles; everything CPU-bound (hashing, decompression) runs off the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import time

from aiohttp import web

from .cdn import check_signed, xorb_url
from .context import RequestContext, json_response
from .errors import HubError
from .objects import FileBody
from .ranges import parse_range, serve_range
from .xet_auth import XET_GRANT
from .xet_format import XetFormatError, XorbReader, is_hash_hex
from .xet_reconstruct import reconstruction
from .xet_shard import dedup_shard_bytes

DEDUP_ANSWER_TTL = 24 * 3600  # seconds a global-dedup answer stays valid in a client's cache

__all__ = ["fallback", "fetch_xorb", "get_chunk", "get_reconstruction", "telemetry", "upload_shard", "upload_xorb"]


def _hash(ctx: RequestContext) -> str:
    value = ctx.groups.get("hash") or ""
    if not is_hash_hex(value):
        raise HubError(400, "BadRequest", f"{value!r} is not a Xet hash (64 lowercase hex digits).")
    return value


async def fallback(ctx: RequestContext) -> web.Response:
    """What the client treats as "not offered here, use the older route"."""
    raise HubError(404, "NotFound", f"{ctx.request.method} {ctx.request.path} is not served by this CAS.")


async def telemetry(ctx: RequestContext) -> web.Response:
    await ctx.request.read()
    return json_response({})


async def upload_xorb(ctx: RequestContext) -> web.Response:
    """POST /v1/xorbs/{prefix}/{hash}: a footer-less xorb, verified against its name; `{"was_inserted": bool}`."""
    xorb = _hash(ctx)
    request, counters = ctx.request, ctx.state.counters
    if ctx.decision.reset_after:  # a xorb upload dropped mid-body
        announced = request.content_length or 0
        budget = ctx.decision.after_bytes if ctx.decision.after_bytes is not None else announced // 2
        got = 0
        while got < budget:
            chunk = await request.content.read(min(1 << 16, budget - got))
            if not chunk:
                break
            got += len(chunk)
        counters.add_xet(xorb_bytes_received=got)
        counters.add(ctx.route_class, faults=1)
        if request.transport is not None:
            request.transport.abort()
        raise ConnectionResetError("fault injection: xorb upload dropped mid-body")
    store = ctx.state.xet_store
    f, tmp = ctx.state.storage.new_upload()
    received, reader, known = 0, XorbReader(), store.has_xorb(xorb)
    try:
        async for chunk in request.content.iter_chunked(1 << 20):  # to disk as it arrives, as LFS uploads are,
            f.write(chunk)  # and verified as it arrives (no read back): hashing runs off the event loop
            if not known:
                await asyncio.to_thread(reader.feed, chunk)
            received += len(chunk)
        counters.add_xet(xorb_bytes_received=received)
        inserted = not known and await asyncio.to_thread(store.put_xorb_file, xorb, f, tmp, reader.finish(xorb))
    except XetFormatError as exc:
        raise HubError(400, "BadRequest", f"Invalid xorb {xorb}: {exc}") from None
    finally:
        f.close()
        tmp.unlink(missing_ok=True)
    if inserted:
        counters.add_xet(xorbs_new=1, xorb_bytes_new=received)
    else:
        counters.add_xet(xorbs_known=1)
    return json_response({"was_inserted": inserted})


async def upload_shard(ctx: RequestContext) -> web.Response:
    """POST /v1/shards: a footer-less shard; its xorbs must be stored, its files' bytes must hash right. A bucket
    token's files may come without a sha256 (`XetStore.put_shard`'s fill_sha256)."""
    data = await ctx.request.read()
    grant = ctx.request.get(XET_GRANT)
    bucket = grant.repo.removeprefix("bucket/") if grant is not None and grant.repo.startswith("bucket/") else None
    # A repo file's sha256 is checked in the background (its commit waits for it); a bucket's add has no such
    # wait, so its shard is checked before the answer.
    new, shard = await asyncio.to_thread(ctx.state.xet_store.put_shard, data, bucket is not None, bucket is None)
    if bucket is not None:  # what this bucket's adds may name (known shards too: their files were sent again)
        ctx.state.buckets.note_uploads(bucket, [f.file_hash for f in shard.files])
    ctx.state.counters.add_xet(shards=1)
    return json_response({"result": 1 if new else 0})


async def get_chunk(ctx: RequestContext) -> web.Response:
    """GET /v1/chunks/{prefix}/{hash}: global dedup. A known chunk answers a shard with the CAS info of every
    xorb of the upload that stored it (as the Hub answers with that upload's shard)."""
    chunk = _hash(ctx)
    xorbs = ctx.state.xet_store.dedup_xorbs(chunk)
    if not xorbs:
        ctx.state.counters.add_xet(dedup_misses=1)
        raise HubError(404, "NotFound", f"Chunk {chunk} is not known to this CAS.")
    ctx.state.counters.add_xet(dedup_hits=1)
    # A finite life, as the Hub gives its answers: a client reloading its cache drops them once expired, so what
    # it learned from an earlier hub state does not outlive it forever.
    body = await asyncio.to_thread(functools.partial(dedup_shard_bytes, xorbs,
                                                     expiry=int(time.time()) + DEDUP_ANSWER_TTL))
    return web.Response(body=body, content_type="application/octet-stream")


async def get_reconstruction(ctx: RequestContext) -> web.Response:
    """GET /v1/reconstructions/{file_id} (with an optional Range): terms trimmed at chunk boundaries."""
    file_id = _hash(ctx)
    store = ctx.state.xet_store
    found = store.file(file_id)
    grant = ctx.request.get(XET_GRANT)
    if found is None or (grant is not None and not await asyncio.to_thread(store.repo_holds, grant.repo, file_id)):
        raise HubError(404, "NotFound", f"File {file_id} is not known to this CAS for this token's repo.")
    rng = parse_range(ctx.request.headers.get("Range"), found.size)
    body = await asyncio.to_thread(reconstruction, store, found, rng, lambda x: xorb_url(ctx.state, x, ctx.request))
    return json_response(body)


async def fetch_xorb(ctx: RequestContext) -> web.StreamResponse:
    """GET <presigned xorb URL> with `Range`: raw serialized xorb bytes; no Authorization needed (403 expired)."""
    xorb = _hash(ctx)
    check_signed(ctx, "xorb", xorb)
    store = ctx.state.xet_store
    if not store.has_xorb(xorb):
        raise HubError(404, "NotFound", f"Xorb {xorb} is not in the CAS.")
    return await serve_range(ctx, FileBody(store.xorb_path(xorb)), xorb)
