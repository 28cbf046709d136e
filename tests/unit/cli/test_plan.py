"""Row-group lists as `hfconnect plan` prints them."""

from __future__ import annotations

from hfconnect.cli.plan import _ranges


def test_row_groups_print_as_ranges() -> None:
    assert _ranges((0,)) == "0"
    assert _ranges((0, 1, 2, 5, 7, 8)) == "0-2, 5, 7-8"
