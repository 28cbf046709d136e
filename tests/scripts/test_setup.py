"""scripts/_setup.sh's pip step, with the real pip in a real venv that _setup.sh creates itself, in a throwaway
project: routine pip warnings go to .venv/pip.log and not to the terminal, and a failing install still fails
loudly, with pip's own output. Offline: no index (PIP_NO_INDEX), and the project builds with an in-tree PEP 517
backend that needs no package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

# An editable wheel that puts the project folder on sys.path: enough for `import hfconnect`.
BACKEND = '''
import base64, hashlib, os, zipfile

NAME, VERSION = "hfconnect", "0.0.1"
DIST = f"{NAME}-{VERSION}.dist-info"


def _record(files):
    lines = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(data)}")
    return "\\n".join(lines + [f"{DIST}/RECORD,,"]) + "\\n"


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    deps = os.environ.get("TEST_PROJECT_REQUIRES", "")
    requires = "".join(f"Requires-Dist: {d}\\n" for d in deps.split(",") if d)
    files = {
        f"{NAME}.pth": (os.path.abspath(".") + "\\n").encode(),
        f"{DIST}/METADATA": f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n{requires}".encode(),
        f"{DIST}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    name = f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as whl:
        for path, data in files.items():
            whl.writestr(path, data)
        whl.writestr(f"{DIST}/RECORD", _record(files))
    return name
'''
PYPROJECT = """[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]

[project]
name = "hfconnect"
version = "0.0.1"
dynamic = ["dependencies"]
"""


def _setup(project: Path, nowhere: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`source scripts/_setup.sh` (no extras) as scripts/demo does, with pip offline and pointed at a missing
    folder of links, which pip warns about on every install."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    clean.update(PYTHON=sys.executable, PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(nowhere),
                 **env)
    return subprocess.run(["bash", "-c", 'source scripts/_setup.sh && echo "setup ok"'], cwd=project, env=clean,
                          capture_output=True, text=True, timeout=300)


def test_pip_warnings_go_to_the_log_and_a_failing_install_fails_loudly(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "_setup.sh", project / "scripts" / "_setup.sh")
    (project / "hfconnect").mkdir()
    (project / "hfconnect" / "__init__.py").write_text("")
    (project / "backend.py").write_text(BACKEND)
    (project / "pyproject.toml").write_text(PYPROJECT)
    nowhere = tmp_path / "no-such-links"

    first = _setup(project, nowhere)  # creates .venv, upgrades its pip, installs the project
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.splitlines()[-1] == "setup ok"
    assert "== creating .venv" in first.stdout and "== installing hfconnect into .venv" in first.stdout
    assert "WARNING" not in first.stdout + first.stderr, first.stdout + first.stderr
    log = (project / ".venv" / "pip.log").read_text()
    assert f"WARNING: Location '{nowhere}' is ignored" in log  # what pip said is kept, out of the way
    assert (project / ".venv" / ".hfconnect-installed").exists()

    # a dependency no index has: pip fails, and the script stops with pip's own words
    later = (project / ".venv" / ".hfconnect-installed").stat().st_mtime + 5
    os.utime(project / "pyproject.toml", (later, later))  # edited since the install: _setup.sh installs again
    second = _setup(project, nowhere, TEST_PROJECT_REQUIRES="hfconnect-no-such-dependency==1")
    assert second.returncode == 1, second.stdout + second.stderr
    assert "setup ok" not in second.stdout
    assert "No matching distribution found for hfconnect-no-such-dependency==1" in second.stderr, second.stderr
    assert "== pip install -e . failed (exit 1); its output is above and in" in second.stderr
