"""Fault rules: parsing (CLI spec and JSON), validation errors, and the decisions a plan makes per request."""

from __future__ import annotations

import random

import pytest

from hfconnect.localhub.faults import Counters, FaultPlan, FaultRule, parse_fault_spec, parse_size, rule_from_mapping


@pytest.mark.parametrize(("value", "size"), [
    ("1048576", 1_048_576), (5, 5), ("64KB", 64_000), ("64K", 64_000), ("64KiB", 65_536), ("64ki", 65_536),
    ("10MiB", 10 * 2**20), ("10MB", 10**7), ("1.5MB", 1_500_000), ("2G", 2 * 10**9), ("1GiB", 2**30), ("7B", 7),
])
def test_sizes(value: object, size: int) -> None:
    assert parse_size(value) == size


@pytest.mark.parametrize("value", ["lots", "", "1TB", "-1", "1e3"])
def test_bad_sizes_name_the_value(value: str) -> None:
    with pytest.raises(ValueError, match=rf"^{value!r} is not a size such as 1048576, 64KB or 10MiB$"):
        parse_size(value)


def test_cli_spec_becomes_a_rule_with_typed_values() -> None:
    rule = parse_fault_spec("route=resolve, action=status, status=429, retry_after=1.5, every=3, times=2, "
                            "prob=0.5, match=\\.parquet$, method=GET")
    assert rule == FaultRule("resolve", "status", status=429, retry_after=1.5, every=3, times=2, prob=0.5,
                             match=r"\.parquet$", method="GET")
    assert parse_fault_spec("route=api,action=latency,latency_ms=250ms").latency_ms == 250.0
    bw = parse_fault_spec("route=resolve,action=bandwidth,bytes_per_sec=10MB")
    assert bw.bytes_per_sec == 10**7
    assert parse_fault_spec("route=resolve,action=reset_after,after_bytes=64KiB").after_bytes == 65_536
    assert rule.public() == {"route": "resolve", "action": "status", "status": 429, "retry_after": 1.5, "every": 3,
                             "prob": 0.5, "times": 2, "match": r"\.parquet$", "method": "GET", "latency_ms": 0.0,
                             "seen": 0, "fired": 0}


@pytest.mark.parametrize(("spec", "message"), [
    ("route=nowhere,action=reset", "fault route 'nowhere' is not one of api, resolve, upload, commit"),
    ("route=api,action=explode", "fault action 'explode' is not one of status, reset, reset_after, latency, bandwidth"),
    ("route=api,action=status,status=200", r"fault status 200 must be an HTTP error status \(400-599\)"),
    ("route=api,action=bandwidth", r"a bandwidth fault needs bytes_per_sec \(e.g. bytes_per_sec=10MB\)"),
    ("route=api,action=reset,every=0", "fault 'every' must be >= 1"),
    ("route=api,action=reset,prob=1.5", "fault 'prob' must be between 0 and 1"),
    ("route=api,action=reset,bogus=1", r"unknown fault keys \['bogus'\]; valid keys: \['action', 'after_bytes'"),
    ("route=api,action", r"fault spec part 'action' is not key=value \(in 'route=api,action'\)"),
    ("action=reset", "a fault rule needs route= and action="),
    ("route=api,action=status,status=abc", "invalid literal for int"),
])
def test_bad_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_fault_spec(spec)


def test_a_bad_match_regex_is_refused() -> None:
    import re

    with pytest.raises(re.error):
        rule_from_mapping({"route": "api", "action": "reset", "match": "("})


def test_mapping_rules_skip_nulls() -> None:
    assert rule_from_mapping({"route": "api", "action": "reset", "times": None}) == FaultRule("api", "reset")


def _statuses(plan: FaultPlan, n: int, route: str = "api", method: str = "GET", path: str = "/api/x") -> list:
    return [plan.decide(route, method, path).status for _ in range(n)]


def test_every_nth_request_and_one_failure_per_request() -> None:
    plan = FaultPlan([FaultRule("api", "status", status=500, every=2),
                      FaultRule("api", "reset", every=2),
                      FaultRule("api", "latency", latency_ms=5)])
    decisions = [plan.decide("api", "GET", "/api/x") for _ in range(4)]
    assert [d.status for d in decisions] == [None, 500, None, 500]
    # The reset rule is not consulted while the status rule fires, so its own count reaches 2 on request 3.
    assert [d.reset for d in decisions] == [False, False, True, False]
    assert all(d.latency_s == 0.005 for d in decisions)  # latency adds to whatever else happens
    assert plan.decide("resolve", "GET", "/x").status is None  # other route classes untouched


def test_429_gets_a_retry_after_of_one_second_unless_told() -> None:
    assert FaultPlan([FaultRule("api", "status", status=429)]).decide("api", "GET", "/").retry_after == 1.0
    assert FaultPlan([FaultRule("api", "status", status=429, retry_after=0)]).decide("api", "GET", "/").retry_after == 0
    assert FaultPlan([FaultRule("api", "status", status=503)]).decide("api", "GET", "/").retry_after is None


def test_times_caps_firing_and_match_and_method_narrow_a_rule() -> None:
    assert _statuses(FaultPlan([FaultRule("api", "status", status=500, times=2)]), 4) == [500, 500, None, None]
    plan = FaultPlan([FaultRule("resolve", "status", status=503, match=r"\.parquet$", method="get")])
    assert plan.decide("resolve", "GET", "/d/resolve/main/a.parquet").status == 503
    assert plan.decide("resolve", "GET", "/d/resolve/main/README.md").status is None
    assert plan.decide("resolve", "HEAD", "/d/resolve/main/a.parquet").status is None


def test_probability_is_deterministic_with_the_seed_and_reset_by_replace() -> None:
    rule = {"route": "api", "action": "status", "status": 503, "prob": 0.5}
    plan = FaultPlan([rule_from_mapping(rule)], seed=42)
    first = _statuses(plan, 40)
    rng = random.Random(42)  # one draw per request, from the plan's seed
    expected = [503 if rng.random() < 0.5 else None for _ in range(40)]
    assert first == expected and 0 < first.count(503) < 40
    plan.replace([rule_from_mapping(rule)])
    assert _statuses(plan, 40) == first
    plan.replace([rule_from_mapping(rule)], seed=7)
    assert _statuses(plan, 40) != first and plan.public()["seed"] == 7


def test_reset_after_and_bandwidth_decisions() -> None:
    plan = FaultPlan([FaultRule("resolve", "reset_after", after_bytes=100), FaultRule("resolve", "bandwidth",
                                                                                       bytes_per_sec=1000)])
    d = plan.decide("resolve", "GET", "/x")
    assert (d.reset_after, d.after_bytes, d.bytes_per_sec, d.status, d.reset) == (True, 100, 1000, None, False)
    assert FaultPlan().decide("api", "GET", "/").status is None


def test_counters_per_route_class() -> None:
    c = Counters()
    c.add("resolve", requests=2, bytes_sent=100)
    c.add("commit", requests=1, errors=1)
    c.add("cdn", requests=3, authorized=1)
    c.add_commit()
    c.add_bucket("resolvers", limited=False)
    c.add_bucket("resolvers", limited=True, anonymous=True)
    snap = c.snapshot()
    assert snap["resolve"] == {"requests": 2, "bytes_sent": 100, "bytes_received": 0, "errors": 0, "faults": 0,
                               "authorized": 0}
    assert snap["commits"] == 1 and snap["commit"]["errors"] == 1 and set(snap) == {
        "api", "resolve", "upload", "commit", "cdn", "xet-token", "cas", "xorb", "bridge", "rate_limits", "commits",
        "cas_routes", "xet", "unknown_routes"}
    assert snap["cdn"]["authorized"] == 1 and snap["rate_limits"]["resolvers"] == {"requests": 1, "limited": 1,
                                                                              "anonymous_requests": 0,
                                                                              "anonymous_limited": 1}
    c.reset()
    assert c.snapshot()["resolve"]["requests"] == 0 and c.snapshot()["commits"] == 0
    assert set(c.snapshot()["rate_limits"]["resolvers"].values()) == {0}
