"""`hfconnect localhub serve --token-file`: the token lines of a file (tokens stay out of process listings); a
file that cannot be read is a one-line error before anything starts. (The server taking them: tests/cli.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from hfconnect.cli import main
from hfconnect.cli.localhub import token_lines


def test_token_file_lines_skip_blanks_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("# the cluster's hub\nhf_w:write\n\n  hf_r:read:reader  \n")
    assert token_lines(str(path)) == ["hf_w:write", "hf_r:read:reader"]


def test_a_missing_token_file_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["localhub", "serve", "--root", str(tmp_path / "r"), "--token-file", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert "nope" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()  # nothing started


@pytest.mark.parametrize(("flag", "rate"), [(None, 0.0), ("25MB", 25e6), ("1MiB", 1024.0 * 1024), ("2.5e6", 2.5e6)])
def test_the_cdn_connection_rate_flag_reaches_the_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       flag: str | None, rate: float) -> None:
    import hfconnect.localhub as localhub

    seen = {}
    monkeypatch.setattr(localhub, "serve", lambda root, **kw: seen.update(kw))
    args = ["localhub", "serve", "--root", str(tmp_path), "--real-hub"]
    assert main(args + (["--cdn-connection-rate", flag] if flag else [])) == 0
    assert seen["mode"].cdn_connection_rate == rate and seen["mode"].redirects


def test_a_bad_cdn_connection_rate_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["localhub", "serve", "--root", str(tmp_path), "--cdn-connection-rate", "fast"]) != 0
    assert "cdn-connection-rate" in capsys.readouterr().err
