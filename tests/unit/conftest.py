"""The unit layer: pure functions, in-memory Arrow data, temp dirs, and `datasets`/`pyarrow` as references.
No hub process, Java, Spark, Daft or Ray (tests/unit/test_isolation.py checks, and runs last)."""

from __future__ import annotations

import pytest

ISOLATION_TEST = "tests/unit/test_isolation.py::test_the_unit_layer_imports_no_engine_and_starts_no_hub"


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The isolation check runs after every other collected test, so it sees what they imported."""
    last = [item for item in items if item.nodeid.endswith(ISOLATION_TEST.split("/", 1)[1]) or
            item.nodeid == ISOLATION_TEST]
    items[:] = [item for item in items if item not in last] + last


@pytest.fixture
def inproc_hub():  # noqa: ANN201 - InProcessHub
    """This test's own local hub: the real aiohttp app in a thread of this process (no subprocess)."""
    from tests.unit.inprocess_hub import running_hub

    with running_hub() as hub:
        yield hub
