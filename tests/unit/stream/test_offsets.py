"""Stream offsets: their JSON form (what Spark checkpoints), how much one trigger admits, and which files of a
span a micro-batch between two offsets reads."""

from __future__ import annotations

import json

import pytest

from hfconnect.errors import HfConnectError
from hfconnect.hub.datafiles import DataFile
from hfconnect.stream.offsets import StreamOffset, admit, batch_span

A, B, C = "a" * 40, "b" * 40, "c" * 40
FILES = [DataFile(f"data/f{i}.parquet", size, "parquet") for i, size in enumerate([10, 20, 30, 40, 500])]


@pytest.mark.parametrize("offset", [StreamOffset(""), StreamOffset(A), StreamOffset(B, A, 3), StreamOffset(B, "", 1)])
def test_offsets_round_trip_through_json_text(offset: StreamOffset) -> None:
    text = json.dumps(offset.to_json())
    assert StreamOffset.from_json(json.loads(text)) == offset
    assert json.dumps(StreamOffset.from_json(json.loads(text)).to_json()) == text  # Spark compares the text


def test_a_complete_offset_is_just_its_commit() -> None:
    assert StreamOffset(A).to_json() == {"sha": A}
    assert StreamOffset(A).complete and not StreamOffset(B, A, 1).complete
    assert StreamOffset(B, "", 2).to_json() == {"sha": B, "base": "", "taken": 2}  # a span from nothing


@pytest.mark.parametrize("value", [{}, {"offset": 3}, {"sha": A, "taken": "x"}, {"partition": {"index": 1}}])
def test_an_offset_of_another_source_says_to_use_a_new_checkpoint(value: dict) -> None:
    with pytest.raises(HfConnectError, match="not an offset of hfconnect's streaming source.*new checkpointLocation"):
        StreamOffset.from_json(value)


@pytest.mark.parametrize(("max_files", "max_bytes", "taken"), [
    (None, None, 5),   # no limit: everything
    (2, None, 2),
    (None, 60, 3),     # 10 + 20 + 30 = 60 fits exactly
    (None, 59, 2),
    (2, 1000, 2),      # both limits: the tighter one
    (10, 35, 2),
    (None, 1, 1),      # a file larger than the byte limit is still read, alone: the stream moves
    (1, 1, 1),
])
def test_admit_takes_files_within_both_limits_and_at_least_one(max_files, max_bytes, taken) -> None:
    assert admit(FILES, max_files, max_bytes) == taken


def test_admit_of_nothing_is_nothing() -> None:
    assert admit([], 3, 10) == 0


def test_a_batch_between_whole_commits_reads_the_whole_span() -> None:
    assert batch_span(StreamOffset(A), StreamOffset(B)) == (A, B, 0, None)
    assert batch_span(StreamOffset(""), StreamOffset(B)) == ("", B, 0, None)


def test_batches_inside_a_span_cut_by_a_limit_read_consecutive_slices() -> None:
    assert batch_span(StreamOffset(A), StreamOffset(B, A, 2)) == (A, B, 0, 2)
    assert batch_span(StreamOffset(B, A, 2), StreamOffset(B, A, 4)) == (A, B, 2, 4)
    assert batch_span(StreamOffset(B, A, 4), StreamOffset(B)) == (A, B, 4, None)
    # Together they tile the span: no file read twice, none skipped.
    slices = [batch_span(s, e)[2:] for s, e in [(StreamOffset(A), StreamOffset(B, A, 2)),
                                                  (StreamOffset(B, A, 2), StreamOffset(B, A, 4)),
                                                  (StreamOffset(B, A, 4), StreamOffset(B))]]
    assert [f.path for first, stop in slices for f in FILES[first:stop]] == [f.path for f in FILES]


@pytest.mark.parametrize(("start", "end"), [
    (StreamOffset(C), StreamOffset(B, A, 2)),        # the span starts elsewhere
    (StreamOffset(B, A, 4), StreamOffset(B, A, 2)),  # backwards
    (StreamOffset(B, C, 1), StreamOffset(B, A, 2)),  # another span
    (StreamOffset(B, A, 1), StreamOffset(C)),        # leaves a span for another commit
])
def test_offsets_that_do_not_follow_each_other_are_an_error(start, end) -> None:
    with pytest.raises(HfConnectError, match="do not follow each other.*new checkpointLocation"):
        batch_span(start, end)
