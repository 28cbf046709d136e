"""A tiny in-process Hub stand-in for the hub package's unit tests: two aiohttp sites on two loopback hosts
(the API/resolve host and a "CDN" host), scripted per test. Real HTTP, real clients, no subprocess."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from tests.unit.inprocess_hub import serving

DATA = bytes(range(256)) * 4096  # 1 MiB, every byte position recognisable


@dataclass
class Script:
    """What the stand-in does next; tests edit it, handlers consume it."""

    resolve_status: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # answers before the 302
    cdn_status: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    cdn_drop_after: list[int] = field(default_factory=list)  # bytes to send, then drop the connection
    api_status: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    redirect: bool = True
    expires_in: float = 3600.0
    seen: list[tuple[str, str, bool]] = field(default_factory=list)  # (host kind, path, had Authorization)


class StandIn:
    def __init__(self) -> None:
        self.script = Script()
        self.endpoint = ""
        self.cdn = ""

    def _record(self, kind: str, request: web.Request) -> None:
        self.script.seen.append((kind, request.path, "Authorization" in request.headers))

    async def resolve(self, request: web.Request) -> web.StreamResponse:
        self._record("resolve", request)
        if self.script.resolve_status:
            status, headers = self.script.resolve_status.pop(0)
            return web.Response(status=status, headers=headers)
        if not self.script.redirect:
            return _ranged(request, DATA)
        expires = int(time.time() + self.script.expires_in)
        return web.Response(status=302, headers={"Location": f"{self.cdn}/cdn/blob?Expires={expires}&Signature=s"})

    async def cdn_blob(self, request: web.Request) -> web.StreamResponse:
        self._record("cdn", request)
        if self.script.cdn_status:
            status, headers = self.script.cdn_status.pop(0)
            return web.Response(status=status, headers=headers)
        if float(request.query.get("Expires", "0")) < time.time():
            return web.Response(status=403, text="expired")
        if self.script.cdn_drop_after:
            budget = self.script.cdn_drop_after.pop(0)
            start, end = _range(request, len(DATA))
            resp = web.StreamResponse(status=206, headers={"Content-Range": f"bytes {start}-{end}/{len(DATA)}"})
            resp.content_length = end - start + 1
            await resp.prepare(request)
            await resp.write(DATA[start:start + budget])
            assert request.transport is not None
            request.transport.abort()
            return resp
        return _ranged(request, DATA)

    async def api(self, request: web.Request) -> web.Response:
        self._record("api", request)
        if self.script.api_status:
            status, headers = self.script.api_status.pop(0)
            return web.json_response({"error": "scripted"}, status=status, headers=headers)
        return web.json_response({"id": "o/r", "sha": "a" * 40, "siblings": []})


def _range(request: web.Request, size: int) -> tuple[int, int]:
    header = request.headers.get("Range", "")
    if not header:
        return 0, size - 1
    first, _, last = header.removeprefix("bytes=").partition("-")
    if not first:
        return size - int(last), size - 1
    return int(first), min(size - 1, int(last)) if last else size - 1


def _ranged(request: web.Request, data: bytes) -> web.Response:
    start, end = _range(request, len(data))
    status = 206 if "Range" in request.headers else 200
    return web.Response(status=status, body=data[start:end + 1],
                        headers={"Content-Range": f"bytes {start}-{end}/{len(data)}"})


@pytest.fixture
def standin() -> Iterator[StandIn]:
    stand = StandIn()
    main = web.Application()
    main.router.add_get("/datasets/{repo:.+}/resolve/{rev}/{path:.+}", stand.resolve)
    main.router.add_get("/api/datasets/{repo:.+}/revision/{rev}", stand.api)
    cdn = web.Application()
    cdn.router.add_get("/cdn/blob", stand.cdn_blob)
    with serving([(main, "127.0.0.1"), (cdn, "127.0.0.2")]) as (stand.endpoint, stand.cdn):
        yield stand


def fast_policy(**kw: Any) -> Any:
    from hfconnect.hub.retry import RetryPolicy

    return RetryPolicy(**{"base": 0.01, "cap": 0.05, "budget": 1.0, **kw})
