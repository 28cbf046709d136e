"""hfconnect.daft writes through the real local hub: one commit per write, read back three ways, modes, splits,
failures that commit nothing, file metadata, tokens, and (in its own process) the Ray runner."""

from __future__ import annotations

import io
import json
import pickle
import re
import urllib.request
import uuid

import daft
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from daft.exceptions import DaftCoreException

from hfconnect.daft import HuggingFaceSink, read_huggingface, write_huggingface
from hfconnect.daft.sink import hub_schema
from hfconnect.errors import AuthenticationError, HfConnectError, SchemaMismatchError
from hfconnect.options import WriteOptions
from hfconnect.write.parquet_writer import CDC_DEFAULTS, METADATA_KEY
from tests.conftest import READ_TOKEN, WRITE_TOKEN
from tests.data import commits, make_table, run_on_ray

pytestmark = pytest.mark.integration

N = 50_000
SMALL = {"max_file_size": "100KB", "row_group_bytes": "64KB"}  # several files, several row groups per file


def _table(n: int, offset: int = 0) -> pa.Table:
    return make_table(n, offset, columns=("id", "text", "label", "score", "tags"), null_every=11)


def _rows(table: pa.Table) -> dict[str, list]:
    return table.sort_by("id").to_pydict()


def _repo() -> str:
    return f"tests/daft-w-{uuid.uuid4().hex[:10]}"  # not created: the write creates it


def _head(api, repo: str) -> str:
    return api.dataset_info(repo).sha


def _resolve(hub, repo: str, sha: str, path: str) -> bytes:
    with urllib.request.urlopen(f"{hub.endpoint}/datasets/{repo}/resolve/{sha}/{path}", timeout=30) as resp:
        return resp.read()


def _split_files(api, repo: str, split: str, config_dir: str = "data") -> list[str]:
    files = api.list_repo_files(repo, repo_type="dataset")
    return sorted(f for f in files if f.startswith(f"{config_dir}/{split}-") and f.endswith(".parquet"))


@daft.func
def _fails_late(x: int) -> int:
    if x >= 45_000:
        raise ValueError(f"bad row {x}")
    return x


@pytest.fixture(scope="module")
def written(hub, api):
    """One 50k-row write to a new repo: (repo, table, CommitResult, the repo's commits before, and after)."""
    repo, table = _repo(), _table(N)
    before = commits(api, repo)
    result = write_huggingface(daft.from_arrow(table), repo, token=WRITE_TOKEN, **SMALL)
    return repo, table, result, before, commits(api, repo)


def test_one_commit_and_read_back_three_ways(written, hub, api):
    repo, table, result, before, after = written
    assert after == before + 1
    assert result.commit_sha == _head(api, repo) and result.rows == N and result.deleted == ()
    assert len(result.files) >= 3
    assert list(result.files) == [f"data/train-{i:05d}-of-{len(result.files):05d}.parquet"
                                  for i in range(len(result.files))]
    assert sorted(api.list_repo_files(repo, repo_type="dataset")) == sorted([*result.files, ".gitattributes",
                                                                             "README.md"])
    expected = _rows(table)
    # 1. hfconnect's own Daft reader
    assert _rows(read_huggingface(repo, split="train").to_arrow()) == expected
    # 2. pyarrow over the resolve URLs, pinned to the commit
    files = [pq.read_table(io.BytesIO(_resolve(hub, repo, result.commit_sha, p))) for p in result.files]
    assert sum(f.num_rows for f in files) == N
    assert _rows(pa.concat_tables(files)) == expected
    # Daft's large types are written as the regular ones the Hub and `datasets` use
    assert files[0].schema.field("text").type == pa.string()
    assert files[0].schema.field("tags").type == pa.list_(pa.int64())
    # 3. datasets.load_dataset, through the card written in the same commit
    import datasets

    ds = datasets.load_dataset(repo, split="train")
    assert ds.num_rows == N
    assert _rows(ds.with_format("arrow")[:].select(table.column_names)) == expected


def test_files_carry_page_index_and_writer_metadata(written, hub):
    repo, _, result, _, _ = written
    for path in result.files[:2]:
        meta = pq.ParquetFile(io.BytesIO(_resolve(hub, repo, result.commit_sha, path))).metadata
        assert meta.num_row_groups >= 2
        assert meta.row_group(0).column(0).has_offset_index and meta.row_group(0).column(0).has_column_index
        writer = json.loads(meta.metadata[METADATA_KEY])
        assert writer["cdc"] == CDC_DEFAULTS and writer["page_index"] is True and writer["compression"] == "zstd"
        assert meta.row_group(0).column(0).compression == "ZSTD"


def test_overwrite_one_split_keeps_the_other(api):
    repo = _repo()
    write_huggingface(daft.from_arrow(_table(2_000)), repo, token=WRITE_TOKEN)
    test_rows = _table(500, 100_000)
    write_huggingface(daft.from_arrow(test_rows), repo, split="test", token=WRITE_TOKEN)
    old_train = _split_files(api, repo, "train")
    before = commits(api, repo)
    new_train = _table(3_000, 10_000)
    result = write_huggingface(daft.from_arrow(new_train), repo, mode="overwrite", token=WRITE_TOKEN,
                               max_file_size="100KB")
    assert commits(api, repo) == before + 1 and result.rows == 3_000
    assert _split_files(api, repo, "train") == sorted(result.files)
    assert set(old_train) - set(result.files) <= set(result.deleted)
    assert _rows(read_huggingface(repo, split="train").to_arrow()) == _rows(new_train)
    assert _rows(read_huggingface(repo, split="test").to_arrow()) == _rows(test_rows)
    import datasets

    assert datasets.load_dataset(repo, split="test").num_rows == 500
    assert datasets.load_dataset(repo, split="train").num_rows == 3_000


def test_append_twice_keeps_both(api):
    repo = _repo()
    first, second = _table(4_000), _table(6_000, 50_000)
    before = commits(api, repo)
    r1 = write_huggingface(daft.from_arrow(first), repo, token=WRITE_TOKEN, max_file_size="100KB")
    r2 = write_huggingface(daft.from_arrow(second), repo, mode="append", token=WRITE_TOKEN, max_file_size="100KB")
    assert commits(api, repo) == before + 2
    assert r1.rows + r2.rows == 10_000 and not set(r1.files) & set(r2.files)
    files = _split_files(api, repo, "train")
    assert files == sorted(r1.files + r2.files) and len(set(files)) == len(files)
    assert all(f.startswith("data/train-") for f in files)
    got = read_huggingface(repo, split="train").to_arrow()
    assert got.num_rows == 10_000 and _rows(got) == _rows(pa.concat_tables([first, second]))
    import datasets

    assert datasets.load_dataset(repo, split="train").num_rows == 10_000


def test_modes_error_and_ignore_commit_nothing(own_hub, own_api):
    """On a hub of its own, which counts this test's uploads only."""
    repo, api, at = _repo(), own_api, {"endpoint": own_hub.endpoint, "token": WRITE_TOKEN}
    df = daft.from_arrow(_table(100))
    write_huggingface(df, repo, mode="error", **at)  # no data yet: error and ignore write
    sha, before = _head(api, repo), commits(api, repo)
    for mode in ("error", "errorifexists"):
        with pytest.raises(HfConnectError, match=rf"{repo} config 'default' split 'train' already has 1 file\(s\) "
                                                 rf"and mode is '{mode}'") as exc:
            write_huggingface(df, repo, mode=mode, **at)
        assert type(exc.value) is HfConnectError  # the base class itself: no subclass says "exists"
    # ignore on existing data: nothing committed, and the DataFrame does not even run
    failing = df.with_column("id", _fails_late(df["id"] + 45_000))
    result = write_huggingface(failing, repo, mode="ignore", **at)
    assert result.commit_sha is None and result.files == () and result.rows == 0
    # an append whose columns differ from the split's is refused before anything is uploaded
    uploads = own_hub.counters()["upload"]["requests"]
    with pytest.raises(SchemaMismatchError, match=rf"cannot append to {repo} split 'train': its files have columns "
                                                  r"\[id:int64,.*\] but the new rows have \[other:int64\]"):
        write_huggingface(daft.from_pydict({"other": [1, 2]}), repo, **at)
    assert own_hub.counters()["upload"]["requests"] == uploads
    assert commits(api, repo) == before and _head(api, repo) == sha
    # ignore and error on a split without data do write, once
    assert write_huggingface(df, repo, split="test", mode="ignore", **at).rows == 100
    assert write_huggingface(df, repo, split="validation", mode="error", **at).rows == 100
    assert commits(api, repo) == before + 2


def test_a_failing_write_commits_nothing(own_hub, own_api):
    """Rows 45k+ fail in a UDF after earlier batches were written and uploaded: no commit, branch unchanged.
    On a hub of its own, which counts this test's uploads only."""
    repo, api, at = _repo(), own_api, {"endpoint": own_hub.endpoint, "token": WRITE_TOKEN}
    kept = _table(1_000, 100_000)
    write_huggingface(daft.from_arrow(kept), repo, **at)
    sha, before, uploads = _head(api, repo), commits(api, repo), own_hub.counters()["upload"]["requests"]
    df = daft.from_arrow(_table(N, 0)).into_batches(5_000)
    df = df.with_column("id", _fails_late(df["id"]))
    with pytest.raises(DaftCoreException, match=r"ValueError: bad row 4[5-9]\d{3}"):
        write_huggingface(df, repo, mode="overwrite", max_file_size="100KB", row_group_bytes="32KB", **at)
    assert own_hub.counters()["upload"]["requests"] > uploads  # files were uploaded from the task before it failed
    assert commits(api, repo) == before and _head(api, repo) == sha
    assert _rows(read_huggingface(repo, split="train", endpoint=own_hub.endpoint).to_arrow()) == _rows(kept)


def test_read_only_token_fails_before_anything_is_committed(own_hub, own_api):
    """On a hub of its own, which counts this test's uploads and commits only."""
    api, repo, new = own_api, _repo(), _repo()
    write_huggingface(daft.from_arrow(_table(10)), repo, endpoint=own_hub.endpoint, token=WRITE_TOKEN)
    sha = _head(api, repo)
    own_hub.reset_counters()
    with pytest.raises(AuthenticationError, match=rf"^the token given for {new} is read-only: writing needs a "
                                                  r"write token$"):  # found in begin: no repo, nothing uploaded
        write_huggingface(daft.from_arrow(_table(10)), new, endpoint=own_hub.endpoint, token=READ_TOKEN)
    assert new not in [d.id for d in api.list_datasets(author="tests")]
    with pytest.raises(AuthenticationError, match="read-only"):  # existing repo: refused in begin, before rows
        write_huggingface(daft.from_arrow(_table(10)), repo, endpoint=own_hub.endpoint, token=READ_TOKEN)
    counters = own_hub.counters()
    assert counters["upload"]["requests"] == 0 and counters["commits"] == 0
    assert _head(api, repo) == sha


def test_write_sink_returns_a_result_frame_and_tasks_commit_once(api):
    """The DataSink by hand, as a distributed run drives it: pickled to three tasks, one finalize, one commit."""
    repo = _repo()
    parts = [_table(1_000, i * 1_000) for i in range(3)]
    schema = daft.from_arrow(parts[0]).schema()
    sink = HuggingFaceSink(WriteOptions.build(repo=repo, token=WRITE_TOKEN, max_file_size="20KB"), schema)
    assert WRITE_TOKEN not in repr(sink) and WRITE_TOKEN not in sink.name()
    assert sink.arrow_schema == hub_schema(schema) and sink.arrow_schema.field("text").type == pa.string()
    before = commits(api, repo)
    sink.start()
    results = []
    for part in parts:
        task = pickle.loads(pickle.dumps(sink))
        micro = daft.from_arrow(part).to_arrow()
        results += list(task.write(iter([daft.recordbatch.MicroPartition.from_arrow(micro)])))
    assert commits(api, repo) == before  # tasks upload, never commit
    ids = {r.result.partition_id for r in results}
    assert len(ids) == 3 and all(r.rows_written == 1_000 for r in results)
    out = sink.finalize(results)
    assert commits(api, repo) == before + 1
    with pytest.raises(RuntimeError, match="writes once"):
        daft.from_arrow(parts[0]).write_sink(sink)
    got = out.to_pydict()
    assert got["commit_sha"] == [_head(api, repo)] and got["rows"] == [3_000]
    assert got["files"][0] == list(sink.result.files) and len(got["files"][0]) >= 3
    assert _rows(read_huggingface(repo, split="train").to_arrow()) == _rows(pa.concat_tables(parts))
    # and through DataFrame.write_sink: a one-row DataFrame of the same summary
    frame = daft.from_arrow(_table(10, 5_000)).write_sink(
        HuggingFaceSink(WriteOptions.build(repo=repo, split="test", token=WRITE_TOKEN), schema))
    row = frame.to_pydict()
    assert row["rows"] == [10] and row["commit_sha"] == [_head(api, repo)] and row["deleted"] == [[]]
    assert commits(api, repo) == before + 2


RAY_WRITE = """
import json

import pyarrow as pa

from hfconnect.daft import write_huggingface

endpoint, repo, token = sys.argv[1:4]
n = 30_000
table = pa.table({"id": pa.array(range(n), pa.int64()), "text": [f"t{i}" * 3 for i in range(n)]})
df = daft.from_arrow(table).repartition(3)
result = write_huggingface(df, repo, endpoint=endpoint, token=token)


@daft.func
def fails(x: int) -> int:
    if x % 10_007 == 5:
        raise ValueError("bad row")
    return x


try:
    write_huggingface(df.with_column("id", fails(df["id"])), repo, mode="overwrite", endpoint=endpoint,
                      token=token)
    failed = ""
except Exception as exc:  # reported to the test, which checks what failed
    failed = f"{type(exc).__name__}: {exc}"
print(json.dumps({"sha": result.commit_sha, "files": list(result.files), "rows": result.rows,
                  "failed": failed}))
"""


@pytest.mark.slow
def test_ray_runner_in_its_own_process(hub, api):
    repo = _repo()
    before = commits(api, repo)
    proc = run_on_ray(RAY_WRITE, hub.endpoint, repo, WRITE_TOKEN)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    # on Ray, the UDF's error arrives wrapped: RayTaskError(DaftCoreException) naming the row
    assert re.match(r"RayTaskError\(DaftCoreException\): .*ValueError: bad row", out["failed"], re.DOTALL), \
        out["failed"]
    assert out["rows"] == 30_000
    assert commits(api, repo) == before + 1  # the good write committed once; the failing one not at all
    assert out["sha"] == _head(api, repo) and len(out["files"]) >= 3  # one file (at least) per partition
    got = read_huggingface(repo, split="train").to_arrow()
    assert got.num_rows == 30_000 and got.sort_by("id")["id"].to_pylist() == list(range(30_000))


def test_append_in_narrower_types_keeps_the_split_s_schema(api):
    """int32/float32/list<int16> rows appended to a split of int64/double/list<int64>: written in the split's
    types, so `datasets` loads the split (it refuses files that disagree)."""
    import datasets

    repo, table = _repo(), _table(100)
    write_huggingface(daft.from_arrow(table), repo, token=WRITE_TOKEN)
    narrow = pa.schema([("id", pa.int32()), ("text", pa.string()), ("label", pa.int8()), ("score", pa.float32()),
                        ("tags", pa.list_(pa.int16()))])
    result = write_huggingface(daft.from_arrow(_table(50, 100).cast(narrow)), repo, token=WRITE_TOKEN)
    assert result.rows == 50
    schemas = [pq.read_schema(api.hf_hub_download(repo, f, repo_type="dataset")).remove_metadata()
               for f in _split_files(api, repo, "train")]
    assert len(schemas) == 2 and schemas[0].equals(schemas[1])  # one schema for the split's files
    assert [str(t) for t in schemas[0].types[:4]] == ["int64", "string", "int32", "double"]
    assert schemas[0].field("tags").type.value_type == pa.int64()
    loaded = datasets.load_dataset(repo, split="train")
    assert sorted(loaded["id"]) == list(range(150))


def test_io_config_gives_the_token_with_overwrite(api):
    """Daft's own spelling of a write (io_config's token, overwrite=True) as a Daft user writes it."""
    from daft.io import HuggingFaceConfig, IOConfig

    repo = _repo()
    io_config = IOConfig(hf=HuggingFaceConfig(token=WRITE_TOKEN))
    result = write_huggingface(daft.from_arrow(_table(100)), repo, io_config=io_config, overwrite=True)
    assert result.rows == 100 and result.commit_sha == _head(api, repo)


def test_a_misspelled_keyword_names_the_right_one():
    with pytest.raises(TypeError, match=r"write_huggingface\(\) got an unknown keyword 'overwite'; did you mean "
                                        r"'overwrite'\?"):
        write_huggingface(daft.from_arrow(_table(1)), _repo(), overwite=True)
    with pytest.raises(HfConnectError, match=r"read_huggingface\(\) got an unknown keyword 'splt'; did you mean "
                                             r"'split'\?"):
        read_huggingface("tests/anything", splt="test")
