"""Which package of hfconnect may import which, read from the source with `ast` (nothing is imported): every
import of every module of connector/hfconnect counts, at module level, inside functions, and under
`if TYPE_CHECKING:` (a type from an upper layer is still a dependency on it).

Bottom to top: `errors`, `_lazy` (and the root package, which holds `__version__` only); `hub`, `features`;
`options`; `plan`; `read`, `write`; `stream`; the engines `spark` and `daft` (never each other); the apps `jobs`,
then `cli`. `localhub`, the offline Hub the tests run against, stands beside them and may import only `hub` and
`errors`. A package imports its own modules freely; beside the table, no two MODULES may import each other
(directly or round a longer loop), lazily or not: a shared piece goes to a module of its own.

The core never imports an engine (pyspark, daft, ray), not even inside a function: `test_isolation.py` checks
what importing it loads at run time, this file what any of its functions could import.

What this reading does not see: a module imported by a name built at run time (`importlib.import_module`, which
only `_lazy.py` uses, from maps written as dict literals, which are read here), and the implicit import of a
package's `__init__` when one of its submodules is imported (a cycle through an `__init__` would pass).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tests.unit.test_isolation import ENGINES

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "connector" / "hfconnect"
ROOT = "hfconnect"  # the root package's own __init__: __version__, nothing else

# The layering, bottom to top: what each package may import besides itself.
_BASE = {ROOT, "errors", "_lazy"}
_HUB_ACCESS = _BASE | {"hub", "features"}
_CORE = _HUB_ACCESS | {"options", "plan", "read", "write", "stream"}
ALLOWED: dict[str, set[str]] = {
    ROOT: set(),
    "errors": set(),
    "_lazy": set(),
    "hub": _BASE,
    "features": _BASE,
    "options": _HUB_ACCESS,
    "plan": _HUB_ACCESS | {"options"},
    "read": _HUB_ACCESS | {"options", "plan"},
    "write": _HUB_ACCESS | {"options", "plan"},
    "stream": _HUB_ACCESS | {"options", "plan", "read", "write"},
    "spark": _CORE,  # never daft
    "daft": _CORE,  # never spark
    "jobs": _CORE | {"spark", "daft"},
    "cli": _CORE | {"spark", "daft", "jobs", "localhub"},
    "localhub": {ROOT, "errors", "hub"},  # the test server: the client's Hub helpers and errors, nothing else
}
# Packages that never import an engine, wherever the import sits.
ENGINE_FREE = ("errors", "_lazy", "hub", "features", "options", "plan", "read", "write", "stream", "localhub")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted (hfconnect.write.task)
    target: str  # what it imports, dotted: an hfconnect module or package, or another library's module
    line: int
    where: str  # "module level", "in a function", "under TYPE_CHECKING"

    def __str__(self) -> str:
        return f"{self.module} imports {self.target} (line {self.line}, {self.where})"


def _modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the package: dotted name -> (file, is a package's __init__)."""
    out = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk(node: ast.AST, where: str) -> list[tuple[ast.AST, str]]:
    """Every node below `node` with where it sits: module level, in a function, or under TYPE_CHECKING."""
    out = []
    for child in ast.iter_child_nodes(node):
        here = where
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) and where == "module level":
            here = "in a function"
        out.append((child, here))
        if isinstance(child, ast.If) and _is_type_checking(child):
            for stmt in child.body:
                out.append((stmt, "under TYPE_CHECKING"))
                out.extend(_walk(stmt, "under TYPE_CHECKING"))
            for stmt in child.orelse:
                out.append((stmt, here))
                out.extend(_walk(stmt, here))
            continue
        out.extend(_walk(child, here))
    return out


def _lazy_targets(call: ast.Call) -> list[str]:
    """The relative module names a `lazy_attributes(__name__, {...})` call will import on first use."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    if name != "lazy_attributes" or len(call.args) < 2 or not isinstance(call.args[1], ast.Dict):
        return []
    return [v.value for v in call.args[1].values if isinstance(v, ast.Constant) and isinstance(v.value, str)]


def _absolute(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


@cache
def imports() -> tuple[Import, ...]:
    """Every import statement of the package (and every module `lazy_attributes` loads), resolved to dotted names:
    `from .x import name` names the module `x.name` when that is a module, else `x`."""
    modules = _modules()
    out = []
    for module, (path, is_package) in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, where in _walk(tree, "module level"):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(module, is_package, node.level, node.module) if node.level else node.module or ""
                submodules = [f"{source}.{a.name}" for a in node.names if f"{source}.{a.name}" in modules]
                targets = submodules + ([source] if len(submodules) < len(node.names) else [])
            elif isinstance(node, ast.Call):
                targets = [_absolute(module, is_package, len(t) - len(t.lstrip(".")), t.lstrip(".") or None)
                           for t in _lazy_targets(node)]
            out.extend(Import(module, target, node.lineno, where) for target in targets)
    return tuple(out)


def package_of(dotted: str) -> str | None:
    """hfconnect.write.task -> "write"; hfconnect -> ROOT; not hfconnect's -> None."""
    parts = dotted.split(".")
    if parts[0] != ROOT:
        return None
    return parts[1] if len(parts) > 1 else ROOT


def test_the_parse_sees_every_package_and_the_imports_in_functions() -> None:
    """The checks below stand on this: every package of the table is parsed, and lazy imports are found."""
    found = {package_of(m) for m in _modules()}
    assert found == set(ALLOWED), f"packages not in ALLOWED: {sorted(found - set(ALLOWED))}; " \
                                  f"in ALLOWED but gone: {sorted(set(ALLOWED) - found)}"
    assert any(i.where == "in a function" and package_of(i.module) == "spark" and package_of(i.target) == "stream"
               for i in imports())
    assert any(i.where == "under TYPE_CHECKING" for i in imports())
    assert "hfconnect.plan.model" in {i.target for i in imports()  # through lazy_attributes
                                      if i.module == "hfconnect.plan" and i.where == "module level"}


def test_no_package_imports_upward() -> None:
    upward = []
    for imp in imports():
        mine, theirs = package_of(imp.module), package_of(imp.target)
        if theirs is None or theirs == mine:
            continue
        if theirs not in ALLOWED[mine]:
            may = ", ".join(sorted(p if p != ROOT else "the root package" for p in ALLOWED[mine])) or "nothing"
            upward.append(f"{imp}: `{mine}` may import only {may} of hfconnect")
    assert not upward, ("imports against the layering (upward, or between the engines; the table is ALLOWED in "
                        "tests/unit/test_layering.py):\n" + "\n".join(upward))


def test_the_core_imports_no_engine_even_in_functions() -> None:
    found = [f"{imp}: `{package_of(imp.module)}` must run without an engine"
             for imp in imports()
             if package_of(imp.module) in ENGINE_FREE and imp.target.split(".")[0] in ENGINES]
    assert not found, "engine imports in the core:\n" + "\n".join(found)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return sorted(out)


def test_no_import_cycle_between_modules() -> None:
    """Lazy imports count (they only hide a cycle); imports under TYPE_CHECKING do not (they never run)."""
    modules = _modules()
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for imp in imports():
        if imp.where != "under TYPE_CHECKING" and imp.target in modules and imp.target != imp.module:
            edges[imp.module].add(imp.target)
    cycles = _cycles(edges)
    lines = []
    for cycle in cycles:
        lines.append(" <-> ".join(cycle) + ":")
        lines.extend(f"    {imp}" for imp in imports() if imp.module in cycle and imp.target in cycle
                     and imp.where != "under TYPE_CHECKING")
    assert not cycles, ("modules that import each other (move what they share to a module of its own):\n"
                        + "\n".join(lines))


def test_the_cycle_finder_finds_a_loop() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
