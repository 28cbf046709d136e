"""The README's quickstart, run as a new user runs it: in an empty project folder with this repository cloned as
`./hfconnect`, a new venv activated, each shell block as written (the port made free) and quickstart.py saved
from its block. No activated venv, HF_* or PYSPARK_* settings come from the test's own environment.

Offline, `pip install` cannot reach the index: the new venv sees the test venv's packages (a .pth line) and
builds hfconnect without build isolation, with the test venv's setuptools (the venv's bundled one predates the
license string pyproject.toml uses). What pip installs is hfconnect itself, as for a user."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.readme.blocks import ROOT, section_blocks

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OFFLINE_PIP = {"PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def _script(tmp: Path) -> str:
    install, hub, program, look = section_blocks("Quickstart")
    assert (install.lang, hub.lang, program.lang, look.lang) == ("bash", "bash", "python", "bash")
    make_venv, pip_install = [line for line in install.text.splitlines() if line.strip()]
    (tmp / "quickstart.py").write_text(program.text)
    port = str(free_port())
    site = sysconfig.get_paths()["purelib"]  # the test venv's site-packages
    offline = (f"echo {shlex.quote(site)} > \"$(python -c 'import sysconfig; print(sysconfig.get_paths()"
               "[\"purelib\"])')/_offline_deps.pth\"\n"
               "python -m pip uninstall -q -y setuptools\n")
    return "\n".join([
        "set -euo pipefail", make_venv, offline, pip_install, hub.text.replace("8000", port),
        "python quickstart.py", look.text.replace("8000", port),
        "wait",  # the hub ended (kill %1)
    ])


def test_the_quickstart_runs_as_written(tmp_path: Path) -> None:
    os.symlink(ROOT, tmp_path / "hfconnect")
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HF_", "PYSPARK_", "SPARK_", "VIRTUAL_ENV"))}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv_bin)
    env.update(OFFLINE_PIP, HOME=str(tmp_path / "home"), SPARK_LOCAL_IP="127.0.0.1")
    run = subprocess.run(["bash", "-c", _script(tmp_path)], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600)
    out = run.stdout
    assert run.returncode == 0, out[-3000:] + run.stderr[-5000:]
    assert (tmp_path / ".venv" / "bin" / "hfconnect").exists()  # hfconnect installed into the new venv
    # Spark's read with the filter shows the two positive reviews; Daft wrote them in one commit
    assert "great value" in out and "does the job" in out and "broke in a week" not in out
    assert "wrote 2 rows to me/reviews-positive in commit " in out
    assert "me/reviews-positive" in out and "rows" in out  # hfconnect inspect
    assert "Traceback" not in run.stderr
