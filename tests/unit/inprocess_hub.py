"""The local hub's own aiohttp apps (`build_app`, and `build_cas_app`: the CDN, Xet CAS and bridge) served from a
thread of this process on 127.0.0.1 (the CDN on 127.0.0.2), each on a free port: real HTTP, the real handlers, storage
in a temp dir, and no subprocess. A test owns its hub, so it may read its counters and set its fault rules."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from hfconnect.localhub.app import build_app
from hfconnect.localhub.cas import build_cas_app
from hfconnect.localhub.context import HubState
from hfconnect.localhub.faults import FaultPlan, rule_from_mapping
from hfconnect.localhub.mode import HubMode
from hfconnect.localhub.server import parse_token_spec

WRITE_TOKEN = "hf_unit_write_5e2b9c"
READ_TOKEN = "hf_unit_read_0d8a41"
DOWNLOAD_ROUTES = ("resolve", "bridge", "cdn")


@dataclass
class InProcessHub:
    state: HubState
    endpoint: str
    cdn_endpoint: str
    cas_endpoint: str = ""

    def set_faults(self, rules: list[dict[str, Any]]) -> None:
        self.state.faults.replace([rule_from_mapping(r) for r in rules])

    def counters(self) -> dict[str, Any]:
        return self.state.counters.snapshot()

    def downloads(self, field: str = "requests") -> int:
        """`field` of the counters summed over every route a file's bytes take: `/resolve/` itself (LFS and
        regular files, and the 302 of a Xet file) and the signed URLs it redirects to (the Xet bridge, and the
        CDN of the real-Hub mode). A 302 sends no body: `bytes_sent` is the file bytes served."""
        counters = self.counters()
        return sum(counters[route][field] for route in DOWNLOAD_ROUTES)

    def bytes_sent(self, routes: tuple[str, ...] = DOWNLOAD_ROUTES) -> int:
        """Bytes sent over `routes` (default: every route of a download), once the count stops moving: the server
        counts a response after its last byte is written, which can be after the client already has it."""
        def now() -> int:
            counters = self.counters()
            return sum(counters[route]["bytes_sent"] for route in routes)

        last = now()
        for _ in range(100):
            time.sleep(0.02)
            if (current := now()) == last:
                break
            last = current
        return last

    def api(self, token: str | None = WRITE_TOKEN) -> Any:
        from huggingface_hub import HfApi

        return HfApi(endpoint=self.endpoint, token=token or False)

    def dataset(self, repo: str, files: dict[str, bytes], message: str = "seed", description: str = "",
                *, lfs: bool = False) -> str:
        """Create the dataset repo `repo` (if missing) and commit `files` to main; the new commit's sha. `lfs`:
        upload through git-LFS even when the client speaks Xet (a BufferedIOBase makes huggingface_hub use LFS)."""
        import io

        from huggingface_hub import CommitOperationAdd

        api = self.api()
        api.create_repo(repo, repo_type="dataset", exist_ok=True)
        if not files:
            return api.repo_info(repo, repo_type="dataset").sha
        ops = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=io.BytesIO(data) if lfs else data)
               for p, data in files.items()]
        return api.create_commit(repo, repo_type="dataset", operations=ops, commit_message=message,
                                 commit_description=description or None).oid


def _memory_dir() -> tempfile.TemporaryDirectory[str]:
    """The hub's root in memory when the machine has a tmpfs: the hub fsyncs every write (~8 ms a commit on
    disk, ~0.1 ms in /dev/shm), and the unit layer has a time budget."""
    shm = Path("/dev/shm")
    where = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
    return tempfile.TemporaryDirectory(prefix="hfconnect-unit-hub-", dir=where)


@contextmanager
def running_hub(root: Path | None = None, *, mode: HubMode | None = None,
                tokens: tuple[str, ...] = (f"{WRITE_TOKEN}:write", f"{READ_TOKEN}:read")) -> Iterator[InProcessHub]:
    """A hub of its own for the caller, rooted at `root` (default: a temp dir in memory, removed after)."""
    with contextlib.ExitStack() as stack:
        if root is None:
            root = Path(stack.enter_context(_memory_dir()))
        yield from _running(root, mode, tokens)


@contextmanager
def serving(apps: list[tuple[web.Application, str]]) -> Iterator[list[str]]:
    """aiohttp apps served from a thread of their own, each on (host, a free port): their base URLs."""
    loop = asyncio.new_event_loop()
    runners: list[web.AppRunner] = []

    async def start() -> list[str]:
        urls = []
        for app, host in apps:
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await runner.setup()
            runners.append(runner)
            await web.TCPSite(runner, host, 0).start()
            urls.append(f"http://{host}:{runner.addresses[0][1]}")
        return urls

    async def stop() -> None:
        for runner in runners:
            await runner.cleanup()

    thread = threading.Thread(target=loop.run_forever, daemon=True, name="inprocess-http")
    thread.start()
    try:
        yield asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _running(root: Path, mode: HubMode | None, tokens: tuple[str, ...]) -> Iterator[InProcessHub]:
    state = HubState.open(root, dict(parse_token_spec(t) for t in tokens), FaultPlan([]), mode)
    apps = [(build_app(state), "127.0.0.1")]
    if state.mode.redirects or state.mode.xet:  # the other host: CDN (redirect mode), Xet CAS and bridge
        apps.append((build_cas_app(state), state.mode.cdn_host if state.mode.redirects else "127.0.0.1"))
    with serving(apps) as urls:
        main, other = urls[0], (urls[1] if len(urls) > 1 else "")
        state.cdn_base = other if state.mode.redirects else ""
        state.cas_base = other if state.mode.xet else ""
        yield InProcessHub(state, main, state.cdn_base, state.cas_base)



def request(method: str, url: str, *, headers: dict[str, str] | None = None, body: bytes | None = None,
            token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """One plain HTTP request (redirects not followed): (status, headers, body)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body, headers=sent)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()
