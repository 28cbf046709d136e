"""The benchmarks' run order: no variant always follows the same one, and a child's whole process group is gone
before the next variant starts."""

from __future__ import annotations

import subprocess
import sys
import time

from _bench_order import _live_members, round_order, wait_group_gone


def test_each_round_is_a_seeded_shuffle_so_no_variant_always_follows_the_same_one() -> None:
    names = [f"v{i}" for i in range(8)]
    rounds = [round_order(names, r, seed=7) for r in range(3)]
    assert all(sorted(r) == names for r in rounds)
    assert rounds == [round_order(names, r, seed=7) for r in range(3)]  # repeatable
    followers = {(r[i], r[i + 1]) for r in rounds for i in range(len(r) - 1)}
    assert len(followers) > len(names)  # a rotation would repeat the same 7 pairs
    assert round_order(names, 0, seed=8) != rounds[0]


def test_waits_for_the_grandchildren_of_a_child_that_has_exited() -> None:
    """As a Spark driver exits before its JVM: the child returns at once, its own child sleeps a second."""
    code = "import subprocess, sys; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(1)'])"
    child = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    child.wait()
    started = time.monotonic()
    wait_group_gone(child.pid)
    assert 0.5 < time.monotonic() - started < 10


def test_what_outlives_the_timeout_is_killed() -> None:
    code = "import subprocess, sys; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])"
    child = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    child.wait()
    started = time.monotonic()
    wait_group_gone(child.pid, timeout=0.3)
    assert time.monotonic() - started < 5
    time.sleep(0.3)
    assert not _live_members(child.pid)  # the sleeper was killed (a zombie at most, until init reaps it)
