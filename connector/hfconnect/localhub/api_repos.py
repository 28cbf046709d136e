"""Repository, revision and ref endpoints of the local hub (`/api/...` other than files and commits)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from .context import RequestContext, json_response, read_json
from .errors import HubError
from .storage import REPO_TYPES, Commit, lfs_pointer, ref_full_name

__all__ = [
    "agent_harnesses", "create_branch", "create_repo", "create_tag", "delete_branch", "delete_repo",
    "delete_tag", "list_commits", "list_refs", "list_repos", "parquet_listing", "parquet_redirect",
    "repo_info", "update_settings", "validate_yaml", "whoami",
]

COMMITS_PAGE = 50
_PARQUET_PATH = re.compile(r"^(?P<config>[^/]+)/(?P<split>[^/]+)/(?P<n>\d+)\.parquet$")


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


async def agent_harnesses(ctx: RequestContext) -> web.Response:
    return json_response({"standardEnvVars": [], "harnesses": {}})


async def whoami(ctx: RequestContext) -> web.Response:
    token = ctx.token
    if token is None:
        raise HubError(401, "Unauthorized", "Invalid credentials in Authorization header.")
    return json_response({
        "type": "user", "id": token.user, "name": token.user, "fullname": token.user, "email": None,
        "emailVerified": False, "isPro": False, "orgs": [],
        "auth": {"type": "access_token", "accessToken": {"displayName": f"{token.user}-{token.role}",
                                                          "role": token.role}},
    })


async def validate_yaml(ctx: RequestContext) -> web.Response:
    await read_json(ctx)
    return json_response({"errors": [], "warnings": []})


async def create_repo(ctx: RequestContext) -> web.Response:
    token = ctx.require_write()
    body = await read_json(ctx)
    repo_type = body.get("type") or "model"
    if repo_type not in REPO_TYPES:
        raise HubError(400, "BadRequest", f"Invalid repo type {repo_type!r}: use one of {REPO_TYPES}.")
    name, org = body.get("name"), body.get("organization")
    if not isinstance(name, str) or not name:
        raise HubError(400, "BadRequest", "Missing repo 'name'.")
    repo_id = f"{org or token.user}/{name}"
    private = bool(body.get("private")) or body.get("visibility") == "private"
    created = await asyncio.to_thread(
        ctx.state.storage.create_repo, repo_type, repo_id, private=private, author=token.user
    )
    url = f"{ctx.base_url}/{_url_prefix(repo_type)}{repo_id}"
    if not created:
        return json_response({"error": "You already created this repo", "url": url}, status=409,
                             headers={"X-Error-Message": "You already created this repo"})
    return json_response({"url": url, "name": repo_id, "id": repo_id})


async def delete_repo(ctx: RequestContext) -> web.Response:
    token = ctx.require_write()
    body = await read_json(ctx)
    repo_type = body.get("type") or "model"
    repo_id = f"{body.get('organization') or token.user}/{body.get('name')}"
    if ctx.state.storage.repo_meta(repo_type, repo_id) is None:
        raise HubError(404, "RepoNotFound", f"Repository {repo_id} not found.")
    await asyncio.to_thread(ctx.state.storage.delete_repo, repo_type, repo_id)
    return web.Response(status=200)


async def update_settings(ctx: RequestContext) -> web.Response:
    ctx.require_write()
    ctx.repo_meta()
    body = await read_json(ctx)
    private = body.get("private")
    if "visibility" in body:
        private = body["visibility"] == "private"
    if private is not None:
        await asyncio.to_thread(ctx.state.storage.set_private, ctx.repo_type, ctx.repo_id, bool(private))
    return json_response({})


async def list_repos(ctx: RequestContext) -> web.Response:
    repo_type = ctx.repo_type
    storage = ctx.state.storage
    query = ctx.request.query
    author, search = query.get("author"), query.get("search")
    can_see_private = ctx.token is not None
    out = []
    for repo_id in storage.list_repos(repo_type):
        meta = storage.repo_meta(repo_type, repo_id)
        if meta is None or (meta["private"] and not can_see_private):
            continue
        if author and not repo_id.startswith(f"{author}/"):
            continue
        if search and search.lower() not in repo_id.lower():
            continue
        out.append({"id": repo_id, "_id": repo_id, "private": meta["private"], "author": repo_id.split("/")[0]})
    return json_response(out[: int(query.get("limit", "1000"))])


async def repo_info(ctx: RequestContext) -> web.Response:
    meta = ctx.repo_meta()
    sha, _ = ctx.state.storage.resolve(ctx.repo_type, ctx.repo_id, ctx.revision)
    commit = ctx.state.storage.commit(sha)
    blobs = ctx.request.query.get("blobs", "").lower() in ("1", "true")
    siblings = []
    for path in commit.sorted_paths:
        sib: dict[str, Any] = {"rfilename": path}
        if blobs:
            entry = commit.files[path]
            sib.update(size=entry.size, blobId=entry.oid)
            if entry.lfs:
                sib["lfs"] = {"sha256": entry.sha256, "size": entry.size,
                              "pointerSize": len(lfs_pointer(entry.sha256, entry.size))}
        siblings.append(sib)
    author = ctx.repo_id.split("/")[0] if "/" in ctx.repo_id else None
    info: dict[str, Any] = {
        "_id": ctx.repo_id, "id": ctx.repo_id, "author": author, "sha": sha, "private": meta["private"],
        "gated": False, "disabled": False, "downloads": 0, "likes": 0, "tags": [],
        "createdAt": iso(meta["createdAt"]), "lastModified": iso(commit.date), "siblings": siblings,
    }
    if ctx.repo_type == "model":
        info["modelId"] = ctx.repo_id
    return json_response(info)


async def list_refs(ctx: RequestContext) -> web.Response:
    ctx.repo_meta()
    refs = ctx.state.storage.refs(ctx.repo_type, ctx.repo_id)

    def rows(kind: str) -> list[dict[str, str]]:
        return [
            {"name": name if kind != "prs" else f"refs/pr/{name}", "ref": ref_full_name(kind, name),
             "targetCommit": sha}
            for name, sha in sorted(refs[kind].items())
        ]

    out: dict[str, Any] = {"branches": rows("branches"), "converts": rows("converts"), "tags": rows("tags")}
    if ctx.request.query.get("include_prs", "").lower() in ("1", "true"):
        out["pullRequests"] = rows("prs")
    return json_response(out)


async def create_branch(ctx: RequestContext) -> web.Response:
    ctx.require_write()
    ctx.repo_meta()
    body = await read_json(ctx, allow_empty=True)
    start = body.get("startingPoint") or "main"
    await asyncio.to_thread(ctx.state.storage.create_ref, ctx.repo_type, ctx.repo_id, "branches",
                            ctx.revision, start)
    return json_response({})


async def delete_branch(ctx: RequestContext) -> web.Response:
    ctx.require_write()
    ctx.repo_meta()
    await asyncio.to_thread(ctx.state.storage.delete_ref, ctx.repo_type, ctx.repo_id, "branches", ctx.revision)
    return json_response({})


async def create_tag(ctx: RequestContext) -> web.Response:
    ctx.require_write()
    ctx.repo_meta()
    body = await read_json(ctx)
    tag = body.get("tag")
    if not isinstance(tag, str) or not tag:
        raise HubError(400, "BadRequest", "Missing 'tag' in the request body.")
    await asyncio.to_thread(ctx.state.storage.create_ref, ctx.repo_type, ctx.repo_id, "tags", tag, ctx.revision)
    return json_response({})


async def delete_tag(ctx: RequestContext) -> web.Response:
    ctx.require_write()
    ctx.repo_meta()
    await asyncio.to_thread(ctx.state.storage.delete_ref, ctx.repo_type, ctx.repo_id, "tags", ctx.revision)
    return json_response({})


async def list_commits(ctx: RequestContext) -> web.Response:
    sha, _ = ctx.resolve()
    query = ctx.request.query
    page = int(query.get("p", "0"))
    limit = min(int(query.get("limit", COMMITS_PAGE)), 1000)
    history = list(ctx.state.storage.history(sha))
    chunk = history[page * limit: (page + 1) * limit]
    headers = {}
    if (page + 1) * limit < len(history):
        params = {**query, "p": str(page + 1)}
        headers["Link"] = f'<{ctx.base_url}{ctx.request.path}?{urlencode(params)}>; rel="next"'
    headers["X-Total-Count"] = str(len(history))
    return json_response([_commit_json(c) for c in chunk], headers=headers)


def _commit_json(c: Commit) -> dict[str, Any]:
    return {"id": c.id, "title": c.title, "message": c.message, "date": iso(c.date),
            "authors": [{"user": c.author}], "parents": c.parents}


async def parquet_listing(ctx: RequestContext) -> web.Response:
    """`/api/datasets/{repo}/parquet[/{config}[/{split}]]` from the refs/convert/parquet branch."""
    ctx.repo_meta()
    refs = ctx.state.storage.refs(ctx.repo_type, ctx.repo_id)
    sha = refs["converts"].get("parquet")
    if sha is None:
        raise HubError(404, "EntryNotFound", f"{ctx.repo_id} has no refs/convert/parquet branch.")
    listing: dict[str, dict[str, list[str]]] = {}
    for path in ctx.state.storage.commit(sha).sorted_paths:
        m = _PARQUET_PATH.match(path)
        if not m:
            continue
        split = m["split"].removeprefix("partial-")
        url = f"{ctx.base_url}/api/datasets/{ctx.repo_id}/parquet/{m['config']}/{split}/{int(m['n'])}.parquet"
        listing.setdefault(m["config"], {}).setdefault(split, []).append(url)
    config, split = ctx.groups.get("config"), ctx.groups.get("split")
    if config is None:
        return json_response(listing)
    if config not in listing:
        raise HubError(404, "EntryNotFound", f"Config {config!r} not found; configs: {sorted(listing)}.")
    if split is None:
        return json_response(listing[config])
    if split not in listing[config]:
        raise HubError(404, "EntryNotFound", f"Split {split!r} not found; splits: {sorted(listing[config])}.")
    return json_response(listing[config][split])


async def parquet_redirect(ctx: RequestContext) -> web.Response:
    ctx.repo_meta()
    refs = ctx.state.storage.refs(ctx.repo_type, ctx.repo_id)
    sha = refs["converts"].get("parquet")
    files = ctx.state.storage.commit(sha).files if sha else {}
    config, split, n = ctx.groups["config"], ctx.groups["split"], int(ctx.groups["n"] or 0)
    for candidate in (f"{config}/{split}/{n:04d}.parquet", f"{config}/partial-{split}/{n:04d}.parquet"):
        if candidate in files:
            rev = quote("refs/convert/parquet", safe="")
            location = f"{ctx.base_url}/datasets/{ctx.repo_id}/resolve/{rev}/{candidate}"
            return web.Response(status=302, headers={"Location": location})
    raise HubError(404, "EntryNotFound", f"No parquet file {config}/{split}/{n}.")


def _url_prefix(repo_type: str) -> str:
    return {"dataset": "datasets/", "space": "spaces/"}.get(repo_type, "")
