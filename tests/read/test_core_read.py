"""The engine-free planner and reader against the real local hub."""

from __future__ import annotations

import dataclasses
import io
import pickle
import re
import uuid

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from huggingface_hub import CommitOperationAdd

from hfconnect.errors import (
    AuthenticationError,
    ConfigNotFoundError,
    DataFileError,
    OptionError,
    RepoNotFoundError,
    RevisionNotFoundError,
    SchemaMismatchError,
    SplitNotFoundError,
)
from hfconnect.hub import HubClient
from hfconnect.options import ReadOptions
from hfconnect.plan import plan_read
from hfconnect.plan.sizing import default_parallelism
from hfconnect.read import read_shard
from tests.conftest import READ_TOKEN, WRITE_TOKEN
from tests.data import FAULT_RULES, download_faults, hub_with_one_file, make_table, parquet_bytes, publish_multi_config

pytestmark = pytest.mark.integration


def read_all(plan, endpoint: str, token: str | None = None) -> pa.Table:
    """Every shard of the plan, read as tasks would (with `token`: as tasks given another token would)."""
    if token is not None:
        plan = dataclasses.replace(plan, client=HubClient(endpoint, token))
    batches = [b for shard in plan.shards for b in read_shard(plan, shard)]
    return pa.Table.from_batches(batches, schema=plan.schema)


def opts(hub, repo: str, **kw) -> ReadOptions:
    return ReadOptions.build(repo=repo, endpoint=hub.endpoint, **kw)


def test_configs_and_splits_equal_pyarrow(hub, multi_config) -> None:
    for (config, split), table in multi_config.tables.items():
        plan = plan_read(opts(hub, multi_config.repo_id, config=config, split=split))
        assert plan.snapshot.sha == multi_config.sha and plan.layout_source == "card"
        assert read_all(plan, hub.endpoint).sort_by("id").equals(table)
    default = plan_read(opts(hub, multi_config.repo_id))
    assert default.config == "reviews" and default.splits == ("train",)


def test_split_all_adds_split_column(hub, multi_config) -> None:
    plan = plan_read(opts(hub, multi_config.repo_id, split="all"))
    got = read_all(plan, hub.endpoint)
    counts = dict(zip(*[c.to_pylist() for c in got.group_by("split").aggregate([("id", "count")]).columns],
                      strict=True))
    assert counts == {"train": 60_000, "test": 5_000}


def test_balanced_shards_split_large_files_by_row_group(hub, multi_config) -> None:
    size = len(multi_config.files["reviews/train-0.parquet"])
    plan = plan_read(opts(hub, multi_config.repo_id, shard_size=str(size // 3)))
    assert any(p.row_groups is not None for s in plan.shards for p in s.parts)
    assert len(plan.shards) >= 6
    biggest, smallest = max(s.est_bytes for s in plan.shards), min(s.est_bytes for s in plan.shards)
    assert biggest <= 2 * size // 3
    assert smallest > 0
    assert read_all(plan, hub.endpoint).sort_by("id").equals(multi_config.tables[("reviews", "train")])


def test_small_files_need_no_footer_reads_and_few_api_calls(own_hub, own_api) -> None:
    """On a hub of its own, which counts the plan's requests only."""
    repo = "tests/small"
    own_api.create_repo(repo, repo_type="dataset")
    ops = [CommitOperationAdd(f"data/train-{i:05d}-of-01500.parquet", parquet_bytes(make_table(3, i * 3)))
           for i in range(1500)]
    own_api.create_commit(repo, repo_type="dataset", operations=ops, commit_message="many")
    own_hub.reset_counters()
    plan = plan_read(opts(own_hub, repo))
    c = own_hub.counters()
    assert c["api"]["requests"] <= 4  # 1 revision + 2 tree pages (1000 per page)
    assert plan.footers_read == 1  # the schema's: the first file only
    assert c["resolve"]["requests"] == 1
    assert len(plan.shards) == default_parallelism()  # 2.5 MB, but 1,500 files: work for every core
    assert sum(len(s.parts) for s in plan.shards) == 1500
    sizes = [s.est_bytes for s in plan.shards]
    assert max(sizes) <= 1.6 * min(sizes)
    assert pickle.loads(pickle.dumps(plan)).explain() == plan.explain()
    assert len(pickle.dumps(plan)) < 200_000
    assert len(plan_read(opts(own_hub, repo), parallelism=8).shards) == 8  # a wider cluster: more shards


def test_filter_prunes_row_groups_and_is_exact(own_hub, own_api) -> None:
    """The multi-config dataset on a hub of its own, which counts the bytes this read was served."""
    published = publish_multi_config(own_api)
    expr = (pc.field("id") >= 25_000) & (pc.field("id") < 25_100)
    plan = plan_read(opts(own_hub, published.repo_id, columns="score"), filter=expr)
    parts = [p for s in plan.shards for p in s.parts]
    assert [(p.path, p.row_groups) for p in parts] == [("reviews/train-1.parquet", (1,))]
    own_hub.reset_counters()
    got = read_all(plan, own_hub.endpoint)
    want = published.tables[("reviews", "train")].filter(expr).select(["score"])
    assert got.equals(want)
    served = own_hub.counters()["resolve"]["bytes_sent"]  # the footer tail + one row group's id and score chunks
    assert served < len(published.files["reviews/train-1.parquet"]) / 2


def test_dnf_filters_option_and_projection(hub, multi_config) -> None:
    plan = plan_read(opts(hub, multi_config.repo_id, filters='[["label", "=", 3], ["flag", "=", false]]',
                          columns='["id", "label"]'))
    got = read_all(plan, hub.endpoint).sort_by("id")
    table = multi_config.tables[("reviews", "train")]
    want = table.filter((pc.field("label") == 3) & (pc.field("flag") == False)).select(["id", "label"])  # noqa: E712
    assert got.equals(want)


def test_snapshot_pinned_while_a_commit_lands(hub, api) -> None:
    repo = f"tests/pin-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo, repo_type="dataset")
    first = make_table(100)
    api.upload_file(path_or_fileobj=parquet_bytes(first), path_in_repo="data/train-00000-of-00001.parquet",
                    repo_id=repo, repo_type="dataset")
    plan = plan_read(opts(hub, repo))
    api.upload_file(path_or_fileobj=parquet_bytes(make_table(7, 1000)),
                    path_in_repo="data/train-00000-of-00001.parquet", repo_id=repo, repo_type="dataset")
    assert read_all(plan, hub.endpoint).equals(first)
    assert read_all(plan_read(opts(hub, repo)), hub.endpoint).num_rows == 7


def test_revisions_tag_pr_sha_and_convert_branch(hub, api) -> None:
    repo = f"tests/revs-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo, repo_type="dataset")
    v1 = make_table(10)
    api.upload_file(path_or_fileobj=parquet_bytes(v1), path_in_repo="train.parquet", repo_id=repo,
                    repo_type="dataset")
    api.create_tag(repo, repo_type="dataset", tag="v1")
    sha = api.dataset_info(repo).sha
    pr = api.create_commit(repo, repo_type="dataset", create_pr=True, commit_message="pr", operations=[
        CommitOperationAdd("train.parquet", parquet_bytes(make_table(4)))])
    for revision, rows in (("v1", 10), (sha, 10), (pr.pr_revision, 4)):
        assert read_all(plan_read(opts(hub, repo, revision=revision)), hub.endpoint).num_rows == rows
    # A dataset with no data files of its own reads from refs/convert/parquet.
    raw = f"tests/raw-{uuid.uuid4().hex[:8]}"
    api.create_repo(raw, repo_type="dataset")
    api.upload_file(path_or_fileobj=b"just a script", path_in_repo="loader.py", repo_id=raw, repo_type="dataset")
    api.create_branch(raw, repo_type="dataset", branch="refs/convert/parquet")
    api.create_commit(raw, repo_type="dataset", revision="refs/convert/parquet", commit_message="convert",
                      operations=[CommitOperationAdd("default/train/0000.parquet", parquet_bytes(make_table(9))),
                                  CommitOperationAdd("default/test/0000.parquet", parquet_bytes(make_table(2)))])
    plan = plan_read(opts(hub, raw, split="test"))
    assert plan.layout_source == "convert" and read_all(plan, hub.endpoint).num_rows == 2


def test_file_name_conventions(hub, api) -> None:
    by_dir = f"tests/conv-{uuid.uuid4().hex[:8]}"
    api.create_repo(by_dir, repo_type="dataset")
    api.create_commit(by_dir, repo_type="dataset", commit_message="c", operations=[
        CommitOperationAdd("train/a.parquet", parquet_bytes(make_table(5))),
        CommitOperationAdd("dev/b.parquet", parquet_bytes(make_table(3)))])
    for split, rows in (("train", 5), ("validation", 3)):
        assert read_all(plan_read(opts(hub, by_dir, split=split)), hub.endpoint).num_rows == rows
    assert read_all(plan_read(opts(hub, by_dir, data_dir="dev")), hub.endpoint).num_rows == 3
    got = read_all(plan_read(opts(hub, by_dir, data_files="test=train/*.parquet", split="test")), hub.endpoint)
    assert got.num_rows == 5
    by_name = f"tests/conv-{uuid.uuid4().hex[:8]}"
    api.create_repo(by_name, repo_type="dataset")
    api.create_commit(by_name, repo_type="dataset", commit_message="c", operations=[
        CommitOperationAdd("corpus_train.parquet", parquet_bytes(make_table(4))),
        CommitOperationAdd("corpus-testing.parquet", parquet_bytes(make_table(2)))])
    for split, rows in (("train", 4), ("test", 2)):
        assert read_all(plan_read(opts(hub, by_name, split=split)), hub.endpoint).num_rows == rows


def test_jsonl_and_csv_whole_file_shards(hub, api) -> None:
    lines = "\n".join(f'{{"id": {i}, "name": "n{i}"}}' for i in range(50)).encode()
    csv = "id,name\n" + "\n".join(f"{i},c{i}" for i in range(20))
    for path, data in (("data/train.jsonl", lines), ("other/test.csv", csv.encode())):
        repo = f"tests/text-{uuid.uuid4().hex[:8]}"
        api.create_repo(repo, repo_type="dataset")
        api.upload_file(path_or_fileobj=data, path_in_repo=path, repo_id=repo, repo_type="dataset")
        split = "test" if path.endswith("csv") else "train"
        got = read_all(plan_read(opts(hub, repo, split=split), filter=pc.field("id") < 5), hub.endpoint)
        prefix = "c" if split == "test" else "n"
        assert got.column("name").to_pylist() == [f"{prefix}{i}" for i in range(5)]
        assert plan_read(opts(hub, repo, split=split)).shards[0].parts[0].format in ("json", "csv")


def test_merges_null_and_typed_schemas_and_names_incompatible_file(hub, api) -> None:
    repo = f"tests/schema-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo, repo_type="dataset")
    typed = pa.table({"id": pa.array([1, 2], pa.int64()), "note": ["a", "b"]})
    nulls = pa.table({"id": pa.array([3], pa.int32()), "note": pa.nulls(1)})
    api.create_commit(repo, repo_type="dataset", commit_message="c", operations=[
        CommitOperationAdd("data/train-00000-of-00002.parquet", parquet_bytes(typed)),
        CommitOperationAdd("data/train-00001-of-00002.parquet", parquet_bytes(nulls))])
    got = read_all(plan_read(opts(hub, repo), filter=pc.field("id") > 0), hub.endpoint).sort_by("id")
    assert got.column("id").to_pylist() == [1, 2, 3] and got.column("note").to_pylist() == ["a", "b", None]
    bad = pa.table({"id": pa.array([{"x": 1}])})
    api.upload_file(path_or_fileobj=parquet_bytes(bad), path_in_repo="data/train-00001-of-00002.parquet",
                    repo_id=repo, repo_type="dataset")
    with pytest.raises(SchemaMismatchError, match=rf"^{repo}/data/train-00001-of-00002\.parquet has a schema "
                                                  r"incompatible with the split's other files: ") as exc:
        plan_read(opts(hub, repo), filter=pc.field("id") > 0)
    assert exc.value.path == "data/train-00001-of-00002.parquet"


def test_errors_list_what_exists(hub, multi_config) -> None:
    with pytest.raises(ConfigNotFoundError, match="reviews") as exc:
        plan_read(opts(hub, multi_config.repo_id, config="nope"))
    assert "extra" in str(exc.value)
    with pytest.raises(SplitNotFoundError, match="train, test"):
        plan_read(opts(hub, multi_config.repo_id, split="validation"))
    with pytest.raises(RevisionNotFoundError, match="no-branch"):
        plan_read(opts(hub, multi_config.repo_id, revision="no-branch"))
    with pytest.raises(RepoNotFoundError,
                       match=r"^dataset tests/does-not-exist@main: not found on the Hub: the repo may be private"):
        plan_read(opts(hub, "tests/does-not-exist"))
    with pytest.raises(OptionError, match="shard_size"):
        opts(hub, multi_config.repo_id, shard_size="big")
    with pytest.raises(OptionError, match="not in the dataset"):
        plan_read(opts(hub, multi_config.repo_id, columns="nope"))


def test_private_repo_token_never_shown(hub, api) -> None:
    repo = f"tests/private-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo, repo_type="dataset", private=True)
    api.upload_file(path_or_fileobj=parquet_bytes(make_table(4)), path_in_repo="train.parquet", repo_id=repo,
                    repo_type="dataset")
    with pytest.raises(RepoNotFoundError, match="private") as exc:
        plan_read(opts(hub, repo))
    options = opts(hub, repo, token=READ_TOKEN)
    plan = plan_read(options)
    assert read_all(plan, hub.endpoint, READ_TOKEN).num_rows == 4
    for text in (plan.explain(), repr(options), repr(plan), str(exc.value), repr(HubClient(hub.endpoint, READ_TOKEN))):
        assert READ_TOKEN not in text and WRITE_TOKEN not in text
    with pytest.raises(AuthenticationError, match=rf"^dataset {repo}@main: HTTP 401: the token is not valid") as exc:
        plan_read(opts(hub, repo, token="hf_wrong_token"))
    assert "hf_wrong_token" not in str(exc.value)


def test_a_token_refused_while_reading_is_an_authentication_error(hub, api) -> None:
    repo = f"tests/private-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo, repo_type="dataset", private=True)
    # An LFS file (a BytesIO goes through LFS): /resolve/ serves it, so the reader asks the hub with the token.
    # (A Xet file's plan carries its signed bridge URL, which needs no token.) Bytes no other test uploaded: the
    # hub would take bytes it already holds through Xet as a Xet file.
    unique = make_table(4, offset=int(uuid.uuid4().int % 10**12))
    api.upload_file(path_or_fileobj=io.BytesIO(parquet_bytes(unique)), path_in_repo="train.parquet",
                    repo_id=repo, repo_type="dataset")
    plan = plan_read(opts(hub, repo, token=READ_TOKEN))
    refused = r"/resolve/.*/train\.parquet: HTTP 401: the token is not valid"
    with pytest.raises(AuthenticationError, match=refused) as exc:
        read_all(plan, hub.endpoint, "hf_wrong_token")
    assert "hf_wrong_token" not in str(exc.value)


@pytest.mark.parametrize("rules", FAULT_RULES.values(), ids=FAULT_RULES.keys())
def test_faults_give_exact_results(tmp_path, rules) -> None:
    with hub_with_one_file(tmp_path / "hub") as (hub, table):
        hub.set_faults(rules)
        plan = plan_read(ReadOptions.build(repo="f/ds", endpoint=hub.endpoint, shard_size="100KB"))
        assert read_all(plan, hub.endpoint).sort_by("id").equals(table)
        assert download_faults(hub.counters()) > 0


def test_bad_data_files_name_the_file(hub, api, corpus) -> None:
    repo = f"tests/bad-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo, repo_type="dataset")
    bad = sorted((corpus / "bad_data").glob("*.parquet"))
    api.create_commit(repo, repo_type="dataset", commit_message="bad", operations=[
        CommitOperationAdd(f"bad/{p.name}", str(p)) for p in bad])
    readable = {"ARROW-GH-43605.parquet"}  # pyarrow reads it without complaint (21,186 rows)
    assert readable < {p.name for p in bad} and len(bad) == 8
    for p in bad:
        if p.name in readable:
            assert read_all(plan_read(opts(hub, repo, data_files=f"bad/{p.name}")), hub.endpoint).num_rows == 21_186
            continue
        with pytest.raises(DataFileError, match=rf"^{repo}/bad/{re.escape(p.name)}: (row group 0 cannot be read: |not "
                                                r"a readable Parquet file \()") as exc:
            read_all(plan_read(opts(hub, repo, data_files=f"bad/{p.name}")), hub.endpoint)
        assert exc.value.path == f"bad/{p.name}"


def test_local_pyarrow_reads_same_bytes(multi_config) -> None:
    table = pq.read_table(io.BytesIO(multi_config.files["reviews/test-0.parquet"]))
    assert table.equals(multi_config.tables[("reviews", "test")])
