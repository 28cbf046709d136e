"""WebDataset writes (option format="webdataset"): a Spark or Daft DataFrame written as `.tar` shards in ONE commit,
the card declaring the split without features; `datasets`, Daft's `read_webdataset` and hfconnect's own reader read
the same samples back (images decoded as images). Columns and configs no WebDataset reader takes are refused
before anything is written."""

from __future__ import annotations

import io

import pyarrow as pa
import pytest

from hfconnect.errors import HfConnectError, OptionError
from tests.conftest import WRITE_TOKEN

pytestmark = pytest.mark.integration

datasets = pytest.importorskip("datasets")
N = 30


def _png(i: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (5, 4), (i * 7 % 256, 50, 200)).save(out, format="PNG")
    return out.getvalue()


def _table() -> pa.Table:
    return pa.table({"__key__": [f"cam_{i % 2}/shot{i:03d}" for i in range(N)],
                     "png": pa.array([_png(i) for i in range(N)], pa.binary()),
                     "txt": [f"shot {i}" for i in range(N)],
                     "cls": pa.array([i % 3 for i in range(N)], pa.int64())})


def _check_repo(hub, repo: str, files_at_least: int = 1) -> None:
    """One commit of .tar shards (+ the card); datasets, Daft's reader and hfconnect's read the same samples."""
    import daft
    from daft.io import HTTPConfig, IOConfig
    from huggingface_hub import HfApi

    from hfconnect.daft import read_huggingface

    api = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)
    files = api.list_repo_files(repo, repo_type="dataset")
    tars = sorted(f for f in files if f.endswith(".tar"))
    assert len(tars) >= files_at_least and not [f for f in files if f.endswith(".parquet")], files
    assert len(api.list_repo_commits(repo, repo_type="dataset")) == 2  # the repo's creation, then the write
    card = api.hf_hub_download(repo, "README.md", repo_type="dataset")
    text = __import__("pathlib").Path(card).read_text()
    assert "path: data/train-*" in text and "features:" not in text  # datasets types members by extension
    ds = datasets.load_dataset(repo, split="train")
    assert sorted(ds["__key__"]) == sorted(f"cam_{i % 2}/shot{i:03d}" for i in range(N))
    by_key = {r["__key__"]: r for r in ds}
    shot = by_key["cam_1/shot007"]
    assert shot["txt"] == "shot 7" and shot["cls"] == 1 and shot["png"].getpixel((0, 0)) == (49, 50, 200)
    sha = api.dataset_info(repo).sha
    urls = [f"{hub.endpoint}/datasets/{repo}/resolve/{sha}/{t}" for t in tars]
    # one call per shard: Daft 0.7's read_webdataset deadlocks on several HTTP shards at once (File.exists in its
    # async threads)
    io_config = IOConfig(http=HTTPConfig(bearer_token=WRITE_TOKEN))
    theirs = [k for url in urls for k in daft.read_webdataset(url, io_config=io_config).to_pydict()["__key__"]]
    assert sorted(theirs) == sorted(by_key)
    ours = read_huggingface(repo, endpoint=hub.endpoint, token=WRITE_TOKEN).select("__key__", "cls").to_pydict()
    assert dict(zip(ours["__key__"], ours["cls"], strict=True)) == {k: r["cls"] for k, r in by_key.items()}


def test_spark_writes_webdataset_shards_in_one_commit(spark, hub, repo_id) -> None:
    df = spark.createDataFrame(_table().to_pandas()).repartition(2)
    (df.write.format("huggingface").mode("overwrite").option("format", "webdataset")
     .option("token", WRITE_TOKEN).save(repo_id))
    _check_repo(hub, repo_id, files_at_least=2)


def test_daft_writes_webdataset_shards_in_one_commit(hub, repo_id) -> None:
    import daft

    from hfconnect.daft import write_huggingface

    result = write_huggingface(daft.from_arrow(_table()), repo_id, token=WRITE_TOKEN, format="webdataset")
    assert result.rows == N and all(f.endswith(".tar") for f in result.files)
    _check_repo(hub, repo_id)


def test_what_no_webdataset_reader_takes_is_refused_before_any_write(hub, api, repo_id) -> None:
    import daft

    from hfconnect.daft import write_huggingface

    before = api.dataset_info(repo_id).sha
    bad = daft.from_pydict({"when": [__import__("datetime").datetime(2024, 1, 1)]})
    with pytest.raises(OptionError, match="column 'when' is timestamp"):
        write_huggingface(bad, repo_id, token=WRITE_TOKEN, format="webdataset")
    with pytest.raises(OptionError, match="format='tfrecord': write parquet or webdataset"):
        write_huggingface(daft.from_arrow(_table()), repo_id, token=WRITE_TOKEN, format="tfrecord")
    write_huggingface(daft.from_arrow(_table()), repo_id, token=WRITE_TOKEN, split="test")  # Parquet
    with pytest.raises(HfConnectError, match="in another format than webdataset: a config is read with one format"):
        write_huggingface(daft.from_arrow(_table()), repo_id, token=WRITE_TOKEN, format="webdataset")
    assert [f for f in api.list_repo_files(repo_id, repo_type="dataset") if f.endswith(".tar")] == []
    assert api.dataset_info(repo_id).sha != before  # only the Parquet write landed


def test_the_readme_example(hub, monkeypatch, capsys) -> None:
    """docs/media.md's "Writing WebDataset" block as written (HF_ENDPOINT is the session hub; HF_TOKEN the token)."""
    from tests.readme.blocks import section_blocks

    [block] = [b for b in section_blocks("Writing WebDataset", "docs/media.md")
               if b.marker and __name__.split(".")[-1] in b.marker[1]]
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    exec(compile(block.text, "readme-webdataset-write", "exec"), {})  # noqa: S102 - the README's example
    assert capsys.readouterr().out.strip().splitlines()[-1] == "(0, 0, 255)"
    from huggingface_hub import HfApi

    files = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN).list_repo_files("me/shots", repo_type="dataset")
    assert "data/train-00000-of-00001.tar" in files
