"""Deterministic fault injection and per-route counters, so tests and benchmarks can break and measure the hub.

A rule applies to one route class (api, resolve, upload, commit; cdn: the signed-URL host of the real-Hub
mode; xet-token: the hub's two Xet token endpoints; cas: the CAS API; xorb: ranged xorb reads; bridge: the
bridge serving Xet files' bytes) and fires every Nth matching request, with a
probability drawn from a seeded generator, or always; `times` caps how often it fires. Actions:
  status       answer `status` (429 adds Retry-After) without handling the request
  reset        drop the connection before answering
  reset_after  handle the request, then drop the connection: mid-body for downloads (after `after_bytes`),
               after the commit landed for commits, bucket batches and PR merges (an ambiguous failure); for
               xorb uploads, after reading `after_bytes` of the request body (default half)
  latency      add `latency_ms` before answering
  bandwidth    cap the body to `bytes_per_sec` for this connection
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ROUTE_CLASSES", "Counters", "FaultPlan", "FaultRule", "parse_fault_spec"]

ROUTE_CLASSES = ("api", "resolve", "upload", "commit", "cdn", "xet-token", "cas", "xorb", "bridge")
XET_FIELDS = ("xorb_bytes_received", "xorb_bytes_new", "xorbs_new", "xorbs_known", "shards", "file_bytes_committed",
              "dedup_hits", "dedup_misses")
UNKNOWN_ROUTES_CAP = 100
ACTIONS = ("status", "reset", "reset_after", "latency", "bandwidth")
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]i?B?|B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "K": 10**3, "KB": 10**3, "KI": 2**10, "KIB": 2**10, "M": 10**6, "MB": 10**6,
          "MI": 2**20, "MIB": 2**20, "G": 10**9, "GB": 10**9, "GI": 2**30, "GIB": 2**30}


@dataclass
class FaultRule:
    route: str
    action: str
    status: int = 503
    retry_after: float | None = None
    every: int | None = None
    prob: float | None = None
    times: int | None = None
    match: str | None = None
    method: str | None = None
    latency_ms: float = 0.0
    bytes_per_sec: int | None = None
    after_bytes: int | None = None
    seen: int = field(default=0, compare=False)
    fired: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.route not in ROUTE_CLASSES:
            raise ValueError(f"fault route {self.route!r} is not one of {', '.join(ROUTE_CLASSES)}")
        if self.action not in ACTIONS:
            raise ValueError(f"fault action {self.action!r} is not one of {', '.join(ACTIONS)}")
        if self.action == "status" and not 400 <= int(self.status) <= 599:
            raise ValueError(f"fault status {self.status} must be an HTTP error status (400-599)")
        if self.action == "bandwidth" and not self.bytes_per_sec:
            raise ValueError("a bandwidth fault needs bytes_per_sec (e.g. bytes_per_sec=10MB)")
        if self.every is not None and self.every < 1:
            raise ValueError("fault 'every' must be >= 1")
        if self.prob is not None and not 0 <= self.prob <= 1:
            raise ValueError("fault 'prob' must be between 0 and 1")
        if self.match is not None:
            re.compile(self.match)

    def public(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def parse_fault_spec(spec: str) -> FaultRule:
    """`route=resolve,action=status,status=429,retry_after=1,every=3` -> FaultRule (CLI form)."""
    fields: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"fault spec part {part!r} is not key=value (in {spec!r})")
        fields[key.strip()] = value.strip()
    return rule_from_mapping(fields)


def rule_from_mapping(raw: dict[str, Any]) -> FaultRule:
    known = {f for f in FaultRule.__dataclass_fields__ if f not in ("seen", "fired")}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"unknown fault keys {sorted(unknown)}; valid keys: {sorted(known)}")
    conv: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None:
            continue
        if key in ("status", "every", "times"):
            conv[key] = int(value)
        elif key in ("prob", "retry_after"):
            conv[key] = float(value)
        elif key == "latency_ms":
            conv[key] = float(str(value).removesuffix("ms"))
        elif key in ("bytes_per_sec", "after_bytes"):
            conv[key] = parse_size(value)
        else:
            conv[key] = str(value)
    if "route" not in conv or "action" not in conv:
        raise ValueError("a fault rule needs route= and action=")
    return FaultRule(**conv)


def parse_size(value: Any) -> int:
    if isinstance(value, int):
        return value
    m = _SIZE_RE.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a size such as 1048576, 64KB or 10MiB")
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "").upper()])


@dataclass
class Decision:
    """What the faults say about one request."""

    status: int | None = None
    retry_after: float | None = None
    reset: bool = False
    reset_after: bool = False
    after_bytes: int | None = None
    latency_s: float = 0.0
    bytes_per_sec: int | None = None


class FaultPlan:
    """The active rules, one seeded generator, and thread-safe decisions."""

    def __init__(self, rules: list[FaultRule] | None = None, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self.seed = seed
        self._rng = random.Random(seed)
        self.rules: list[FaultRule] = list(rules or [])

    def replace(self, rules: list[FaultRule], seed: int | None = None) -> None:
        with self._lock:
            self.rules = list(rules)
            if seed is not None:
                self.seed = seed
            self._rng = random.Random(self.seed)

    def decide(self, route: str, method: str, path: str) -> Decision:
        decision = Decision()
        if not self.rules:
            return decision
        with self._lock:
            for rule in self.rules:
                if rule.route != route or (rule.method and rule.method.upper() != method):
                    continue
                if rule.match and not re.search(rule.match, path):
                    continue
                if rule.action in _TERMINAL and _decided(decision):
                    continue  # one failure per request: later failure rules wait for the next one
                rule.seen += 1
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if rule.every is not None and rule.seen % rule.every != 0:
                    continue
                if rule.prob is not None and self._rng.random() >= rule.prob:
                    continue
                rule.fired += 1
                _merge(decision, rule)
        return decision

    def public(self) -> dict[str, Any]:
        with self._lock:
            return {"seed": self.seed, "rules": [r.public() for r in self.rules]}


_TERMINAL = ("status", "reset", "reset_after")


def _decided(decision: Decision) -> bool:
    return decision.status is not None or decision.reset or decision.reset_after


def _merge(decision: Decision, rule: FaultRule) -> None:
    if rule.action == "status" and decision.status is None:
        decision.status = int(rule.status)
        decision.retry_after = rule.retry_after if rule.retry_after is not None else (
            1.0 if rule.status == 429 else None)
    elif rule.action == "reset":
        decision.reset = True
    elif rule.action == "reset_after":
        decision.reset_after = True
        decision.after_bytes = rule.after_bytes
    elif rule.action == "latency":
        decision.latency_s += rule.latency_ms / 1000.0
    elif rule.action == "bandwidth":
        decision.bytes_per_sec = rule.bytes_per_sec


class Counters:
    """Requests, bytes and outcomes per route class, and per rate-limit bucket: what tests and benchmarks read
    request counts from. `authorized` counts requests that carried an Authorization header (on `cdn`, `xorb` and
    `bridge`, a client that leaked a token to a URL that needs none). `cas_routes` counts per CAS route, `xet`
    what the CAS stored (new vs known xorb bytes: the dedup measure), and `unknown_routes` lists requests no
    route matched on any listener, so a test fails on protocol drift instead of a silent 404."""

    _FIELDS = ("requests", "bytes_sent", "bytes_received", "errors", "faults", "authorized")
    _BUCKETS = ("api", "resolvers", "commits")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._data = {route: dict.fromkeys(self._FIELDS, 0) for route in ROUTE_CLASSES}
            self._buckets = {b: {"requests": 0, "limited": 0, "anonymous_requests": 0, "anonymous_limited": 0}
                             for b in self._BUCKETS}
            self._commits = 0
            self._cas_routes: dict[str, dict[str, int]] = {}
            self._xet = dict.fromkeys(XET_FIELDS, 0)
            self._unknown: list[str] = []

    def add_cas_route(self, name: str, **deltas: int) -> None:
        """`name` is "<METHOD> <route>", e.g. "POST /v1/xorbs"."""
        with self._lock:
            row = self._cas_routes.setdefault(name, {"requests": 0, "errors": 0, "authorized": 0})
            for key, delta in deltas.items():
                row[key] += delta

    def add_xet(self, **deltas: int) -> None:
        with self._lock:
            for key, delta in deltas.items():
                self._xet[key] += delta

    def add_unknown_route(self, method: str, path: str) -> None:
        with self._lock:
            if len(self._unknown) < UNKNOWN_ROUTES_CAP:
                self._unknown.append(f"{method} {path}")

    def add(self, route: str, **deltas: int) -> None:
        with self._lock:
            row = self._data[route]
            for key, delta in deltas.items():
                row[key] += delta

    def add_bucket(self, bucket: str, *, limited: bool, anonymous: bool = False) -> None:
        """One request admitted or refused in a rate-limit bucket; anonymous callers' (limited per IP) are also
        counted apart, so a test can tell its own anonymous checks from the job's requests."""
        with self._lock:
            row = self._buckets[bucket]
            row["limited" if limited else "requests"] += 1
            if anonymous:
                row["anonymous_limited" if limited else "anonymous_requests"] += 1

    def add_commit(self) -> None:
        with self._lock:
            self._commits += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            out: dict[str, Any] = {route: dict(row) for route, row in self._data.items()}
            out["rate_limits"] = {b: dict(row) for b, row in self._buckets.items()}
            out["commits"] = self._commits
            out["cas_routes"] = {name: dict(row) for name, row in self._cas_routes.items()}
            out["xet"] = dict(self._xet)
            out["unknown_routes"] = list(self._unknown)
            return out
