"""hfconnect.daft reads through the real local hub: configs and splits from the card, pushdowns, limits,
private repos, and (in its own process) the Ray runner."""

from __future__ import annotations

import asyncio
import io
import pickle
import uuid
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from daft import col
from daft.datatype import DataType
from daft.io.pushdowns import Pushdowns
from huggingface_hub import CommitOperationAdd

from hfconnect.daft import HuggingFaceSource, read_huggingface
from hfconnect.daft.filters import to_arrow_filter
from hfconnect.errors import ConfigNotFoundError, OptionError, RepoNotFoundError, SplitNotFoundError
from hfconnect.options import ReadOptions
from tests.conftest import READ_TOKEN
from tests.data import FAULT_RULES, card, download_faults, hub_with_one_file, make_table, parquet_bytes, run_on_ray

pytestmark = pytest.mark.integration

CARD = card({"main": {"train": "main/train-*.parquet", "test": "main/test-*.parquet"},
             "extra": {"train": "extra/train.parquet", "validation": "extra/validation.parquet"}}, default="main")
MAIN_COLUMNS = ("id", "hex", "value", "kind", "fraction")  # hex: text that barely compresses; kind: has nulls
ROWS_PER_TRAIN_FILE = 15_000
ROW_GROUP = 3_000  # ~175 KB uncompressed per row group: shard_size=200KB puts one row group in each shard


def _sharding(reader: str, size: str = "200KB") -> dict[str, str]:
    """shard_size cuts hfconnect's reader tasks; Daft's native reader refuses it (it splits files itself)."""
    return {"shard_size": size} if reader == "hfconnect" else {}


def _main_table(start: int, n: int) -> pa.Table:
    return make_table(n, start, columns=MAIN_COLUMNS)


def _parquet(table: pa.Table, row_group_size: int) -> bytes:
    return parquet_bytes(table, row_group_size, compression="none")


@pytest.fixture(scope="module")
def dataset(api) -> tuple[str, dict[tuple[str, str], pa.Table]]:
    """A public two-config dataset; returns the repo id and, per (config, split), pyarrow's read of the bytes."""
    from huggingface_hub import CommitOperationAdd

    files = {
        "main/train-00000.parquet": _parquet(_main_table(0, ROWS_PER_TRAIN_FILE), ROW_GROUP),
        "main/train-00001.parquet": _parquet(_main_table(ROWS_PER_TRAIN_FILE, ROWS_PER_TRAIN_FILE), ROW_GROUP),
        "main/test-00000.parquet": _parquet(_main_table(100_000, 2_000), 500),
        "extra/train.parquet": _parquet(pa.table({"id": list(range(1000)), "name": [f"n{i}" for i in range(1000)]}),
                                        300),
        "extra/validation.parquet": _parquet(pa.table({"id": list(range(500)), "name": ["v"] * 500}), 300),
    }
    repo = f"tests/daft-{uuid.uuid4().hex[:10]}"
    api.create_repo(repo, repo_type="dataset")
    ops = [CommitOperationAdd(path, data) for path, data in files.items()]
    ops.append(CommitOperationAdd("README.md", CARD.encode()))
    api.create_commit(repo, ops, commit_message="data", repo_type="dataset")

    def read(*paths: str) -> pa.Table:
        return pa.concat_tables(pq.read_table(io.BytesIO(files[p])) for p in paths)

    expected = {
        ("main", "train"): read("main/train-00000.parquet", "main/train-00001.parquet"),
        ("main", "test"): read("main/test-00000.parquet"),
        ("extra", "train"): read("extra/train.parquet"),
        ("extra", "validation"): read("extra/validation.parquet"),
    }
    return repo, expected


@pytest.fixture(params=["native", "hfconnect"])
def reader(request) -> str:
    """Both Daft readers: Daft's native Parquet reader at the pinned URLs, and hfconnect's own."""
    return request.param


def _rows(table: pa.Table, key: str = "id") -> dict[str, list]:
    return table.sort_by(key).to_pydict()


def _expected(dataset, config: str, split: str, where: pc.Expression | None = None,
              columns: list[str] | None = None) -> dict[str, list]:
    table = dataset[1][(config, split)]
    if where is not None:
        table = table.filter(where)
    table = table.sort_by("id")
    return table.select(columns).to_pydict() if columns else table.to_pydict()


@pytest.mark.parametrize(("config", "split"), [("main", "train"), ("main", "test"), (None, "test"),
                                               ("extra", "train"), ("extra", "validation")])
def test_each_config_and_split_equals_pyarrow(dataset, config, split, reader):
    df = read_huggingface(dataset[0], config=config, split=split, reader=reader, **_sharding(reader))
    assert _rows(df.to_arrow()) == _expected(dataset, config or "main", split)


def test_large_files_split_by_row_group(dataset):
    source = HuggingFaceSource(ReadOptions.build(repo=dataset[0], split="train", shard_size="200KB",
                                                 min_shards=2 * ROWS_PER_TRAIN_FILE // ROW_GROUP,
                                                 daft_reader="hfconnect"))
    shards = source.plan.shards
    assert len(shards) == 2 * ROWS_PER_TRAIN_FILE // ROW_GROUP
    assert all(part.row_groups is not None and len(part.row_groups) == 1 for s in shards for part in s.parts)
    assert len(source.plan.snapshot.sha) == 40
    # The native reader splits files itself: whole files; each footer read once, for the schema.
    native = HuggingFaceSource(ReadOptions.build(repo=dataset[0], split="train", shard_size="200KB")).plan
    assert [p.row_groups for s in native.shards for p in s.parts] == [None, None] and native.footers_read == 2


def test_batch_size_sets_the_native_readers_chunks_else_daft_chooses(api, repo_id):
    """Daft's native reader decodes whole row groups unless batch_size is given (65,536-row chunks cost ~1.15x
    on an all-columns read); hfconnect's reader always cuts batch_size-row batches (default 65,536)."""
    table = pa.table({"id": pa.array(range(100_000), pa.int64())})
    api.upload_file(path_or_fileobj=_parquet(table, 100_000), path_in_repo="data/train-00000-of-00001.parquet",
                    repo_id=repo_id, repo_type="dataset")

    def largest_chunk(**options: object) -> int:
        read = read_huggingface(repo_id, split="train", **options).to_arrow()
        assert read.num_rows == 100_000
        return max(len(chunk) for chunk in read.column("id").chunks)

    assert largest_chunk() > 65_536  # the row group in one piece (Daft may cut it into its own morsels)
    assert largest_chunk(batch_size=1_000) == 1_000
    assert largest_chunk(reader="hfconnect") == 65_536


def test_projection_is_pushed(dataset, reader):
    df = read_huggingface(dataset[0], split="test", reader=reader).select("hex")
    assert sorted(df.to_pydict()["hex"]) == sorted(dataset[1][("main", "test")]["hex"].to_pylist())
    source = HuggingFaceSource(ReadOptions.build(repo=dataset[0], split="test"))
    plan, _ = source.plan_for(Pushdowns(columns=["hex"]))
    assert plan.schema.names == ["hex"]


def test_filter_is_pushed_and_exact(dataset, reader):
    n = 21_500
    df = read_huggingface(dataset[0], split="train", reader=reader, **_sharding(reader)).where(col("id") > n)
    assert _rows(df.to_arrow()) == _expected(dataset, "main", "train", pc.field("id") > n)
    source = HuggingFaceSource(ReadOptions.build(repo=dataset[0], split="train", shard_size="200KB",
                                                 min_shards=2 * ROWS_PER_TRAIN_FILE // ROW_GROUP,
                                                 daft_reader="hfconnect"))
    plan, pushed = source.plan_for(Pushdowns(filters=col("id") > n, columns=["hex"]))
    assert pushed.exact and plan.filter is not None
    assert plan.schema.names == ["id", "hex"]  # Daft re-applies the filter, so it gets the filter's columns
    assert plan.snapshot.sha == source.plan.snapshot.sha
    assert len(plan.shards) < len(source.plan.shards)  # row groups pruned by statistics


def test_filters_daft_evaluates_itself(dataset, reader):
    """Float comparisons and functions stay with Daft; the convertible conjunct is still pushed."""
    where = (col("id") >= 100_500) & (col("fraction") > 0.25) & col("hex").contains("a") & col("kind").not_null()
    got = read_huggingface(dataset[0], split="test", reader=reader).where(where).select("id", "hex")
    table = dataset[1][("main", "test")]
    mask = ((pc.field("id") >= 100_500) & (pc.field("fraction") > 0.25)
            & pc.match_substring(pc.field("hex"), "a") & ~pc.field("kind").is_null())
    assert _rows(got.to_arrow()) == _rows(table.filter(mask).select(["id", "hex"]))
    source = HuggingFaceSource(ReadOptions.build(repo=dataset[0], split="test"))
    _, pushed = source.plan_for(Pushdowns(filters=where))
    assert not pushed.exact and set(pushed.columns) == {"id", "kind"}
    test = read_huggingface(dataset[0], split="test", reader=reader)
    rows = test.where(col("id").is_in([100_003, 100_007, 5])).to_pydict()
    assert sorted(rows["id"]) == [100_003, 100_007]


def test_limit(dataset, reader):
    train = read_huggingface(dataset[0], split="train", reader=reader, **_sharding(reader))
    got = train.limit(7).to_pydict()
    assert len(got["id"]) == 7 and set(got["id"]) <= set(range(2 * ROWS_PER_TRAIN_FILE))
    got = train.where(col("id") > 29_990).limit(5).to_pydict()
    assert len(got["id"]) == 5 and all(i > 29_990 for i in got["id"])
    # A filter Daft alone evaluates: tasks must not stop at `limit` rows before it is applied.
    got = train.where(col("hex").endswith("ab")).limit(3).to_pydict()
    assert len(got["id"]) == 3 and all(t.endswith("ab") for t in got["hex"])


def _tasks(source: HuggingFaceSource, pushdowns: Pushdowns) -> list:
    async def collect() -> list:
        return [task async for task in source.get_tasks(pushdowns)]

    return asyncio.run(collect())


def test_limit_stops_tasks_early_only_when_the_filter_is_exact(dataset):
    source = HuggingFaceSource(ReadOptions.build(repo=dataset[0], split="train", shard_size="200KB",
                                                 min_shards=2 * ROWS_PER_TRAIN_FILE // ROW_GROUP,
                                                 daft_reader="hfconnect"))
    tasks = _tasks(source, Pushdowns(limit=7, columns=["id"]))
    assert len(tasks) == len(source.plan.shards) and {t.limit for t in tasks} == {7}
    assert pickle.loads(pickle.dumps(tasks[0])).plan == tasks[0].plan
    assert {t.limit for t in _tasks(source, Pushdowns(filters=col("id") > 5, limit=7))} == {7}
    assert {t.limit for t in _tasks(source, Pushdowns(filters=col("fraction") > 0.5, limit=7))} == {None}


def test_native_reader_takes_each_file_once_at_the_pinned_sha(dataset, api):
    """Native tasks: one per file (Daft splits and prunes row groups itself), each at the URL the resolver sends
    that file to at the plan's commit (a Xet file: its signed cas-bridge URL, as on the Hub), the split name a
    partition value that a filter on `split` prunes before any task runs."""
    source = HuggingFaceSource(ReadOptions.build(repo=dataset[0], config="extra", split="all", shard_size="200KB"))
    sha = source.plan.snapshot.sha
    tasks = _tasks(source, Pushdowns())
    assert len(tasks) == len({p.path for s in source.plan.shards for p in s.parts}) == 2
    assert source.get_partition_fields()[0].field.name == "split"
    explained = io.StringIO()
    source.read().explain(show_all=True, file=explained)
    unwrapped = "".join(explained.getvalue().split()).replace("|", "")  # Daft wraps long lines
    stored = api.get_paths_info(dataset[0], ["extra/train.parquet"], repo_type="dataset", revision=sha)[0]
    assert f"/bridge/{stored.lfs.sha256}/train.parquet?" in unwrapped
    assert len(_tasks(source, Pushdowns(partition_filters=col("split") == "validation"))) == 1


@pytest.mark.parametrize(("where", "pushed"), [
    (col("id") > 5, "(id > 5)"),
    (~col("kind").is_null() & (col("value") != 3), "(invert(is_null(kind, {nan_is_null=false})) and (value != 3))"),
    ((col("id") < 2) | (col("kind") == "l1"), '((id < 2) or (kind == "l1"))'),
    (col("fraction") > 0.5, None),  # Daft orders NaN above every number; pyarrow does not
    (col("id").is_in([1, None]), None),  # pyarrow's isin would match null rows
    (col("id") + 1 > 3, None),
    (col("hex") > 3, None),  # pyarrow cannot compare these types
    (col("split") == "train", None),  # not a file column
])
def test_filter_conversion(where, pushed):
    schema = _main_table(0, 1).schema
    got = to_arrow_filter(where, schema)
    assert (str(got.expression) if got.expression is not None else None) == pushed
    assert got.exact == (pushed is not None)


def test_count_rows(dataset, reader):
    df = read_huggingface(dataset[0], split="train", reader=reader, **_sharding(reader))
    assert df.count_rows() == 2 * ROWS_PER_TRAIN_FILE


def test_split_all_adds_a_split_column(dataset, reader):
    df = read_huggingface(dataset[0], config="extra", split="all", reader=reader)
    assert df.column_names == ["id", "name", "split"]
    got = df.to_pydict()
    assert got["split"].count("train") == 1000 and got["split"].count("validation") == 500
    only = df.where(col("split") == "validation").select("name").to_pydict()
    assert only["name"] == ["v"] * 500


def test_unknown_config_or_split_lists_the_available_ones(dataset):
    with pytest.raises(ConfigNotFoundError, match=r"^config 'nope' not found; this dataset's configs are: extra, "
                                                  r"main$"):
        read_huggingface(dataset[0], config="nope")
    with pytest.raises(SplitNotFoundError, match=r"^split 'test' not found in config 'extra'; its splits are: train, "
                                                 r"validation "):
        read_huggingface(dataset[0], config="extra", split="test")


def test_reads_the_commit_resolved_when_the_dataframe_was_made(api, repo_id, reader):
    path = "data/train-00000-of-00001.parquet"
    old, new = pa.table({"id": [1, 2, 3]}), pa.table({"id": [10, 20]})
    api.upload_file(path_or_fileobj=_parquet(old, 10), path_in_repo=path, repo_id=repo_id, repo_type="dataset")
    df = read_huggingface(repo_id, split="train", reader=reader)
    api.upload_file(path_or_fileobj=_parquet(new, 10), path_in_repo=path, repo_id=repo_id, repo_type="dataset")
    assert df.to_pydict() == {"id": [1, 2, 3]}
    assert df.where(col("id") > 1).to_pydict() == {"id": [2, 3]}  # re-planned with the filter, same commit
    assert read_huggingface(repo_id, split="train", reader=reader).to_pydict() == {"id": [10, 20]}


def test_private_repo_needs_a_token(api, reader):
    repo = f"tests/daft-private-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo, repo_type="dataset", private=True)
    table = pa.table({"id": list(range(50)), "x": [f"r{i}" for i in range(50)]})
    api.upload_file(path_or_fileobj=_parquet(table, 20), path_in_repo="data/train-00000-of-00001.parquet",
                    repo_id=repo, repo_type="dataset")
    with pytest.raises(RepoNotFoundError,
                       match=rf"^dataset {repo}@main: not found on the Hub: the repo may be private: pass a token"):
        read_huggingface(repo, reader=reader)
    df = read_huggingface(repo, split="train", token=READ_TOKEN, reader=reader)
    assert _rows(df.to_arrow()) == _rows(table)
    source = HuggingFaceSource(ReadOptions.build(repo=repo, token=READ_TOKEN, daft_reader=reader))
    explained = io.StringIO()
    df.where(col("id") > 3).explain(show_all=True, file=explained)
    unwrapped = "".join(explained.getvalue().split()).replace("|", "")  # Daft wraps long lines
    # Native tasks are the URLs the files at the pinned commit redirect to (Xet files: the cas-bridge, signed, no
    # token); hfconnect's tasks are Python functions.
    stored = api.get_paths_info(repo, ["data/train-00000-of-00001.parquet"], repo_type="dataset",
                                revision=source.plan.snapshot.sha, token=READ_TOKEN)[0]
    url = f"/bridge/{stored.lfs.sha256}/train-00000-of-00001.parquet?"
    assert (url in unwrapped) == (reader == "native") and ("/bridge/" in unwrapped) == (reader == "native")
    assert f"HuggingFaceSource({repo}," in explained.getvalue()
    for text in (repr(source), source.name, source.plan.explain(), explained.getvalue()):
        assert READ_TOKEN not in text


@pytest.mark.parametrize("footers_up_to", [256, 0])
def test_a_column_null_in_one_file_and_typed_in_another_keeps_its_values(api, repo_id, reader, footers_up_to,
                                                                          monkeypatch):
    """`datasets` writes an all-None column as null: its values in the other files must not be cast away,
    whether every footer is read up front (few files) or only because the first one had a null column."""
    import hfconnect.plan.planner as planner

    monkeypatch.setattr(planner, "ALL_FOOTERS_UP_TO", footers_up_to)
    first = pa.table({"id": pa.array([1, 2], pa.int64()), "x": pa.array([None, None], pa.null())})
    second = pa.table({"id": pa.array([3], pa.int32()), "x": pa.array([5], pa.int64())})
    api.create_commit(repo_id, repo_type="dataset", commit_message="two files", operations=[
        CommitOperationAdd("data/train-00000-of-00002.parquet", _parquet(first, 10)),
        CommitOperationAdd("data/train-00001-of-00002.parquet", _parquet(second, 10))])
    df = read_huggingface(repo_id, split="train", reader=reader)
    assert df.schema()["x"].dtype == DataType.int64()
    assert df.sort("id").to_pydict() == {"id": [1, 2, 3], "x": [None, None, 5]}


@pytest.mark.parametrize("rules", FAULT_RULES.values(), ids=FAULT_RULES.keys())
def test_faults_give_exact_results(tmp_path, rules, reader):
    with hub_with_one_file(tmp_path / "hub") as (hub, table):
        df = read_huggingface("f/ds", endpoint=hub.endpoint, split="train", reader=reader,
                              **_sharding(reader, "100KB"))
        if reader == "native" and rules[0]["action"] == "reset_after":
            # Daft's native reader gives a range 3 tries after a mid-body error (not configurable); one reset
            # in two requests for the whole read can exhaust that, so it gets two resets (hfconnect's resumes).
            rules = [{**rule, "times": 2} for rule in rules]
        hub.set_faults(rules)
        assert _rows(df.to_arrow()) == _rows(table)
        assert download_faults(hub.counters()) > 0


RAY_READ = """
import pyarrow.parquet as pq
from daft import col

from hfconnect.daft import read_huggingface

endpoint, repo, expected_path = sys.argv[1:4]
expected = pq.read_table(expected_path)
for reader in ("native", "hfconnect"):
    shards = {"shard_size": "200KB"} if reader == "hfconnect" else {}
    df = read_huggingface(repo, split="train", endpoint=endpoint, reader=reader, **shards)
    got = df.where(col("id") > 12_345).select("id", "hex").to_arrow().sort_by("id")
    assert got.to_pydict() == expected.to_pydict(), (reader, got.num_rows, expected.num_rows)
    assert df.count_rows() == 30_000, reader
print("OK")
"""


@pytest.mark.slow
def test_ray_runner_in_its_own_process(dataset, hub, tmp_path):
    expected = dataset[1][("main", "train")].filter(pc.field("id") > 12_345).select(["id", "hex"]).sort_by("id")
    pq.write_table(expected, tmp_path / "expected.parquet")
    proc = run_on_ray(RAY_READ, hub.endpoint, dataset[0], str(tmp_path / "expected.parquet"))
    assert proc.returncode == 0 and proc.stdout.strip().endswith("OK"), proc.stdout[-3000:] + proc.stderr[-5000:]


def test_a_bare_read_takes_every_split_as_daft_does_and_daft_io_config_works(api, repo_id):
    """`read_huggingface(repo)` reads every split (Daft's reads every file), with a `split` column; Daft's
    IOConfig gives the token (anonymous: none at all); Daft's WebDataset format is refused with a pointer."""
    from daft.io import HuggingFaceConfig, IOConfig

    api.create_commit(repo_id, repo_type="dataset", commit_message="two splits", operations=[
        CommitOperationAdd("data/train-00000-of-00001.parquet", _parquet(pa.table({"id": [1, 2]}), 10)),
        CommitOperationAdd("data/test-00000-of-00001.parquet", _parquet(pa.table({"id": [3]}), 10))])
    got = read_huggingface(repo_id).sort("id").to_pydict()
    assert got == {"id": [1, 2, 3], "split": ["train", "train", "test"]}
    with_config = read_huggingface(repo_id, split="test", io_config=IOConfig(hf=HuggingFaceConfig(token=READ_TOKEN)))
    assert with_config.to_pydict() == {"id": [3]}
    assert read_huggingface(repo_id, io_config=IOConfig(hf=HuggingFaceConfig(anonymous=True))).count_rows() == 3
    with pytest.raises(OptionError, match=r"^format='webdataset': .* holds parquet data"):
        read_huggingface(repo_id, format="webdataset")


TYPES_DAFT_CANNOT_HOLD = {
    "dictionary<string>": pa.array(["a", None, "a"]).dictionary_encode(),
    "dictionary<int64>": pa.array([1, None, 1]).dictionary_encode(),
    "string_view": pa.array(["a", None, "b"], pa.string_view()),
    "binary_view": pa.array([b"a", None, b"b"], pa.binary_view()),
    "list_view": pa.array([[1], None, [2, 3]], pa.list_view(pa.int64())),
    "time32(ms)": pa.array([1, None, 86_399_999], pa.time32("ms")),
    "decimal256(20, 2)": pa.array([Decimal("1.25"), None, Decimal("-2")], pa.decimal256(20, 2)),
    "decimal256(40, 2)": pa.array([Decimal("1.25"), None, Decimal("-2")], pa.decimal256(40, 2)),
    "list<dictionary>": pa.ListArray.from_arrays(pa.array([0, 1, 1, 3], pa.int32()),
                                                 pa.array(["x", "y", "x"]).dictionary_encode()),
    "struct<dictionary>": pa.StructArray.from_arrays([pa.array(["x", None, "y"]).dictionary_encode()], ["k"]),
}


@pytest.mark.parametrize("name", list(TYPES_DAFT_CANNOT_HOLD))
def test_the_daft_type_table_gives_types_daft_holds_with_the_same_values(name: str) -> None:
    """Each row of hfconnect.daft.types: Daft holds the target type (not its Python dtype, not an error) and the
    values survive the cast (conform_array) and Daft's round trip."""
    import daft

    from hfconnect.daft.types import daft_compatible_type
    from hfconnect.read.conform import conform_array

    array = TYPES_DAFT_CANNOT_HOLD[name]
    target = daft_compatible_type(array.type)
    converted = conform_array(array, target)
    df = daft.from_arrow(pa.table({"c": converted}))
    assert not df.schema()["c"].dtype.is_python(), (name, target)
    want = [None if v is None else str(v) for v in array.to_pylist()] if pa.types.is_string(target) \
        else array.to_pylist()
    assert df.to_pydict()["c"] == want


def test_columns_the_native_reader_refuses_are_read_by_hfconnects_reader(api, repo_id) -> None:
    """time32 and decimal256 columns (datasets has such features): Daft's native reader refuses them in a file,
    so with the default reader those files go to hfconnect's, and both readers give the same values."""
    from hfconnect.daft import read_huggingface

    table = pa.table({"id": pa.array([1, 2, 3], pa.int64()),
                      "at": TYPES_DAFT_CANNOT_HOLD["time32(ms)"],
                      "price": TYPES_DAFT_CANNOT_HOLD["decimal256(20, 2)"],
                      "big": TYPES_DAFT_CANNOT_HOLD["decimal256(40, 2)"]})
    api.upload_file(path_or_fileobj=parquet_bytes(table), path_in_repo="data/train-00000-of-00001.parquet",
                    repo_id=repo_id, repo_type="dataset")
    got = {reader: read_huggingface(repo_id, split="train", reader=reader).sort("id").to_pydict()
           for reader in ("native", "hfconnect")}
    assert got["native"] == got["hfconnect"]
    assert got["native"]["price"] == [Decimal("1.25"), None, Decimal("-2.00")]
    assert got["native"]["big"] == ["1.25", None, "-2.00"]
