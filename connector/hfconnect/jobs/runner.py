"""A job's life on the driver: arguments, progress lines, a summary line, and a one-line error on failure.

Why one line: a cluster job's failure is read in a scheduler's log or a terminal; Spark wraps a task's error in
pages of JVM stack. The line names hfconnect's error (its class and message say what to fix); `--debug` adds
the traceback. Exit code 0 on success, 1 on failure, 2 for bad arguments (argparse).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import traceback
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import HfConnectError, find_hfconnect_error

__all__ = ["Job", "JobFailed", "Summary", "human_bytes", "one_line"]

_OURS_IN_TEXT = re.compile(r"hfconnect\.errors\.(\w+): ([^\n]+)")


class JobFailed(Exception):
    """A job refused to go on: the message is what the user reads."""


@dataclass
class Summary:
    """What a job did, printed as its last line (key=value, easy to grep and to parse)."""

    rows: int
    split_rows: list[tuple[str, int]]
    commits: int
    commit: str | None
    target: str
    fetched: int | None  # bytes the Hub served during the job (None: the endpoint does not count them)
    dataset_bytes: int
    extra: dict[str, str] = field(default_factory=dict)

    def line(self, wall: float) -> str:
        splits = ",".join(f"{s}:{n}" for s, n in self.split_rows) or "-"
        fetched = str(self.fetched) if self.fetched is not None else "n/a"
        extra = "".join(f" {k}={v}" for k, v in self.extra.items())
        return (f"done: rows={self.rows} splits={splits} commits={self.commits} commit={self.commit or '-'} "
                f"target={self.target} fetched_bytes={fetched} dataset_bytes={self.dataset_bytes}{extra} "
                f"wall_s={wall:.1f}")


def human_bytes(n: int | None) -> str:
    if n is None:
        return "n/a"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return f"{n} B"


def one_line(exc: BaseException) -> str:
    """hfconnect's error under whatever wraps it (Spark, Daft, Ray), else the innermost cause that says something.

    Engines wrap the error that matters: Ray in a RayTaskError whose text is an actor's repr (the error is its
    `.cause`), Daft in "Unable to create logical plan node" (the reason is a "DaftError::Kind message" line
    further down), Spark in a Python traceback carried as text. The chain is walked through explicit causes
    (`raise ... from`, Ray's `.cause`) and through the implicit context of the engines' own exceptions; a
    JobFailed or hfconnect error ends the walk (its message is what the user reads)."""
    ours = find_hfconnect_error(exc)
    if ours is not None:
        return f"{type(ours).__name__}: {ours.message.splitlines()[0] if ours.message else ''}"
    chain = _chain(exc)
    if isinstance(chain[-1], JobFailed):  # a job's own refusal: its message is written for the user
        first = next((line.strip() for line in str(chain[-1]).splitlines() if line.strip()), "")
        return f"JobFailed: {first}"
    for wrapper in chain:  # our error carried as text (Spark's, Ray's and Daft's tracebacks) wins over any other
        found = _OURS_IN_TEXT.search(_ANSI.sub("", str(wrapper)))
        if found:
            return f"{found.group(1)}: {found.group(2).strip()}"
    for inner in reversed(chain):
        line = _describe(type(inner).__name__, str(inner))
        if line:
            return line
    return type(exc).__name__


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_DAFT_CAUSE = re.compile(r"^\s*\d+: DaftError::(\w+) (.+)$", re.M)  # "Caused by the following errors:  1: ..."
_DAFT_ERROR = re.compile(r"DaftError::(\w+) (.+)$", re.M)
# The last line of a Python traceback: "pkg.module.SomeError: message" (Spark and Ray carry tracebacks as text).
_PYTHON_ERROR = re.compile(r"^((?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt)\w*)"
                           r"(?:\([\w.]+\))?): (.*)$", re.M)
_ENGINES = ("daft", "ray", "pyspark", "py4j")


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc`, then what it wraps, outermost first."""
    chain = [exc]
    while not isinstance(chain[-1], JobFailed | HfConnectError):
        e = chain[-1]
        engine = _from_engine(e)
        if not engine and _describe(type(e).__name__, str(e)):
            break  # an error of anyone else's that says something: its message was written for the reader
        links = [getattr(e, "cause", None), e.__cause__]  # Ray's RayTaskError keeps the task's error as `.cause`
        if not e.__suppress_context__ and engine:
            links.append(e.__context__)  # an engine's error raised while handling the one that matters
        inner = next((c for c in links if isinstance(c, BaseException) and all(c is not x for x in chain)), None)
        if inner is None:
            break
        chain.append(inner)
    return chain


def _from_engine(e: BaseException) -> bool:
    """An engine's exception, or one an engine's code raised (Daft's sink wraps a task's error in a RuntimeError)."""
    if type(e).__module__.split(".")[0] in _ENGINES:
        return True
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and str(tb.tb_frame.f_globals.get("__name__", "")).split(".")[0] in _ENGINES


def _describe(name: str, text: str) -> str:
    """One line for an exception named `name` with message `text`, or "" when the text says nothing itself."""
    text = _ANSI.sub("", text)
    found = _OURS_IN_TEXT.search(text)  # Spark and Daft carry a task's Python error as text
    if found:
        return f"{found.group(1)}: {found.group(2).strip()}"
    daft = _DAFT_CAUSE.search(text) or _DAFT_ERROR.search(text)
    if daft:
        kind, message = daft.group(1), daft.group(2).strip()
        # A Python error raised in a Daft task: "DaftError::PyO3Error ValueError: ..." is that error's own line.
        if kind == "PyO3Error" and _PYTHON_ERROR.match(message):
            return message
        return f"{name}: DaftError::{kind} {message}"
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    reason = re.search(r"^REASON: (.+)$", text, re.M)  # Daft's SQL errors: where, then the caret, then why
    if reason and reason.group(1).strip() not in first:
        first = f"{first.rstrip(':. ')}: {reason.group(1).strip()}"
    if "Traceback (most recent call last)" in text or first.startswith("ray::") or "actor_id=" in first:
        last = list(_PYTHON_ERROR.finditer(text))[-1:]
        if last:  # the traceback's own last line, and what follows it (Daft's details)
            inner, rest = last[0].group(2), text[last[0].start(3):]
            return _describe(inner, rest) or inner
        if first.startswith("ray::") or "actor_id=" in first:
            return ""  # an actor's repr says nothing: the cause will
    return f"{name}: {first}" if first else ""


class Job:
    """`Job("optimize", __doc__, engines=("spark", "daft")).run(body)`: parse, run body(job), print, exit code."""

    def __init__(self, name: str, description: str | None, engines: Sequence[str] = ("spark",)) -> None:
        self.name = name
        self.parser = argparse.ArgumentParser(prog=f"jobs/{name}.py", description=description,
                                              formatter_class=argparse.RawDescriptionHelpFormatter)
        common = self.parser.add_argument_group("where and how")
        common.add_argument("--endpoint", default=os.environ.get("HF_ENDPOINT", "https://huggingface.co"),
                            help="the Hub (default: HF_ENDPOINT, else huggingface.co). The token comes from "
                                 "HF_TOKEN or the saved `hf auth login`, never from the command line")
        common.add_argument("--engine", choices=list(engines), default=engines[0],
                            help=f"run on {' or '.join(engines)} (default {engines[0]}; under spark-submit the "
                                 "master comes from spark-submit)")
        if "daft" in engines:
            common.add_argument("--ray-address", help="with --engine daft: run on this Ray cluster (host:port); "
                                                      "hfconnect is shipped to its workers (runtime_env)")
        common.add_argument("--retry-budget", type=float, default=60.0,
                            help="seconds a failing Hub request may keep retrying (default 60)")
        common.add_argument("--debug", action="store_true",
                            help="on failure print the traceback; also say where the driver and the executors "
                                 "import hfconnect from")
        self.args = argparse.Namespace()
        self._t0 = time.perf_counter()
        self.served_at_start: int | None = None
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # the job prints its own progress lines

    def say(self, text: str) -> None:
        print(f"{self.name}: {text}", flush=True)

    def wall(self) -> float:
        return time.perf_counter() - self._t0

    def run(self, body: Callable[[Job], Summary], argv: Sequence[str] | None = None) -> int:
        self.args = self.parser.parse_args(argv)
        self._t0 = time.perf_counter()
        self.served_at_start = self.hub_bytes_served()
        try:
            summary = body(self)
        except KeyboardInterrupt:
            print(f"{self.name}: interrupted; nothing was committed unless a commit line was printed", file=sys.stderr)
            return 130
        except Exception as exc:  # every failure is one line (with --debug, the traceback too)
            if self.args.debug:
                traceback.print_exc()
            print(f"{self.name}: error: {one_line(exc)}", file=sys.stderr, flush=True)
            return 1
        self.say(summary.line(self.wall()))
        return 0

    # ---- what the Hub served --------------------------------------------------------------------------
    def hub_bytes_served(self) -> int | None:
        """Bytes of files the hub has served so far, if it counts them (hfconnect's local hub does; the real Hub
        does not say): the job's reads are the difference between two calls."""
        url = f"{self.args.endpoint.rstrip('/')}/_admin/counters"
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                counters = json.load(resp)
        except (OSError, ValueError):
            return None
        if not isinstance(counters, dict):
            return None
        return sum(int(counters.get(route, {}).get("bytes_sent", 0)) for route in ("resolve", "cdn"))
