"""The driver side of a stream that follows a dataset on the local hub's app run in-process: offsets from the
branch head, spans of the split's new files between two commits, per-trigger limits that cost no Hub call,
plans that read exactly a micro-batch's files, and an overwrite upstream stopping the query (or not)."""

from __future__ import annotations

import logging

import pyarrow as pa
import pytest

from hfconnect.errors import UpstreamRewriteError
from hfconnect.options import ReadOptions
from hfconnect.read.reader import read_shard
from hfconnect.stream.follow import DatasetFollower
from hfconnect.stream.offsets import StreamOffset
from hfconnect.stream.options import StreamReadOptions
from tests.data import make_table, parquet_bytes
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub

SCHEMA = make_table(1, columns=("id", "text")).schema


def _file(first: int, n: int = 10) -> bytes:
    return parquet_bytes(make_table(n, first, columns=("id", "text")))


def _follower(hub: InProcessHub, split: str = "train", **stream: object) -> DatasetFollower:
    options = ReadOptions.build(repo="o/live", endpoint=hub.endpoint, token=WRITE_TOKEN, split=split)
    return DatasetFollower(options, StreamReadOptions(**stream), SCHEMA)  # type: ignore[arg-type]


def _commit(hub: InProcessHub, add: dict[str, bytes], delete: tuple[str, ...] = ()) -> str:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    ops = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=d) for p, d in add.items()]
    ops += [CommitOperationDelete(path_in_repo=p) for p in delete]
    return hub.api().create_commit("o/live", repo_type="dataset", operations=ops, commit_message="more").oid


def _ids(follower: DatasetFollower, start: StreamOffset, end: StreamOffset) -> list[int]:
    plan = follower.plan(start, end)
    if plan is None:
        return []
    return sorted(i for shard in plan.shards for b in read_shard(plan, shard) for i in b.column("id").to_pylist())


def _api(hub: InProcessHub) -> int:
    return hub.counters()["api"]["requests"]


def test_earliest_reads_what_is_there_then_each_new_commit(inproc_hub: InProcessHub) -> None:
    inproc_hub.dataset("o/live", {"data/train-0.parquet": _file(0), "data/test-0.parquet": _file(900)})
    follower = _follower(inproc_hub)
    start = follower.initial_offset()
    assert start == StreamOffset("")
    first = follower.latest_offset(start, limited=False)
    assert _ids(follower, start, first) == list(range(10))  # the test split's file is not ours
    assert follower.latest_offset(first, limited=False) == first  # nothing new: the same offset
    assert follower.plan(first, first) is None
    sha = _commit(inproc_hub, {"data/train-1.parquet": _file(10), "data/test-1.parquet": _file(910)})
    second = follower.latest_offset(first, limited=False)
    assert second == StreamOffset(sha, first.sha)
    assert _ids(follower, first, second) == list(range(10, 20))


def test_a_trigger_costs_one_poll_and_one_listing_of_the_new_commit(inproc_hub: InProcessHub) -> None:
    inproc_hub.dataset("o/live", {"data/train-0.parquet": _file(0)})
    follower = _follower(inproc_hub)
    first = follower.latest_offset(follower.initial_offset(), limited=False)
    follower.plan(StreamOffset(""), first)
    before = _api(inproc_hub)
    assert follower.latest_offset(first, limited=False) == first
    assert _api(inproc_hub) == before + 1  # the poll
    _commit(inproc_hub, {"data/train-1.parquet": _file(10)})
    before = _api(inproc_hub)
    second = follower.latest_offset(first, limited=False)
    follower.plan(first, second)
    assert _api(inproc_hub) == before + 2  # the poll and the new commit's listing (the old one is kept)


def test_latest_starts_at_the_head_and_its_first_trigger_does_not_poll_again(inproc_hub: InProcessHub) -> None:
    head = inproc_hub.dataset("o/live", {"data/train-0.parquet": _file(0)})
    follower = _follower(inproc_hub, starting="latest")
    before = _api(inproc_hub)
    start = follower.initial_offset()
    assert start == StreamOffset(head) and _api(inproc_hub) == before + 1
    assert follower.latest_offset(start, limited=False) == start and _api(inproc_hub) == before + 1
    sha = _commit(inproc_hub, {"data/train-1.parquet": _file(10)})
    end = follower.latest_offset(start, limited=False)
    assert end == StreamOffset(sha, head) and _ids(follower, start, end) == list(range(10, 20))


def test_starting_at_a_sha_reads_what_came_after_it(inproc_hub: InProcessHub) -> None:
    old = inproc_hub.dataset("o/live", {"data/train-0.parquet": _file(0)})
    _commit(inproc_hub, {"data/train-1.parquet": _file(10)})
    follower = _follower(inproc_hub, starting=old.upper())
    start = follower.initial_offset()
    assert start == StreamOffset(old)
    assert _ids(follower, start, follower.latest_offset(start, limited=False)) == list(range(10, 20))


def test_limits_cut_a_span_and_work_through_it_without_asking_the_hub(inproc_hub: InProcessHub) -> None:
    inproc_hub.dataset("o/live", {f"data/train-{i}.parquet": _file(10 * i) for i in range(5)})
    follower = _follower(inproc_hub, max_files_per_trigger=2)
    offset = follower.initial_offset()
    ends = []
    before = None
    while True:
        end = follower.latest_offset(offset, limited=True)
        if end == offset:
            break
        ends.append(end)
        assert _ids(follower, offset, end) == list(range(10 * (2 * len(ends) - 2), min(50, 20 * len(ends))))
        offset = end
        if before is None:
            before = _api(inproc_hub)
    assert [e.taken for e in ends] == [2, 4, None]
    assert _api(inproc_hub) == before + 1  # the rest of the span came from memory; one poll to find nothing new


def test_available_now_never_reads_past_the_head_it_saw(inproc_hub: InProcessHub) -> None:
    inproc_hub.dataset("o/live", {"data/train-0.parquet": _file(0)})
    follower = _follower(inproc_hub)
    start = follower.initial_offset()
    follower.prepare_available_now()
    _commit(inproc_hub, {"data/train-1.parquet": _file(10)})
    end = follower.latest_offset(start, limited=False)
    assert _ids(follower, start, end) == list(range(10))
    assert follower.latest_offset(end, limited=False) == end


def test_an_overwrite_upstream_stops_the_query_naming_the_files(inproc_hub: InProcessHub) -> None:
    inproc_hub.dataset("o/live", {"data/train-0.parquet": _file(0), "data/train-1.parquet": _file(10)})
    follower = _follower(inproc_hub)
    first = follower.latest_offset(follower.initial_offset(), limited=False)
    sha = _commit(inproc_hub, {"data/train-0.parquet": _file(100), "data/train-2.parquet": _file(20)},
                  delete=("data/train-1.parquet",))
    with pytest.raises(UpstreamRewriteError) as exc:
        follower.latest_offset(first, limited=False)
    message = str(exc.value)
    assert message.startswith(f"dataset o/live@main: commit {sha} deleted or rewrote 2 file(s) of split 'train' "
                              f"the stream had already reached at commit {first.sha} (data/train-0.parquet, "
                              "data/train-1.parquet): an overwrite upstream")
    assert "on_deleted_files=continue" in message and "new checkpoint" in message
    assert exc.value.removed == ["data/train-0.parquet", "data/train-1.parquet"]


def test_on_deleted_files_continue_reads_the_new_files_only(inproc_hub: InProcessHub,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    inproc_hub.dataset("o/live", {"data/train-0.parquet": _file(0), "data/train-1.parquet": _file(10)})
    follower = _follower(inproc_hub, on_deleted_files="continue")
    first = follower.latest_offset(follower.initial_offset(), limited=False)
    _commit(inproc_hub, {"data/train-0.parquet": _file(100), "data/train-2.parquet": _file(20)},
            delete=("data/train-1.parquet",))
    with caplog.at_level(logging.WARNING, "hfconnect.stream"):
        second = follower.latest_offset(first, limited=False)
    assert "deleted or rewrote 2 file(s)" in caplog.text
    assert _ids(follower, first, second) == list(range(20, 30)) + list(range(100, 110))  # the rewrite is new


def test_a_split_that_does_not_exist_yet_is_waited_for(inproc_hub: InProcessHub,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    inproc_hub.dataset("o/live", {"data/train-0.parquet": _file(0)})
    follower = _follower(inproc_hub, split="validation")
    start = follower.initial_offset()
    with caplog.at_level(logging.WARNING, "hfconnect.stream"):
        empty = follower.latest_offset(start, limited=False)
        assert follower.plan(start, empty) is None
        _commit(inproc_hub, {"data/train-1.parquet": _file(10)})
        still = follower.latest_offset(empty, limited=False)
        assert follower.plan(empty, still) is None
    assert caplog.text.count("the stream waits for it") == 1  # warned once, not every trigger
    _commit(inproc_hub, {"data/validation-0.parquet": _file(500)})
    end = follower.latest_offset(still, limited=False)
    assert _ids(follower, still, end) == list(range(500, 510))


def test_split_all_plans_carry_each_files_split(inproc_hub: InProcessHub) -> None:
    inproc_hub.dataset("o/live", {"data/train-0.parquet": _file(0, 2), "data/test-0.parquet": _file(900, 2)})
    follower = DatasetFollower(ReadOptions.build(repo="o/live", endpoint=inproc_hub.endpoint, token=WRITE_TOKEN,
                                                 split="all"), StreamReadOptions(),
                               SCHEMA.append(pa.field("split", pa.string())))
    assert follower.file_schema == SCHEMA  # the split column is the reader's to add, not the files'
    start = follower.initial_offset()
    plan = follower.plan(start, follower.latest_offset(start, limited=False))
    assert plan is not None
    rows = sorted((r["id"], r["split"]) for shard in plan.shards for b in read_shard(plan, shard)
                  for r in b.to_pylist())
    assert rows == [(0, "train"), (1, "train"), (900, "test"), (901, "test")]
