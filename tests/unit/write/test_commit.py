"""WriteJob against the local hub's app run in-process: ONE commit per job or none; a 412 rebases on the new head;
an ambiguous failure (the connection dropped after the hub took the commit, or a 5xx) is looked for in the
history by the job id before anything is retried, so a job never commits twice; modes error/ignore/overwrite/
append; the commit description keeps the user's text, the job marker and streaming's lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pyarrow as pa
import pytest

from hfconnect.errors import HfConnectError, HubRequestError
from hfconnect.stream.history import batch_marker
from hfconnect.write.commit import JOB_MARKER, WriteJob
from hfconnect.write.task import write_task
from tests.unit.inprocess_hub import InProcessHub
from tests.unit.write.repo_jobs import SCHEMA, TABLE
from tests.unit.write.repo_jobs import card_splits as _card_splits
from tests.unit.write.repo_jobs import commits as _commits
from tests.unit.write.repo_jobs import options as _options
from tests.unit.write.repo_jobs import split as _split
from tests.unit.write.repo_jobs import tasks as _tasks
from tests.unit.write.repo_jobs import write as _write


@pytest.fixture
def hub(inproc_hub: InProcessHub) -> Iterator[InProcessHub]:
    yield inproc_hub


def test_a_job_of_several_tasks_is_one_commit(hub: InProcessHub) -> None:
    job, result = _write(hub, [TABLE[:100], TABLE[100:250], TABLE[250:]])
    commits = _commits(hub)
    assert len(commits) == 2  # the repo's first commit (created by the job), then the job's one
    assert (result.commit_sha, result.rows, result.attempts, result.deleted) == (commits[0].commit_id, 300, 1, ())
    assert result.files == ("data/train-00000-of-00003.parquet", "data/train-00001-of-00003.parquet",
                            "data/train-00002-of-00003.parquet")
    files = _split(hub)
    assert list(files) == list(result.files)
    assert pa.concat_tables(files.values()).equals(TABLE)  # partition order kept
    assert commits[0].title == "hfconnect: append 300 rows to default/train"
    assert commits[0].message.strip() == f"{JOB_MARKER} {job.job_id}"
    assert _card_splits(hub) == {"train": 300}


def test_the_description_keeps_the_users_text_the_marker_and_streamings_lines(hub: InProcessHub) -> None:
    options = _options(hub, commit_message="nightly load", commit_description="Loaded by the nightly job.\nTwo lines.")
    job = WriteJob(options, "feedc0ffee123456", description=batch_marker("q-1", 4))
    job.begin(SCHEMA)
    job.commit(_tasks(job, [TABLE]), SCHEMA)
    latest = _commits(hub)[0]
    assert latest.title == "nightly load"
    assert latest.message.strip() == ("Loaded by the nightly job.\nTwo lines.\n\n"
                                      "hfconnect-job-id: feedc0ffee123456\nhfconnect-stream: query=q-1 batch=4")


def test_mode_ignore_commits_nothing_when_the_split_has_data(hub: InProcessHub) -> None:
    _write(hub, [TABLE])
    before = _commits(hub)
    job, result = _write(hub, [TABLE[:10]], mode="ignore")
    assert job.skip and (result.commit_sha, result.files, result.rows) == (None, (), 0)
    assert _commits(hub) == before


def test_overwrite_deletes_exactly_the_splits_old_files(hub: InProcessHub) -> None:
    _write(hub, [TABLE[:100], TABLE[100:]])
    _write(hub, [TABLE[:7]], split="test")
    _, result = _write(hub, [TABLE[:50]], mode="overwrite")
    assert result.files == ("data/train-00000-of-00001.parquet",)
    assert result.deleted == ("data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet")
    assert _split(hub)["data/train-00000-of-00001.parquet"].equals(TABLE[:50])
    assert list(_split(hub, "data/")) == ["data/test-00000-of-00001.parquet", "data/train-00000-of-00001.parquet"]
    assert _card_splits(hub) == {"train": 50, "test": 7}


def test_append_names_files_by_job_and_adds_up_the_rows(hub: InProcessHub) -> None:
    _write(hub, [TABLE[:100]])
    job, result = _write(hub, [TABLE[100:]])
    assert result.files == (f"data/train-00000-of-00001-{job.file_tag}.parquet",)
    assert len(_split(hub)) == 2
    assert _card_splits(hub) == {"train": 300}


def test_a_job_with_no_rows_still_gives_the_split_its_schema(hub: InProcessHub) -> None:
    _, result = _write(hub, [TABLE[:0], TABLE[:0]])
    assert result.rows == 0 and result.files == ("data/train-00000-of-00001.parquet",)
    assert _split(hub)["data/train-00000-of-00001.parquet"].schema.equals(SCHEMA)


def test_retried_and_speculative_task_attempts_reach_the_commit_once(hub: InProcessHub) -> None:
    job = WriteJob(_options(hub))
    job.begin(SCHEMA)
    first = write_task(TABLE[:10].to_batches(), SCHEMA, job.options, job_id=job.job_id, partition_id=0)
    again = write_task(TABLE[:10].to_batches(), SCHEMA, job.options, job_id=job.job_id, partition_id=0, attempt_id=1)
    other = write_task(TABLE[10:30].to_batches(), SCHEMA, job.options, job_id=job.job_id, partition_id=1)
    result = job.commit([again, None, other, first], SCHEMA)
    assert result.rows == 30 and len(result.files) == 2
    assert pa.concat_tables(_split(hub).values()).equals(TABLE[:30])


def test_a_412_rebases_on_the_new_head(hub: InProcessHub, caplog: pytest.LogCaptureFixture) -> None:
    _write(hub, [TABLE[:10]], split="test")
    job = WriteJob(_options(hub))
    job.begin(SCHEMA)
    messages = _tasks(job, [TABLE])
    hub.dataset("o/w", {"other.txt": b"another writer"})  # the branch moves under the job
    with caplog.at_level(logging.WARNING, "hfconnect.write"):
        result = job.commit(messages, SCHEMA)
    assert result.attempts == 2 and "(HTTP 412): rebasing the commit on the new head" in caplog.text
    files = set(hub.api().list_repo_files("o/w", repo_type="dataset"))
    assert {"other.txt", "data/test-00000-of-00001.parquet", "data/train-00000-of-00001.parquet"} <= files


def test_a_commit_that_landed_although_its_connection_dropped_is_not_made_again(hub: InProcessHub) -> None:
    hub.dataset("o/w", {})
    job = WriteJob(_options(hub))
    job.begin(SCHEMA)
    messages = _tasks(job, [TABLE])
    hub.set_faults([{"route": "commit", "action": "reset_after", "times": 1}])  # the hub takes it, then drops
    result = job.commit(messages, SCHEMA)
    commits = _commits(hub)
    assert result.commit_sha == commits[0].commit_id and result.attempts == 1
    assert [c.commit_id for c in commits if job.job_id in (c.message or "")] == [result.commit_sha]
    assert hub.counters()["commit"]["faults"] == 1 and hub.counters()["commits"] == 1


def test_a_pull_request_that_landed_although_its_connection_dropped_is_not_opened_again(hub: InProcessHub) -> None:
    """With create_pr the commit lands on a refs/pr/N of its own, not on the branch: the check looks there too."""
    hub.dataset("o/w", {})
    job = WriteJob(_options(hub, create_pr=True))
    job.begin(SCHEMA)
    messages = _tasks(job, [TABLE])
    hub.set_faults([{"route": "commit", "action": "reset_after", "times": 1}])
    result = job.commit(messages, SCHEMA)
    prs = hub.api().list_repo_refs("o/w", repo_type="dataset", include_pull_requests=True).pull_requests
    assert [(p.ref, p.target_commit) for p in prs] == [("refs/pr/1", result.commit_sha)]
    assert result.attempts == 1 and result.pr_url == f"{hub.endpoint}/datasets/o/w/discussions/1"
    assert hub.counters()["commits"] == 1


def test_the_landed_check_reads_the_newest_commits_only(hub: InProcessHub) -> None:
    """A branch's whole history can be thousands of commits (a rate-limited page each): the job's commit, if it
    landed, is among the newest."""
    from hfconnect.localhub.records import Operation

    hub.dataset("o/w", {})
    for i in range(120):
        hub.state.storage.apply_commit("dataset", "o/w", "main", [Operation("file", f"n{i}.txt", b"n")],
                                       title=f"n{i}", message="", author="other")
    job = WriteJob(_options(hub))
    job.begin(SCHEMA)
    messages = _tasks(job, [TABLE])
    history_pages = {"route": "api", "action": "latency", "latency_ms": 0, "match": "/commits/"}  # counts them
    hub.set_faults([{"route": "commit", "action": "reset_after", "times": 1}, history_pages])
    result = job.commit(messages, SCHEMA)
    assert result.attempts == 1
    assert hub.state.faults.rules[1].seen == 1  # one page of history, not all three
    assert result.commit_sha == _commits(hub)[0].commit_id


def test_a_5xx_that_did_not_land_is_retried_once_landed_checked(hub: InProcessHub) -> None:
    hub.dataset("o/w", {})
    job = WriteJob(_options(hub))
    job.begin(SCHEMA)
    messages = _tasks(job, [TABLE])
    hub.set_faults([{"route": "commit", "action": "status", "status": 503, "times": 1}])
    result = job.commit(messages, SCHEMA)
    assert result.attempts == 2
    assert [c.commit_id for c in _commits(hub) if job.job_id in (c.message or "")] == [result.commit_sha]


def test_an_ambiguous_failure_whose_history_cannot_be_read_says_so(hub: InProcessHub) -> None:
    hub.dataset("o/w", {})
    job = WriteJob(_options(hub, retry_budget=0.3))
    job.begin(SCHEMA)
    messages = _tasks(job, [TABLE])
    hub.set_faults([{"route": "commit", "action": "status", "status": 502, "times": 1},
                    {"route": "api", "action": "status", "status": 503, "match": "/commits/"}])
    with pytest.raises(HubRequestError, match=rf"^commit to o/w failed ambiguously and its history cannot be read: "
                                              rf"the commit may or may not have landed \(look for "
                                              rf"'hfconnect-job-id: {job.job_id}'\)$"):
        job.commit(messages, SCHEMA)


def test_an_hf_xet_failure_of_the_commit_is_final(hub: InProcessHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """create_commit uploads through hf_xet what was not preuploaded; hf_xet retried it already, so its failure
    (a HubRequestError with the detail `xet`, here without a status) is no ambiguous one: raised at once, with
    no history walk and no second create_commit (whose hf_xet would retry it all again)."""
    from huggingface_hub import HfApi

    hub.dataset("o/w", {})
    job = WriteJob(_options(hub))
    job.begin(SCHEMA)
    messages = _tasks(job, [TABLE])
    calls: list[int] = []

    def create_commit(self: HfApi, *args: object, **kwargs: object) -> None:
        calls.append(1)
        raise ConnectionError("Network error: Request middleware error: error sending request for url "
                              "(http://127.0.0.1:9/v1/xorbs/default/abc)")

    monkeypatch.setattr(HfApi, "create_commit", create_commit)
    history_pages = {"route": "api", "action": "latency", "latency_ms": 0, "match": "/commits/"}  # counts them
    hub.set_faults([history_pages])
    with pytest.raises(HubRequestError, match=r"^commit: failed through Xet storage \(hf_xet: Network error") as info:
        job.commit(messages, SCHEMA)
    assert info.value.xet == "Network error" and info.value.status is None
    assert calls == [1] and hub.state.faults.rules[0].seen == 0
    assert hub.counters()["commits"] == 0


def test_a_429_on_the_commit_waits_and_retries_without_a_history_walk(hub: InProcessHub) -> None:
    hub.dataset("o/w", {})
    job = WriteJob(_options(hub))
    job.begin(SCHEMA)
    messages = _tasks(job, [TABLE])
    hub.set_faults([{"route": "commit", "action": "status", "status": 429, "retry_after": 0, "times": 1},
                    {"route": "api", "action": "status", "status": 500, "match": "/commits/"}])
    assert job.commit(messages, SCHEMA).attempts == 2  # the history (failing here) was never asked


def test_commit_before_begin_and_abort(hub: InProcessHub, caplog: pytest.LogCaptureFixture) -> None:
    job = WriteJob(_options(hub))
    with pytest.raises(HfConnectError, match=r"^WriteJob.commit\(\) called before begin\(\)$"):
        job.commit([], SCHEMA)
    hub.api().create_repo("o/w", repo_type="dataset")
    job.begin(SCHEMA)
    messages = _tasks(job, [TABLE])
    before = _commits(hub)
    with caplog.at_level(logging.WARNING, "hfconnect.write"):
        job.abort([*messages, None])
    assert f"write job {job.job_id} to dataset o/w@main aborted: 1 task message(s) dropped, nothing committed" \
        in caplog.text
    assert _commits(hub) == before and not job.created_repo


def test_abort_and_a_failed_commit_delete_the_repo_the_job_created(hub: InProcessHub,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    api = hub.api()
    job = WriteJob(_options(hub))
    job.begin(SCHEMA)
    assert job.created_repo and api.repo_exists("o/w", repo_type="dataset")
    with caplog.at_level(logging.WARNING, "hfconnect.write"):
        job.abort(_tasks(job, [TABLE]))
    assert not api.repo_exists("o/w", repo_type="dataset")
    assert f"deleted dataset o/w, created by failed write job {job.job_id}" in caplog.text
    job = WriteJob(_options(hub))
    job.begin(SCHEMA)
    other = pa.schema([("id", pa.int64())])  # files written in other types than the commit takes: refused
    with pytest.raises(HfConnectError):
        job.commit(_tasks(job, [TABLE]), other)
    assert not api.repo_exists("o/w", repo_type="dataset")


def test_private_repos_are_created_private(hub: InProcessHub) -> None:
    _write(hub, [TABLE[:3]], private=True, repo="o/private")
    assert hub.state.storage.repo_meta("dataset", "o/private")["private"] is True
