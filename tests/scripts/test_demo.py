"""scripts/demo as a newcomer runs it: in a terminal (a pseudo-terminal here, so that what tools print only to
terminals, progress bars and query ids, would show), from the project folder, with a plain environment. The
terminal shows the demo's story and nothing of the engines (their output is in the log the demo names), the hub's
folder it kept serves its datasets again, and the "Next, try" commands it prints work.

`--rows 20000` keeps it under a minute on two cores: the story is the same as with the default 200,000.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import os
import pty
import re
import select
import shlex
import signal
import subprocess
import time
from pathlib import Path
from types import ModuleType

import pytest

from hfconnect.localhub import LocalHub

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DEMO_TIMEOUT = 300
# What the engines print when they reach the terminal: the JVM, log4j, Python warnings, Spark's stage bar, Daft's
# query ids, pip; and terminal control sequences (progress bars redraw with \r and ANSI escapes).
NOISE = ("log4j", "WARN", "incubator", "FutureWarning", "Warning:", "Stage ", "Traceback", "WARNING:", "Query ID",
         "\r", "\x1b[")
# Every line of the story before "Next, try:".
STORY = [r"hfconnect demo: .+", r"local hub: http://127\.0\.0\.1:\d+, data in .+", r"",
         r"published demo/reviews@[0-9a-f]{12}: \d+ Parquet files, [\d.]+ MB, one commit \(.+\)",
         r"  (train|validation|test) +\d+ rows", r"datasets\.load_dataset: .+ \(\d+ positive reviews\)",
         r"Spark job: read demo/reviews with pushdown, wrote demo/reviews-helpful \(.+\)",
         r"  commits to demo/reviews-helpful: 1 \(one for the three splits\)",
         r"  bytes fetched from the hub: .+", r"  datasets\.load_dataset\('demo/reviews-helpful'\): \{.+\} in .+",
         r"  Daft read_huggingface, rows by category: \{.+\} in .+", r"== .+"]  # == : scripts/_setup.sh installing


def _newcomer_env() -> dict[str, str]:
    """This environment without what the test session set for itself (its hub, cache, quiet switches)."""
    drop = ("HF_", "DAFT_", "PYTEST_", "PYSPARK_", "SPARK_", "PYTHONWARNINGS", "RAY_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)} | {"TERM": "xterm-256color"}


def _run_in_terminal(argv: list[str], timeout: float) -> tuple[int, str]:
    """argv on a pseudo-terminal (stdout and stderr both), as typed in one; returns (exit code, what it showed)."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(argv, cwd=ROOT, env=_newcomer_env(), stdin=subprocess.DEVNULL, stdout=secondary,
                            stderr=secondary, start_new_session=True)
    os.close(secondary)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 1.0)
            if ready:
                try:
                    data = os.read(primary, 65536)
                except OSError:  # EIO: every writer closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
        else:
            proc.send_signal(signal.SIGINT)  # the demo stops its hub and Spark on an interrupt
            proc.wait(timeout=30)
            pytest.fail(f"{argv} took more than {timeout} s:\n" + b"".join(chunks).decode(errors="replace"))
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(primary)
    # the terminal turns each \n into \r\n; any other \r is a redrawn line (a progress bar)
    return code, b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")


def _demo_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hfconnect_demo", ROOT / "scripts" / "demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_demo_tells_its_story_only_keeps_the_hub_and_says_what_to_try_next(tmp_path: Path) -> None:
    kept, log = tmp_path / "hub", tmp_path / "logs" / "demo.log"
    t0 = time.monotonic()
    code, shown = _run_in_terminal([str(ROOT / "scripts" / "demo"), "--rows", "20000", "--root", str(kept),
                                    "--log", str(log)], DEMO_TIMEOUT)
    seconds = time.monotonic() - t0
    print(f"\n$ scripts/demo --rows 20000 --root ... --log ...  [{seconds:.1f} s]\n{shown}")
    assert code == 0, shown
    for noise in NOISE:
        assert noise not in shown, f"{noise!r} reached the terminal:\n{shown}"
    story, _, after = shown.partition("\nNext, try (from this folder):\n")
    assert after, f"no 'Next, try:' block:\n{shown}"
    for line in story.splitlines():
        assert any(re.fullmatch(p, line) for p in STORY), f"not a line of the story: {line!r}\n{shown}"
    for line in ("commits to demo/reviews-helpful: 1", "Daft read_huggingface", "datasets.load_dataset("):
        assert line in story
    rows = re.search(r"datasets\.load_dataset\('demo/reviews-helpful'\): (\{.+\}) in", story).group(1)

    # the log the demo names holds what the engines said
    assert story.splitlines()[0].endswith(f"; their own output goes to {log}")
    text = log.read_text()
    assert "hfconnect localhub listening on " in text and "log4j" in text, text[-3000:]

    # the folder it kept, and said it kept, serves the datasets again, as "Next, try" tells
    assert f"data in {kept}: kept after the demo" in story
    commands = [line.strip() for line in after.splitlines() if line.strip()]
    assert commands[-1].startswith("scripts/test --unit")
    demo = _demo_module()
    serve = next(c for c in commands if c.startswith("hfconnect localhub serve "))
    assert serve.startswith(f"hfconnect localhub serve --root {shlex.quote(str(kept))} --port 8000 "
                            f"--token {demo.NEXT_TOKEN}:write")
    inspect = next(c for c in commands if c.startswith("hfconnect inspect "))
    subset_daft = next(c for c in commands if c.startswith("python jobs/subset.py ") and "--engine daft" in c)
    with LocalHub(kept, tokens={demo.NEXT_TOKEN: "write"}) as hub:
        env = _newcomer_env() | {"HF_ENDPOINT": hub.endpoint, "HF_TOKEN": demo.NEXT_TOKEN,
                                 "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"}
        for command in (inspect.split("  #")[0], subset_daft):
            run = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True,
                                 timeout=180)
            assert run.returncode == 0, f"{command}\n{run.stdout[-3000:]}{run.stderr[-3000:]}"
            if command.startswith("hfconnect inspect"):
                for split, n in ast.literal_eval(rows).items():
                    assert re.search(rf"split {split}: .*\b{n:,} rows", run.stdout), (split, n, run.stdout)
            else:
                assert ": done: rows=" in run.stdout, run.stdout


def test_without_keep_the_demo_says_how_to_keep_the_hub() -> None:
    """The temp-folder run's "Next, try" starts with the command that keeps the hub's data (printed without
    running the engines: what the first test ran covers the rest)."""
    demo = _demo_module()
    args = demo.parse_args(["--rows", "20000"])
    assert args.root is None and args.log == demo.DEMO_DIR / "demo.log"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        demo.next_steps(args, "http://127.0.0.1:1")
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["", "Next, try (from this folder):"] and lines[2].strip().startswith("scripts/demo --keep  ")
    assert f"--root {demo.shown(demo.DEMO_DIR / 'hub')} " in out.getvalue()
    assert demo.parse_args(["--keep"]).root == demo.DEMO_DIR / "hub"
    with pytest.raises(SystemExit):
        demo.parse_args(["--rows", "10"])
