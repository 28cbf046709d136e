"""WriteJob against the local hub's app run in-process: ONE commit per job or none; a 412 rebases on the new head;
an ambiguous failure (the connection dropped after the hub took the commit, or a 5xx) is looked for in the
history by the job id before anything is retried, so a job never commits twice; modes error/ignore/overwrite/
append; the commit description keeps the user's text, the job marker and streaming's lines."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from hfconnect.errors import AuthenticationError, HfConnectError, HubRequestError, SchemaMismatchError
from hfconnect.options import WriteOptions
from hfconnect.stream.history import batch_marker
from hfconnect.write.commit import JOB_MARKER, WriteJob
from hfconnect.write.task import TaskMessage, write_task
from tests.data import make_table, parquet_bytes
from tests.unit.inprocess_hub import READ_TOKEN, WRITE_TOKEN, InProcessHub

TABLE = make_table(300, columns=("id", "text"))
SCHEMA = TABLE.schema


@pytest.fixture
def hub(inproc_hub: InProcessHub) -> Iterator[InProcessHub]:
    yield inproc_hub


def _options(hub: InProcessHub, **kw: object) -> WriteOptions:
    return WriteOptions.build(**{"repo": "o/w", "endpoint": hub.endpoint, "token": WRITE_TOKEN, **kw})


def _tasks(job: WriteJob, parts: list[pa.Table]) -> list[TaskMessage | None]:
    return [write_task(t.to_batches(), SCHEMA, job.options, job_id=job.job_id, partition_id=i)
            for i, t in enumerate(parts)]


def _write(hub: InProcessHub, parts: list[pa.Table], **kw: object):  # noqa: ANN202 - (job, CommitResult)
    job = WriteJob(_options(hub, **kw))
    job.begin(SCHEMA)
    return job, job.commit(_tasks(job, parts), SCHEMA)


def _commits(hub: InProcessHub, repo: str = "o/w") -> list:
    return hub.api().list_repo_commits(repo, repo_type="dataset")


def _split(hub: InProcessHub, prefix: str = "data/train-", repo: str = "o/w") -> dict[str, pa.Table]:
    api = hub.api()
    out = {}
    for path in sorted(api.list_repo_files(repo, repo_type="dataset")):
        if path.startswith(prefix):
            with open(api.hf_hub_download(repo, path, repo_type="dataset"), "rb") as f:
                out[path] = pq.read_table(io.BytesIO(f.read()))
    return out


def _card_splits(hub: InProcessHub, repo: str = "o/w") -> dict[str, int]:
    """Rows per split, as the dataset card's YAML says."""
    with open(hub.api().hf_hub_download(repo, "README.md", repo_type="dataset")) as f:
        meta = yaml.safe_load(f.read().split("---")[1])
    return {s["name"]: s["num_examples"] for s in meta["dataset_info"]["splits"]}


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


def test_mode_error_refuses_a_split_with_data_and_leaves_the_repo_as_it_was(hub: InProcessHub) -> None:
    _write(hub, [TABLE])
    before = _commits(hub)
    job = WriteJob(_options(hub, mode="error"))
    with pytest.raises(HfConnectError, match=r"^o/w config 'default' split 'train' already has 1 file\(s\) and mode "
                                             r"is 'error': use mode append or overwrite$"):
        job.begin(SCHEMA)
    assert _commits(hub) == before
    _write(hub, [TABLE[:5]], mode="error", split="test")  # another split of the config is free


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


def test_append_with_other_columns_is_refused_before_any_row_is_written(hub: InProcessHub) -> None:
    _write(hub, [TABLE])
    job = WriteJob(_options(hub))
    other = pa.schema([("id", pa.int64()), ("label", pa.string())])
    with pytest.raises(SchemaMismatchError, match=r"^cannot append to o/w split 'train': its files have columns "
                                                  r"\[id:int64,text:string\] but the new rows have "
                                                  r"\[id:int64,label:string\]; write with mode overwrite"):
        job.begin(other)
    with pytest.raises(SchemaMismatchError, match=r"new rows have \[id:double,text:string\]"):  # would narrow
        job.begin(pa.schema([("id", pa.float64()), ("text", pa.string())]))


def test_append_in_narrower_types_is_written_in_the_split_s_types(hub: InProcessHub) -> None:
    """Spark's int into a split of int64, an all-None column: the files keep ONE schema (datasets needs it)."""
    _write(hub, [TABLE[:100]])
    narrow = pa.table({"id": pa.array(range(500, 510), pa.int32()), "text": pa.nulls(10)})
    job = WriteJob(_options(hub))
    written = job.begin(narrow.schema)
    assert written.types == SCHEMA.types
    messages = [write_task(narrow.to_batches(), written, job.options, job_id=job.job_id, partition_id=0)]
    result = job.commit(messages, written)
    assert result.rows == 10
    tables = _split(hub)
    assert [t.schema.remove_metadata() for t in tables.values()] == [SCHEMA.remove_metadata()] * 2
    appended = tables[f"data/train-00000-of-00001-{job.file_tag}.parquet"]
    assert appended.column("id").to_pylist() == list(range(500, 510))
    assert appended.column("text").null_count == 10


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


@pytest.mark.parametrize("mode", ["error", "ignore"])
def test_another_writers_data_in_the_split_during_the_job(hub: InProcessHub, mode: str) -> None:
    hub.dataset("o/w", {})
    job = WriteJob(_options(hub, mode=mode))
    job.begin(SCHEMA)
    messages = _tasks(job, [TABLE])
    hub.dataset("o/w", {"data/train-00000-of-00001.parquet": parquet_bytes(TABLE[:3])})
    before = _commits(hub)
    if mode == "error":
        with pytest.raises(HfConnectError, match=r"^o/w split 'train' got data from another writer during the job "
                                                 r"and mode is 'error': nothing was committed$"):
            job.commit(messages, SCHEMA)
    else:
        assert job.commit(messages, SCHEMA).commit_sha is None
    assert _commits(hub) == before


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


def test_tokens_that_cannot_write_fail_before_any_row(hub: InProcessHub) -> None:
    with pytest.raises(AuthenticationError, match=r"^writing to o/w needs a token with write access: pass option "
                                                  r"token, set HF_TOKEN or log in with `hf auth login`$"):
        WriteJob(_options(hub, token="")).begin(SCHEMA)
    with pytest.raises(AuthenticationError, match=r"^the token given for o/w is read-only: writing needs a write "
                                                  r"token$") as exc:
        WriteJob(_options(hub, token=READ_TOKEN)).begin(SCHEMA)
    assert READ_TOKEN not in str(exc.value)
    with pytest.raises(AuthenticationError, match=r"HTTP 401: the token is not valid"):
        WriteJob(_options(hub, token="hf_wrong")).begin(SCHEMA)
    assert hub.state.storage.repo_meta("dataset", "o/w") is None  # nothing was created


def test_private_repos_are_created_private(hub: InProcessHub) -> None:
    _write(hub, [TABLE[:3]], private=True, repo="o/private")
    assert hub.state.storage.repo_meta("dataset", "o/private")["private"] is True


def test_an_append_to_a_new_split_matches_the_config_s_other_splits(hub: InProcessHub) -> None:
    """A config has one set of features: a new split's rows are checked (and widened) against the other splits."""
    _write(hub, [TABLE[:100]])
    other = pa.schema([("id", pa.int64()), ("label", pa.string())])
    with pytest.raises(SchemaMismatchError, match=r"^cannot append to o/w split 'test' of config 'default': the "
                                                  r"config's split 'train' keeps files with columns "
                                                  r"\[id:int64,text:string\] but the new rows have "
                                                  r"\[id:int64,label:string\], and a config has one set of features; "
                                                  r"overwrite every split of the config in one job"):
        WriteJob(_options(hub, split="test")).begin(other)
    narrow = pa.schema([("id", pa.int32()), ("text", pa.string())])
    assert WriteJob(_options(hub, split="test")).begin(narrow).types == SCHEMA.types
    # modes error and ignore write a new split too: the same check (ignore skips a split that has data unchecked)
    for mode in ("error", "ignore"):
        with pytest.raises(SchemaMismatchError, match=r"^cannot write o/w split 'test' of config 'default': "):
            WriteJob(_options(hub, split="test", mode=mode)).begin(other)
        assert WriteJob(_options(hub, split="test", mode=mode)).begin(narrow).types == SCHEMA.types
    job = WriteJob(_options(hub, mode="ignore"))
    assert job.begin(other) == other and job.skip
    # the split's own files, while the config has another split: overwriting that split alone would not do
    _write(hub, [TABLE[:5]], split="test")
    with pytest.raises(SchemaMismatchError, match=r"^cannot append to o/w split 'train': its files have columns .*; "
                                                  r"overwrite every split of the config in one job \(rows for each, "
                                                  r"option split_column\) or write to another config \("):
        WriteJob(_options(hub)).begin(other)


def test_an_all_null_column_of_the_split_is_named_when_an_append_gives_it_a_type(hub: InProcessHub) -> None:
    api = hub.api()
    api.create_repo("o/w", repo_type="dataset")
    nulls = pa.table({"id": pa.array([1, 2], pa.int64()), "text": pa.nulls(2)})
    api.upload_file(path_or_fileobj=parquet_bytes(nulls), path_in_repo="data/train-00000-of-00001.parquet",
                    repo_id="o/w", repo_type="dataset")
    with pytest.raises(SchemaMismatchError, match=r"The existing files hold text as all-null columns \(type null\), "
                                                  r"which take only nulls: overwrite their splits to give them a "
                                                  r"type\.$"):
        WriteJob(_options(hub)).begin(SCHEMA)


def test_files_written_in_other_types_than_the_commit_takes_are_refused(hub: InProcessHub) -> None:
    """A stream prepared at its start writes those types; if the split changed since, its commit must not mix."""
    _write(hub, [TABLE[:10]])
    before = len(_commits(hub))
    job = WriteJob(_options(hub))
    job.begin(SCHEMA)
    narrow = TABLE[10:20].cast(pa.schema([("id", pa.int32()), ("text", pa.string())]))
    stale = write_task(narrow.to_batches(), narrow.schema, job.options, job_id=job.job_id, partition_id=0)
    with pytest.raises(SchemaMismatchError, match=r"^the tasks wrote files with columns \[id:int32,text:string\] "
                                                  r"but o/w takes \[id:int64,text:string\] now"):
        job.commit([stale], SCHEMA)
    assert len(_commits(hub)) == before


def test_an_overwrite_of_one_split_keeps_the_config_s_columns(hub: InProcessHub) -> None:
    """The other splits stay: new columns in one split would leave the config with two sets of features, which
    `datasets` cannot load. Refused before any row is written; narrower types are written in the config's."""
    _write(hub, [TABLE[:100]])
    _write(hub, [TABLE[:7]], split="test")
    before = len(_commits(hub))
    other = pa.schema([("id", pa.int64()), ("label", pa.string())])
    with pytest.raises(SchemaMismatchError, match=r"^cannot overwrite o/w split 'train' of config 'default': the "
                                                  r"config's split 'test' keeps files with columns "
                                                  r"\[id:int64,text:string\] but the new rows have "
                                                  r"\[id:int64,label:string\], and a config has one set of features; "
                                                  r"overwrite every split of the config in one job \(rows for each, "
                                                  r"option split_column\) or write to another config"):
        WriteJob(_options(hub, mode="overwrite")).begin(other)
    narrow = pa.schema([("id", pa.int32()), ("text", pa.string())])
    assert WriteJob(_options(hub, mode="overwrite")).begin(narrow).types == SCHEMA.types
    assert len(_commits(hub)) == before
    # The only split of a config takes any columns.
    job = WriteJob(_options(hub, mode="overwrite", repo="o/single"))
    job.begin(SCHEMA)
    job.commit(_tasks(job, [TABLE[:5]]), SCHEMA)
    labelled = pa.table({"id": pa.array([1], pa.int64()), "label": ["a"]})
    job = WriteJob(_options(hub, mode="overwrite", repo="o/single"))
    assert job.begin(labelled.schema) == labelled.schema
    job.commit([write_task(labelled.to_batches(), labelled.schema, job.options, job_id=job.job_id, partition_id=0)],
               labelled.schema)
    assert list(_split(hub, repo="o/single").values())[0].equals(labelled)


def test_an_overwrite_by_split_column_checks_the_splits_it_does_not_write_at_the_commit(hub: InProcessHub) -> None:
    """With split_column the splits written are known once the rows are: the commit refuses to leave a split in
    other columns, and commits when every split of the config is replaced."""
    _write(hub, [TABLE[:100]])
    _write(hub, [TABLE[:7]], split="test")
    before = len(_commits(hub))
    routed = pa.table({"id": pa.array([1, 2], pa.int64()), "label": ["a", "b"], "split": ["train", "train"]})
    job = WriteJob(_options(hub, mode="overwrite", split_column="split"))
    schema = job.begin(routed.schema)
    written = schema.remove(schema.get_field_index("split"))
    messages = [write_task(routed.to_batches(), schema, job.options, job_id=job.job_id, partition_id=0)]
    with pytest.raises(SchemaMismatchError, match=r"^cannot overwrite o/w split 'train' of config 'default': the "
                                                  r"config's split 'test' keeps files with columns .*; nothing was "
                                                  r"committed\.$"):
        job.commit(messages, schema)
    assert len(_commits(hub)) == before and written.names == ["id", "label"]
    # narrower types are not converted with split_column (which splits are kept is known only now): refused too
    narrow = pa.table({"id": pa.array([1], pa.int32()), "text": ["a"], "split": ["train"]})
    job = WriteJob(_options(hub, mode="overwrite", split_column="split"))
    schema = job.begin(narrow.schema)
    with pytest.raises(SchemaMismatchError, match=r"new rows have \[id:int32,text:string\].*; include rows for "
                                                  r"split 'test' in this job, or write to another config \(with "
                                                  r"split_column the types are not converted: cast the columns to "
                                                  r"theirs\); nothing was committed\.$"):
        job.commit([write_task(narrow.to_batches(), schema, job.options, job_id=job.job_id, partition_id=0)],
                   schema)
    assert len(_commits(hub)) == before
    both = pa.table({"id": pa.array([1, 2], pa.int64()), "label": ["a", "b"], "split": ["train", "test"]})
    job = WriteJob(_options(hub, mode="overwrite", split_column="split"))
    schema = job.begin(both.schema)
    result = job.commit([write_task(both.to_batches(), schema, job.options, job_id=job.job_id, partition_id=0)],
                        schema)
    assert dict(result.split_rows) == {"train": 1, "test": 1}
    assert [t.column_names for t in _split(hub, "data/").values()] == [["id", "label"]] * 2
