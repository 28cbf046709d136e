"""What the WriteJob unit tests share: a table, a job's options against the in-process hub, its tasks and one
whole write, and what the repo holds after (commits, a split's files, the card's rows per split)."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from hfconnect.options import WriteOptions
from hfconnect.write.commit import WriteJob
from hfconnect.write.task import TaskMessage, write_task
from tests.data import make_table
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub

__all__ = ["SCHEMA", "TABLE", "card_splits", "commits", "options", "split", "tasks", "write"]

TABLE = make_table(300, columns=("id", "text"))
SCHEMA = TABLE.schema


def options(hub: InProcessHub, **kw: object) -> WriteOptions:
    return WriteOptions.build(**{"repo": "o/w", "endpoint": hub.endpoint, "token": WRITE_TOKEN, **kw})


def tasks(job: WriteJob, parts: list[pa.Table]) -> list[TaskMessage | None]:
    return [write_task(t.to_batches(), SCHEMA, job.options, job_id=job.job_id, partition_id=i)
            for i, t in enumerate(parts)]


def write(hub: InProcessHub, parts: list[pa.Table], **kw: object):  # noqa: ANN202 - (job, CommitResult)
    job = WriteJob(options(hub, **kw))
    job.begin(SCHEMA)
    return job, job.commit(tasks(job, parts), SCHEMA)


def commits(hub: InProcessHub, repo: str = "o/w") -> list:
    return hub.api().list_repo_commits(repo, repo_type="dataset")


def split(hub: InProcessHub, prefix: str = "data/train-", repo: str = "o/w") -> dict[str, pa.Table]:
    api = hub.api()
    out = {}
    for path in sorted(api.list_repo_files(repo, repo_type="dataset")):
        if path.startswith(prefix):
            with open(api.hf_hub_download(repo, path, repo_type="dataset"), "rb") as f:
                out[path] = pq.read_table(io.BytesIO(f.read()))
    return out


def card_splits(hub: InProcessHub, repo: str = "o/w") -> dict[str, int]:
    """Rows per split, as the dataset card's YAML says."""
    with open(hub.api().hf_hub_download(repo, "README.md", repo_type="dataset")) as f:
        meta = yaml.safe_load(f.read().split("---")[1])
    return {s["name"]: s["num_examples"] for s in meta["dataset_info"]["splits"]}
