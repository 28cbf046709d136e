"""The `hfconnect` command, run as a user runs it (a subprocess) against a hub of its own."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hfconnect.localhub import LocalHub
from tests.cli.command import hfconnect as run_hfconnect
from tests.conftest import READ_TOKEN, WRITE_TOKEN
from tests.data import make_table, parquet_bytes

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cli_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHub]:
    """A hub with dataset c/src: train in 3 files of 4 row groups, test in 1 file."""
    from huggingface_hub import CommitOperationAdd, HfApi

    with LocalHub(tmp_path_factory.mktemp("cli-hub"), tokens={WRITE_TOKEN: "write", READ_TOKEN: "read"}) as hub:
        api = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)
        api.create_repo("c/src", repo_type="dataset")
        ops = [CommitOperationAdd(f"data/train-{i:05d}-of-00003.parquet", parquet_bytes(make_table(20_000, i * 20_000)))
               for i in range(3)]
        ops.append(CommitOperationAdd("data/test-00000-of-00001.parquet", parquet_bytes(make_table(5_000, 100_000))))
        api.create_commit("c/src", repo_type="dataset", operations=ops, commit_message="data")
        yield hub


def hfconnect(hub: LocalHub, *args: str, token: str | None = WRITE_TOKEN) -> subprocess.CompletedProcess[str]:
    return run_hfconnect(hub.endpoint, *args, token=token)


@pytest.mark.parametrize("command", [[], ["localhub", "serve"], ["inspect"], ["plan"], ["copy"]])
def test_every_command_has_help(cli_hub, command) -> None:
    out = hfconnect(cli_hub, *command, "--help")
    assert out.returncode == 0 and "Usage: hfconnect" in out.stdout


def test_inspect_shows_commit_splits_files_and_what_is_optimized(cli_hub) -> None:
    out = hfconnect(cli_hub, "inspect", "c/src", token=READ_TOKEN)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "dataset c/src at commit " in text and "schema: id: int64, text: string" in text
    assert "split train: 3 file(s)" in text and "60,000 rows; 0 of 3 Parquet file(s) optimized" in text
    assert "data/train-00000-of-00003.parquet  " in text and "20,000 rows  4 row group(s)" in text
    assert "SNAPPY  page index: no  CDC: unknown  not optimized" in text
    assert "split test: 1 file(s)" in text and "5,000 rows" in text


def test_plan_shows_shards_and_what_a_filter_prunes(cli_hub) -> None:
    out = hfconnect(cli_hub, "plan", "c/src", "--filter", '[("id", "<", 5000)]', "--shard-size", "200KB")
    assert out.returncode == 0, out.stderr
    assert "pushed filter: (id < 5000)" in out.stdout
    assert "statistics kept 1 of 12 row group(s) of the 3 file(s) whose footers were read; 2 file(s) skipped" \
        in out.stdout
    assert "shard 0: ~" in out.stdout and "data/train-00000-of-00003.parquet [row groups 0]" in out.stdout
    plain = hfconnect(cli_hub, "plan", "c/src", "--min-shards", "4").stdout
    shards = int(re.search(r"-> (\d+) shard\(s\)", plain).group(1))  # type: ignore[union-attr]
    assert shards >= 4 and plain.count("\n  shard ") == shards


def test_copy_writes_every_split_as_optimized_parquet(cli_hub) -> None:
    out = hfconnect(cli_hub, "copy", "c/src", "c/copy")
    assert out.returncode == 0, out.stderr
    assert "copying c/src@" in out.stdout and "-> c/copy" in out.stdout
    assert "  train: 60,000 rows\n" in out.stdout and "  test: 5,000 rows\n" in out.stdout
    assert "65,000 rows in 2 file(s), one commit " in out.stdout
    check = hfconnect(cli_hub, "inspect", "c/copy", token=READ_TOKEN)
    assert "split train: " in check.stdout and "60,000 rows; 1 of 1 Parquet file(s) optimized" in check.stdout
    assert "ZSTD  page index: yes  CDC: yes  optimized" in check.stdout
    again = hfconnect(cli_hub, "copy", "c/src", "c/copy", "--split", "test")  # mode error: the split has data
    assert again.returncode == 1 and "already has 1 file(s) and mode is 'error'" in again.stderr


USAGE_ERRORS = {
    "unknown option": (["inspect", "me/reviews", "--splt", "test"],
                       "Usage: hfconnect inspect ", "Error: No such option: --splt (Possible options: "),
    "unknown command": (["inspekt", "x"], "Usage: hfconnect ", "Error: No such command 'inspekt'. Did you mean "
                                                                "'inspect'?"),
    "missing argument": (["inspect"], "Usage: hfconnect inspect ", "Error: Missing argument 'repo'."),
    "not an int": (["plan", "x", "--limit", "abc"], "Usage: hfconnect plan ", "Error: Invalid value for '--limit': "),
    "no such option after a good one": (["copy", "a/b", "c/d", "--mode", "append", "--privat"],
                                        "Usage: hfconnect copy ", "Error: No such option: --privat"),
}


@pytest.mark.parametrize("case", list(USAGE_ERRORS))
def test_usage_errors_are_the_usage_line_and_one_error_line(case: str) -> None:
    """What a new user's typos get: click's usage line and one `Error:` line, exit 2, no traceback, no Hub call
    (no endpoint is even set)."""
    args, usage, error = USAGE_ERRORS[case]
    out = run_hfconnect(None, *args, token=None)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""
    lines = out.stderr.splitlines()
    assert lines[0].startswith(usage), lines
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1 and errors[0].startswith(error), lines
    if case == "unknown option":
        assert "--split" in errors[0]  # click's "did you mean"


def test_a_bare_hfconnect_prints_the_help() -> None:
    """click's no_args_is_help: the help and exit 2 (as `git` with no command), never a traceback."""
    out = run_hfconnect(None, token=None)
    assert out.returncode == 2 and "Traceback" not in out.stderr + out.stdout
    shown = out.stdout + out.stderr  # rich prints the help on stdout, plain click on stderr
    assert "Usage: hfconnect [OPTIONS] COMMAND [ARGS]..." in shown
    assert all(command in shown for command in ("inspect", "plan", "copy", "localhub"))


def test_errors_are_one_line_and_a_hint_and_debug_shows_the_traceback(cli_hub) -> None:
    out = hfconnect(cli_hub, "inspect", "c/missing", token=READ_TOKEN)
    assert out.returncode == 1 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert lines == ["hfconnect: error: dataset c/missing@main: not found on the Hub: check the name, or that this "
                     "token can read it",
                     "hint: check the repo id and --endpoint (HF_ENDPOINT), or pass a token that can read it"]
    bad = hfconnect(cli_hub, "plan", "c/src", "--filter", "__import__('os')")
    assert bad.returncode == 1 and "expected DNF filters as JSON or a Python literal" in bad.stderr
    debug = hfconnect(cli_hub, "--debug", "inspect", "c/missing", token=READ_TOKEN)
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
    assert "RepoNotFoundError" in debug.stderr


def test_localhub_serve_takes_tokens_from_files_and_flags_together(tmp_path: Path) -> None:
    """What scripts/cluster and the compose files rely on: tokens in files, none on the command line."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    (tmp_path / "writers").write_text("# writers\nhf_file_write:write:alice\n")
    (tmp_path / "readers").write_text("\nhf_file_read:read:bob\n")
    ready = tmp_path / "ready.json"
    server = subprocess.Popen([sys.executable, "-m", "hfconnect.cli", "localhub", "serve", "--root",
                               str(tmp_path / "hub"), "--port", "0", "--token", "hf_flag_write:write",
                               "--token-file", str(tmp_path / "writers"), "--token-file", str(tmp_path / "readers"),
                               "--ready-file", str(ready)], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert server.poll() is None and time.monotonic() < deadline, "the hub did not start"
            time.sleep(0.1)
        endpoint = json.loads(ready.read_text())["endpoint"]
        assert HfApi(endpoint=endpoint, token="hf_file_write").whoami()["name"] == "alice"
        assert HfApi(endpoint=endpoint, token="hf_file_read").whoami()["auth"]["accessToken"]["role"] == "read"
        HfApi(endpoint=endpoint, token="hf_flag_write").create_repo("t/tokens", repo_type="dataset")
        with pytest.raises(HfHubHTTPError, match="Invalid user token"):
            HfApi(endpoint=endpoint, token="hf_unknown").whoami()
        listing = Path(f"/proc/{server.pid}/cmdline").read_bytes().decode()
        assert "hf_file_write" not in listing and "hf_file_read" not in listing
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
