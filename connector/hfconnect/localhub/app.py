"""Routing for the local hub: match on the RAW path (the Hub's clients send `refs%2Fconvert%2Fparquet`
as one segment), count and fault-inject per route class, and render every error the Hub's way."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import api_buckets, api_discussions, api_files, api_repos, api_upload, xet_auth
from .context import STATE, HubState, RequestContext, error_response, json_response, read_json
from .errors import HubError
from .faults import Decision, rule_from_mapping
from .gate import fault_gate

__all__ = ["build_app"]

log = logging.getLogger("hfconnect.localhub")
Handler = Callable[[RequestContext], Awaitable[web.StreamResponse]]

_T = r"(?P<types>datasets|spaces|models)"
_REPO = r"(?P<repo>[^/]+(?:/[^/]+)?)"
_REV = r"(?P<rev>refs/(?:convert|pr)/[^/]+|[^/]+)"
_NUM = r"(?P<num>[1-9][0-9]{0,8})"
_B = r"(?P<ns>[^/]+)/(?P<name>[^/]+)"  # a Storage Bucket: namespace/name


@dataclass(frozen=True)
class Route:
    route_class: str
    methods: tuple[str, ...]
    pattern: re.Pattern[str]
    handler: Handler


def _r(route_class: str, methods: str, pattern: str, handler: Handler) -> Route:
    return Route(route_class, tuple(methods.split("|")), re.compile(f"^{pattern}$"), handler)


ROUTES: list[Route] = [
    # Storage Buckets (api_buckets): non-versioned Xet file maps; a batch is a bucket's write (route class commit)
    _r("api", "GET", r"/api/buckets/(?P<ns>[^/]+)", api_buckets.list_buckets),
    _r("api", "POST", rf"/api/buckets/{_B}", api_buckets.create_bucket),
    _r("api", "GET", rf"/api/buckets/{_B}", api_buckets.bucket_info),
    _r("api", "DELETE", rf"/api/buckets/{_B}", api_buckets.delete_bucket),
    _r("api", "PUT", rf"/api/buckets/{_B}/settings", api_buckets.update_settings),
    _r("api", "GET", rf"/api/buckets/{_B}/tree(?:/(?P<path>.*))?", api_buckets.tree),
    _r("api", "POST", rf"/api/buckets/{_B}/paths-info", api_buckets.paths_info),
    _r("xet-token", "GET", rf"/api/buckets/{_B}/xet-(?P<kind>read|write)-token(?:/[^/]+)?", api_buckets.xet_token),
    _r("commit", "POST", rf"/api/buckets/{_B}/batch", api_buckets.batch),
    _r("resolve", "GET|HEAD", rf"/buckets/{_B}/resolve/(?P<path>.+)", api_buckets.resolve),
    _r("api", "GET", r"/api/agent-harnesses", api_repos.agent_harnesses),
    _r("api", "GET", r"/api/whoami-v2", api_repos.whoami),
    _r("api", "POST", r"/api/validate-yaml", api_repos.validate_yaml),
    _r("api", "POST", r"/api/repos/create", api_repos.create_repo),
    _r("api", "DELETE", r"/api/repos/delete", api_repos.delete_repo),
    _r("upload", "POST", rf"/api/{_T}/{_REPO}/preupload/{_REV}", api_upload.preupload),
    _r("xet-token", "GET", rf"/api/{_T}/{_REPO}/xet-(?P<kind>read|write)-token/{_REV}", xet_auth.xet_token),
    _r("commit", "POST", rf"/api/{_T}/{_REPO}/commit/{_REV}", api_upload.commit),
    _r("api", "GET", rf"/api/{_T}/{_REPO}/revision/{_REV}", api_repos.repo_info),
    _r("api", "GET", rf"/api/{_T}/{_REPO}/tree/{_REV}(?:/(?P<path>.*))?", api_files.tree),
    _r("api", "POST", rf"/api/{_T}/{_REPO}/paths-info/{_REV}", api_files.paths_info),
    _r("api", "GET", rf"/api/{_T}/{_REPO}/refs", api_repos.list_refs),
    _r("api", "POST", rf"/api/{_T}/{_REPO}/branch/{_REV}", api_repos.create_branch),
    _r("api", "DELETE", rf"/api/{_T}/{_REPO}/branch/{_REV}", api_repos.delete_branch),
    _r("api", "POST", rf"/api/{_T}/{_REPO}/tag/{_REV}", api_repos.create_tag),
    _r("api", "DELETE", rf"/api/{_T}/{_REPO}/tag/{_REV}", api_repos.delete_tag),
    _r("api", "GET", rf"/api/{_T}/{_REPO}/commits/{_REV}", api_repos.list_commits),
    _r("api", "PUT", rf"/api/{_T}/{_REPO}/settings", api_repos.update_settings),
    _r("api", "GET", rf"/api/{_T}/{_REPO}/discussions", api_discussions.list_discussions),
    _r("api", "POST", rf"/api/{_T}/{_REPO}/discussions", api_discussions.create),
    _r("api", "GET", rf"/api/{_T}/{_REPO}/discussions/{_NUM}", api_discussions.details),
    _r("api", "POST", rf"/api/{_T}/{_REPO}/discussions/{_NUM}/comment", api_discussions.comment),
    _r("api", "POST", rf"/api/{_T}/{_REPO}/discussions/{_NUM}/title", api_discussions.rename),
    _r("api", "POST", rf"/api/{_T}/{_REPO}/discussions/{_NUM}/status", api_discussions.change_status),
    _r("api", "POST", rf"/api/{_T}/{_REPO}/discussions/{_NUM}/merge", api_discussions.merge),
    _r("api", "GET", r"/api/(?P<types>datasets)/(?P<repo>[^/]+/[^/]+)/parquet/(?P<config>[^/]+)/(?P<split>[^/]+)"
                     r"/(?P<n>\d+)\.parquet", api_repos.parquet_redirect),
    _r("api", "GET", r"/api/(?P<types>datasets)/(?P<repo>[^/]+/[^/]+)/parquet"
                     r"(?:/(?P<config>[^/]+)(?:/(?P<split>[^/]+))?)?", api_repos.parquet_listing),
    _r("api", "GET", rf"/api/{_T}/{_REPO}", api_repos.repo_info),
    _r("api", "GET", rf"/api/{_T}", api_repos.list_repos),
    _r("upload", "POST", r"/(?:(?P<types>datasets|spaces)/)?(?P<repo>[^/]+(?:/[^/]+)?)\.git/info/lfs/objects/batch",
       api_upload.lfs_batch),
    _r("upload", "PUT", r"/_lfs/upload/(?P<oid>[0-9a-f]{64})", api_upload.lfs_upload),
    _r("upload", "POST", r"/_lfs/verify/(?P<oid>[0-9a-f]{64})", api_upload.lfs_verify),
    _r("resolve", "GET|HEAD",
       rf"/(?:(?P<types>datasets|spaces)/)?{_REPO}/resolve/{_REV}/(?P<path>.+)", api_files.resolve_file),
]


def match_route(method: str, raw_path: str, *, xet: bool = True) -> tuple[Route, dict[str, str | None]] | None:
    """The route for a request; the Xet token endpoints exist only on a hub that speaks Xet."""
    path = raw_path.split("?", 1)[0]
    for route in ROUTES:
        if route.route_class == "xet-token" and not xet:
            continue
        if method in route.methods and (m := route.pattern.match(path)):
            return route, m.groupdict()
    return None


def build_app(state: HubState) -> web.Application:
    app = web.Application(client_max_size=1 << 40)
    app[STATE] = state
    app.router.add_get("/_admin/health", _health)
    app.router.add_get("/_admin/counters", _counters)
    app.router.add_post("/_admin/counters/reset", _counters_reset)
    app.router.add_get("/_admin/faults", _faults_get)
    app.router.add_put("/_admin/faults", _faults_put)
    app.router.add_get("/_admin/mode", _mode_get)
    app.router.add_post("/_admin/limits/reset", _limits_reset)
    app.router.add_route("*", "/{tail:.*}", _dispatch)
    return app


async def _dispatch(request: web.Request) -> web.StreamResponse:
    state: HubState = request.app[STATE]
    found = match_route(request.method, request.raw_path, xet=state.mode.xet)
    if found is None:
        state.counters.add_unknown_route(request.method, request.path)
        return error_response(HubError(404, "NotFound", f"No route for {request.method} {request.path}."))
    route, groups = found
    counters = state.counters
    counters.add(route.route_class, requests=1, bytes_received=request.content_length or 0,
                 authorized=int("Authorization" in request.headers))
    if not _known_token(state, request):  # the Hub answers 401 to a wrong token, even on a public repo
        counters.add(route.route_class, errors=1)
        return error_response(HubError(401, "Unauthorized", "Invalid credentials in Authorization header."))
    limit_headers: dict[str, str] = {}
    if state.mode.rate_limits:
        anonymous = not _caller_token(request)
        for admission in _admissions(state, request, route, groups):
            counters.add_bucket(admission.bucket, limited=not admission.allowed, anonymous=anonymous)
            if not admission.allowed:
                counters.add(route.route_class, errors=1)
                return error_response(HubError(429, "RateLimited", f"You have exceeded the rate limit for "
                                                f"{admission.bucket} requests ({admission.quota} per "
                                                f"{admission.window:g}s). Retry in {admission.reset_in}s."),
                                      admission.headers())
            limit_headers = admission.headers()
    decision, injected = await fault_gate(state, route.route_class, request, _render_fault)
    if injected is not None:
        return _counted(state, route.route_class, injected)
    ctx = RequestContext(request, state, groups, route.route_class, decision, extra_headers=limit_headers)
    try:
        response = await route.handler(ctx)
    except HubError as err:
        counters.add(route.route_class, errors=1)
        return _counted(state, route.route_class, error_response(err, limit_headers))
    except (ConnectionResetError, asyncio.CancelledError):
        raise
    except Exception as exc:  # a bug must still answer like a server, not hang the client
        log.exception("internal error on %s %s", request.method, request.path)
        counters.add(route.route_class, errors=1)
        if ctx.prepared_response:  # a body is under way: an error page would become wrong bytes in it
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("aborted a response after an internal error") from exc
        return error_response(HubError(500, "InternalError", f"Internal error: {type(exc).__name__}"))
    if not response.prepared:
        response.headers.update(limit_headers)
    return _counted(state, route.route_class, response)


def _render_fault(status: int, message: str, headers: dict[str, str]) -> web.StreamResponse:
    return error_response(HubError(status, "InjectedFault", message), headers)


def _known_token(state: HubState, request: web.Request) -> bool:
    header = request.headers.get("Authorization", "")
    if state.open_mode or not header.lower().startswith("bearer "):
        return True
    return header[7:].strip() in state.tokens


def _caller_token(request: web.Request) -> str:
    """The bearer token the request carries ("" for an anonymous caller)."""
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def _admissions(state: HubState, request: web.Request, route: Route, groups: dict[str, str | None]) -> list[Any]:
    """Count the request in its buckets: `/api/...` calls, `/resolve/` requests, and a commit in its repo's (a
    Storage Bucket's batch in that bucket's).
    Per token when one is given, else per client address (the Hub limits anonymous callers per IP)."""
    mode = state.mode
    token = _caller_token(request)
    key, quotas = (f"token:{token}", mode.quotas) if token else (f"ip:{request.remote}", mode.anonymous_quotas)
    path = request.raw_path.split("?", 1)[0]
    bucket = "api" if path.startswith("/api/") else "resolvers" if route.route_class == "resolve" else None
    out = []
    if bucket is not None:
        out.append(state.limiter.admit(bucket, key, quotas[bucket], mode.window))
    if route.route_class == "commit":
        target = f"repo:{groups['repo']}" if groups.get("repo") else f"bucket:{groups.get('ns')}/{groups.get('name')}"
        out.append(state.limiter.admit("commits", target, mode.commit_quota, mode.commit_window))
    return out


def _counted(state: HubState, route_class: str, response: web.StreamResponse) -> web.StreamResponse:
    if isinstance(response, web.Response) and response.body is not None:
        state.counters.add(route_class, bytes_sent=len(response.body))  # type: ignore[arg-type]
    return response


async def _health(request: web.Request) -> web.Response:
    return json_response({"ok": True})


async def _counters(request: web.Request) -> web.Response:
    return json_response(request.app[STATE].counters.snapshot())


async def _counters_reset(request: web.Request) -> web.Response:
    request.app[STATE].counters.reset()
    return json_response({"ok": True})


async def _mode_get(request: web.Request) -> web.Response:
    state: HubState = request.app[STATE]
    return json_response({**state.mode.public(), "cdn_endpoint": state.cdn_base, "cas_endpoint": state.cas_base})


async def _limits_reset(request: web.Request) -> web.Response:
    request.app[STATE].limiter.reset()
    return json_response({"ok": True})


async def _faults_get(request: web.Request) -> web.Response:
    return json_response(request.app[STATE].faults.public())


async def _faults_put(request: web.Request) -> web.Response:
    """Replace the active fault rules: `{"seed": 1, "rules": [{"route": "resolve", "action": ...}]}`."""
    state: HubState = request.app[STATE]
    ctx = RequestContext(request, state, {}, "admin", Decision())
    try:
        body = await read_json(ctx)
        rules = [rule_from_mapping(r) for r in body.get("rules", [])]
    except HubError as err:
        return error_response(err)
    except (ValueError, TypeError) as exc:
        return error_response(HubError(400, "BadRequest", f"Invalid fault rules: {exc}"))
    state.faults.replace(rules, seed=body.get("seed"))
    return json_response(state.faults.public())
