"""Signed URLs on the "other host": the CDN of the real-Hub mode (what `/resolve/` of an LFS file redirects to),
the Xet bridge (what `/resolve/` of a Xet file redirects to) and the CAS's xorb fetch URLs.

Like the Hub's CDN (cdn-lfs, cas-bridge) and the CAS's presigned xorb URLs, they serve `Range` without any
Authorization, only while the URL's signature is valid and unexpired (then 403), on another host than the API,
so a client that follows a redirect must drop the user's token. The listener counts requests that carried one.
The routes live in `cas.build_cas_app`, which serves all of the other host (this module does not import it:
`cas` imports the handler and the URL signing from here).
"""

from __future__ import annotations

import hmac
import time
from urllib.parse import quote, urlsplit

from aiohttp import web

from .context import HubState, RequestContext
from .errors import HubError
from .ranges import serve_range, stored_body

__all__ = ["bridge_url", "check_signed", "reachable", "serve_signed_object", "signed_url", "xorb_url"]

_EXPIRED = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
            "<Message>Request has expired</Message></Error>")


def _signature(state: HubState, kind: str, key: str, expires: int) -> str:
    return hmac.new(state.upload_secret, f"{kind}:{key}:{expires}".encode(), "sha256").hexdigest()


def _query(state: HubState, kind: str, key: str) -> str:
    expires = int(time.time() + state.mode.url_expiry)
    return f"Expires={expires}&Signature={_signature(state, kind, key, expires)}"


def reachable(base: str, request: web.Request | None) -> str:
    """The other host's base URL as this client can reach it. A hub bound to every address (0.0.0.0, e.g. in a
    container) cannot hand out that address: the client gets the host name it reached the hub by."""
    url = urlsplit(base)
    if request is None or url.hostname not in ("0.0.0.0", "::"):
        return base
    host = urlsplit(f"//{request.host}").hostname or "127.0.0.1"
    return f"{url.scheme}://{f'[{host}]' if ':' in host else host}:{url.port}"


def signed_url(state: HubState, sha256: str, name: str, request: web.Request | None = None) -> str:
    """A URL on the CDN host for one object, valid for the mode's `url_expiry` seconds."""
    return f"{reachable(state.cdn_base, request)}/cdn/{sha256}/{quote(name)}?{_query(state, 'cdn', sha256)}"


def bridge_url(state: HubState, sha256: str, name: str, request: web.Request | None = None) -> str:
    """A URL on the CAS host serving a Xet file's bytes (as the Hub's cas-bridge does), valid `url_expiry` s."""
    return f"{reachable(state.cas_base, request)}/bridge/{sha256}/{quote(name)}?{_query(state, 'bridge', sha256)}"


def xorb_url(state: HubState, xorb: str, request: web.Request | None = None) -> str:
    """A presigned URL for ranged reads of one xorb (what reconstructions hand out), valid `url_expiry` s."""
    return f"{reachable(state.cas_base, request)}/fetch/xorb/{xorb}?{_query(state, 'xorb', xorb)}"


def check_signed(ctx: RequestContext, kind: str, key: str) -> None:
    """403 (as S3/CloudFront answer) unless the URL carries a valid, unexpired signature for (kind, key)."""
    query = ctx.request.query
    try:
        expires = int(query.get("Expires", ""))
    except ValueError:
        expires = 0
    good = hmac.compare_digest(query.get("Signature", "").encode(), _signature(ctx.state, kind, key, expires).encode())
    if not good or time.time() >= expires:
        raise HubError(403, "AccessDenied", _EXPIRED, headers={"Content-Type": "application/xml"})


async def serve_signed_object(ctx: RequestContext) -> web.StreamResponse:
    """A stored object at a signed URL of the CDN (LFS files) or the bridge (Xet files): the route class is the
    kind the URL was signed for, so a CDN URL does not open the bridge's route nor the other way round."""
    sha256 = ctx.groups["sha256"] or ""
    check_signed(ctx, ctx.route_class, sha256)
    return await serve_range(ctx, stored_body(ctx, sha256), sha256)

