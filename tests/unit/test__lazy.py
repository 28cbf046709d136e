"""hfconnect._lazy: a package's members load on first use, so importing the package stays cheap in Spark's
short-lived planning processes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hfconnect._lazy import lazy_attributes


def test_a_member_is_imported_from_its_module_when_first_asked_for() -> None:
    get = lazy_attributes("hfconnect.plan", {"ReadPlan": ".model", "plan_read": ".planner"})
    from hfconnect.plan.model import ReadPlan
    from hfconnect.plan.planner import plan_read

    assert get("ReadPlan") is ReadPlan and get("plan_read") is plan_read


def test_an_unknown_member_is_an_attribute_error_naming_the_package() -> None:
    get = lazy_attributes("hfconnect.plan", {"ReadPlan": ".model"})
    with pytest.raises(AttributeError, match=r"^module 'hfconnect.plan' has no attribute 'nope'$"):
        get("nope")


def test_importing_the_packages_loads_none_of_their_heavy_members() -> None:
    """In a fresh interpreter: the packages import, their planner/reader modules (and pyarrow.dataset, which
    pulls pandas) do not, until a member is used."""
    code = ("import sys, hfconnect.plan, hfconnect.read, hfconnect.stream\n"
            "heavy = ['hfconnect.plan.planner', 'hfconnect.read.reader', 'pyarrow.dataset', 'pandas']\n"
            "assert not [m for m in heavy if m in sys.modules], [m for m in heavy if m in sys.modules]\n"
            "hfconnect.plan.plan_read\n"
            "assert 'hfconnect.plan.planner' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)
