"""Xet access tokens: what the hub's token endpoints hand out and the CAS accepts.

Why a signed string and not a table: the CAS checks it without any state shared with the hub (as the Hub's
CAS checks its JWTs), and a token stays valid across a hub restart until it expires. It carries the repo, the
rights (read or write) and the expiry, HMAC-signed with the hub's secret.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import time
from dataclasses import dataclass

from aiohttp import web

from .cdn import reachable
from .context import RequestContext, json_response
from .errors import HubError

__all__ = ["XET_GRANT", "XetGrant", "issue_token", "verify_token", "xet_token"]

_PREFIX = "xet_"


@dataclass(frozen=True)
class XetGrant:
    """What a valid token allows."""

    repo: str  # "<type>/<repo id>"
    write: bool
    exp: int  # unix seconds


XET_GRANT = web.RequestKey("xet_grant", XetGrant)  # where the CAS keeps a request's verified grant for its handler


def _sign(secret: bytes, payload: str) -> str:
    return hmac.new(secret, f"xet-token:{payload}".encode(), "sha256").hexdigest()


def issue_token(secret: bytes, repo: str, write: bool, expiry_s: float) -> tuple[str, int]:
    """(token, expiry as unix seconds)."""
    exp = math.ceil(time.time() + expiry_s)  # never shorter than asked
    body = json.dumps({"repo": repo, "write": write, "exp": exp}, separators=(",", ":")).encode()
    payload = base64.urlsafe_b64encode(body).decode().rstrip("=")
    return f"{_PREFIX}{payload}.{_sign(secret, payload)}", exp


def verify_token(secret: bytes, token: str, now: float | None = None) -> XetGrant:
    """The grant a token carries; HubError 401 when it is malformed, forged or expired."""
    payload, _, signature = token.removeprefix(_PREFIX).partition(".")
    if not token.startswith(_PREFIX) or not hmac.compare_digest(signature.encode(), _sign(secret, payload).encode()):
        raise HubError(401, "Unauthorized", "Invalid Xet access token.")
    try:
        raw = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        grant = XetGrant(str(raw["repo"]), bool(raw["write"]), int(raw["exp"]))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise HubError(401, "Unauthorized", "Invalid Xet access token.") from None
    if (time.time() if now is None else now) >= grant.exp:
        raise HubError(401, "Unauthorized", "Xet access token expired: ask the hub for a new one.")
    return grant


async def xet_token(ctx: RequestContext) -> web.Response:
    """GET /api/{type}s/{repo}/xet-{read|write}-token/{rev}: the JSON body hf_xet reads and the X-Xet-* headers
    huggingface_hub reads. A write token needs a write role (401 anonymous, 403 read-only); a read token follows
    the repo's visibility."""
    write = ctx.groups.get("kind") == "write"
    if write:
        ctx.require_write()
    ctx.repo_meta()
    state = ctx.state
    token, exp = issue_token(state.upload_secret, f"{ctx.repo_type}/{ctx.repo_id}", write,
                             state.mode.xet_token_expiry)
    cas_url = reachable(state.cas_base, ctx.request)
    headers = {"X-Xet-Cas-Url": cas_url, "X-Xet-Access-Token": token, "X-Xet-Token-Expiration": str(exp)}
    return json_response({"accessToken": token, "exp": exp, "casUrl": cas_url}, headers=headers)
