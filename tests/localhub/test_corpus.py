"""Every file of the parquet-testing corpus goes up and comes back byte-identical."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd, HfFileSystem, hf_hub_download

pytestmark = pytest.mark.integration


def test_corpus_upload_download_byte_identical(api, repo_id: str, corpus, tmp_path) -> None:
    files = sorted(p for p in corpus.rglob("*") if p.is_file())
    assert len(files) > 60
    ops = [CommitOperationAdd(str(p.relative_to(corpus)), str(p)) for p in files]
    api.create_commit(repo_id, repo_type="dataset", operations=ops, commit_message="corpus")
    fs = HfFileSystem(token=False)
    for path in files:
        rel = str(path.relative_to(corpus))
        want = hashlib.sha256(path.read_bytes()).hexdigest()
        got = hf_hub_download(repo_id, rel, repo_type="dataset", cache_dir=tmp_path)
        assert hashlib.sha256(Path(got).read_bytes()).hexdigest() == want, rel
        assert hashlib.sha256(fs.cat_file(f"datasets/{repo_id}/{rel}")).hexdigest() == want, rel
