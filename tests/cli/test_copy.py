"""`hfconnect copy`, run as a user runs it: every split in ONE commit, one split on request, Parquet that other
writers encode differently (dictionary columns), and a copy that fails midway leaves nothing behind."""

from __future__ import annotations

import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.cli.command import hfconnect
from tests.data import commits, make_table, parquet_bytes

pytestmark = pytest.mark.integration

SPLITS = {"train": make_table(500), "validation": make_table(50, 1_000), "test": make_table(70, 2_000)}


def new_name(what: str) -> str:
    return f"tests/cli-{what}-{uuid.uuid4().hex[:10]}"


def publish(api, files: dict[str, bytes]) -> str:
    """A new dataset repo holding `files` (path -> bytes) in one commit."""
    from huggingface_hub import CommitOperationAdd

    repo = new_name("src")
    api.create_repo(repo, repo_type="dataset")
    api.create_commit(repo, repo_type="dataset", commit_message="data",
                      operations=[CommitOperationAdd(path, data) for path, data in files.items()])
    return repo


@pytest.fixture(scope="module")
def three_splits(api) -> str:
    """train in 2 files, validation and test in 1 each."""
    train = SPLITS["train"]
    return publish(api, {"data/train-00000-of-00002.parquet": parquet_bytes(train.slice(0, 300)),
                         "data/train-00001-of-00002.parquet": parquet_bytes(train.slice(300)),
                         "data/validation-00000-of-00001.parquet": parquet_bytes(SPLITS["validation"]),
                         "data/test-00000-of-00001.parquet": parquet_bytes(SPLITS["test"])})


def read_back(repo: str, split: str) -> pa.Table:
    """The split as `datasets` loads it: through the card the copy's commit wrote."""
    import datasets

    return datasets.load_dataset(repo, split=split).data.table


def by_id(table: pa.Table) -> pa.Table:
    return table.sort_by("id")


def test_copy_writes_every_split_in_one_commit(hub, api, three_splits: str) -> None:
    dst = new_name("copy")
    out = hfconnect(hub.endpoint, "copy", three_splits, dst)
    assert out.returncode == 0, out.stderr
    assert commits(api, dst) == 1
    sha = api.dataset_info(dst).sha
    assert out.stdout.splitlines()[1:] == ["  train: 500 rows", "  validation: 50 rows", "  test: 70 rows",
                                          f"620 rows in 3 file(s), one commit {sha}"]
    for split, table in SPLITS.items():
        assert by_id(read_back(dst, split)).equals(table), split
    # The mode concerns DST's config: ignore sees its splits and writes nothing, overwrite replaces them in one commit
    ignored = hfconnect(hub.endpoint, "copy", three_splits, dst, "--mode", "ignore")
    assert ignored.returncode == 0 and f"nothing written: mode ignore and {dst} config 'default' has data" \
        in ignored.stdout and commits(api, dst) == 1
    again = hfconnect(hub.endpoint, "copy", three_splits, dst, "--mode", "overwrite")
    assert again.returncode == 0, again.stderr
    assert commits(api, dst) == 2 and len(api.list_repo_files(dst, repo_type="dataset")) == 5  # 3 files, card, attrs


def test_copy_of_one_split_copies_only_it(hub, api, three_splits: str) -> None:
    dst = new_name("copy-test")
    out = hfconnect(hub.endpoint, "copy", three_splits, dst, "--split", "test")
    assert out.returncode == 0, out.stderr
    assert "split(s) test -> " in out.stdout and "  test: 70 rows\n" in out.stdout
    assert commits(api, dst) == 1
    assert sorted(f for f in api.list_repo_files(dst, repo_type="dataset") if f.endswith(".parquet")) == \
        ["data/test-00000-of-00001.parquet"]
    assert by_id(read_back(dst, "test")).equals(SPLITS["test"])


def test_copy_of_dictionary_encoded_strings(hub, api) -> None:
    """pyarrow writes a dictionary column's Arrow type into the file's metadata: Daft reads such files too."""
    kinds = [None if i % 9 == 0 else f"kind {i % 4}" for i in range(200)]
    table = pa.table({"id": pa.array(range(200), pa.int64()), "kind": pa.array(kinds).dictionary_encode(),
                      "tag": pa.array([f"t{i % 3}" for i in range(200)]).dictionary_encode()})
    buf = pa.BufferOutputStream()
    pq.write_table(table, buf, row_group_size=64)
    src = publish(api, {"data/train-00000-of-00001.parquet": buf.getvalue().to_pybytes()})
    dst = new_name("copy-dict")
    out = hfconnect(hub.endpoint, "copy", src, dst)
    assert out.returncode == 0, out.stderr
    back = by_id(read_back(dst, "train"))
    assert back.column("id").to_pylist() == table.column("id").to_pylist()
    for name in ("kind", "tag"):
        assert back.column(name).to_pylist() == table.column(name).to_pylist(), name


def corrupt_pages(data: bytes) -> bytes:
    """A Parquet file whose footer (schema, row counts, statistics) is intact and whose pages are garbage: every
    plan and schema read succeeds, the rows fail to decode."""
    footer = int.from_bytes(data[-8:-4], "little") + 8
    body = len(data) - footer
    return data[:4] + b"\xab" * (body - 4) + data[body:]


def test_a_copy_that_fails_midway_leaves_no_repo_and_prints_one_line(hub, api) -> None:
    src = publish(api, {"data/train-00000-of-00001.parquet": parquet_bytes(make_table(3_000)),
                        "data/test-00000-of-00001.parquet": corrupt_pages(parquet_bytes(make_table(500, 5_000)))})
    dst = new_name("copy-failed")
    out = hfconnect(hub.endpoint, "copy", src, dst)
    assert out.returncode == 1, out.stderr  # not SIGABRT (Daft's threads at exit)
    assert "Traceback" not in out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("hfconnect: error: ")]
    assert len(errors) == 1 and "test-00000-of-00001.parquet" in errors[0], out.stderr
    assert "hint: run with --debug for the traceback" in out.stderr
    assert not api.repo_exists(dst, repo_type="dataset")  # the job created it, the job's abort deleted it
