"""Discussion and pull-request endpoints, shaped as huggingface_hub's `get_repo_discussions`,
`get_discussion_details`, `create_discussion`/`create_pull_request`, `comment_discussion`, `rename_discussion`,
`change_discussion_status` and `merge_pull_request` read them (`/api/{type}s/{repo}/discussions[...]`)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from .api_repos import iso
from .context import RequestContext, json_response, read_json
from .discussions import DEFAULT_PAGE, Details, Discussions
from .errors import HubError

__all__ = ["change_status", "comment", "create", "details", "list_discussions", "merge", "rename"]

_TYPES = {"all": None, "discussion": False, "pull_request": True}
_STATUSES = {"all": None, "open": ("open", "draft"), "closed": ("closed", "merged")}


def _store(ctx: RequestContext) -> Discussions:
    return Discussions(ctx.state.storage)


def _num(ctx: RequestContext) -> int:
    return int(ctx.groups["num"] or 0)


def _url(ctx: RequestContext, num: int) -> str:
    prefix = {"dataset": "datasets/", "space": "spaces/"}.get(ctx.repo_type, "")
    return f"{ctx.base_url}/{prefix}{ctx.repo_id}/discussions/{num}"


def render_event(event: dict[str, Any]) -> dict[str, Any]:
    """A stored event as the Hub sends it (`deserialize_event` reads type, createdAt, author.name, data)."""
    data = dict(event["data"])
    if event["type"] == "comment":
        raw = data.pop("raw")
        data["latest"] = {"raw": raw, "html": raw, "updatedAt": iso(event["createdAt"]),
                          "author": {"name": event["author"]}}
        data["history"] = []
        data["numEdits"] = 0
    return {"id": event["id"], "type": event["type"], "createdAt": iso(event["createdAt"]),
            "author": {"name": event["author"], "type": "user"}, "data": data}


def _summary(ctx: RequestContext, record: dict[str, Any]) -> dict[str, Any]:
    return {"num": record["num"], "title": record["title"], "status": record["status"],
            "isPullRequest": record["isPullRequest"], "createdAt": iso(record["createdAt"]),
            "author": {"name": record["author"], "type": "user"},
            "repo": {"name": ctx.repo_id, "type": ctx.repo_type}, "pinned": False, "locked": False,
            "numComments": sum(e["type"] == "comment" for e in record["events"]), "topReactions": []}


def _details_json(ctx: RequestContext, found: Details) -> dict[str, Any]:
    record = found.record
    events = [*record["events"]]
    out = _summary(ctx, record)
    if record["isPullRequest"]:
        events += [{"id": c.id[:24], "type": "commit", "createdAt": c.date, "author": c.author,
                    "data": {"subject": c.title, "oid": c.id}} for c in found.commits]
        changes: dict[str, Any] = {"base": f"refs/heads/{record['base']}"}
        if record.get("mergeCommitId"):
            changes["mergeCommitId"] = record["mergeCommitId"]
        out.update(changes=changes, filesWithConflicts=found.conflicts, diff=_diff(ctx, found),
                   diffUrl=f"{_url(ctx, record['num'])}/files")
    out["events"] = [render_event(e) for e in sorted(events, key=lambda e: e["createdAt"])]
    return out


def _diff(ctx: RequestContext, found: Details) -> str:
    """A git-style summary of what the PR changes against the commit it started from (headers only)."""
    if found.head is None:
        return ""
    storage = ctx.state.storage
    old, new = storage.commit(found.record["baseCommit"]).files, storage.commit(found.head).files
    lines = []
    for path in sorted(old.keys() | new.keys()):
        a, b = old.get(path), new.get(path)
        if a == b:
            continue
        lines.append(f"diff --git a/{path} b/{path}")
        if a is None:
            lines.append("new file mode 100644")
        elif b is None:
            lines.append("deleted file mode 100644")
        lines.append(f"index {a.oid[:7] if a else '0000000'}..{b.oid[:7] if b else '0000000'}")
    return "\n".join(lines) + ("\n" if lines else "")


async def list_discussions(ctx: RequestContext) -> web.Response:
    ctx.repo_meta()
    query = ctx.request.query
    kind = query.get("type", "all")
    status = query.get("status", "all")
    if kind not in _TYPES or status not in _STATUSES:
        raise HubError(400, "BadRequest", "type must be all|discussion|pull_request, status all|open|closed.")
    try:
        page = max(int(query.get("p", "0")), 0)
    except ValueError:
        raise HubError(400, "BadRequest", "p must be a page number.") from None
    records = await asyncio.to_thread(_store(ctx).list, ctx.repo_type, ctx.repo_id)
    author = query.get("author")
    is_pr, statuses = _TYPES[kind], _STATUSES[status]
    picked = [r for r in records
              if (is_pr is None or r["isPullRequest"] == is_pr)
              and (statuses is None or r["status"] in statuses)
              and (not author or r["author"] == author)]
    start = page * DEFAULT_PAGE
    return json_response({"discussions": [_summary(ctx, r) for r in picked[start:start + DEFAULT_PAGE]],
                          "count": len(picked), "start": start,
                          "numClosedDiscussions": sum(r["status"] in ("closed", "merged") for r in records)})


async def details(ctx: RequestContext) -> web.Response:
    ctx.repo_meta()
    found = await asyncio.to_thread(_store(ctx).details, ctx.repo_type, ctx.repo_id, _num(ctx))
    return json_response(_details_json(ctx, found))


async def create(ctx: RequestContext) -> web.Response:
    token = ctx.require_write()
    ctx.repo_meta()
    body = await read_json(ctx)
    pull_request = bool(body.get("pullRequest"))
    record = await asyncio.to_thread(
        _store(ctx).create, ctx.repo_type, ctx.repo_id, title=body.get("title"),
        description=str(body.get("description") or ""), pull_request=pull_request, author=token.user)
    out: dict[str, Any] = {"num": record["num"], "url": _url(ctx, record["num"])}
    if pull_request:
        out["pullRequest"] = {"ref": f"refs/pr/{record['num']}"}
    return json_response(out)


async def comment(ctx: RequestContext) -> web.Response:
    token = ctx.require_write()
    ctx.repo_meta()
    body = await read_json(ctx)
    event = await asyncio.to_thread(_store(ctx).comment, ctx.repo_type, ctx.repo_id, _num(ctx),
                                    body.get("comment"), token.user)
    return json_response({"newMessage": render_event(event)})


async def rename(ctx: RequestContext) -> web.Response:
    token = ctx.require_write()
    ctx.repo_meta()
    body = await read_json(ctx)
    event = await asyncio.to_thread(_store(ctx).rename, ctx.repo_type, ctx.repo_id, _num(ctx),
                                    body.get("title"), token.user)
    return json_response({"newTitle": render_event(event)})


async def change_status(ctx: RequestContext) -> web.Response:
    token = ctx.require_write()
    ctx.repo_meta()
    body = await read_json(ctx)
    event = await asyncio.to_thread(_store(ctx).set_status, ctx.repo_type, ctx.repo_id, _num(ctx),
                                    body.get("status"), token.user, _text(body.get("comment")))
    return json_response({"newStatus": render_event(event)})


async def merge(ctx: RequestContext) -> web.Response:
    """huggingface_hub sends `{"comment": ...}` or no body at all. A `reset_after` fault merges, then drops the
    connection: a merge whose answer is lost, as a commit's is."""
    token = ctx.require_write()
    ctx.repo_meta()
    body = await read_json(ctx, allow_empty=True) if ctx.request.can_read_body else {}
    sha = await asyncio.to_thread(_store(ctx).merge, ctx.repo_type, ctx.repo_id, _num(ctx), token.user,
                                  _text(body.get("comment")))
    ctx.state.counters.add_commit()
    if ctx.decision.reset_after:  # merged, but the client never hears it
        ctx.state.counters.add(ctx.route_class, faults=1)
        if ctx.request.transport is not None:
            ctx.request.transport.abort()
        raise ConnectionResetError("fault injection: reset after merge")
    return json_response({"mergeCommitId": sha})


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
