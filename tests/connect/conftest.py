"""Spark Connect: the session's `connect_server` (hfconnect installed in its Python, tests/conftest.py) and a
`bare_connect_server` whose Python has hfconnect's dependencies but not hfconnect, as a shared server would: a
client ships hfconnect with `spark.addArtifacts(zip, pyfile=True)`; the token is in that server's environment
(HF_TOKEN), as for a server you run, so clients never send it. Both stop at the end of the session."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import WRITE_TOKEN
from tests.connect_server import ROOT, ConnectServer, python_without_hfconnect, running


@pytest.fixture(scope="session")
def bare_connect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectServer]:
    tmp = tmp_path_factory.mktemp("connect-bare")
    with running("bare", python_without_hfconnect(tmp / "bare-python"), tmp, env={"HF_TOKEN": WRITE_TOKEN}) as server:
        yield server


@pytest.fixture(scope="session")
def hfconnect_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    env = {k: v for k, v in os.environ.items() if k not in ("HF_ENDPOINT", "HF_TOKEN")}
    built = subprocess.run([str(ROOT / "scripts" / "package"), "--out", str(out)], capture_output=True, text=True,
                           timeout=300, env=env)
    assert built.returncode == 0, built.stderr[-3000:]
    return out / "hfconnect.zip"
