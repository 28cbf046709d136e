"""The planner's pure steps over real Parquet footers built in memory: cutting files into byte-balanced
shards at row-group granularity, pruning by statistics, merging the files' schemas, the output schema."""

from __future__ import annotations

import io
import pickle
from dataclasses import replace

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from hfconnect.errors import OptionError, SchemaMismatchError
from hfconnect.hub import HubClient
from hfconnect.hub.datafiles import DataFile
from hfconnect.hub.snapshot import Snapshot
from hfconnect.plan.footers import FileFacts, parquet_format
from hfconnect.plan.model import FilePart, ReadPlan, Shard
from hfconnect.plan.planner import _cut, _files_of, _merge_schemas, _output_schema
from tests.data import make_table, parquet_bytes

SNAPSHOT = Snapshot("o/n", "a" * 40, "main", "http://hub.invalid")
CLIENT = HubClient("http://hub.invalid", "hf_secret_token")


def facts_of(path: str, data: bytes, filter: pc.Expression | None = None) -> FileFacts:
    """What planning learns from a footer (as footers.inspect_parquet does over HTTP): the schema, each row
    group's compressed bytes, and the row groups the filter's statistics keep."""
    frag = parquet_format().make_fragment(pa.BufferReader(data))
    frag.ensure_complete_metadata()
    md = frag.metadata
    sizes = tuple(sum(md.row_group(i).column(j).total_compressed_size for j in range(md.num_columns))
                  for i in range(md.num_row_groups))
    kept = tuple(range(md.num_row_groups))
    if filter is not None:
        kept = tuple(rg.id for rg in frag.subset(filter=filter).row_groups)
    return FileFacts(path, frag.physical_schema, sizes, kept)


def parquet_file(path: str, rows: int, offset: int = 0, row_group: int = 1_000) -> tuple[DataFile, bytes]:
    data = parquet_bytes(make_table(rows, offset), row_group_size=row_group)
    return DataFile(path, len(data), "parquet"), data


def covered(shards: tuple[Shard, ...]) -> dict[str, list[int | None]]:
    """path -> the row groups read, over all shards in order (None: the whole file)."""
    out: dict[str, list[int | None]] = {}
    for shard in shards:
        for part in shard.parts:
            out.setdefault(part.path, []).extend(part.row_groups if part.row_groups is not None else [None])
    return out


def test_small_files_are_packed_evenly_without_footers() -> None:
    files = [("train", DataFile(f"f{i}.parquet", 10, "parquet")) for i in range(10)]
    shards = _cut(files, {}, 30)
    # 100 bytes, none above 30: 4 shards of 20-30 (greedy packing made 30, 30, 30 and a 10-byte sliver)
    assert [p.path for s in shards for p in s.parts] == [f"f{i}.parquet" for i in range(10)]
    assert [s.index for s in shards] == [0, 1, 2, 3] and sorted(s.est_bytes for s in shards) == [20, 20, 30, 30]
    assert all(p.row_groups is None and p.split == "train" for s in shards for p in s.parts)


def test_a_file_just_over_the_shard_size_is_cut_in_halves_not_in_a_full_and_a_sliver() -> None:
    """The uneven 275 KB / 92 KB pattern: a file of 1.33 shards becomes two even shards."""
    f, data = parquet_file("f.parquet", 12_000)
    facts = {f.path: facts_of(f.path, data)}
    sizes = facts[f.path].row_group_bytes
    shards = _cut([("train", f)], facts, int(sum(sizes) / 1.33))
    assert len(shards) == 2 and abs(shards[0].est_bytes - shards[1].est_bytes) <= max(sizes)


def test_a_remainder_of_half_a_shard_or_more_is_its_own_shard() -> None:
    files = [("train", DataFile(f"f{i}.csv", size, "csv")) for i, size in enumerate((30, 15))]
    shards = _cut(files, {}, 30)
    assert [[(p.path, p.format) for p in s.parts] for s in shards] == [[("f0.csv", "csv")], [("f1.csv", "csv")]]


def test_large_files_split_by_row_group_into_shards_of_about_shard_size() -> None:
    big, data = parquet_file("big.parquet", 20_000)
    facts = {big.path: facts_of(big.path, data)}
    sizes = facts[big.path].row_group_bytes
    assert len(sizes) == 20
    target = 3 * max(sizes)
    shards = _cut([("train", big)], facts, target)
    assert covered(shards) == {"big.parquet": list(range(20))}  # every row group once, in order
    assert len(shards) == -(-sum(sizes) // target)
    groups = [len(p.row_groups) for s in shards for p in s.parts]
    assert max(groups) - min(groups) <= 1  # even: 20 row groups in 7 shards are 3s and 2s, never 3s and a 2-sliver
    assert [s.est_bytes for s in shards] == [sum(sizes[rg] for p in s.parts for rg in p.row_groups) for s in shards]


def test_a_row_group_larger_than_the_shard_size_is_a_shard_of_its_own() -> None:
    f, data = parquet_file("f.parquet", 4_000)
    shards = _cut([("train", f)], {f.path: facts_of(f.path, data)}, 10)
    assert [[p.row_groups for p in s.parts] for s in shards] == [[(0,)], [(1,)], [(2,)], [(3,)]]


def test_whole_files_never_split_a_file() -> None:
    """For a reader that splits files itself (Daft's native one)."""
    f, data = parquet_file("f.parquet", 10_000)
    facts = {f.path: facts_of(f.path, data)}
    assert covered(_cut([("train", f)], facts, 1_000, whole_files=True)) == {"f.parquet": [None]}
    assert len(covered(_cut([("train", f)], facts, 1_000))["f.parquet"]) == 10


def test_statistics_prune_row_groups_and_files() -> None:
    first, first_data = parquet_file("a.parquet", 5_000)
    second, second_data = parquet_file("b.parquet", 5_000, offset=5_000)
    expr = (pc.field("id") >= 2_500) & (pc.field("id") < 3_200)
    facts = {f.path: facts_of(f.path, d, expr) for f, d in ((first, first_data), (second, second_data))}
    assert facts["a.parquet"].kept == (2, 3) and facts["b.parquet"].kept == ()
    files = [("train", first), ("train", second)]
    assert covered(_cut(files, facts, 10**9)) == {"a.parquet": [2, 3]}  # b.parquet is never fetched
    # whole_files: a file with pruned row groups is still read by row group, the kept ones only
    assert covered(_cut(files, facts, 10**9, whole_files=True)) == {"a.parquet": [2, 3]}
    everything = {f.path: facts_of(f.path, d, pc.field("id") >= 0) for f, d in ((first, first_data),)}
    assert covered(_cut(files[:1], everything, 10**9)) == {"a.parquet": [None]}  # nothing pruned: whole file


def test_statistics_that_cannot_decide_keep_everything() -> None:
    """A filter on a column without usable statistics keeps every row group: rows are filtered when read."""
    f, data = parquet_file("f.parquet", 3_000)
    fact = facts_of(f.path, data, pc.match_substring(pc.field("text"), "text 1"))
    assert fact.kept == (0, 1, 2)


def test_files_without_rows() -> None:
    """No row group at all (a writer closed at once): a whole-file part, read for its schema. One empty row
    group (pyarrow's write_table of no rows) has no statistics: a filter cannot prune it."""
    sink = io.BytesIO()
    pq.ParquetWriter(sink, make_table(0).schema).close()
    none = DataFile("none.parquet", len(sink.getvalue()), "parquet")
    fact = facts_of(none.path, sink.getvalue(), pc.field("id") > 3)
    assert fact.row_group_bytes == () and fact.kept == ()
    assert covered(_cut([("train", none)], {none.path: fact}, 100)) == {"none.parquet": [None]}
    empty, data = parquet_file("empty.parquet", 0)
    assert facts_of(empty.path, data).kept == facts_of(empty.path, data, pc.field("id") > 3).kept == (0,)
    assert covered(_cut([("train", empty)], {empty.path: facts_of(empty.path, data)}, 10**6)) == {
        "empty.parquet": [None]}


def test_splits_and_formats_travel_with_their_parts() -> None:
    f, data = parquet_file("t.parquet", 3_000)
    files = [("train", f), ("test", DataFile("x.jsonl", 50, "json"))]
    shards = _cut(files, {f.path: facts_of(f.path, data)}, 10)
    assert [(p.path, p.split, p.format, p.row_groups) for s in shards for p in s.parts] == [
        ("t.parquet", "train", "parquet", (0,)), ("t.parquet", "train", "parquet", (1,)),
        ("t.parquet", "train", "parquet", (2,)), ("x.jsonl", "test", "json", None)]


def test_files_of_a_plan_lists_each_file_once_per_split() -> None:
    f, data = parquet_file("t.parquet", 3_000)
    files = [("train", f), ("test", DataFile("x.jsonl", 50, "json"))]
    shards = _cut(files, {f.path: facts_of(f.path, data)}, 10)
    plan = ReadPlan(SNAPSHOT, CLIENT, "default", ("train", "test", "validation"), pa.schema([]), pa.schema([]),
                    shards)
    assert _files_of(plan) == {"train": (f,), "test": (DataFile("x.jsonl", 50, "json"),), "validation": ()}


def test_merge_schemas_unifies_null_and_widths_and_drops_metadata() -> None:
    typed = pa.schema([("id", pa.int64()), ("note", pa.string())], metadata={b"k": b"v"})
    nulls = pa.schema([("id", pa.int32()), ("note", pa.null()), ("extra", pa.float64())])
    facts = {"a": FileFacts("a", nulls, (), ()), "b": FileFacts("b", typed, (), ())}
    merged = _merge_schemas(SNAPSHOT, facts, [], None)  # footers given: no HTTP
    assert merged == pa.schema([("id", pa.int64()), ("note", pa.string()), ("extra", pa.float64())])
    assert merged.metadata is None


def test_merge_schemas_names_the_incompatible_file() -> None:
    facts = {"data/a.parquet": FileFacts("data/a.parquet", pa.schema([("id", pa.int64())]), (), ()),
             "data/b.parquet": FileFacts("data/b.parquet", pa.schema([("id", pa.struct([("x", pa.int8())]))]), (), ())}
    with pytest.raises(SchemaMismatchError, match=r"^o/n/data/b\.parquet has a schema incompatible with the "
                                                  r"split's other files: ") as exc:
        _merge_schemas(SNAPSHOT, facts, [], None)
    assert exc.value.path == "data/b.parquet"


SCHEMA = pa.schema([("id", pa.int64()), ("text", pa.string()), ("score", pa.float64())])


@pytest.mark.parametrize(("columns", "add_split", "names"), [
    (None, False, ["id", "text", "score"]),
    (("score", "id"), False, ["score", "id"]),
    (None, True, ["id", "text", "score", "split"]),
    (("text",), True, ["text"]),  # columns without `split`: no split column
    (("split", "id"), True, ["id", "split"]),  # `split` always comes last
])
def test_output_schema(columns: tuple[str, ...] | None, add_split: bool, names: list[str]) -> None:
    schema = _output_schema(SCHEMA, columns, add_split)
    assert schema.names == names
    if "split" in names:
        assert schema.field("split") == pa.field("split", pa.string(), nullable=False)


def test_output_schema_errors_name_the_columns() -> None:
    with pytest.raises(OptionError, match=r"^column\(s\) \['nope', 'split'\] not in the dataset; its columns "
                                          r"are: id, text, score$"):
        _output_schema(SCHEMA, ("id", "nope", "split"), False)
    with pytest.raises(OptionError, match=r"^split='all' adds a 'split' column, but the data already has one"):
        _output_schema(pa.schema([("split", pa.string())]), None, True)


def test_plans_are_small_picklable_and_explain_without_secrets() -> None:
    f, data = parquet_file("t.parquet", 3_000)
    shards = _cut([("train", f)], {f.path: facts_of(f.path, data)}, 10)
    plan = ReadPlan(SNAPSHOT, CLIENT, "default", ("train",), SCHEMA, SCHEMA, shards, filter=pc.field("id") > 3,
                    total_files=1, total_bytes=f.size, footers_read=1)
    again = pickle.loads(pickle.dumps(plan))
    assert again.explain() == plan.explain() and again.shards == plan.shards
    assert again.columns == ("id", "text", "score")
    text = plan.explain()
    assert f"HuggingFace dataset o/n at commit {'a' * 40} (revision 'main') via http://hub.invalid" in text
    assert "3 shard(s); 1 footer(s) read while planning" in text and "pushed filter: (id > 3)" in text
    assert "hf_secret_token" not in text and "hf_secret_token" not in repr(plan)
    assert again.client.token == "hf_secret_token"  # tasks read with the driver's token, carried in the plan
    assert FilePart("p", 1, "parquet", "train").row_groups is None


# ---- image and audio folders (plan.mediafolder wired in) ------------------------------------------------------
def test_an_image_folder_is_planned_from_its_listing_with_labels_splits_and_features(inproc_hub) -> None:
    """Class folders in split folders: no request but the listing; a shard's parts are its media files."""
    import json

    from hfconnect.errors import ConfigNotFoundError, SplitNotFoundError
    from hfconnect.options import ReadOptions
    from hfconnect.plan.planner import plan_read

    files = {f"train/{c}/{i}.png": b"x" * 100 for c in ("cat", "dog") for i in range(3)} | {"test/cat/9.png": b"y"}
    inproc_hub.dataset("o/pets", files)
    options = ReadOptions.build(repo="o/pets", endpoint=inproc_hub.endpoint, split="all")
    before = inproc_hub.downloads()
    plan = plan_read(options, parallelism=2)
    assert inproc_hub.downloads() == before  # no card, no metadata: nothing fetched to plan
    assert plan.media_builder == "imagefolder" and plan.splits == ("train", "test")
    assert plan.schema.names == ["image", "label", "split"] and plan.footers_read == 0
    assert json.loads(plan.schema.metadata[b"huggingface"])["info"]["features"]["label"] == {
        "names": ["cat", "dog"], "_type": "ClassLabel"}
    parts = [p for s in plan.shards for p in s.parts]
    assert sorted(p.path for p in parts) == sorted(files) and {p.format for p in parts} == {"imagefolder"}
    assert all(s.media is not None and s.media.rows.num_rows for s in plan.shards)
    assert plan.total_files == 7 and "labels cat, dog" in plan.explain()
    assert [s.index for s in plan.shards] == list(range(len(plan.shards)))
    narrow = plan_read(replace(options, columns=("label",)), parallelism=2)
    assert len(narrow.shards) <= len(plan.shards)  # no media fetched: far more rows per task
    same = plan_read(options, columns=["label"], base=plan)  # Spark's partitions: the schema's plan
    assert same.shards == plan.shards and same.schema.names == ["label"]
    with pytest.raises(SplitNotFoundError, match="its splits are: train, test"):
        plan_read(replace(options, split="validation"))
    with pytest.raises(ConfigNotFoundError, match="config 'x' not found"):
        plan_read(replace(options, config="x"))


def test_a_card_config_entry_drives_the_media_folder_as_datasets_does(inproc_hub) -> None:
    from hfconnect.options import ReadOptions
    from hfconnect.plan.planner import plan_read

    card = ("---\nconfigs:\n- config_name: small\n  data_dir: small\n  drop_labels: true\n- config_name: table\n"
            "  data_files: t.csv\n  default: true\n---\n")
    files = {f"small/{c}/{i}.png": b"x" for c in ("a", "b") for i in range(2)} | {"t.csv": b"id\n1\n",
                                                                                   "README.md": card.encode()}
    inproc_hub.dataset("o/cfg", files)
    options = ReadOptions.build(repo="o/cfg", endpoint=inproc_hub.endpoint)
    small = plan_read(replace(options, config="small"))
    assert small.media_builder == "imagefolder" and small.schema.names == ["image"]  # the entry's drop_labels
    assert small.config == "small" and small.layout_source == "card"
    assert plan_read(replace(options, config="small", drop_labels=False)).schema.names == ["image", "label"]
    table = plan_read(options)  # the default entry is a CSV file: the usual path
    assert table.media_builder == "" and table.schema.names == ["id"]
