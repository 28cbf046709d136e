"""`hfconnect localhub serve`: tokens can come from a file, so they stay out of process listings."""

from __future__ import annotations

from pathlib import Path

import pytest

from hfconnect.cli import main
from hfconnect.cli.localhub import token_lines


def test_token_file_lines_skip_blanks_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("# the cluster's hub\nhf_w:write\n\n  hf_r:read:reader  \n")
    assert token_lines(str(path)) == ["hf_w:write", "hf_r:read:reader"]


def test_serve_takes_token_files_and_tokens_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "f1").write_text("hf_one:write\n")
    (tmp_path / "f2").write_text("# readers\nhf_two:read:bob\n")
    seen: dict = {}
    monkeypatch.setattr("hfconnect.localhub.serve", lambda root, **kw: seen.update(kw, root=root))
    assert main(["localhub", "serve", "--root", str(tmp_path / "r"), "--token", "hf_a:write",
                 "--token-file", str(tmp_path / "f1"), "--token-file", str(tmp_path / "f2")]) == 0
    assert seen["tokens"] == ["hf_a:write", "hf_one:write", "hf_two:read:bob"]


def test_a_missing_token_file_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["localhub", "serve", "--root", str(tmp_path / "r"), "--token-file", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert "nope" in err and "Traceback" not in err
