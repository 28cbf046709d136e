"""hfconnect.options.keywords: a misspelled keyword names the closest one, before the function runs."""

from __future__ import annotations

import pytest

from hfconnect.errors import OptionError
from hfconnect.options.keywords import UnknownKeywordError, checked_keywords

CALLS: list[dict] = []


@checked_keywords
def read_something(repo: str, *, split: str | None = None, row_group_size: int | None = None) -> str:
    CALLS.append({"repo": repo, "split": split})
    return repo


def test_known_keywords_pass_and_the_signature_stays() -> None:
    import inspect

    assert read_something("a/b", split="test") == "a/b"
    assert list(inspect.signature(read_something).parameters) == ["repo", "split", "row_group_size"]


@pytest.mark.parametrize(("typed", "meant"), [("splt", "split"), ("rowgroupsize", "row_group_size"),
                                              ("Row-Group-Size", "row_group_size")])
def test_a_misspelled_keyword_names_the_closest_and_nothing_runs(typed: str, meant: str) -> None:
    CALLS.clear()
    with pytest.raises(UnknownKeywordError, match=rf"^read_something\(\) got an unknown keyword '{typed}'; did you "
                                                  rf"mean '{meant}'\?$") as caught:
        read_something("a/b", **{typed: 1})
    assert CALLS == []
    assert isinstance(caught.value, TypeError) and isinstance(caught.value, OptionError)  # both ways to catch it


def test_a_keyword_like_none_lists_what_it_takes() -> None:
    with pytest.raises(UnknownKeywordError, match=r"unknown keyword 'zzz'; it takes repo, split, row_group_size$"):
        read_something("a/b", zzz=1)
