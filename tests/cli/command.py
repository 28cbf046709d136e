"""Run `hfconnect` as a user does: the installed console script, in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import WRITE_TOKEN

CONSOLE_SCRIPT = Path(sys.executable).with_name("hfconnect")  # what `pip install` put next to this Python


def hfconnect(endpoint: str | None, *args: str, token: str | None = WRITE_TOKEN) -> subprocess.CompletedProcess[str]:
    """`hfconnect ARGS` against the hub at `endpoint` (HF_ENDPOINT), with `token` as HF_TOKEN."""
    assert CONSOLE_SCRIPT.is_file(), f"no hfconnect console script at {CONSOLE_SCRIPT}: is hfconnect installed?"
    env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HF_ENDPOINT")}
    if endpoint:
        env["HF_ENDPOINT"] = endpoint
    if token:
        env["HF_TOKEN"] = token
    return subprocess.run([str(CONSOLE_SCRIPT), *args], env=env, capture_output=True, text=True, timeout=300)
