"""The local hub's two blocks of docs/localhub.md run here as written (the port made free). That every block of
the documentation is run by a test or says why not: tests/readme/test_docs_pages.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.readme.blocks import section_blocks

pytestmark = pytest.mark.integration

PAGE = "docs/localhub.md"


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "PYSPARK_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # hfconnect and python: the venv's
    env["HF_HOME"] = str(tmp / "hf-home")
    return env


def test_the_local_hub_shell_block(tmp_path: Path) -> None:
    [block, _] = section_blocks("The local hub", PAGE)
    port = str(free_port())
    script = "set -euo pipefail\n" + block.text.replace("8000", port)
    run = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    from hfconnect.localhub import LocalHub

    # the hub stopped (kill %1) and its folder kept the repo: a new hub on it serves the file
    with LocalHub(tmp_path / "hub-data", tokens={"hf_dev_write": "write"}) as hub:
        from huggingface_hub import HfApi

        api = HfApi(endpoint=hub.endpoint, token="hf_dev_write")
        assert "hello.txt" in api.list_repo_files("me/demo", repo_type="dataset")


def test_the_local_hub_python_block(tmp_path: Path) -> None:
    [_, block] = section_blocks("The local hub", PAGE)
    run = subprocess.run([sys.executable, "-c", block.text], cwd=tmp_path, env=_env(tmp_path), capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
