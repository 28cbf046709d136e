"""Session fixtures: ONE real local hub over HTTP for the whole run, started only if a test asks for it.

`pytest_configure` reserves the hub's port and sets HF_ENDPOINT before test modules import huggingface_hub/
datasets, because those read HF_ENDPOINT and HF_HUB_DISABLE_XET once, at import time: nothing imported here
may import them. The hub process itself starts with the first test that uses the `hub` fixture, so the unit
layer (tests/unit) never starts it. Tests share that hub, so none reads its counters or sets its fault rules:
those that must use `own_hub`, a hub of their own.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from hfconnect.localhub import LocalHub

if TYPE_CHECKING:  # not at import: pytest_configure sets HF_ENDPOINT first
    from huggingface_hub import HfApi

WRITE_TOKEN = "hf_test_write_4f1c2a"
READ_TOKEN = "hf_test_read_9b7d3e"
# The tokens the anchors' documented examples pass (tests/compat runs those examples unchanged): write tokens of
# the session hub, so the examples need no edit.
EXAMPLE_TOKENS = ("hf_xxx", "your_token")
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "parquet-testing"

_state: dict[str, object] = {}


def pytest_configure(config: pytest.Config) -> None:
    home = tempfile.mkdtemp(prefix="hfconnect-tests-home-")
    # Xet on, as on huggingface.co (the LFS path keeps its own variant: tests/write/test_lfs_variant.py)
    os.environ.pop("HF_HUB_DISABLE_XET", None)
    os.environ.update(
        NO_PROXY="127.0.0.1,127.0.0.2,localhost",  # hf_xet's HTTP client honours HTTP(S)_PROXY
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        HF_DATASETS_DISABLE_PROGRESS_BARS="1",
        HF_HOME=home,
    )
    os.environ.pop("HF_TOKEN", None)
    port = free_port()
    os.environ["HF_ENDPOINT"] = f"http://127.0.0.1:{port}"
    _state["port"] = port
    _state["home"] = home


def free_port() -> int:
    """A port free now on 127.0.0.1; the hub binds it later with SO_REUSEADDR."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pytest_unconfigure(config: pytest.Config) -> None:
    hub = _state.pop("hub", None)
    if isinstance(hub, LocalHub):
        hub.close()


def unknown_routes(hub: LocalHub) -> list[str]:
    """Requests the hub had no route for: a client speaking a protocol the hub does not (e.g. a new hf_xet)."""
    return list(LocalHub.counters(hub).get("unknown_routes", []))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The run fails when any client request reached a route the session hub does not know (protocol drift shows
    up as a failure, not as a silent 404)."""
    hub = _state.get("hub")
    if not isinstance(hub, LocalHub) or hub.proc is None:
        return
    unknown = unknown_routes(hub)
    if unknown:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"FAILED: the session hub got requests it has no route for: {unknown[:20]}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


class SessionHub(LocalHub):
    """The session hub. Every test of the run shares it, so its global counters and fault rules mean nothing to
    any one test (another test's requests, or rules it left behind, change them): they are refused here. A test
    that counts requests or injects faults uses `own_hub`; one that counts commits counts its own repo's."""

    def _shared(self, what: str) -> AssertionError:
        return AssertionError(f"{what} on the session hub, which every test shares: use the `own_hub` fixture "
                              "(or tests.data.commits for a repo's commits)")

    def counters(self) -> dict[str, Any]:
        raise self._shared("counters()")

    def reset_counters(self) -> None:
        raise self._shared("reset_counters()")

    def set_faults(self, rules: list[dict[str, Any]], seed: int | None = None) -> dict[str, Any]:
        raise self._shared("set_faults()")

    def clear_faults(self) -> None:
        raise self._shared("clear_faults()")

    def reset_limits(self) -> None:
        raise self._shared("reset_limits()")


@pytest.fixture(scope="session")
def hub() -> LocalHub:
    """The session hub at HF_ENDPOINT, started on first use."""
    found = _state.get("hub")
    if found is None:
        port = _state["port"]
        assert isinstance(port, int)
        found = SessionHub(tokens={WRITE_TOKEN: "write", READ_TOKEN: "read", **dict.fromkeys(EXAMPLE_TOKENS, "write")},
                           port=port,
                           log_file=os.path.join(str(_state["home"]), "localhub.log"))
        _state["hub"] = found.start()
        assert found.endpoint == os.environ["HF_ENDPOINT"], (found.endpoint, os.environ["HF_ENDPOINT"])
    assert isinstance(found, LocalHub)
    return found


@pytest.fixture(scope="session")
def api(hub: LocalHub):
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)


@pytest.fixture
def own_hub(tmp_path: Path) -> Iterator[LocalHub]:
    """A hub of this test alone (~0.5 s to start): its counters and fault rules concern this test only. Clients
    reach it only through its endpoint (HF_ENDPOINT is the session hub's): pass `own_hub.endpoint` explicitly."""
    with LocalHub(tmp_path / "own-hub", tokens={WRITE_TOKEN: "write", READ_TOKEN: "read"},
                  log_file=tmp_path / "own-hub.log") as own:
        yield own
        if own.proc is not None:  # a test that stopped its hub has nothing left to ask
            assert not unknown_routes(own), f"requests the hub has no route for: {unknown_routes(own)}"


@pytest.fixture
def own_api(own_hub: LocalHub) -> HfApi:
    """An HfApi with the write token on `own_hub`."""
    from huggingface_hub import HfApi

    return HfApi(endpoint=own_hub.endpoint, token=WRITE_TOKEN)


@pytest.fixture
def repo_id(api) -> Iterator[str]:
    """A fresh public dataset repo per test."""
    rid = f"tests/ds-{uuid.uuid4().hex[:10]}"
    api.create_repo(rid, repo_type="dataset")
    yield rid


@pytest.fixture(scope="session")
def spark():
    """One SparkSession (local[2]) for the whole run: session start costs ~8 s."""
    import sys

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("hfconnect-tests")
               .config("spark.sql.python.filterPushdown.enabled", "true")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def connect_server(tmp_path_factory: pytest.TempPathFactory):
    """One Spark Connect server (local[2], hfconnect installed in its Python) for the whole run, started on first
    use: tests/connect and tests/stream share it (see tests/connect_server.py)."""
    from tests.connect_server import VENV, running

    with running("installed", VENV / "bin" / "python", tmp_path_factory.mktemp("connect")) as server:
        yield server


@pytest.fixture(scope="session")
def corpus() -> Path:
    assert CORPUS.is_dir(), f"the parquet-testing corpus is missing at {CORPUS}"
    return CORPUS


from tests.data import multi_config  # noqa: E402,F401 - the shared multi-config dataset fixture
