"""The signed-URL host of the real-Hub mode: what `/resolve/` of an LFS file redirects to.

Like the Hub's CDN (cdn-lfs, cas-bridge), it serves `Range` without any Authorization, only while the URL's
signature is valid and unexpired (then 403), and it is another host than the API, so a client that follows
the redirect must drop the user's token. It counts the requests that nevertheless carried one.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from urllib.parse import quote

from aiohttp import web

from .context import STATE, HubState, RequestContext
from .errors import HubError

__all__ = ["build_cdn_app", "signed_url"]

_EXPIRED = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
            "<Message>Request has expired</Message></Error>")


def _signature(state: HubState, sha256: str, expires: int) -> str:
    return hmac.new(state.upload_secret, f"cdn:{sha256}:{expires}".encode(), "sha256").hexdigest()


def signed_url(state: HubState, sha256: str, name: str) -> str:
    """A URL on the CDN host for one object, valid for the mode's `url_expiry` seconds."""
    expires = int(time.time() + state.mode.url_expiry)
    signature = _signature(state, sha256, expires)
    return f"{state.cdn_base}/cdn/{sha256}/{quote(name)}?Expires={expires}&Signature={signature}"


def build_cdn_app(state: HubState) -> web.Application:
    app = web.Application()
    app[STATE] = state
    app.router.add_route("GET", "/cdn/{sha256}/{name:.*}", _serve)
    app.router.add_route("HEAD", "/cdn/{sha256}/{name:.*}", _serve)
    app.router.add_route("*", "/{tail:.*}", _not_found)
    return app


async def _not_found(request: web.Request) -> web.Response:
    return web.Response(status=404, text="Not Found")


async def _serve(request: web.Request) -> web.StreamResponse:
    from .api_files import parse_range, send_file_range  # the same Range semantics as `/resolve/`

    state: HubState = request.app[STATE]
    counters = state.counters
    counters.add("cdn", requests=1, authorized=int("Authorization" in request.headers))
    decision = state.faults.decide("cdn", request.method, request.path)
    if decision.latency_s:
        await asyncio.sleep(decision.latency_s)
    if decision.reset:
        counters.add("cdn", faults=1)
        if request.transport is not None:
            request.transport.abort()
        raise ConnectionResetError("fault injection: reset")
    if decision.status is not None:
        counters.add("cdn", faults=1, errors=1)
        return web.Response(status=decision.status, text=f"Injected fault ({decision.status}).")
    sha256 = request.match_info["sha256"]
    try:
        expires = int(request.query.get("Expires", ""))
    except ValueError:
        expires = 0
    good = hmac.compare_digest(request.query.get("Signature", ""), _signature(state, sha256, expires))
    if not good or time.time() >= expires:
        counters.add("cdn", errors=1)
        return web.Response(status=403, text=_EXPIRED, content_type="application/xml")
    path = state.storage.object_path(sha256)
    size = path.stat().st_size
    try:
        rng = parse_range(request.headers.get("Range"), size)
    except HubError as err:
        counters.add("cdn", errors=1)
        return web.Response(status=err.status, headers=err.headers, text=err.message)
    start, end = rng if rng else (0, size - 1)
    headers = {"Accept-Ranges": "bytes", "Content-Type": "application/octet-stream", "ETag": f'"{sha256}"'}
    if rng:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    resp = web.StreamResponse(status=206 if rng else 200, headers=headers)
    resp.content_length = end - start + 1 if size else 0
    if request.method == "HEAD":
        await resp.prepare(request)
        await resp.write_eof()
        return resp
    ctx = RequestContext(request, state, {}, "cdn", decision)
    await send_file_range(ctx, resp, str(path), start, resp.content_length or 0)
    return resp
