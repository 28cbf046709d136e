"""hfconnect and hf_xet (hub/xet.py): hf_xet's retry settings derived from our policy and set without overriding
the user's, hf_xet's exceptions mapped to ours (never retried again), and the per-job Xet cache. No hub process."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from hfconnect.errors import AuthenticationError, HubRequestError
from hfconnect.hub import hfapi, xet
from hfconnect.hub.failures import error_for_xet
from hfconnect.hub.retry import RetryPolicy
from tests.unit.hub.conftest import fast_policy

CAS = "http://127.0.0.1:9/v1"
HASH = "989db4217fe6131a3b6d92cce050b73a67820a4483c80b639c9846a22b9d780a"
WHAT = "upload of a 10-byte file to o/r (data/train-j-00000-0-0000.parquet)"


# ---- retry settings ------------------------------------------------------------------------------------------
def test_hf_xet_delays_follow_its_formula() -> None:
    """hf_xet 1.8 (measured against a CAS answering 503): the base's whole seconds multiply each delay, so 3 s
    gives 3/9/27/81/243 s (its defaults), 2 s doubles, and a base under 2 s stays constant; each delay is capped."""
    assert xet.XetRetry(3.0, 5, 360.0).delays() == [3, 9, 27, 81, 243]
    assert xet.XetRetry(2.0, 5, 10.0).delays() == [2, 4, 8, 10, 10]
    assert xet.XetRetry(1.5, 3, 360.0).delays() == [1.5, 1.5, 1.5]
    assert xet.XetRetry(0.2, 2, 360.0).delays() == [0.2, 0.2]


def test_the_default_policy_gives_doubling_delays_within_the_budget() -> None:
    retry = xet.xet_retry(RetryPolicy())
    assert retry == xet.XetRetry(2.0, 3, 15.0)
    assert xet.xet_environment(RetryPolicy()) == {"HF_XET_CLIENT_RETRY_MAX_ATTEMPTS": "3",
                                                  "HF_XET_CLIENT_RETRY_BASE_DELAY": "2000ms",
                                                  "HF_XET_CLIENT_RETRY_MAX_DURATION": "15000ms"}


@pytest.mark.parametrize("budget", [0.0, 0.01, 1.0, 5.0, 10.0, 24.0, 60.0, 120.0, 600.0, 3600.0])
def test_every_series_a_failing_upload_waits_through_fits_the_budget(budget: float) -> None:
    policy = RetryPolicy(budget=budget)
    retry = xet.xet_retry(policy)
    assert retry.worst() * xet.XET_SERIES <= budget + 1e-9
    assert retry.retries <= policy.attempts - 1
    assert all(d <= policy.cap for d in retry.delays())
    if budget >= 1.0:
        assert retry.retries >= 2  # a short burst of 503s is still ridden out
    if retry.base < 2.0:
        assert len(set(retry.delays())) <= 1  # hf_xet would not grow them


def test_no_budget_means_no_retries() -> None:
    assert xet.xet_retry(RetryPolicy(budget=0.0)).retries == 0
    assert xet.xet_retry(RetryPolicy(attempts=1)).retries == 0


# ---- setting them in the process -----------------------------------------------------------------------------
@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as hfconnect has not prepared it yet, with Xet in use and no HF_XET_* variable set."""
    monkeypatch.setattr(xet, "in_use", lambda: True)
    monkeypatch.setattr(xet, "_proc", xet._Process(pid=-1))
    for key in (*xet.RETRY_KEYS, xet.OURS, xet.CACHE):
        monkeypatch.delenv(key, raising=False)


def test_prepare_sets_what_the_user_did_not(fresh_process: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_XET_CLIENT_RETRY_MAX_ATTEMPTS", "9")  # the user's: kept
    effective = xet.prepare_process(RetryPolicy())
    assert os.environ["HF_XET_CLIENT_RETRY_MAX_ATTEMPTS"] == "9"
    assert os.environ["HF_XET_CLIENT_RETRY_BASE_DELAY"] == "2000ms"
    assert effective["HF_XET_CLIENT_RETRY_MAX_ATTEMPTS"] == "9"
    assert set(os.environ[xet.OURS].split(",")) == {"HF_XET_CLIENT_RETRY_BASE_DELAY",
                                                     "HF_XET_CLIENT_RETRY_MAX_DURATION"}
    xet.prepare_process(RetryPolicy(budget=600.0))  # hfconnect's own values follow the policy, the user's stay
    assert os.environ["HF_XET_CLIENT_RETRY_MAX_DURATION"] == "16000ms"
    assert os.environ["HF_XET_CLIENT_RETRY_MAX_ATTEMPTS"] == "9"


def test_a_child_process_tells_hfconnects_values_from_the_users(fresh_process: None,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    xet.prepare_process(RetryPolicy())
    monkeypatch.setattr(xet, "_proc", xet._Process(pid=-1))  # a spawned worker: the environment, not our memory
    xet.prepare_process(RetryPolicy(budget=600.0))
    assert os.environ["HF_XET_CLIENT_RETRY_MAX_ATTEMPTS"] == xet.xet_environment(RetryPolicy(budget=600.0))[
        "HF_XET_CLIENT_RETRY_MAX_ATTEMPTS"]


def test_settings_changed_after_hf_xet_started_are_logged(fresh_process: None,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    xet.prepare_process(RetryPolicy())
    xet.mark_started()  # the first upload: huggingface_hub's session now holds these
    with caplog.at_level(logging.DEBUG, logger="hfconnect.hub"):
        xet.prepare_process(RetryPolicy())
        assert not caplog.records
        xet.prepare_process(RetryPolicy(budget=5.0))
    assert "hf_xet already started in this process with RETRY_MAX_ATTEMPTS=3" in caplog.text
    assert "stay in force for every Xet upload of this process" in caplog.text
    assert "hf_xet reads them once per process" in caplog.text
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


def test_only_the_xet_upload_path_marks_hf_xet_started(fresh_process: None, caches: Path) -> None:
    """A commit of preuploaded files gets hf_xet's settings (it could upload) but transfers nothing through
    Xet: it does not make the settings the process's. The task's Xet upload does."""
    from hfconnect.write import task

    def create_commit() -> str:
        return "committed"

    assert hfapi.call(fast_policy(), "commit", create_commit, where="dataset o/r@main", has_token=True) == "committed"
    assert os.environ["HF_XET_CLIENT_RETRY_MAX_ATTEMPTS"] == xet.xet_environment(fast_policy())[
        "HF_XET_CLIENT_RETRY_MAX_ATTEMPTS"]  # prepared
    assert xet._proc.started is None

    client = SimpleNamespace(call=lambda *args, **kwargs: None, api=lambda: SimpleNamespace(preupload_lfs_files=None),
                             policy=RetryPolicy())
    task._send(client, SimpleNamespace(repo="o/r", revision="main"), object(), WHAT, "job-a")  # type: ignore[arg-type]
    assert xet._proc.started == xet.xet_environment(RetryPolicy())


def test_nothing_is_set_when_uploads_do_not_go_through_xet(fresh_process: None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xet, "in_use", lambda: False)
    assert xet.prepare_process(RetryPolicy()) == {}
    assert not any(k in os.environ for k in xet.RETRY_KEYS)


# ---- errors --------------------------------------------------------------------------------------------------
def _hf_xet() -> Any:
    return pytest.importorskip("hf_xet")


def _map(exc: BaseException, *, xet_path: bool = True) -> Any:
    failure = xet.xet_failure(exc, xet_path=xet_path)
    assert failure is not None, exc
    return error_for_xet(failure, what=WHAT, where="dataset o/r@main", has_token=True)


def test_a_5xx_after_hf_xets_retries_names_the_file_and_what_failed() -> None:
    exc = ConnectionError("Server error: Request error: HTTP status server error (503 Service Unavailable), "
                          f"domain: {CAS}/xorbs/default/{HASH}")
    err = _map(exc)
    assert type(err) is HubRequestError
    assert err.status == 503 and err.route == "/v1/xorbs/default/989db4217fe6…"
    assert str(err).startswith(f"{WHAT}: failed through Xet storage (hf_xet: Server error: ")
    assert "503 Service Unavailable" in str(err) and "retry_budget" in str(err) and HASH not in str(err)


@pytest.mark.parametrize("status", [401, 403])
def test_the_cas_refusing_the_xet_token_is_an_authentication_error(status: int) -> None:
    exc = ConnectionError(f"Network error: Request error: HTTP status client error ({status} Unauthorized), "
                          f"domain: {CAS}/xorbs/default/{HASH}")
    err = _map(exc)
    assert isinstance(err, AuthenticationError) and err.status == status
    assert f"the Xet storage refused the write token the Hub issued (HTTP {status}" in str(err)


@pytest.mark.parametrize(("status", "says"), [(401, "the token is not valid"), (403, "lacks the rights")])
def test_the_hub_refusing_a_xet_token_is_an_authentication_error(status: int, says: str) -> None:
    exc = ConnectionError(f"Network error: Request error: HTTP status client error ({status} Forbidden), domain: "
                          "http://127.0.0.1:8/api/datasets/o/r/xet-write-token/main")
    err = _map(exc)
    assert isinstance(err, AuthenticationError) and says in str(err)
    assert str(err).startswith(f"{WHAT}: Xet write token for dataset o/r@main: HTTP {status}")


def test_hf_xets_own_exception_types_map() -> None:
    hf_xet = _hf_xet()
    refused = _map(hf_xet.XetAuthenticationError("Authentication error: Auth error: Token refresh failure"))
    assert isinstance(refused, AuthenticationError) and "no Xet write token for dataset o/r@main" in str(refused)
    missing = _map(hf_xet.XetObjectNotFoundError(f"Not found: CAS object not found for hash: {HASH}"))
    assert type(missing) is HubRequestError and missing.xet == "Not found"


@pytest.mark.parametrize(("exc", "kind"), [
    (TimeoutError("Timeout: Request error: operation timed out"), "Timeout"),
    (RuntimeError("Task error: Internal error: boom"), "Task error"),
    (OSError("I/O error: No space left on device"), "I/O error"),
    (ValueError("Configuration error: invalid HF_XET_CLIENT_RETRY_BASE_DELAY"), "Configuration error"),
    (ConnectionError("Network error: Request middleware error: error sending request for url "
                     f"({CAS}/shards)"), "Network error"),
])
def test_builtin_errors_from_hf_xet_become_hub_request_errors(exc: BaseException, kind: str) -> None:
    err = _map(exc, xet_path=False)  # recognised by hf_xet's wording, even off the Xet path
    assert type(err) is HubRequestError and err.xet == kind and str(err).startswith(WHAT)


def test_a_refused_shard_is_told_apart_as_a_stale_cache() -> None:
    exc = ConnectionError(f"Network error: Request error: HTTP status client error (400 Bad Request), domain: "
                          f"{CAS}/shards")
    err = _map(exc)
    assert err.stale_xet_cache is True and err.status == 400


def test_what_is_not_hf_xets_is_left_alone() -> None:
    import httpx2

    assert xet.xet_failure(RuntimeError("boom")) is None  # off the Xet path, not hf_xet's wording
    assert xet.xet_failure(ConnectionResetError("Network error: reset")) is None  # not a type hf_xet raises
    wrapped = httpx2.ConnectError("Network error: connection refused")
    wrapped.__context__ = ConnectionError("Network error: x")
    assert xet.xet_failure(wrapped, xet_path=True) is None  # huggingface_hub's HTTP client failed
    failure = xet.xet_failure(RuntimeError("something hf_xet says otherwise"), xet_path=True)
    assert failure is not None and failure.kind == "RuntimeError"


def test_messages_lose_tokens_and_url_signatures() -> None:
    text = ("Network error: Request error: HTTP status client error (400 Bad Request), domain: "
            "https://cas.example/xorb?X-Amz-Signature=abc&Expires=1 Authorization: Bearer hf_secretvalue123 "
            "token hf_AbCdEf1234567 " + "x" * 500)
    short = xet.shorten(text, secrets=("s3cr3t",))
    assert "Signature" not in short and "hf_secretvalue123" not in short and "hf_AbCdEf1234567" not in short
    assert "Bearer" not in short and len(short) <= xet.MESSAGE_LIMIT
    assert xet.shorten("the s3cr3t leaked", secrets=("s3cr3t",)) == "the *** leaked"


def _local_hub_xet_token() -> str:
    from hfconnect.localhub.xet_auth import issue_token

    return issue_token(b"hub secret", "datasets/o/r", True, 60.0)[0]


@pytest.mark.parametrize("token", [
    "hf_AbCdEf1234567",
    "hf_test_write_4f1c2a",  # Hub tokens with `_` in them
    "hf_dev_write",
    "eyJhbGciOiJFZERTQSJ9.eyJyZWFkIjpmYWxzZSwic3ViIjoibyJ9.c2lnbmF0dXJlLXdpdGgtXw",  # a JWT (the Hub's Xet tokens)
    "eyJhbGciOiJub25lIn0.eyJzdWIiOiJvIn0.",  # unsigned
    "local-xet-token",  # the local hub's Xet tokens: xet_<payload>.<signature>
])
def test_anything_like_a_token_is_scrubbed(token: str) -> None:
    token = _local_hub_xet_token() if token == "local-xet-token" else token
    for text in (f"Authentication error: token {token} refused", f"auth failed ({token}), retrying",
                 f"x-xet-token={token}"):
        short = xet.shorten(text)
        assert token not in short and "***" in short, short
        assert not any(part in short for part in token.split(".") if len(part) > 6), short
    assert xet.shorten("hf_xet: Internal error in HF_XET_CLIENT_RETRY_BASE_DELAY") == \
        "hf_xet: Internal error in HF_XET_CLIENT_RETRY_BASE_DELAY"  # names are not tokens


def test_the_callers_token_never_reaches_the_error() -> None:
    """A token of no shape the patterns know: HubClient.call passes it on as a secret, scrubbed from hf_xet's text
    (its message and the route) before any error is made; the error never holds it."""
    import pickle

    from hfconnect.hub.client import HubClient

    token = "plain-Secret-4f1c2a"

    def preupload_lfs_files() -> None:
        raise ConnectionError("Network error: Request error: HTTP status client error (401 Unauthorized), domain: "
                              f"{CAS}/xorbs/{token}/{HASH} (sent with token {token})")

    client = HubClient("http://127.0.0.1:9", token, fast_policy())
    with pytest.raises(AuthenticationError) as info:
        client.call(WHAT, preupload_lfs_files, where="dataset o/r@main", xet=False)
    err = info.value
    assert err.route == f"/v1/xorbs/***/{HASH[:12]}…" and "with token ***" in str(err)
    for shown in (str(err), repr(err), repr(err.details), repr(vars(err)), str(pickle.loads(pickle.dumps(err)))):
        assert token not in shown, shown


def test_call_maps_hf_xet_failures_at_once_instead_of_retrying_them() -> None:
    calls: list[int] = []

    def preupload_lfs_files() -> None:
        calls.append(1)
        raise ConnectionError("Server error: Request error: HTTP status server error (503 Service Unavailable), "
                              f"domain: {CAS}/xorbs/default/{HASH}")

    with pytest.raises(HubRequestError, match="failed through Xet storage") as info:
        hfapi.call(fast_policy(attempts=5), WHAT, preupload_lfs_files, where="dataset o/r@main", has_token=True,
                   xet=False)
    assert calls == [1] and info.value.__cause__ is None and info.value.__suppress_context__

    def dropped() -> None:  # not hf_xet's: our policy retries it, as before
        calls.append(2)
        raise ConnectionError("connection dropped")

    with pytest.raises(HubRequestError, match="giving up after 3 failed attempt"):
        hfapi.call(fast_policy(attempts=3), "tree listing", dropped, where="dataset o/r@main", has_token=True)
    assert calls.count(2) == 3


# ---- the cache -----------------------------------------------------------------------------------------------
@pytest.fixture
def caches(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A fresh cache registry whose per-process root goes under tmp_path."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(xet, "_caches", xet._Caches())
    monkeypatch.delenv(xet.CACHE, raising=False)
    return tmp_path


def test_each_job_gets_its_own_cache(caches: Path) -> None:
    with xet.cache_scope("job-a") as a:
        assert a.owned and os.environ[xet.CACHE] == a.location
        root = Path(a.location).parents[1]
        assert root.parent == caches and root.name.startswith(f"hfconnect-xet-{os.getpid()}-")
        with xet.cache_scope("job-a") as again:
            assert again.location == a.location
    assert os.environ[xet.CACHE] == a.location  # changed in place only: hf_xet's threads may be reading it
    with xet.cache_scope("job-b") as b:
        assert b.location != a.location and Path(b.location).is_dir()
    assert not Path(a.location).exists()  # the previous job's cache went when this process moved on


def test_a_job_starting_while_another_uploads_shares_its_cache_meanwhile(caches: Path) -> None:
    with xet.cache_scope("job-a") as a, xet.cache_scope("job-b") as b:
        assert b.location == a.location == os.environ[xet.CACHE]
    with xet.cache_scope("job-b") as b:
        assert b.location != a.location


def test_a_cache_an_upload_still_uses_is_never_removed(caches: Path) -> None:
    """Job 2 starts while job 1 uploads, so it shares job 1's cache; job 1 ends; job 3 starts while job 2 still
    uploads in job 1's cache: that cache stays (uploads are counted per cache, not per job)."""
    one = xet.cache_scope("job-1")
    a = one.__enter__()
    two = xet.cache_scope("job-2")
    b = two.__enter__()
    assert b.location == a.location
    one.__exit__(None, None, None)
    with xet.cache_scope("job-3") as c:
        assert Path(b.location).is_dir()
        assert c.location == b.location == os.environ[xet.CACHE]  # HF_XET_CACHE stays while job 2 may read it
    assert Path(b.location).is_dir()
    two.__exit__(None, None, None)
    with xet.cache_scope("job-4") as d:  # nothing uploads any more: the process moves on, and the rest goes
        assert d.location != a.location and os.environ[xet.CACHE] == d.location
        assert not Path(a.location).exists() and not Path(a.location).parent.exists()


def test_uploads_running_when_a_cache_is_renewed_are_counted_in_the_new_one_too(caches: Path) -> None:
    """A renew moves HF_XET_CACHE: an upload of another job that shares the cache may not have read it yet, so it
    may use the new cache as well as the old one; neither goes while it runs."""
    one = xet.cache_scope("job-1")
    a = one.__enter__()
    with xet.cache_scope("job-2") as b:
        assert b.location == a.location
        assert b.renew() and b.location != a.location
    with xet.cache_scope("job-3") as c:
        assert c.location == b.location  # job 1 may be using it
    assert Path(a.location).is_dir() and Path(b.location).is_dir()
    one.__exit__(None, None, None)
    with xet.cache_scope("job-4"):
        assert not Path(a.location).exists() and not Path(b.location).exists()


def test_renew_gives_a_fresh_empty_cache(caches: Path) -> None:
    with xet.cache_scope("job-a") as a:
        first = a.location
        (Path(first) / "shard-cache").mkdir()
        assert a.renew()
        assert a.location != first and os.environ[xet.CACHE] == a.location and not os.listdir(a.location)


def test_a_cache_the_user_set_is_left_alone(caches: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(xet.CACHE, str(caches / "mine"))
    with xet.cache_scope("job-a") as scope:
        assert not scope.owned and os.environ[xet.CACHE] == str(caches / "mine")
        assert not scope.renew()
    assert os.environ[xet.CACHE] == str(caches / "mine")


def test_roots_of_processes_gone_without_cleaning_up_are_swept(tmp_path: Path) -> None:
    dead, live = tmp_path / "hfconnect-xet-999999999-abc", tmp_path / f"hfconnect-xet-{os.getpid()}-abc"
    young = tmp_path / "hfconnect-xet-999999998-abc"
    for d in (dead, live, young):
        d.mkdir()
    old = time.time() - 3600
    os.utime(dead, (old, old))
    os.utime(live, (old, old))
    xet._sweep(str(tmp_path))
    assert not dead.exists() and live.exists() and young.exists()


def test_an_upload_a_stale_cache_broke_is_sent_again_with_a_fresh_one(caches: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from hfconnect.write import task

    monkeypatch.setattr(xet, "in_use", lambda: True)
    monkeypatch.setattr(xet, "prepare_process", lambda policy: {})
    seen: list[str] = []

    def call(what: str, fn: Any, *args: Any, **kwargs: Any) -> None:
        seen.append(os.environ[xet.CACHE])
        if len(seen) == 1:
            raise HubRequestError(f"{what}: the Xet storage refused the file's shard", stale_xet_cache=True)

    client = SimpleNamespace(call=call, api=lambda: SimpleNamespace(preupload_lfs_files=None), policy=RetryPolicy())
    options = SimpleNamespace(repo="o/r", revision="main")
    task._send(client, options, object(), WHAT, "job-a")  # type: ignore[arg-type]
    assert len(seen) == 2 and seen[0] != seen[1]

    seen.clear()
    monkeypatch.setenv(xet.CACHE, str(caches / "mine"))  # the user's cache: told how to clear it, not replaced
    with pytest.raises(HubRequestError, match=r"HF_XET_CACHE is set \(.*mine\): remove the shard cache"):
        task._send(client, options, object(), WHAT, "job-a")  # type: ignore[arg-type]
    assert len(seen) == 1
