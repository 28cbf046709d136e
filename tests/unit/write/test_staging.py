"""The pure parts of a staged job: how operations split into commits that fit, what counts as a change, and the
titles a landed part is recognised by."""

from __future__ import annotations

import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete

from hfconnect.errors import HubRequestError
from hfconnect.hub.snapshot import RepoFileInfo
from hfconnect.write.commit_content import BranchState
from hfconnect.write.staging import (
    MAX_STAGING_COMMITS,
    _pr_num_of,
    carries,
    changed_paths,
    commit_size,
    failure_note,
    opened_by,
    part_marker,
    staging_batches,
)


def _ops(adds: int, deletes: int) -> list[object]:
    out: list[object] = []
    for i in range(max(adds, deletes)):  # as commit_content interleaves them, per split
        if i < deletes:
            out.append(CommitOperationDelete(path_in_repo=f"data/old-{i}.parquet"))
        if i < adds:
            out.append(CommitOperationAdd(path_in_repo=f"data/new-{i}.parquet", path_or_fileobj=b"x"))
    return [*out, CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=b"card")]


@pytest.mark.parametrize(("adds", "deletes", "budget"), [(25, 0, 10), (25, 7, 10), (9, 0, 10), (3, 30, 4)])
def test_every_batch_fits_additions_come_first_and_the_card_last(adds: int, deletes: int, budget: int) -> None:
    ops = _ops(adds, deletes)
    batches = staging_batches(ops, budget)
    assert all(0 < len(b) <= budget for b in batches)
    flat = [op for b in batches for op in b]
    assert sorted(map(id, flat)) == sorted(map(id, ops))  # each operation once
    assert flat[-1].path_in_repo == "README.md"
    kinds = [isinstance(op, CommitOperationDelete) for op in flat[:-1]]
    assert kinds == sorted(kinds)  # additions, then deletions


def test_a_budget_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        staging_batches(_ops(1, 0), 0)


def test_changed_paths_sees_additions_removals_and_rewrites() -> None:
    def head(files: dict[str, str]) -> BranchState:
        return BranchState("sha", [RepoFileInfo(p, 1, oid) for p, oid in files.items()], {}, None)

    before = head({"a": "1", "b": "2", "c": "3"})
    after = head({"a": "1", "b": "9", "d": "4"})
    assert changed_paths(before, after) == {"b", "c", "d"}
    assert changed_paths(before, before) == set()


def test_part_titles_name_the_job_and_the_part() -> None:
    assert part_marker("hfconnect-job-id: abc", 2, 7) == "hfconnect-job-id: abc part 2 of 7"
    mark = part_marker("hfconnect-job-id: abc", 2, 1)
    assert carries(f"title\n{mark}\n", mark) and not carries(part_marker("hfconnect-job-id: abc", 2, 10), mark)


def test_pull_request_numbers_come_from_refs_and_urls() -> None:
    assert _pr_num_of("refs/pr/12") == 12 and _pr_num_of("http://h/datasets/u/d/discussions/3") == 3
    with pytest.raises(Exception, match="did not say which pull request"):
        _pr_num_of(None)


def test_commits_grow_past_the_staging_commit_limit() -> None:
    """Up to MAX_STAGING_COMMITS commits of the budget; past that, as many operations as fit that many commits."""
    assert commit_size(100 * MAX_STAGING_COMMITS, 100) == 100
    assert commit_size(100 * MAX_STAGING_COMMITS + 1, 100) == 101
    assert commit_size(10_001, 100) == 251 and MAX_STAGING_COMMITS == -(-10_001 // 251)
    assert commit_size(5, 100) == 100


def test_a_jobs_opening_part_is_recognised_whatever_its_part_count() -> None:
    marker = "hfconnect-job-id: abc"
    assert opened_by(f"title\n{part_marker(marker, 1, 3)}", marker)
    assert opened_by(f"{part_marker(marker, 1, 99)}\n", marker)
    assert not opened_by(part_marker(marker, 2, 3), marker)  # a later part
    assert not opened_by(part_marker("hfconnect-job-id: abcd", 1, 3), marker)  # another job
    assert not opened_by(f"{marker} part 1 of 3 and more", marker)


def test_a_pull_request_comment_says_only_what_an_hfconnect_error_says() -> None:
    """The comment is public: an hfconnect error's message (written without the token), else a fixed text."""
    assert failure_note(HubRequestError("staging commit 2 of 3 failed"), "abc") == "staging commit 2 of 3 failed"
    note = failure_note(RuntimeError("Authorization: Bearer hf_secret"), "abc")
    assert "hf_secret" not in note and "abc" in note and "RuntimeError" in note
