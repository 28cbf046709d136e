"""The commit description a write job sends: the user's `commit_description`, then the job marker the landed
check looks for, then the caller's extra lines (a streaming batch's marker), none lost."""

from __future__ import annotations

from hfconnect.options import WriteOptions
from hfconnect.write.commit import JOB_MARKER, WriteJob

JOB = "0123456789abcdef"


def _options(**extra: str) -> WriteOptions:
    return WriteOptions.build(repo="o/n", token="hf_x", endpoint="http://127.0.0.1:1", **extra)


def test_the_job_marker_alone_by_default() -> None:
    assert WriteJob(_options(), JOB)._description() == f"{JOB_MARKER} {JOB}"


def test_the_users_description_then_the_marker_then_extra_lines() -> None:
    job = WriteJob(_options(commit_description="Nightly refresh\nfrom the warehouse", split_column="split"), JOB,
                   description="hfconnect-stream-batch: q 7")
    assert job._description() == (f"Nightly refresh\nfrom the warehouse\n\n{JOB_MARKER} {JOB}\n"
                                  "hfconnect-stream-batch: q 7")


def test_appended_files_end_with_the_file_tag() -> None:
    assert WriteJob(_options(), JOB).file_tag == JOB[:8]
    assert WriteJob(_options(), JOB, file_tag="q1-b000007").file_tag == "q1-b000007"
