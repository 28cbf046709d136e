"""What hfconnect writes through Xet, every Hub client reads back byte for byte: hf_hub_download (through hf_xet:
a reconstruction and ranged xorb reads), HfFileSystem's get_file (by the tree's `xetHash`) and its range reads
(the cas-bridge), hfconnect's own reader, and `datasets`."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import WRITE_TOKEN

pytestmark = pytest.mark.integration


def _frame():
    import daft

    n = 30_000
    return daft.from_pydict({
        "id": list(range(n)),
        "odd name/with spaces": [f"t{i % 97}" if i % 11 else None for i in range(n)],
        "score": [i / 3 if i % 5 else None for i in range(n)],
    }).into_partitions(2)


def test_every_client_reads_what_hfconnect_wrote_through_xet(hub, api, tmp_path: Path) -> None:
    import datasets
    from huggingface_hub import HfFileSystem, hf_hub_download

    from hfconnect.daft import read_huggingface, write_huggingface

    repo = f"tests/xet-read-{uuid.uuid4().hex[:8]}"
    result = write_huggingface(_frame(), repo, token=WRITE_TOKEN)
    assert result.rows == 30_000
    entries = [e for e in api.list_repo_tree(repo, repo_type="dataset", recursive=True, revision=result.commit_sha)
               if e.path.endswith(".parquet")]
    assert entries and all(e.xet_hash and e.lfs for e in entries), entries  # stored on Xet, with an LFS sha256
    fs = HfFileSystem(endpoint=hub.endpoint, token=WRITE_TOKEN)
    tables = []
    for entry in entries:
        downloaded = Path(hf_hub_download(repo, entry.path, repo_type="dataset", revision=result.commit_sha,
                                          cache_dir=tmp_path / "cache")).read_bytes()
        assert hashlib.sha256(downloaded).hexdigest() == entry.lfs.sha256 and len(downloaded) == entry.size
        fs_path = f"datasets/{repo}@{result.commit_sha}/{entry.path}"
        fs.get_file(fs_path, str(tmp_path / "got.parquet"))
        assert (tmp_path / "got.parquet").read_bytes() == downloaded
        with fs.open(fs_path, "rb") as f:  # ranged reads: /resolve/ -> 302 -> the bridge
            f.seek(len(downloaded) // 3)
            assert f.read(100_000) == downloaded[len(downloaded) // 3:len(downloaded) // 3 + 100_000]
        tables.append(pq.read_table(pa.BufferReader(downloaded)))
    expected = pa.concat_tables(tables).sort_by("id")
    ours = read_huggingface(repo, split="train", token=WRITE_TOKEN).to_arrow().sort_by("id")
    assert ours.select(expected.column_names).cast(expected.schema).equals(expected)  # Daft: large_string
    loaded = datasets.load_dataset(repo, split="train", revision=result.commit_sha, token=WRITE_TOKEN,
                                   cache_dir=str(tmp_path / "datasets")).data.table
    assert loaded.sort_by("id").equals(expected)
    assert expected.column("odd name/with spaces").null_count == len(range(0, 30_000, 11))
