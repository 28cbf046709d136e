"""The fault rules' verdict on one request, applied the same way on every listener (hub, CDN, CAS, bridge):
latency first, then a dropped connection or an injected status; what is left (reset_after, bandwidth) the
handler applies while it moves the body."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web

from .context import HubState
from .faults import Decision

__all__ = ["Render", "fault_gate"]

Render = Callable[[int, str, dict[str, str]], web.StreamResponse]  # (status, message, headers) -> an answer


async def fault_gate(state: HubState, route_class: str, request: web.Request,
                     render: Render) -> tuple[Decision, web.StreamResponse | None]:
    """(decision, None) to go on handling the request, or (decision, the injected answer); a `reset` fault
    aborts the connection and raises ConnectionResetError."""
    decision = state.faults.decide(route_class, request.method, request.path)
    if decision.latency_s:
        await asyncio.sleep(decision.latency_s)
    if decision.reset:
        state.counters.add(route_class, faults=1)
        if request.transport is not None:
            request.transport.abort()
        raise ConnectionResetError("fault injection: reset")
    if decision.status is not None:
        state.counters.add(route_class, faults=1, errors=1)
        headers = {}
        if decision.retry_after is not None:
            headers["Retry-After"] = f"{decision.retry_after:g}"
        return decision, render(decision.status, f"Injected fault ({decision.status}).", headers)
    return decision, None
