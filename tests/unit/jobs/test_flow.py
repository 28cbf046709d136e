"""jobs.flow.write_once: the one shape of every job, with the engine's start and stop replaced (the unit layer
starts no engine) and a recording target: the target is prepared before the engine starts; a failed write rolls
the target back, says the target's own failure line and raises; a write that landed says the target's landed line
and returns the summary; a job that wrote nothing rolls back what it created."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from hfconnect.jobs import flow
from hfconnect.jobs.runner import Job
from hfconnect.jobs.target import BucketJobTarget, Landed, NothingCommitted, RepoJobTarget


class Recorder:
    """A target that records the calls write_once makes, and says what the real targets say."""

    def __init__(self, real: type, landed: Landed | None = None, undone: list[str] | None = None) -> None:
        self.real, self.landed_as, self.undone, self.calls = real, landed, undone or [], []

    def prepare(self, endpoint: str, retry_budget: float) -> None:
        self.calls.append("prepare")

    def writing_line(self) -> str:
        return "writing"

    def rollback(self) -> list[str]:
        self.calls.append("rollback")
        return self.undone

    def failed_line(self, undone: list[str]) -> str:
        return self.real.failed_line(self, undone)  # the real target's words

    def landed(self, config: str) -> Landed:
        if self.landed_as is None:
            raise NothingCommitted("nothing was committed to o/n@main: the job had no rows")
        return self.landed_as

    def landed_line(self, landed: Landed) -> str:
        return f"landed {landed.rows}"

    def summary_target(self, landed: Landed) -> str:
        return "o/n"


@pytest.fixture
def job(monkeypatch: pytest.MonkeyPatch) -> Job:
    events: list[str] = []
    monkeypatch.setattr(flow, "start_daft", lambda address: events.append("start") or "daft (test)")
    monkeypatch.setattr(flow, "stop_daft", lambda address: events.append("stop"))
    j = Job("subset", None, engines=("daft",))
    j.args = argparse.Namespace(engine="daft", endpoint="http://127.0.0.1:9", retry_budget=1.0, debug=False,
                                ray_address=None)
    j.events = events  # type: ignore[attr-defined]
    monkeypatch.setattr(j, "hub_bytes_served", lambda: None)
    return j


def _fail() -> Any:
    raise RuntimeError("the write broke")


@pytest.mark.parametrize(("real", "said"), [
    (RepoJobTarget, "subset: failed: nothing was committed; removed what the job had created (repo o/n)"),
    (BucketJobTarget, "subset: failed: nothing was published; removed what the job had created (repo o/n)")])
def test_a_failed_write_rolls_back_says_so_and_raises(job: Job, capsys: pytest.CaptureFixture[str], real: type,
                                                      said: str) -> None:
    target = Recorder(real, undone=["repo o/n"])
    with pytest.raises(RuntimeError, match="the write broke"):
        flow.write_once(job, target=target, config="default", dataset_bytes=10, daft_write=_fail)  # type: ignore[arg-type]
    assert target.calls == ["prepare", "rollback"] and job.events == ["start", "stop"]  # type: ignore[attr-defined]
    assert capsys.readouterr().out.strip().splitlines()[-1] == said


def test_a_write_that_landed_returns_its_summary(job: Job, capsys: pytest.CaptureFixture[str]) -> None:
    target = Recorder(RepoJobTarget, landed=Landed("abc123", "main", 1, [("train", 5), ("test", 2)]))
    summary = flow.write_once(job, target=target, config="default", dataset_bytes=10,  # type: ignore[arg-type]
                              daft_write=lambda: None, extra={"k": "v"})
    assert target.calls == ["prepare"] and job.events == ["start", "stop"]  # type: ignore[attr-defined]
    assert (summary.rows, summary.commit, summary.target, summary.extra) == (7, "abc123", "o/n", {"k": "v"})
    out = capsys.readouterr().out
    assert "subset: writing" in out and "subset: landed 7" in out and "fetched n/a of 10 B" in out


def test_a_job_that_wrote_nothing_rolls_back_what_it_created(job: Job, capsys: pytest.CaptureFixture[str]) -> None:
    target = Recorder(RepoJobTarget, undone=["branch b"])
    with pytest.raises(NothingCommitted):
        flow.write_once(job, target=target, config="default", dataset_bytes=10,  # type: ignore[arg-type]
                        daft_write=lambda: None)
    assert target.calls == ["prepare", "rollback"]
    assert capsys.readouterr().out.strip().splitlines()[-1] == "subset: removed what the job had created (branch b)"
