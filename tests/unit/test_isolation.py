"""The unit layer stays a unit layer: it imports no engine (pyspark, daft, ray) and starts no hub process,
and the core library imports no engine either."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ENGINES = ("pyspark", "daft", "ray")
MARKER = "UNIT-ISOLATION-CHECKED"
UNIT_DIR = Path(__file__).resolve().parent
ROOT = UNIT_DIR.parents[1]


def _engines_imported() -> list[str]:
    return sorted({name.split(".")[0] for name in sys.modules} & set(ENGINES))


def test_core_imports_no_engine() -> None:
    code = ("import sys, hfconnect, hfconnect.localhub, hfconnect.cli, hfconnect.hub, hfconnect.plan, hfconnect.read, "
            "hfconnect.write, hfconnect.options, hfconnect.stream, hfconnect.spark, hfconnect.spark.types, "
            "hfconnect.jobs.flow; "
            f"bad = [m for m in sys.modules if m.split('.')[0] in {ENGINES!r}]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_unit_layer_imports_no_engine_and_starts_no_hub(request: pytest.FixtureRequest) -> None:
    """Runs last (tests/unit/conftest.py). In a session of unit tests only, it checks this process; in a
    larger session (whose integration modules import the engines), it runs the unit layer alone in a child."""
    from tests import conftest

    items = request.session.items
    if all(Path(str(item.path)).resolve().is_relative_to(UNIT_DIR) for item in items):
        assert _engines_imported() == []
        assert conftest._state.get("hub") is None, "a unit test started the session hub"
        print(f"{MARKER} after {len(items)} tests")
        return
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    child = subprocess.run([sys.executable, "-m", "pytest", str(UNIT_DIR), "-q", "-s", "-p", "no:cacheprovider"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert child.returncode == 0, child.stdout[-5000:] + child.stderr[-3000:]
    assert f"{MARKER} after " in child.stdout, child.stdout[-3000:]
