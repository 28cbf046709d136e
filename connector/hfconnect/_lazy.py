"""Package attributes imported on first use: Spark imports hfconnect in each of its short-lived planning
processes, so importing a package must not pull its heavy submodules (pyarrow.dataset -> pandas) in with it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` that imports `name` from `package + where[name]` when first asked for."""

    def __getattr__(name: str) -> Any:  # noqa: N807 - a module's __getattr__
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(module, package), name)

    return __getattr__
