"""How the benchmarks run their variants so that none is favoured by its neighbour.

A fixed (or rotated) order puts each variant right after the same one every round: one that follows a Spark
variant shares the cores with that JVM's shutdown, one that follows its twin gets a warmed page cache. Measured:
daft-hfconnect-all always followed a Spark variant and read 0.88x of Daft native, which ran next; in a run of the
two alone, 0.97-1.00x. So each round shuffles the order (seeded: a run can be repeated), and a child's whole
process group (Spark's JVM and Python workers included) has exited before the next variant starts.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

__all__ = ["round_order", "wait_group_gone"]

T = TypeVar("T")


def round_order(items: Sequence[T], round_index: int, seed: int) -> list[T]:
    """The variants in round `round_index`'s order: a shuffle seeded by (seed, round)."""
    order = list(items)
    random.Random(f"{seed}:{round_index}").shuffle(order)
    return order


def wait_group_gone(pgid: int, timeout: float = 30.0) -> None:
    """Return once no live process of group `pgid` is left (a child started with start_new_session=True: its
    group id is its pid); what is still running after `timeout` seconds is killed."""
    deadline = time.monotonic() + timeout
    while _live_members(pgid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
            return
        time.sleep(0.05)


def _live_members(pgid: int) -> bool:
    """Does group `pgid` still have a process that is not a zombie? (zombies use no CPU; a container's init may
    never reap them)."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: ask the kernel whether the group exists at all
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()  # after "pid (comm) ": state, ppid, pgrp, ...
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False
