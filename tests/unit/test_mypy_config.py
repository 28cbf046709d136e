"""pyproject.toml's mypy overrides name modules: a renamed or removed module would drop out of its check without a
word from mypy (its unused-section warning needs a non-incremental run). Every module named must exist."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _exists(module: str) -> bool:
    if module.endswith(".*"):
        return True  # a third-party pattern
    path = ROOT / "connector" / Path(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_every_module_the_mypy_overrides_name_exists() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    ours = [m for o in config["overrides"] for m in o["module"] if m.startswith("hfconnect")]
    assert ours, "the overrides name no hfconnect module: the seams' no-explicit-Any rule is gone"
    assert [m for m in ours if not _exists(m)] == []
