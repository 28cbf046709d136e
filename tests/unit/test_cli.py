"""The `hfconnect` command: tokens can come from a file, so they stay out of process listings."""

from __future__ import annotations

from pathlib import Path

from hfconnect.cli import _parser, _token_lines


def test_token_file_lines_skip_blanks_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("# the cluster's hub\nhf_w:write\n\n  hf_r:read:reader  \n")
    assert _token_lines(str(path)) == ["hf_w:write", "hf_r:read:reader"]


def test_serve_takes_token_files_and_tokens_together() -> None:
    args = _parser().parse_args(["localhub", "serve", "--root", "r", "--token", "a:write", "--token-file", "f1",
                                 "--token-file", "f2"])
    assert args.token == ["a:write"] and args.token_file == ["f1", "f2"]
