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


@pytest.mark.parametrize("offset", [StreamOffset(""), StreamOffset(A), StreamOffset(B, A), StreamOffset(B, A, 3),
                                    StreamOffset(B, "", 1)])
def test_offsets_round_trip_through_json_text(offset: StreamOffset) -> None:
    text = json.dumps(offset.to_json())
    assert StreamOffset.from_json(json.loads(text)) == offset
    assert json.dumps(StreamOffset.from_json(json.loads(text)).to_json()) == text  # Spark compares the text


def test_an_offset_names_its_commit_its_span_and_how_much_of_it_was_taken() -> None:
    assert StreamOffset(A).to_json() == {"sha": A}  # a starting offset: it ends no span
    assert StreamOffset(B, A).to_json() == {"sha": B, "base": A}  # the whole span A..B
    assert StreamOffset(B, "", 2).to_json() == {"sha": B, "base": "", "taken": 2}  # 2 files of a span from nothing
    assert StreamOffset(B, A).complete and not StreamOffset(B, A, 1).complete


@pytest.mark.parametrize("value", [{}, {"offset": 3}, {"sha": A, "base": A, "taken": "x"}, {"sha": A, "taken": 2},
                                   {"sha": A, "base": A, "taken": -1}, {"partition": {"index": 1}}, [A]])
def test_an_offset_of_another_source_says_to_use_a_new_checkpoint(value) -> None:
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


def test_a_batch_between_whole_spans_reads_the_whole_span() -> None:
    assert batch_span(StreamOffset(A), StreamOffset(B, A)) == (A, B, 0, None)  # from a starting offset
    assert batch_span(StreamOffset(""), StreamOffset(B, "")) == ("", B, 0, None)  # earliest
    assert batch_span(StreamOffset(B, A), StreamOffset(C, B)) == (B, C, 0, None)  # one span after another


def test_batches_inside_a_span_cut_by_a_limit_read_consecutive_slices() -> None:
    steps = [StreamOffset(A), StreamOffset(B, A, 2), StreamOffset(B, A, 4), StreamOffset(B, A)]
    spans = [batch_span(s, e) for s, e in zip(steps, steps[1:], strict=False)]
    assert spans == [(A, B, 0, 2), (A, B, 2, 4), (A, B, 4, None)]
    # Together they tile the span: no file read twice, none skipped.
    assert [f.path for _, _, first, stop in spans for f in FILES[first:stop]] == [f.path for f in FILES]


def test_a_replayed_first_batch_reads_what_its_logged_end_planned_whatever_the_start_is_now() -> None:
    # starting=latest resolved to A when the query started; the first batch was planned as A..B, then the driver
    # died. On restart Spark asks for the starting offset again and gets C (newer): the batch still reads A..B.
    assert batch_span(StreamOffset(C), StreamOffset(B, A)) == (A, B, 0, None)
    assert batch_span(StreamOffset(C), StreamOffset(B, A, 2)) == (A, B, 0, 2)


def test_a_first_batch_ending_at_the_starting_offset_reads_nothing_even_when_replayed() -> None:
    # Spark runs batch 0 from the starting offset to itself when nothing was new yet; replayed after a crash, it
    # asks for the starting offset again, which for starting=latest may be a newer commit.
    assert batch_span(StreamOffset(A), StreamOffset(A)) is None
    assert batch_span(StreamOffset(C), StreamOffset(A)) is None
    assert batch_span(StreamOffset(""), StreamOffset("")) is None


@pytest.mark.parametrize(("start", "end"), [
    (StreamOffset(C, A), StreamOffset(B, A, 2)),     # the span starts elsewhere
    (StreamOffset(B, A, 4), StreamOffset(B, A, 2)),  # backwards
    (StreamOffset(B, C, 1), StreamOffset(B, A, 2)),  # another span
    (StreamOffset(B, A, 1), StreamOffset(C, B)),     # leaves a span unfinished for the next one
])
def test_offsets_that_do_not_follow_each_other_are_an_error(start, end) -> None:
    with pytest.raises(HfConnectError, match="do not follow each other.*new checkpointLocation"):
        batch_span(start, end)
