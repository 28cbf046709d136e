"""Per-server state and per-request context shared by the local hub's handlers."""

from __future__ import annotations

import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from .buckets import BucketStore, store_for
from .errors import HubError
from .faults import Counters, Decision, FaultPlan
from .limits import RateLimiter
from .mode import HubMode
from .storage import Storage
from .xet_store import XetStore

__all__ = ["HubState", "RequestContext", "Token", "error_response", "json_response", "read_json"]


@dataclass(frozen=True)
class Token:
    """A bearer token the server accepts: its user and whether it may write."""

    user: str
    role: str  # "read" | "write"


@dataclass
class HubState:
    """Everything one running hub owns."""

    storage: Storage
    tokens: dict[str, Token]
    faults: FaultPlan
    counters: Counters = field(default_factory=Counters)
    upload_secret: bytes = b""
    mode: HubMode = field(default_factory=HubMode)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    cdn_base: str = ""  # http://HOST:PORT of the signed-URL listener, once it listens (redirect mode)
    xet: XetStore | None = None  # the Xet store (xorbs, shards, reconstructions), opened with the storage
    cas_base: str = ""  # http://HOST:PORT of the CAS listener (the same "other host" as the signed URLs)

    @classmethod
    def open(cls, root: str | os.PathLike[str], tokens: dict[str, Token], faults: FaultPlan,
             mode: HubMode | None = None) -> HubState:
        storage = Storage(root)
        secret_file = Path(root) / "upload-secret"
        if not secret_file.exists():
            secret_file.write_bytes(secrets.token_bytes(32))
        mode = mode or HubMode()
        return cls(storage=storage, tokens=tokens, faults=faults, upload_secret=secret_file.read_bytes(),
                   mode=mode, xet=XetStore(storage, mode.check_sha256))

    @property
    def xet_store(self) -> XetStore:
        """The Xet store (opened with the storage; a state built by hand gets one on first use)."""
        if self.xet is None:
            self.xet = XetStore(self.storage, self.mode.check_sha256)
        return self.xet

    @property
    def buckets(self) -> BucketStore:
        """The Storage Buckets of this root (one store per Storage, shared with `XetStore.repo_holds`)."""
        return store_for(self.storage)

    @property
    def open_mode(self) -> bool:
        """With no tokens configured the hub is a single-user dev server: anonymous may write."""
        return not self.tokens

    def sign_upload(self, oid: str, size: int) -> str:
        return hmac.new(self.upload_secret, f"{oid}:{size}".encode(), "sha256").hexdigest()


# Where an app keeps its HubState (a typed key: aiohttp warns about plain string keys).
STATE = web.AppKey("state", HubState)


@dataclass
class RequestContext:
    """One request: the raw match groups, the caller's identity and the fault decision."""

    request: web.Request
    state: HubState
    groups: dict[str, str | None]
    route_class: str
    decision: Decision
    prepared_response: bool = False  # set once headers went out: errors must then abort, not answer
    extra_headers: dict[str, str] = field(default_factory=dict)  # e.g. RateLimit: every answer carries them

    @property
    def base_url(self) -> str:
        return f"{self.request.scheme}://{self.request.host}"

    @property
    def repo_type(self) -> str:
        return {"datasets": "dataset", "spaces": "space"}.get(self.groups.get("types") or "", "model")

    @property
    def repo_id(self) -> str:
        return unquote(self.groups["repo"] or "")

    @property
    def revision(self) -> str:
        rev = self.groups.get("rev")
        return unquote(rev) if rev else "main"

    @property
    def token(self) -> Token | None:
        """The caller's token; 401 for a bearer string the hub does not know."""
        header = self.request.headers.get("Authorization", "")
        if not header.lower().startswith("bearer "):
            return Token("local", "write") if self.state.open_mode else None
        value = header[7:].strip()
        found = self.state.tokens.get(value)
        if found is None:
            if self.state.open_mode:
                return Token("local", "write")
            raise HubError(401, "Unauthorized", "Invalid credentials in Authorization header.")
        return found

    def require_write(self) -> Token:
        token = self.token
        if token is None:
            raise HubError(401, "Unauthorized", "You must be authenticated with a write token to do this.")
        if token.role != "write":
            raise HubError(403, "Forbidden", "This token is read-only: use a token with the 'write' role.")
        return token

    def repo_meta(self) -> dict[str, Any]:
        """The repo's metadata if the caller may see it; private repos are invisible without a token."""
        meta = self.state.storage.repo_meta(self.repo_type, self.repo_id)
        if meta is None or (meta["private"] and self.token is None):
            raise HubError(404, "RepoNotFound", f"Repository Not Found for url: {self.request.path}.")
        return meta

    def resolve(self) -> tuple[str, str | None]:
        self.repo_meta()
        return self.state.storage.resolve(self.repo_type, self.repo_id, self.revision)


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=json.dumps(payload).encode(), status=status, headers=headers, content_type="application/json"
    )


def error_response(err: HubError, extra: dict[str, str] | None = None) -> web.Response:
    headers = {"X-Error-Code": err.code, "X-Error-Message": err.message.replace("\n", " "), **err.headers}
    headers.update(extra or {})
    return json_response({"error": err.message}, status=err.status, headers=headers)


async def read_json(ctx: RequestContext, *, allow_empty: bool = False) -> dict[str, Any]:
    """The request's JSON object body, or a 400 naming what is wrong with it."""
    raw = await ctx.request.read()
    if not raw.strip() and allow_empty:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise HubError(400, "BadRequest", f"Malformed JSON body: {exc}.") from None
    if not isinstance(body, dict):
        raise HubError(400, "BadRequest", "Expected a JSON object in the request body.")
    return body
