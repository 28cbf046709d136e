"""Byte ranges of stored objects, as `/resolve/`, the CDN, the bridge and the CAS's xorb route serve them: `Range`
parsing (206 + Content-Range, 416 past the end), and streaming with sendfile or paced pieces as fault rules shape it.

Why its own module: every listener serves ranges the same way, and `/resolve/` (api_files) and the other host
(cdn, cas_handlers) both need it without importing each other.
"""

from __future__ import annotations

import asyncio
import re

from aiohttp import web

from .context import RequestContext
from .errors import HubError
from .objects import ObjectBody
from .throttle import THROTTLED_ROUTES, throttle_for

__all__ = ["parse_range", "send_file_range", "serve_range", "stored_body"]

_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """`Range` -> inclusive (start, end); None for the whole file. Multi-ranges fall back to the whole file."""
    if not header:
        return None
    m = _RANGE_RE.match(header.strip())
    if not m:
        return None
    first, last = m.group(1), m.group(2)
    if first == "" and last == "":
        return None
    if first == "":
        n = int(last)
        if n == 0:
            raise _unsatisfiable(size)
        return max(0, size - n), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or start > end:
        raise _unsatisfiable(size)
    return start, end


def _unsatisfiable(size: int) -> HubError:
    return HubError(416, "RangeNotSatisfiable", f"Requested range not satisfiable (size {size}).",
                    headers={"Content-Range": f"bytes */{size}"})


async def send_file_range(ctx: RequestContext, resp: web.StreamResponse, body: ObjectBody, start: int,
                          length: int) -> None:
    """Stream [start, start+length) of an object: sendfile when it is one plain file and nothing shapes the body,
    else piece by piece (paced, or cut short, as the fault rules say; on the other host, paced per connection
    when the mode caps its connections' rate: see throttle)."""
    decision = ctx.decision
    request = ctx.request
    await resp.prepare(request)
    ctx.prepared_response = True
    transport = request.transport
    if transport is None:
        raise ConnectionResetError("client went away")
    throttle = (throttle_for(request.app, ctx.state.mode.cdn_connection_rate)
                if ctx.route_class in THROTTLED_ROUTES else None)
    pace = throttle.pace(transport, asyncio.get_running_loop().time()) if throttle is not None else None
    if pace is not None:
        pace.requests += 1
    if (body.path is not None and not decision.reset_after and not decision.bytes_per_sec and pace is None
            and length):
        try:
            with open(body.path, "rb") as f:
                await asyncio.get_running_loop().sendfile(transport, f, start, length)
        except NotImplementedError:  # event loops without sendfile (uvloop): the paced path below
            pass
        else:
            ctx.state.counters.add(ctx.route_class, bytes_sent=length)
            await resp.write_eof()
            return
    budget = length
    if decision.reset_after:
        budget = min(length, decision.after_bytes if decision.after_bytes is not None else length // 2)
    sent = 0
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for piece in body.iter_range(start, budget):
        if throttle is not None and pace is not None:
            await throttle.send(pace, len(piece))
        await resp.write(piece)
        sent += len(piece)
        if decision.bytes_per_sec:
            ahead = sent / decision.bytes_per_sec - (loop.time() - t0)
            if ahead > 0:
                await asyncio.sleep(ahead)
    ctx.state.counters.add(ctx.route_class, bytes_sent=sent)
    if decision.reset_after:
        ctx.state.counters.add(ctx.route_class, faults=1)
        transport.abort()
        return
    await resp.write_eof()


def stored_body(ctx: RequestContext, sha256: str) -> ObjectBody:
    """The bytes a file entry or a signed URL names; a 404 when the hub holds none (a root restored without them)."""
    body = ctx.state.storage.open_object(sha256)
    if body is None:
        raise HubError(404, "EntryNotFound", f"The hub holds no object {sha256}.")
    return body


async def serve_range(ctx: RequestContext, body: ObjectBody, etag: str) -> web.StreamResponse:
    """GET/HEAD of a whole object with `Range` (206 + Content-Range, 416 past the end), paced by the fault rules."""
    size = body.size
    rng = parse_range(ctx.request.headers.get("Range"), size)
    start, end = rng if rng else (0, size - 1)
    headers = {"Accept-Ranges": "bytes", "Content-Type": "application/octet-stream", "ETag": f'"{etag}"'}
    if rng:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    resp = web.StreamResponse(status=206 if rng else 200, headers=headers)
    resp.content_length = end - start + 1 if size else 0
    if ctx.request.method == "HEAD":
        await resp.prepare(ctx.request)
        await resp.write_eof()
        return resp
    await send_file_range(ctx, resp, body, start, resp.content_length or 0)
    return resp
