"""What tests share: the one table builder, Parquet bytes, card YAML, the Ray runner preamble, the datasets
published once per session to the session hub, and a repo's own commit count."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

if TYPE_CHECKING:  # not at import: conftest sets HF_ENDPOINT first
    from huggingface_hub import HfApi


def _text(i: int) -> str:
    return f"text {i} " + "x" * (i % 50)


def _hex(i: int) -> str:
    """24 hex digits that differ from row to row: text that barely compresses."""
    return uuid.UUID(int=(i * 2654435761) % (1 << 128) | (1 << 127)).hex[:24]


# Column name -> (Arrow type, value of row i). Every builder of test rows picks its columns here.
COLUMNS: dict[str, tuple[pa.DataType, Callable[[int], Any]]] = {
    "id": (pa.int64(), lambda i: i),
    "text": (pa.string(), _text),
    "hex": (pa.string(), _hex),
    "label": (pa.int32(), lambda i: i % 5),
    "score": (pa.float64(), lambda i: i / 7),
    "fraction": (pa.float64(), lambda i: (i % 1000) / 1000),
    "flag": (pa.bool_(), lambda i: i % 2 == 0),
    "value": (pa.int32(), lambda i: i % 97),
    "kind": (pa.string(), lambda i: None if i % 7 == 0 else f"l{i % 5}"),
    "tags": (pa.list_(pa.int64()), lambda i: [i % 7, i % 13]),
}
DEFAULT_COLUMNS = ("id", "text", "label", "score", "flag")


def make_table(n: int, offset: int = 0, *, columns: Sequence[str] = DEFAULT_COLUMNS,
               null_every: int = 0) -> pa.Table:
    """Rows offset..offset+n-1; each value a function of the row's id, so any slice is predictable.
    `null_every` > 0 makes `text` null on ids divisible by it."""
    ids = range(offset, offset + n)
    arrays = {}
    for name in columns:
        dtype, value = COLUMNS[name]
        nulls = null_every and name == "text"
        arrays[name] = pa.array([None if nulls and i % null_every == 0 else value(i) for i in ids], dtype)
    return pa.table(arrays)


def parquet_bytes(table: pa.Table, row_group_size: int = 5_000, **write_options: Any) -> bytes:
    """The table as one Parquet file in memory (pyarrow's writer; `write_options` go to `write_table`)."""
    buf = io.BytesIO()
    pq.write_table(table, buf, row_group_size=row_group_size, **write_options)
    return buf.getvalue()


def card(configs: Mapping[str, Mapping[str, str | list[str]]], *, default: str | None = None,
         title: str = "test dataset", **yaml_keys: Any) -> str:
    """A dataset card: YAML `configs:` (config -> split -> path pattern(s)), `default` marked, then prose."""
    entries = []
    for name, splits in configs.items():
        entry: dict[str, Any] = {"config_name": name}
        if name == default:
            entry["default"] = True
        entry["data_files"] = [{"split": split, "path": path} for split, path in splits.items()]
        entries.append(entry)
    front = yaml.safe_dump({"configs": entries, **yaml_keys}, sort_keys=False)
    return f"---\n{front}---\n# {title}\n"


CARD = card({"reviews": {"train": "reviews/train-*.parquet", "test": "reviews/test-*.parquet"},
             "extra": {"train": "extra/*.parquet"}}, default="reviews", title="two configs")


RAY_PREAMBLE = """
import sys

import ray

import daft

ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=128 * 1024 * 1024)
try:
    daft.set_runner_ray()
    from daft.runners import get_or_create_runner

    assert get_or_create_runner().name == "ray"
{body}
finally:
    ray.shutdown()
"""


def run_on_ray(body: str, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """`body` (Python, indented as at module level) in a child process on Daft's Ray runner, `args` in sys.argv.

    Its own process because Daft sets the runner once per process. No HF_ENDPOINT/HF_TOKEN for the child or
    its Ray workers: endpoints and tokens must travel inside the tasks."""
    script = RAY_PREAMBLE.format(body=textwrap.indent(textwrap.dedent(body).strip("\n"), "    "))
    env = {k: v for k, v in os.environ.items() if k not in ("HF_ENDPOINT", "HF_TOKEN")}
    env.update(RAY_USAGE_STATS_ENABLED="0", RAY_DEDUP_LOGS="0")
    return subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


@dataclass
class Published:
    repo_id: str
    sha: str
    tables: dict[tuple[str, str], pa.Table]  # (config, split) -> rows
    files: dict[str, bytes]


@pytest.fixture(scope="session")
def multi_config(api) -> Published:
    """Config 'reviews' (train in 3 files of several row groups, test in 1) and config 'extra', on the session hub."""
    return publish_multi_config(api)


def publish_multi_config(api: HfApi) -> Published:
    """The `multi_config` dataset on the hub of `api`: tests that count a hub's requests publish it
    on a hub of their own."""
    from huggingface_hub import CommitOperationAdd  # not at import: conftest sets HF_ENDPOINT first

    repo_id = f"tests/multi-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo_id, repo_type="dataset")
    train, test, extra = make_table(60_000), make_table(5_000, 100_000), make_table(3_000, 200_000)
    files = {f"reviews/train-{i}.parquet": parquet_bytes(train.slice(i * 20_000, 20_000)) for i in range(3)}
    files["reviews/test-0.parquet"] = parquet_bytes(test)
    files["extra/part-0.parquet"] = parquet_bytes(extra)
    ops = [CommitOperationAdd(p, b) for p, b in files.items()] + [CommitOperationAdd("README.md", CARD.encode())]
    info = api.create_commit(repo_id, repo_type="dataset", operations=ops, commit_message="data")
    tables = {("reviews", "train"): train, ("reviews", "test"): test, ("extra", "train"): extra}
    return Published(repo_id, info.oid, tables, files)


def commits(api: HfApi, repo: str) -> int:
    """Commits made to dataset `repo` since create_repo, on every branch, tag and pull request;
    0 while the repo does not exist. What the hub's global commit counter counted, for this repo only: tests
    count their own repo's commits, never a shared hub's."""
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        refs = api.list_repo_refs(repo, repo_type="dataset", include_pull_requests=True)
    except RepositoryNotFoundError:
        return 0
    heads = {ref.target_commit for ref in (*refs.branches, *refs.converts, *refs.tags, *(refs.pull_requests or ()))}
    seen: set[str] = set()
    for head in heads:
        seen.update(c.commit_id for c in api.list_repo_commits(repo, repo_type="dataset", revision=head))
    return len(seen) - 1  # the commit that created the repo is not one anybody made


# Where a download goes: `/resolve/` of a Xet file redirects to the cas-bridge, which serves the bytes (as on
# huggingface.co); an LFS file's bytes come from `/resolve/` itself (or the CDN of the real-Hub mode).
DOWNLOAD_ROUTES = ("resolve", "bridge")


def on_downloads(rule: dict) -> list[dict]:
    """The same fault rule on every route a download takes."""
    return [{**rule, "route": route} for route in DOWNLOAD_ROUTES]


def download_faults(counters: dict) -> int:
    """How many faults the download routes injected."""
    return sum(counters[route]["faults"] for route in DOWNLOAD_ROUTES)


# Faults every reader must survive with exact results (each test runs its own hub: the rules are global).
FAULT_RULES = {
    "429-retry-after": on_downloads({"action": "status", "status": 429, "retry_after": 0.1, "every": 3}),
    "503": on_downloads({"action": "status", "status": 503, "every": 2}),
    "reset-mid-body": on_downloads({"action": "reset_after", "after_bytes": 20_000, "every": 2}),
}


@contextmanager
def hub_with_one_file(root: Path, rows: int = 40_000) -> Iterator[tuple[object, pa.Table]]:
    """A private LocalHub with dataset f/ds holding one Parquet file of `rows` rows (5,000-row row groups)."""
    from huggingface_hub import HfApi

    from hfconnect.localhub import LocalHub
    from tests.conftest import WRITE_TOKEN

    with LocalHub(root, tokens={WRITE_TOKEN: "write"}) as hub:
        api = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)
        api.create_repo("f/ds", repo_type="dataset")
        table = make_table(rows)
        api.upload_file(path_or_fileobj=parquet_bytes(table), path_in_repo="data/train-00000-of-00001.parquet",
                        repo_id="f/ds", repo_type="dataset")
        yield hub, table


def png_bytes(color: tuple[int, int, int], size: tuple[int, int] = (5, 3)) -> bytes:
    """A small RGB PNG of one color (media columns' test data)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def wav_bytes(frames: bytes, rate: int = 16000) -> bytes:
    """A mono 16-bit WAV of these frame bytes (audio columns' test data)."""
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return buf.getvalue()
