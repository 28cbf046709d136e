"""Discussions and pull requests of the local hub, kept as huggingface.co keeps them, and the merge of a PR.

What the Hub does (hub-docs `repositories-pull-requests-discussions.md`, `storage-limits.md`; huggingface_hub's
own tests against the Hub): discussions and PRs share one number sequence per repo; a PR is the ref
`refs/pr/N`, made at the target branch's head when the PR opens; a PR opened with `create_discussion` is a
draft and cannot be merged until published (status "open"); a merge SQUASHES the PR's changes into ONE new
commit on the target branch, titled "<PR title> (#N)", whose parent is the target's head and whose message
lists the PR's commits and co-authors; `refs/pr/N` stays after the merge (it can be deleted by hand), and the
PR's status becomes "merged" with `changes.mergeCommitId`. A file changed on both sides since the PR was opened
is a conflict: the Hub refuses the merge and lists the files.

Durability: a record is one JSON file per discussion (`repos/.../discussions/N.json`), written through temp
file + fsync + rename. The merge moves the target branch AND notes the merge (`refs["merges"][N]`) in ONE
atomic write of refs.json under the repo lock, so a crash leaves either no merge or a complete one; a record
that has not caught up yet is settled from refs.json when read.
"""

from __future__ import annotations

import builtins
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import HubError
from .jsonbytes import dumps as _dumps
from .records import Commit, FileEntry

if TYPE_CHECKING:
    from .storage import Storage

__all__ = ["DEFAULT_PAGE", "Discussions", "conflicting_files", "squash_message"]

DEFAULT_PAGE = 50  # discussions per listing page
TITLE_MIN, TITLE_MAX = 3, 200  # the Hub's bounds on a title (huggingface_hub's create_discussion docstring)
STATUSES = ("draft", "open", "closed", "merged")


def _event_id() -> str:
    """Event ids on the Hub are 24 hex characters (Mongo object ids)."""
    return secrets.token_hex(12)


def _event(kind: str, author: str, data: dict[str, Any], when: float | None = None) -> dict[str, Any]:
    return {"id": _event_id(), "type": kind, "createdAt": time.time() if when is None else when,
            "author": author, "data": data}


def _comment(author: str, text: str) -> dict[str, Any]:
    return _event("comment", author, {"edited": False, "hidden": False, "raw": text})


def _check_title(title: Any) -> str:
    if not isinstance(title, str) or not TITLE_MIN <= len(title.strip()) <= TITLE_MAX:
        raise HubError(400, "BadRequest", f"The title must be {TITLE_MIN} to {TITLE_MAX} characters long.")
    return title.strip()


def _changes(old: dict[str, FileEntry], new: dict[str, FileEntry]) -> dict[str, FileEntry | None]:
    """path -> its entry in `new` (None: deleted) for every path that differs between two trees."""
    out: dict[str, FileEntry | None] = {p: e for p, e in new.items() if old.get(p) != e}
    out.update({p: None for p in old if p not in new})
    return out


def conflicting_files(base: dict[str, FileEntry], ours: dict[str, FileEntry],
                      theirs: dict[str, FileEntry]) -> list[str]:
    """Paths both sides changed since `base`, to different results (the same change on both sides merges)."""
    mine, other = _changes(base, ours), _changes(base, theirs)
    return sorted(p for p in mine.keys() & other.keys() if mine[p] != other[p])


def squash_message(commits: list[Commit], merger: str) -> str:
    """The body of the Hub's squash commit: each PR commit "- subject (oid)", then its other authors."""
    lines = [f"- {c.title} ({c.id})" for c in commits]
    co_authors = sorted({c.author for c in commits} - {merger})
    trailer = "".join(f"\nCo-authored-by: {a} <{a}@users.noreply.huggingface.co>" for a in co_authors)
    return "\n" + "\n".join(lines) + ("\n\n" + trailer if trailer else "")


@dataclass(frozen=True)
class Details:
    """One discussion as the API renders it: the settled record plus what is derived from refs."""

    record: dict[str, Any]
    commits: list[Commit]  # the PR's own commits, oldest first (empty for a discussion)
    conflicts: list[str]  # files conflicting with the target's head now (open/draft PRs only)
    head: str | None  # refs/pr/N


class Discussions:
    """Discussion records of one hub root; every change runs under the repo's lock (the one commits take)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    # ---- records -------------------------------------------------------------------------------
    def _dir(self, repo_type: str, repo_id: str) -> Path:
        return self.storage.repo_dir(repo_type, repo_id) / "discussions"

    def _lock(self, repo_type: str, repo_id: str) -> Any:
        return self.storage.lock(f"{repo_type}/{repo_id}")

    def _load(self, repo_type: str, repo_id: str, num: int, refs: dict[str, Any]) -> dict[str, Any]:
        """The settled record of discussion `num`; 404 if there is none."""
        if not 0 < num <= refs.get("prCount", 0):  # a record past the counter is a crash's leftover
            raise HubError(404, "DiscussionNotFound", f"Discussion #{num} not found.")
        try:
            record = json.loads((self._dir(repo_type, repo_id) / f"{num}.json").read_bytes())
        except FileNotFoundError:
            if str(num) not in refs["prs"]:
                raise HubError(404, "DiscussionNotFound", f"Discussion #{num} not found.") from None
            record = self._record_for_bare_ref(repo_type, repo_id, num, refs["prs"][str(num)])
        return self._settle(record, refs)

    def _record_for_bare_ref(self, repo_type: str, repo_id: str, num: int, sha: str) -> dict[str, Any]:
        """A PR ref with no record (a hub root written before discussions existed): an open PR on main."""
        commit = self.storage.commit(sha)
        base = commit.parents[0] if commit.parents else sha
        return {"num": num, "title": commit.title, "isPullRequest": True, "status": "open",
                "author": commit.author, "createdAt": commit.date, "base": "main", "baseCommit": base,
                "events": [_comment(commit.author, commit.message or "")]}

    def _settle(self, record: dict[str, Any], refs: dict[str, Any]) -> dict[str, Any]:
        """refs.json is the truth about a merge: a record the crash left behind catches up here."""
        merged = refs.get("merges", {}).get(str(record["num"]))
        if merged and record["status"] != "merged":
            record = {**record, "status": "merged", "mergeCommitId": merged,
                      "events": [*record["events"], _event("status-change", record["author"], {"status": "merged"},
                                                           self.storage.commit(merged).date)]}
        return record

    def _save(self, repo_type: str, repo_id: str, record: dict[str, Any]) -> None:
        self.storage.atomic_write(self._dir(repo_type, repo_id) / f"{record['num']}.json", _dumps(record))

    def _refs_file(self, repo_type: str, repo_id: str) -> Path:
        return self.storage.repo_dir(repo_type, repo_id) / "refs.json"

    # ---- reads ---------------------------------------------------------------------------------
    def details(self, repo_type: str, repo_id: str, num: int) -> Details:
        refs = self.storage.refs(repo_type, repo_id)
        record = self._load(repo_type, repo_id, num, refs)
        if not record["isPullRequest"]:
            return Details(record, [], [], None)
        head = refs["prs"].get(str(num))
        commits = self._pr_commits(head, record["baseCommit"]) if head else []
        conflicts: list[str] = []
        target = refs["branches"].get(record["base"])
        if head and target and record["status"] in ("draft", "open"):
            base = self._merge_base(head, target, record["baseCommit"])
            conflicts = conflicting_files(self.storage.commit(base).files, self.storage.commit(head).files,
                                          self.storage.commit(target).files)
        return Details(record, commits, conflicts, head)

    def list(self, repo_type: str, repo_id: str) -> list[dict[str, Any]]:
        """Every settled record, newest first (as the Hub lists them)."""
        refs = self.storage.refs(repo_type, repo_id)
        out = []
        for num in range(refs.get("prCount", 0), 0, -1):
            try:
                out.append(self._load(repo_type, repo_id, num, refs))
            except HubError:
                continue  # a number a crash consumed before its record landed
        return out

    def _pr_commits(self, head: str, stop: str) -> builtins.list[Commit]:
        """The PR's commits: first-parent history of its head down to (not including) `stop`, oldest first."""
        out = []
        for commit in self.storage.history(head):
            if commit.id == stop:
                break
            out.append(commit)
        return out[::-1]

    def _merge_base(self, head: str, target: str, fallback: str) -> str:
        """The newest commit of the PR's history that the target's first-parent history holds."""
        on_target = {c.id for c in self.storage.history(target)}
        return next((c.id for c in self.storage.history(head) if c.id in on_target), fallback)

    # ---- writes --------------------------------------------------------------------------------
    def create(self, repo_type: str, repo_id: str, *, title: object, description: str, pull_request: bool,
               author: str) -> dict[str, Any]:
        """Open a discussion, or a draft PR whose ref starts at main's head (`title` as the client sent it)."""
        clean = _check_title(title)
        with self._lock(repo_type, repo_id):
            refs = self.storage.refs(repo_type, repo_id)
            num = refs.get("prCount", 0) + 1
            record: dict[str, Any] = {"num": num, "title": clean, "isPullRequest": pull_request,
                                      "status": "draft" if pull_request else "open", "author": author,
                                      "createdAt": time.time(), "events": [_comment(author, description)]}
            if pull_request:
                head = refs["branches"]["main"]
                record.update(base="main", baseCommit=head)
                refs["prs"][str(num)] = head
            self._save(repo_type, repo_id, record)  # record first: the number is taken once refs.json lands
            refs["prCount"] = num
            self.storage.atomic_write(self._refs_file(repo_type, repo_id), _dumps(refs))
            return record

    def record_commit_pr(self, repo_type: str, repo_id: str, num: int, *, base: str, base_commit: str,
                         title: str, description: str, author: str) -> None:
        """The record of a PR a commit opened (`create_pr=1`): open, not draft. The caller holds the repo lock
        and writes refs.json after this."""
        self._save(repo_type, repo_id, {
            "num": num, "title": title, "isPullRequest": True, "status": "open", "author": author,
            "createdAt": time.time(), "base": base, "baseCommit": base_commit,
            "events": [_comment(author, description)]})

    def _mutate(self, repo_type: str, repo_id: str, num: int) -> tuple[dict[str, Any], dict[str, Any]]:
        refs = self.storage.refs(repo_type, repo_id)
        return self._load(repo_type, repo_id, num, refs), refs

    def comment(self, repo_type: str, repo_id: str, num: int, text: Any, author: str) -> dict[str, Any]:
        if not isinstance(text, str) or not text.strip():
            raise HubError(400, "BadRequest", "The comment must not be empty.")
        with self._lock(repo_type, repo_id):
            record, _ = self._mutate(repo_type, repo_id, num)
            event = _comment(author, text)
            self._save(repo_type, repo_id, {**record, "events": [*record["events"], event]})
            return event

    def rename(self, repo_type: str, repo_id: str, num: int, title: Any, author: str) -> dict[str, Any]:
        clean = _check_title(title)
        with self._lock(repo_type, repo_id):
            record, _ = self._mutate(repo_type, repo_id, num)
            event = _event("title-change", author, {"from": record["title"], "to": clean})
            self._save(repo_type, repo_id, {**record, "title": clean, "events": [*record["events"], event]})
            return event

    def set_status(self, repo_type: str, repo_id: str, num: int, status: Any, author: str,
                   comment: str | None = None) -> dict[str, Any]:
        """Close, reopen, or publish a draft PR ("open"); a merged PR stays merged and a PR never goes back to
        draft (hub-docs: "once published you cannot go back to draft mode")."""
        if status not in ("open", "closed"):
            raise HubError(400, "BadRequest", f"Invalid status {status!r}: use 'open' or 'closed'.")
        with self._lock(repo_type, repo_id):
            record, _ = self._mutate(repo_type, repo_id, num)
            if record["status"] == "merged":
                raise HubError(400, "BadRequest", f"Pull request #{num} is merged: its status cannot change.")
            if record["status"] == status:
                raise HubError(400, "BadRequest", f"Discussion #{num} is already {status}.")
            events = [*record["events"]]
            if comment and comment.strip():
                events.append(_comment(author, comment.strip()))
            event = _event("status-change", author, {"status": status})
            self._save(repo_type, repo_id, {**record, "status": status, "events": [*events, event]})
            return event

    def merge(self, repo_type: str, repo_id: str, num: int, author: str, comment: str | None = None) -> str:
        """Squash PR `num` onto its target branch in one commit; the commit's sha. Refused (400) unless the PR
        is open, and (409) when a file changed on both sides."""
        with self._lock(repo_type, repo_id):
            record, refs = self._mutate(repo_type, repo_id, num)
            if not record["isPullRequest"]:
                raise HubError(400, "BadRequest", f"Discussion #{num} is not a pull request.")
            if record["status"] != "open":
                state = {"draft": "a draft: publish it first (status 'open')", "closed": "closed",
                         "merged": "already merged"}[record["status"]]
                raise HubError(400, "BadRequest", f"Cannot merge pull request #{num}: it is {state}.")
            head = refs["prs"].get(str(num))
            target = refs["branches"].get(record["base"])
            if head is None or target is None:
                missing = f"refs/pr/{num}" if head is None else f"branch {record['base']}"
                raise HubError(400, "BadRequest", f"Cannot merge pull request #{num}: {missing} no longer exists.")
            base = self._merge_base(head, target, record["baseCommit"])
            base_files = self.storage.commit(base).files
            pr_files = self.storage.commit(head).files
            target_files = self.storage.commit(target).files
            conflicts = conflicting_files(base_files, pr_files, target_files)
            if conflicts:
                raise HubError(409, "Conflict", f"Cannot merge pull request #{num}: this branch has merge conflicts "
                                                f"in the following files: {', '.join(conflicts)}",
                               headers={"X-Files-With-Conflicts": json.dumps(conflicts)})
            files = dict(target_files)
            for path, entry in _changes(base_files, pr_files).items():
                if entry is None:
                    files.pop(path, None)
                else:
                    files[path] = entry
            squash = self.storage.write_squash_commit(
                repo_type, repo_id, parents=[target], title=f"{record['title']} (#{num})",
                message=squash_message(self._pr_commits(head, base), author), author=author, files=files)
            refs["branches"][record["base"]] = squash.id
            refs.setdefault("merges", {})[str(num)] = squash.id
            self.storage.atomic_write(self._refs_file(repo_type, repo_id), _dumps(refs))  # the merge point
            events = [*record["events"]]
            if comment and comment.strip():
                events.append(_comment(author, comment.strip()))
            events.append(_event("status-change", author, {"status": "merged"}))
            self._save(repo_type, repo_id, {**record, "status": "merged", "mergeCommitId": squash.id,
                                            "events": events})
            return squash.id

