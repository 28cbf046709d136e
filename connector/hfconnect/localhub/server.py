"""Running the local hub: `serve()` in this process, or `LocalHub`, a context manager that runs the real
server in a child process on a free port (what every integration test, benchmark and the demo use)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiohttp import web

from .app import build_app
from .cas import build_cas_app
from .context import HubState, Token
from .faults import FaultPlan, FaultRule, parse_fault_spec
from .mode import HubMode

__all__ = ["LocalHub", "mode_arguments", "parse_token_spec", "serve"]

log = logging.getLogger("hfconnect.localhub")
DEFAULT_USER = "hfuser"


def parse_token_spec(spec: str) -> tuple[str, Token]:
    """`TOKEN:read`, `TOKEN:write` or `TOKEN:write:USER` -> (bearer string, Token)."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not parts[0] or parts[1] not in ("read", "write"):
        raise ValueError(f"token spec must be TOKEN:read, TOKEN:write or TOKEN:ROLE:USER (got a {len(parts)}-part "
                         "value); the bearer string itself is not echoed")
    user = parts[2] if len(parts) == 3 and parts[2] else DEFAULT_USER
    return parts[0], Token(user=user, role=parts[1])


async def _serve_async(state: HubState, host: str, port: int, ready_file: str | None, cdn_port: int = 0,
                       cas_port: int = 0) -> None:
    runners = []
    runner = web.AppRunner(build_app(state), access_log=None, handle_signals=False)
    await runner.setup()
    runners.append(runner)
    site = web.TCPSite(runner, host, port, backlog=1024, reuse_address=True)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    endpoint = f"http://{host}:{bound}"
    info: dict[str, Any] = {"endpoint": endpoint, "port": bound, "pid": os.getpid()}
    mode = state.mode
    if mode.redirects or mode.xet:
        # The other host: signed CDN URLs (redirect mode), the Xet CAS and bridge. In the real-Hub mode it is
        # another address, as the Hub's CDN and CAS are; otherwise another port (another origin) suffices.
        other_runner = web.AppRunner(build_cas_app(state), access_log=None, handle_signals=False)
        await other_runner.setup()
        runners.append(other_runner)
        other_host = mode.cdn_host if mode.redirects else host
        other_site = web.TCPSite(other_runner, other_host, cas_port or cdn_port, backlog=1024, reuse_address=True)
        await other_site.start()
        other_bound = other_site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        other_base = f"http://{other_host}:{other_bound}"
        if mode.redirects:
            state.cdn_base = info["cdn_endpoint"] = other_base
        if mode.xet:
            state.cas_base = info["cas_endpoint"] = other_base
    log.info("local hub serving %s on %s", state.storage.root, endpoint)
    extra = f", signed URLs on {state.cdn_base}" if state.cdn_base else ""
    extra += f", Xet CAS on {state.cas_base}" if state.cas_base else ""
    print(f"hfconnect localhub listening on {endpoint} (root {state.storage.root}{extra})", flush=True)
    if ready_file:
        tmp = f"{ready_file}.tmp"
        Path(tmp).write_text(json.dumps(info))
        os.replace(tmp, ready_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for r in runners:
            await r.cleanup()


def serve(
    root: str | os.PathLike[str],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tokens: Iterable[str] = (),
    faults: Iterable[str | FaultRule] = (),
    seed: int = 0,
    ready_file: str | None = None,
    mode: HubMode | None = None,
    cdn_port: int = 0,
    cas_port: int = 0,
) -> None:
    """Run the hub in this process until SIGINT/SIGTERM."""
    token_map = dict(parse_token_spec(t) for t in tokens)
    rules = [f if isinstance(f, FaultRule) else parse_fault_spec(f) for f in faults]
    state = HubState.open(root, token_map, FaultPlan(rules, seed=seed), mode)
    try:
        import uvloop  # type: ignore[import-not-found]

        uvloop.run(_serve_async(state, host, port, ready_file, cdn_port, cas_port))
    except ImportError:
        asyncio.run(_serve_async(state, host, port, ready_file, cdn_port, cas_port))


class LocalHub:
    """The real local hub in a child process on 127.0.0.1: a free port, or `port` when given (a caller that
    must publish the endpoint before the hub starts, e.g. as HF_ENDPOINT, reserves one and passes it).

    >>> with LocalHub(tokens={"hf_write": "write", "hf_read": "read"}) as hub:
    ...     api = HfApi(endpoint=hub.endpoint, token=hub.write_token)

    `mode=HubMode.real_hub()` makes it behave as huggingface.co does: LFS files redirect to expiring signed URLs
    on `cdn_endpoint` (another loopback address), and requests are rate-limited per window. Xet is on unless
    `HubMode(xet=False)`: the CAS listens on `cas_endpoint` (`cas_port` when given, else a free port).
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        tokens: dict[str, str] | None = None,
        faults: Iterable[str] = (),
        seed: int = 0,
        log_file: str | os.PathLike[str] | None = None,
        mode: HubMode | None = None,
        port: int = 0,
        cas_port: int = 0,
    ) -> None:
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        if root is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="hfconnect-localhub-")
            root = self._tmpdir.name
        self.root = Path(root)
        self.tokens = dict(tokens or {})
        self.faults = list(faults)
        self.seed = seed
        self.log_file = log_file
        self.mode = mode or HubMode()
        self.port = port
        self.cas_port = cas_port
        self.endpoint = ""
        self.cdn_endpoint = ""  # the signed-URL host (redirect mode only)
        self.cas_endpoint = ""  # the Xet CAS (unless the mode is LFS-only)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def write_token(self) -> str | None:
        return next((t for t, role in self.tokens.items() if role.split(":")[0] == "write"), None)

    @property
    def read_token(self) -> str | None:
        return next((t for t, role in self.tokens.items() if role.split(":")[0] == "read"), None)

    def start(self, timeout: float = 30.0) -> LocalHub:
        ready = self.root / f".ready-{os.getpid()}-{time.monotonic_ns()}"
        cmd = [sys.executable, "-m", "hfconnect.cli", "localhub", "serve", "--root", str(self.root),
               "--port", str(self.port), "--seed", str(self.seed), "--ready-file", str(ready)]
        cmd += mode_arguments(self.mode)
        if self.cas_port:
            cmd += ["--cas-port", str(self.cas_port)]
        for token, role in self.tokens.items():
            cmd += ["--token", f"{token}:{role}"]
        for fault in self.faults:
            cmd += ["--fault", fault]
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.root.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=out, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"local hub exited with code {self.proc.returncode} before it was ready; "
                                   f"run `hfconnect localhub serve --root {self.root}` to see why")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"local hub did not start within {timeout:.0f}s")
            time.sleep(0.02)
        info = json.loads(ready.read_text())
        ready.unlink()
        self.endpoint = info["endpoint"]
        self.cdn_endpoint = info.get("cdn_endpoint", "")
        self.cas_endpoint = info.get("cas_endpoint", "")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL, as a crash would: no cleanup runs in the server."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def close(self) -> None:
        self.stop()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- admin API ----------------------------------------------------------------------------
    def _admin(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.endpoint}/_admin/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def counters(self) -> dict[str, Any]:
        return self._admin("GET", "counters")

    def reset_counters(self) -> None:
        self._admin("POST", "counters/reset", {})

    def set_faults(self, rules: list[dict[str, Any]], seed: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"rules": rules}
        if seed is not None:
            body["seed"] = seed
        return self._admin("PUT", "faults", body)

    def clear_faults(self) -> None:
        self.set_faults([])

    def reset_limits(self) -> None:
        """Start every rate-limit window afresh (benchmarks and tests that measure one job at a time)."""
        self._admin("POST", "limits/reset", {})


def mode_arguments(mode: HubMode) -> list[str]:
    """The `hfconnect localhub serve` flags for a HubMode (how LocalHub hands it to the child process)."""
    args: list[str] = []
    if mode.redirects:
        args += ["--redirects", "--cdn-host", mode.cdn_host, "--url-expiry", f"{mode.url_expiry:g}"]
    if mode.rate_limits:
        quotas = ",".join(f"{k}={v}" for k, v in mode.quotas.items())
        anonymous = ",".join(f"{k}={v}" for k, v in mode.anonymous_quotas.items())
        args += ["--rate-limits", "--rate-window", f"{mode.window:g}", "--quota", quotas,
                 "--anonymous-quota", anonymous, "--commit-quota", str(mode.commit_quota),
                 "--commit-window", f"{mode.commit_window:g}"]
    if mode.commit_limits:
        args += ["--commit-limits", "--commit-timeout", f"{mode.commit_timeout!r}",
                 "--commit-max-operations", str(mode.commit_max_operations)]
        if mode.commit_timeout_lands:
            args += ["--commit-timeout-lands"]
    if not mode.xet:
        args += ["--lfs-only"]
    if not mode.check_sha256:
        args += ["--trust-sha256"]
    if mode.cdn_connection_rate:
        args += ["--cdn-connection-rate", f"{mode.cdn_connection_rate!r}"]
    if mode.xet_token_expiry != HubMode().xet_token_expiry:
        args += ["--xet-token-expiry", f"{mode.xet_token_expiry!r}"]
    return args
