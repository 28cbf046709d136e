"""Discussions and pull requests on the hub's storage, in process: one number sequence shared with `create_pr`
commits, draft/open/closed/merged transitions, the squash merge the Hub makes (one commit on the target, titled
"<title> (#N)", parent the target's head, refs/pr/N kept), conflicts refused, and a merge that is atomic across a
crash (refs.json is the truth, a stale record settles from it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hfconnect.localhub.discussions import Discussions, conflicting_files, squash_message
from hfconnect.localhub.errors import HubError
from hfconnect.localhub.records import FileEntry
from hfconnect.localhub.storage import Operation, Storage

REPO = ("dataset", "a/b")


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    st = Storage(tmp_path)
    assert st.create_repo(*REPO, private=False, author="u")
    return st


@pytest.fixture
def disc(storage: Storage) -> Discussions:
    return Discussions(storage)


def _put(st: Storage, revision: str, files: dict[str, bytes], title: str = "t", **kwargs):
    ops = [Operation("file", p, content=c) for p, c in files.items()]
    return st.apply_commit(*REPO, revision, ops, title=title, message="", author="u", **kwargs)


def _head(st: Storage, revision: str = "main") -> str:
    return st.resolve(*REPO, revision)[0]


def _open_pr(disc: Discussions, title: str = "Job 7") -> int:
    num = disc.create(*REPO, title=title, description="d", pull_request=True, author="u")["num"]
    disc.set_status(*REPO, num, "open", "u")
    return num


def test_a_pr_is_a_draft_ref_at_mains_head_and_shares_numbers_with_discussions(storage, disc) -> None:
    main = _head(storage)
    pr = disc.create(*REPO, title="  Job  ", description="desc", pull_request=True, author="u")
    talk = disc.create(*REPO, title="Question", description="", pull_request=False, author="v")
    _, by_commit = _put(storage, "main", {"x.txt": b"x"}, create_pr=True)
    assert (pr["num"], talk["num"], by_commit) == (1, 2, 3)
    assert (pr["title"], pr["status"], talk["status"]) == ("Job", "draft", "open")
    assert _head(storage, "refs/pr/1") == main
    assert disc.details(*REPO, 3).record["status"] == "open"  # a PR a commit opened is not a draft
    assert [r["num"] for r in disc.list(*REPO)] == [3, 2, 1]  # newest first


@pytest.mark.parametrize("title", ["ab", "   ab  ", "x" * 201, None])
def test_titles_outside_3_to_200_characters_are_refused(disc, title) -> None:
    with pytest.raises(HubError) as exc:
        disc.create(*REPO, title=title, description="", pull_request=True, author="u")
    assert exc.value.status == 400


def test_squash_merge_is_one_commit_on_the_target_titled_with_the_pr_number(storage, disc) -> None:
    num = _open_pr(disc)
    before = _head(storage)
    for i in range(3):
        _put(storage, f"refs/pr/{num}", {f"part-{i}.parquet": b"p%d" % i}, title=f"part {i}")
    pr_head = _head(storage, f"refs/pr/{num}")
    sha = disc.merge(*REPO, num, "u", comment="ship it")
    merged = storage.commit(sha)
    assert _head(storage) == sha and merged.parents == [before]
    assert merged.title == "Job 7 (#1)"
    assert merged.message.splitlines()[1:] == [f"- part {i} ({c.id})" for i, c in
                                               enumerate(reversed(list(storage.history(pr_head))[:3]))]
    assert merged.files == storage.commit(pr_head).files
    assert _head(storage, f"refs/pr/{num}") == pr_head  # the ref stays
    found = disc.details(*REPO, num)
    assert (found.record["status"], found.record["mergeCommitId"]) == ("merged", sha)
    assert [e["type"] for e in found.record["events"]][-2:] == ["comment", "status-change"]


def test_a_target_that_moved_elsewhere_merges_both_sides(storage, disc) -> None:
    num = _open_pr(disc)
    _put(storage, f"refs/pr/{num}", {"new.parquet": b"n"})
    _put(storage, "main", {"README.md": b"card"})
    moved = _head(storage)
    sha = disc.merge(*REPO, num, "u")
    assert storage.commit(sha).parents == [moved]
    assert {"new.parquet", "README.md", ".gitattributes"} <= set(storage.commit(sha).files)


def test_a_file_changed_on_both_sides_is_a_conflict_and_nothing_moves(storage, disc) -> None:
    _put(storage, "main", {"data.parquet": b"v1"})
    num = _open_pr(disc)
    _put(storage, f"refs/pr/{num}", {"data.parquet": b"v2-pr"})
    _put(storage, "main", {"data.parquet": b"v2-main"})
    main = _head(storage)
    assert disc.details(*REPO, num).conflicts == ["data.parquet"]
    with pytest.raises(HubError) as exc:
        disc.merge(*REPO, num, "u")
    assert (exc.value.status, exc.value.code) == (409, "Conflict") and "data.parquet" in exc.value.message
    assert _head(storage) == main and disc.details(*REPO, num).record["status"] == "open"


def test_the_same_change_on_both_sides_is_not_a_conflict() -> None:
    e = {"v1": FileEntry("o1", "s1", 1, False), "v2": FileEntry("o2", "s2", 2, False)}
    base = {"a": e["v1"], "gone": e["v1"]}
    ours, theirs = {"a": e["v2"]}, {"a": e["v2"], "gone": e["v1"], "other": e["v1"]}
    assert conflicting_files(base, ours, theirs) == []
    assert conflicting_files(base, {"a": e["v2"]}, {"a": e["v1"]}) == []  # only one side changed a
    assert conflicting_files(base, {}, {"a": e["v2"]}) == ["a"]  # deleted on one side, changed on the other


@pytest.mark.parametrize(("status", "why"), [("draft", "draft"), ("closed", "closed"), ("merged", "already merged")])
def test_only_an_open_pr_merges(storage, disc, status, why) -> None:
    num = disc.create(*REPO, title="Job", description="", pull_request=True, author="u")["num"]
    if status != "draft":
        disc.set_status(*REPO, num, "open", "u")
    if status == "closed":
        disc.set_status(*REPO, num, "closed", "u")
    if status == "merged":
        disc.merge(*REPO, num, "u")
    main = _head(storage)
    with pytest.raises(HubError, match=why) as exc:
        disc.merge(*REPO, num, "u")
    assert exc.value.status == 400 and _head(storage) == main


def test_status_changes_follow_the_hubs_rules(storage, disc) -> None:
    num = disc.create(*REPO, title="Job", description="", pull_request=True, author="u")["num"]
    with pytest.raises(HubError, match="already open"):
        disc.set_status(*REPO, _open_pr(disc, "Other"), "open", "u")
    with pytest.raises(HubError, match="'open' or 'closed'"):
        disc.set_status(*REPO, num, "draft", "u")  # never back to draft
    disc.set_status(*REPO, num, "closed", "u", comment="abandoned")
    disc.set_status(*REPO, num, "open", "u")
    disc.merge(*REPO, num, "u")
    with pytest.raises(HubError, match="merged"):
        disc.set_status(*REPO, num, "closed", "u")
    with pytest.raises(HubError) as exc:
        disc.details(*REPO, 99)
    assert exc.value.status == 404


def test_a_merge_cut_short_by_a_crash_is_settled_from_refs(storage, disc) -> None:
    """The merge point is refs.json: if the process died before the record caught up, reads say merged."""
    num = _open_pr(disc)
    _put(storage, f"refs/pr/{num}", {"x.parquet": b"x"})
    record_file = storage.repo_dir(*REPO) / "discussions" / f"{num}.json"
    stale = record_file.read_bytes()
    sha = disc.merge(*REPO, num, "u")
    record_file.write_bytes(stale)  # as if the crash came between the refs write and the record write
    found = Discussions(Storage(storage.root)).details(*REPO, num)
    assert (found.record["status"], found.record["mergeCommitId"]) == ("merged", sha)
    with pytest.raises(HubError, match="already merged"):
        disc.merge(*REPO, num, "u")  # a retried merge does not squash twice
    assert _head(storage) == sha


def test_a_record_past_the_counter_is_a_crash_leftover(storage, disc) -> None:
    ghost = storage.repo_dir(*REPO) / "discussions" / "1.json"
    ghost.parent.mkdir(parents=True)
    ghost.write_text(json.dumps({"num": 1, "title": "ghost"}))
    assert disc.list(*REPO) == []
    assert disc.create(*REPO, title="Real", description="", pull_request=False, author="u")["num"] == 1
    assert disc.details(*REPO, 1).record["title"] == "Real"


def test_a_pr_ref_without_a_record_reads_as_an_open_pr(storage, disc) -> None:
    _, num = _put(storage, "main", {"x.txt": b"x"}, title="old style", create_pr=True)
    (storage.repo_dir(*REPO) / "discussions" / f"{num}.json").unlink()
    found = disc.details(*REPO, num)
    assert (found.record["status"], found.record["title"], found.record["base"]) == ("open", "old style", "main")
    assert [c.title for c in found.commits] == ["old style"]


def test_create_pr_against_a_tag_or_a_pr_ref_is_refused(storage) -> None:
    _, num = _put(storage, "main", {"x.txt": b"x"}, create_pr=True)
    with pytest.raises(HubError) as exc:
        _put(storage, f"refs/pr/{num}", {"y.txt": b"y"}, create_pr=True)
    assert exc.value.status == 404 and storage.refs(*REPO)["prCount"] == num


def test_squash_message_lists_commits_and_co_authors() -> None:
    class C:
        def __init__(self, id: str, title: str, author: str) -> None:
            self.id, self.title, self.author = id, title, author

    text = squash_message([C("1" * 40, "a", "bot"), C("2" * 40, "b", "me")], "me")  # type: ignore[list-item]
    assert text == (f"\n- a ({'1' * 40})\n- b ({'2' * 40})\n\n"
                    "\nCo-authored-by: bot <bot@users.noreply.huggingface.co>")
