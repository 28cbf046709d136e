"""The checks a write to a dataset repo makes (write.checks.TargetChecks) before any row is written and again
before its commit goes onto a head that moved: the token, the mode against the split's files, the config's one
format and set of columns (narrower types written in the files' types), and the tasks' files against the columns
the commit takes; run through WriteJob and on their own, against the local hub's app run in-process."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest

from hfconnect.errors import AuthenticationError, HfConnectError, SchemaMismatchError
from hfconnect.write.commit import WriteJob
from hfconnect.write.task import write_task
from tests.data import parquet_bytes
from tests.unit.inprocess_hub import READ_TOKEN, InProcessHub
from tests.unit.write.repo_jobs import SCHEMA, TABLE
from tests.unit.write.repo_jobs import commits as _commits
from tests.unit.write.repo_jobs import options as _options
from tests.unit.write.repo_jobs import split as _split
from tests.unit.write.repo_jobs import tasks as _tasks
from tests.unit.write.repo_jobs import write as _write


@pytest.fixture
def hub(inproc_hub: InProcessHub) -> Iterator[InProcessHub]:
    yield inproc_hub


def test_mode_error_refuses_a_split_with_data_and_leaves_the_repo_as_it_was(hub: InProcessHub) -> None:
    _write(hub, [TABLE])
    before = _commits(hub)
    job = WriteJob(_options(hub, mode="error"))
    with pytest.raises(HfConnectError, match=r"^o/w config 'default' split 'train' already has 1 file\(s\) and mode "
                                             r"is 'error': use mode append or overwrite$"):
        job.begin(SCHEMA)
    assert _commits(hub) == before
    _write(hub, [TABLE[:5]], mode="error", split="test")  # another split of the config is free


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


def test_target_checks_on_their_own(hub: InProcessHub) -> None:
    """read_head sees the config's splits; preflight says skip and the schema to write; recheck, on a head that
    did not move, asks nothing of an append; after a move it says skip for mode ignore once the split has data."""
    from hfconnect.write.checks import TargetChecks

    _write(hub, [TABLE[:10]], split="test")
    checks = TargetChecks(_options(hub))
    head = checks.read_head()
    assert list(head.splits) == ["test"] and head.sha == _commits(hub)[0].commit_id
    narrow = pa.schema([("id", pa.int32()), ("text", pa.string())])
    skip, schema = checks.preflight(head, narrow)
    assert not skip and schema is not None and schema.types == SCHEMA.types  # the config's types
    requests = hub.counters()["api"]["requests"]
    assert checks.recheck(head, [], SCHEMA, moved=False) is False
    assert hub.counters()["api"]["requests"] == requests
    ignoring = TargetChecks(_options(hub, mode="ignore"))
    assert ignoring.preflight(head, SCHEMA) == (False, SCHEMA)
    _write(hub, [TABLE[:3]])  # another writer fills split train
    moved = ignoring.read_head()
    assert ignoring.recheck(moved, [], SCHEMA, moved=True) is True
    assert ignoring.preflight(moved, SCHEMA)[0] is True
    with pytest.raises(HfConnectError, match=r"^o/w split 'train' got data from another writer during the job"):
        TargetChecks(_options(hub, mode="error")).recheck(moved, [], SCHEMA, moved=True)
