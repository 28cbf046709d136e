"""A write that fails into a repo it created leaves no repo behind (every writer: the Spark format, hs.write,
Daft's write_huggingface, a Daft commit that fails), while a repo that existed before, or that someone else
committed to meanwhile, stays: a failed job changes nothing."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import WRITE_TOKEN
from tests.write.test_spark_write import _write, failing_frame

pytestmark = pytest.mark.integration


def _repo() -> str:
    return f"tests/fail-new-{uuid.uuid4().hex[:8]}"


def _exists(api, repo: str) -> bool:
    return api.repo_exists(repo, repo_type="dataset")


def test_spark_format(spark, hub, api) -> None:
    repo = _repo()
    with pytest.raises(Exception, match="injected failure in one task"):
        _write(failing_frame(spark), hub, repo)
    assert not _exists(api, repo)


def test_spark_write_function(spark, hub, api) -> None:
    import hfconnect.spark as hs

    repo = _repo()
    with pytest.raises(Exception, match="injected failure in one task"):
        hs.write(failing_frame(spark), repo, endpoint=hub.endpoint, token=WRITE_TOKEN)
    assert not _exists(api, repo)


def _failing_daft():
    import daft

    @daft.func
    def boom(x: int) -> int:
        if x == 777:
            raise ValueError("injected failure in one row")
        return x

    return daft.from_pydict({"id": list(range(1_000))}).with_column("id", boom(daft.col("id")))


def test_daft_write_huggingface(hub, api) -> None:
    from hfconnect.daft import write_huggingface

    repo = _repo()
    with pytest.raises(Exception, match="injected failure in one row"):
        write_huggingface(_failing_daft(), repo, token=WRITE_TOKEN)
    assert not _exists(api, repo)
    api.create_repo(repo, repo_type="dataset")  # a repo that was there before the job stays
    with pytest.raises(Exception, match="injected failure in one row"):
        write_huggingface(_failing_daft(), repo, token=WRITE_TOKEN)
    assert _exists(api, repo)


def test_a_bad_split_value_leaves_no_repo(hub, api) -> None:
    """split_column's values are known only once the rows are: a bad one fails the job after it began."""
    import daft

    from hfconnect.daft import write_huggingface
    from hfconnect.errors import HfConnectError

    repo = _repo()
    df = daft.from_pydict({"id": [1, 2], "split": ["train", "not a split/name"]})
    with pytest.raises(HfConnectError):
        write_huggingface(df, repo, token=WRITE_TOKEN, split_column="split")
    assert not _exists(api, repo)


def test_a_repo_someone_else_committed_to_meanwhile_stays(hub, api) -> None:
    """The job created the repo, another writer committed to it, then the job failed: their commit stays."""
    from hfconnect.options import WriteOptions
    from hfconnect.write import WriteJob

    repo = _repo()
    job = WriteJob(WriteOptions.build(repo=repo, token=WRITE_TOKEN, endpoint=hub.endpoint))
    job.begin()
    assert job.created_repo and _exists(api, repo)
    api.upload_file(path_or_fileobj=b"theirs", path_in_repo="theirs.txt", repo_id=repo, repo_type="dataset")
    job.abort([])
    assert _exists(api, repo) and "theirs.txt" in api.list_repo_files(repo, repo_type="dataset")
    mine = WriteJob(WriteOptions.build(repo=_repo(), token=WRITE_TOKEN, endpoint=hub.endpoint))
    mine.begin()
    mine.abort([])
    assert not _exists(api, mine.options.repo)
