"""huggingface_hub's HfApi under hfconnect's ONE retry policy.

huggingface_hub retries some requests itself (tree and commit pages, preupload, LFS transfers: 5 tries, 1-8 s
apart, plus the RateLimit wait), others not at all; wrapping our own retries around its calls multiplied the two
(a constant 500 on uploads took minutes to fail a write: bench/MEASUREMENTS.md). Instead, while hfconnect runs an
HfApi call, two event hooks on huggingface_hub's shared HTTP session take over: a retryable answer (408/429/5xx)
leaves the call at once as `RetryableAnswer`, so huggingface_hub never retries it, and `call()` applies our policy
to the whole call; a re-send huggingface_hub makes after a dropped connection is refused once our budget for the
call is spent. Outside hfconnect's calls the hooks do nothing, so the session stays as the user has it.

Uploads through Xet storage bypass that session: hf_xet has its own client and retries, which `xet` bounds by
the same policy. What hf_xet raises has been retried already, so `call()` maps it to our error at once (a
ConnectionError from hf_xet is never retried as a dropped connection of ours).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import HfConnectError, HubRequestError
from . import xet as _xet
from .failures import error_for_exception, error_for_xet
from .retry import RETRY_STATUSES, Retrier, RetryPolicy

if TYPE_CHECKING:
    from huggingface_hub import HfApi

__all__ = ["UPLOADING_CALLS", "RetryableAnswer", "api_for", "call"]

T = TypeVar("T")
_SCOPE: contextvars.ContextVar[Retrier | None] = contextvars.ContextVar("hfconnect_retrier", default=None)
_apis: dict[tuple[int, str, str | None], Any] = {}
_lock = threading.Lock()
# HfApi methods that may send file contents, through hf_xet when huggingface_hub uses it.
UPLOADING_CALLS = frozenset({"preupload_lfs_files", "create_commit", "upload_file", "upload_folder",
                             "upload_large_folder"})


class RetryableAnswer(Exception):
    """A 408/429/5xx answer to a request made inside an HfApi call: retried by `call()`, never by huggingface_hub."""

    def __init__(self, status: int, headers: Mapping[str, str], method: str, url: str) -> None:
        super().__init__(f"HTTP {status} on {method} {url}")
        self.status, self.headers, self.method, self.url = status, dict(headers), method, url


def _on_request(request: Any) -> None:
    retrier = _SCOPE.get()
    if retrier is not None and retrier.out_of_budget():  # huggingface_hub re-sending after a dropped connection
        raise retrier.give_up()


def _on_response(response: Any) -> None:
    if response.status_code in RETRY_STATUSES and _SCOPE.get() is not None:
        request = response.request
        raise RetryableAnswer(response.status_code, response.headers, request.method, request.url.path)


def _hook_session() -> None:
    """Put our hooks on huggingface_hub's current shared session (it is recreated after a fork or an SSL error)."""
    from huggingface_hub import get_session

    session = get_session()
    hooks = session.event_hooks
    if _on_response in hooks["response"]:
        return
    with _lock:
        hooks = session.event_hooks
        if _on_response not in hooks["response"]:
            session.event_hooks = {"request": [*hooks["request"], _on_request],
                                   "response": [*hooks["response"], _on_response]}


def api_for(endpoint: str, token: str | None) -> HfApi:
    """One HfApi per (process, endpoint, token). `token=None` means anonymous (not "look for a saved login":
    hfconnect resolves the token once, on the driver)."""
    import os

    key = (os.getpid(), endpoint, token)
    with _lock:
        api = _apis.get(key)
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(endpoint=endpoint, token=token or False, library_name="hfconnect")
        with _lock:
            _apis[key] = api
    return api


def _find(exc: BaseException, kind: type[BaseException] | tuple[type[BaseException], ...]) -> Any:
    """`exc` or the first of its causes/contexts of this kind (huggingface_hub wraps some errors)."""
    return next((e for e in _xet.exception_chain(exc) if isinstance(e, kind)), None)


def _network_error(exc: BaseException) -> BaseException | None:
    import httpx2

    return _find(exc, (httpx2.TransportError, ConnectionError, TimeoutError))


def call(policy: RetryPolicy, what: str, fn: Callable[..., T], *args: Any, where: str, has_token: bool,
         retry: bool = True, xet: bool | None = None, secrets: tuple[str | None, ...] = (), **kwargs: Any) -> T:
    """Run one HfApi call under the policy; map what it raises to hfconnect's errors.

    `retry=False` (commits: a 5xx may have landed) raises HubRequestError with `status` and `headers` for the
    caller to decide, instead of retrying. `xet`: whether the call may upload through hf_xet (default: for the
    UPLOADING_CALLS): hf_xet then gets its retry settings from the policy first, and its failures, already
    retried by hf_xet, become ours at once. `secrets` (the caller's token) are kept out of the messages made
    from hf_xet's text.
    """
    on_xet = (getattr(fn, "__name__", "") in UPLOADING_CALLS if xet is None else xet) and _xet.in_use()
    if on_xet:  # the call may start hf_xet: its settings first (the Xet upload path marks its transfers started)
        _xet.prepare_process(policy)
    retrier = Retrier(policy, what)
    while True:
        _hook_session()
        scope = _SCOPE.set(retrier)
        try:
            return fn(*args, **kwargs)
        except HfConnectError:
            raise
        except Exception as exc:  # noqa: BLE001 - classified below, re-raised as ours
            from huggingface_hub.errors import HfHubHTTPError

            inner = _find(exc, HfConnectError)  # ours, raised by a hook and wrapped by huggingface_hub
            if inner is not None:
                raise inner from None
            answer = _find(exc, RetryableAnswer)
            if answer is not None:
                if not retry:
                    raise HubRequestError(f"{what}: HTTP {answer.status}", status=answer.status,
                                          headers=answer.headers) from None
                retrier.failed(f"HTTP {answer.status}", status=answer.status, headers=answer.headers)
                continue
            http_error = _find(exc, HfHubHTTPError)
            ours = error_for_exception(http_error, where=where, has_token=has_token) if http_error else None
            if ours is not None:
                raise ours from None
            failure = _xet.xet_failure(exc, xet_path=on_xet, secrets=secrets)  # before network errors: final
            if failure is not None:
                raise error_for_xet(failure, what=what, where=where, has_token=has_token, secrets=secrets) from None
            network = _network_error(exc)
            if network is not None:
                if not retry:
                    raise HubRequestError(f"{what}: {type(network).__name__}", status=None) from None
                retrier.failed(type(network).__name__)
                continue
            raise
        finally:
            _SCOPE.reset(scope)
