"""The fault gate every listener runs first: no rule lets the request through untouched; a status rule answers
through the listener's own renderer (429 with Retry-After) and counts a fault and an error; latency waits first;
a reset aborts the connection; reset_after and bandwidth are left for the handler, in the decision."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from hfconnect.localhub.context import HubState
from hfconnect.localhub.faults import FaultPlan, FaultRule
from hfconnect.localhub.gate import fault_gate


def _render(status: int, message: str, headers: dict[str, str]) -> web.Response:
    return web.Response(status=status, text=message, headers=headers)


def _gate(tmp_path: Path, *rules: FaultRule, path: str = "/v1/xorbs/default/x"):
    state = HubState.open(tmp_path, {}, FaultPlan(list(rules)))
    request = make_mocked_request("POST", path)
    return state, request, asyncio.run(fault_gate(state, "cas", request, _render))


def test_no_rule_lets_the_request_through(tmp_path: Path) -> None:
    state, _, (decision, answer) = _gate(tmp_path)
    assert answer is None and decision.status is None and state.counters.snapshot()["cas"]["faults"] == 0


def test_a_status_rule_answers_through_the_listeners_renderer(tmp_path: Path) -> None:
    rule = FaultRule(route="cas", action="status", status=429, retry_after=2, match="^/v1/xorbs/")
    state, _, (_, answer) = _gate(tmp_path, rule)
    assert isinstance(answer, web.Response) and answer.status == 429 and answer.headers["Retry-After"] == "2"
    assert answer.text == "Injected fault (429)."
    c = state.counters.snapshot()["cas"]
    assert (c["faults"], c["errors"]) == (1, 1)
    other_route = FaultRule(route="bridge", action="status", status=503)
    other_path = FaultRule(route="cas", action="status", status=503, match="^/v1/shards")
    assert _gate(tmp_path / "b", other_route, other_path)[2][1] is None


def test_latency_comes_first_and_the_rest_is_the_handlers(tmp_path: Path) -> None:
    started = time.monotonic()
    _, _, (decision, answer) = _gate(tmp_path, FaultRule(route="cas", action="latency", latency_ms=150),
                                     FaultRule(route="cas", action="reset_after", after_bytes=10))
    assert time.monotonic() - started >= 0.15
    assert answer is None and decision.reset_after and decision.after_bytes == 10


def test_a_reset_aborts_the_connection(tmp_path: Path) -> None:
    with pytest.raises(ConnectionResetError):
        _gate(tmp_path, FaultRule(route="cas", action="reset"))
