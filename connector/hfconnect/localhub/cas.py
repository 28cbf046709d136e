"""The "other host" of the local hub: the Xet CAS (as cas-server.xethub.hf.co), the Xet bridge and presigned
xorb reads (as cas-bridge.xethub.hf.co), and the LFS CDN of the real-Hub mode, on a listener of their own.

Why another listener: huggingface_hub follows a HEAD redirect only within one origin, so the bridge must be on
another port or host for the client to see the `X-Xet-*` headers of the 302, and a client following a redirect
must drop the user's token there. Every route is counted (per route class and per CAS route), honours the fault
rules through the same gate as the hub, and CAS API routes need `Authorization: Bearer <xet access token>`
(401 missing/invalid/expired, 403 a read token on an upload route); a request no route matches is recorded.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from . import cas_handlers as h
from .cdn import serve_signed_object
from .context import STATE, HubState, RequestContext, error_response
from .errors import HubError
from .gate import fault_gate
from .xet_auth import XET_GRANT, verify_token

__all__ = ["CAS_ROUTES", "build_cas_app"]

log = logging.getLogger("hfconnect.localhub")
Handler = Callable[[RequestContext], Awaitable[web.StreamResponse]]
MAX_BODY = 1 << 30  # xorbs are up to 64 MiB, shards smaller; aiohttp's default is 1 MiB

_H = r"(?P<hash>[^/]+)"
_P = r"(?P<prefix>[^/]+)"


@dataclass(frozen=True)
class CasRoute:
    name: str  # the route, e.g. "/v1/xorbs": counters()["cas_routes"] counts "<METHOD> <name>"
    methods: tuple[str, ...]
    pattern: re.Pattern[str]
    route_class: str  # cas | xorb | bridge | cdn
    auth: str | None  # "read" / "write": the Xet token right it needs; None: signed URL or open
    handler: Handler
    xet: bool = True  # exists only when the hub speaks Xet


def _r(methods: str, route: str, pattern: str, route_class: str, auth: str | None, handler: Handler,
       xet: bool = True) -> CasRoute:
    return CasRoute(route, tuple(methods.split("|")), re.compile(f"^{pattern}$"), route_class, auth,
                    handler, xet)


CAS_ROUTES: list[CasRoute] = [
    _r("GET", "/v1/chunks", rf"/v1/chunks/{_P}/{_H}", "cas", "read", h.get_chunk),
    _r("POST", "/v1/xorb-grants", rf"/v1/xorb-grants/{_P}/{_H}", "cas", "write", h.fallback),
    _r("POST", "/v1/xorbs", rf"/v1/xorbs/{_P}/{_H}", "cas", "write", h.upload_xorb),
    _r("POST", "/v2/shards", r"/v2/shards", "cas", "write", h.fallback),
    _r("POST", "/v1/shards", r"/v1/shards", "cas", "write", h.upload_shard),
    _r("POST", "/v1/telemetry", r"/v1/telemetry", "cas", None, h.telemetry),
    _r("GET", "/v2/reconstructions", rf"/v2/reconstructions/{_H}", "cas", "read", h.fallback),
    _r("GET", "/v1/reconstructions", rf"/v1/reconstructions/{_H}", "cas", "read", h.get_reconstruction),
    _r("GET", "/fetch/xorb", rf"/fetch/xorb/{_H}", "xorb", None, h.fetch_xorb),
    _r("GET|HEAD", "/bridge", r"/bridge/(?P<sha256>[0-9a-f]{64})/(?P<name>.*)", "bridge", None, serve_signed_object),
    _r("GET|HEAD", "/cdn", r"/cdn/(?P<sha256>[0-9a-f]{64})/(?P<name>.*)", "cdn", None, serve_signed_object, xet=False),
]


def build_cas_app(state: HubState) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[STATE] = state
    app.router.add_route("*", "/{tail:.*}", _dispatch)
    return app


def _match(state: HubState, method: str, path: str) -> tuple[CasRoute, dict[str, str | None]] | None:
    for route in CAS_ROUTES:
        if route.xet and not state.mode.xet:
            continue
        if method in route.methods and (m := route.pattern.match(path)):
            return route, m.groupdict()
    return None


def _render(route: CasRoute, err: HubError, extra: dict[str, str] | None = None) -> web.Response:
    """CAS API errors in JSON (as the hub's); signed-URL hosts answer plain text or XML, as S3/CloudFront do."""
    if route.route_class == "cas":
        return error_response(err, extra)
    headers = {"Content-Type": "text/plain; charset=utf-8", **err.headers, **(extra or {})}
    return web.Response(status=err.status, body=err.message.encode(), headers=headers)


def _authorize(state: HubState, route: CasRoute, request: web.Request) -> None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        raise HubError(401, "Unauthorized", "This CAS route needs Authorization: Bearer <Xet access token>.")
    grant = verify_token(state.upload_secret, header[7:].strip())
    if route.auth == "write" and not grant.write:
        raise HubError(403, "Forbidden", "This Xet token is read-only: ask xet-write-token for an upload token.")
    request[XET_GRANT] = grant


async def _dispatch(request: web.Request) -> web.StreamResponse:
    state: HubState = request.app[STATE]
    counters = state.counters
    path = request.raw_path.split("?", 1)[0]
    found = _match(state, request.method, path)
    if found is None:
        counters.add_unknown_route(request.method, request.path)
        return web.Response(status=404, text="Not Found")
    route, groups = found
    authorized = int("Authorization" in request.headers)
    counters.add(route.route_class, requests=1, bytes_received=request.content_length or 0, authorized=authorized)
    cas_route = route.route_class != "cdn"
    route_key = f"{request.method} {route.name}"
    if cas_route:
        counters.add_cas_route(route_key, requests=1, authorized=authorized)

    def failed(response: web.StreamResponse) -> web.StreamResponse:
        counters.add(route.route_class, errors=1)
        if cas_route:
            counters.add_cas_route(route_key, errors=1)
        return response

    if route.auth is not None:
        try:
            _authorize(state, route, request)
        except HubError as err:
            return failed(_render(route, err))
    decision, injected = await fault_gate(
        state, route.route_class, request,
        lambda status, message, headers: _render(route, HubError(status, "InjectedFault", message), headers))
    if injected is not None:
        if cas_route:
            counters.add_cas_route(route_key, errors=1)
        return injected
    ctx = RequestContext(request, state, groups, route.route_class, decision)
    try:
        response = await route.handler(ctx)
    except HubError as err:
        return failed(_render(route, err))
    except ConnectionError:  # a fault's dropped connection, or the client went away
        raise
    except Exception as exc:  # a bug must still answer like a server, not hang the client
        log.exception("internal error on %s %s", request.method, request.path)
        if ctx.prepared_response:
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("aborted a response after an internal error") from exc
        return failed(_render(route, HubError(500, "InternalError", f"Internal error: {type(exc).__name__}")))
    if isinstance(response, web.Response) and response.body is not None:
        counters.add(route.route_class, bytes_sent=len(response.body))  # type: ignore[arg-type]
    return response
