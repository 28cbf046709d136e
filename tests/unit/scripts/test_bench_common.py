"""scripts/_bench_common.py's parse_size: every benchmark's --size in hfconnect's own units (1GB = 10**9 bytes,
1GiB = 1024**3), a bad size an argparse error that says what is accepted."""

from __future__ import annotations

import argparse

import pytest
from _bench_common import parse_size

from hfconnect.options import parse_size as library_parse_size


@pytest.mark.parametrize(("text", "size"), [
    ("1GB", 10**9), ("2GB", 2 * 10**9), ("256MB", 256 * 10**6), ("1.5GB", 1_500_000_000), ("64kb", 64_000),
    ("1GiB", 1 << 30), ("512MiB", 512 << 20), ("1073741824", 1 << 30), (" 1 TB ", 10**12), (4096, 4096),
])
def test_sizes_are_the_librarys(text: str | int, size: int) -> None:
    assert parse_size(text) == size == library_parse_size("size", text)


@pytest.mark.parametrize("text", ["", "GB", "1XB", "-1GB", "0", "1 G B", "two GB"])
def test_a_bad_size_is_an_argparse_error(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="bad size"):
        parse_size(text)


def test_a_minimum_and_argparse_type() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="at least 8 bytes"):
        parse_size("4", minimum=8)
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("--size", type=parse_size, default=parse_size("1GB"))
    assert parser.parse_args([]).size == 10**9
    assert parser.parse_args(["--size", "100MiB"]).size == 100 << 20
    with pytest.raises(argparse.ArgumentError, match="bad size '1XB'"):
        parser.parse_args(["--size", "1XB"])
