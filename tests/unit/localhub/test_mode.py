"""HubMode: what of huggingface.co's behaviour the local hub models. Xet is on by default (as on the Hub), the less
friendly rest is off (tests of other things must not meet redirects or 429s); `real_hub()` switches all of it on
with a free user's documented quotas; bad settings are refused with what to use instead."""

from __future__ import annotations

import json

import pytest

from hfconnect.localhub.mode import ANONYMOUS, BUCKETS, FREE_USER, HubMode, parse_quotas
from hfconnect.localhub.server import mode_arguments


def test_everything_but_xet_is_off_by_default() -> None:
    mode = HubMode()
    assert (mode.redirects, mode.rate_limits, mode.xet, mode.xet_token_expiry) == (False, False, True, 3600.0)
    assert mode_arguments(mode) == []
    assert HubMode.real_hub().xet


def test_the_lfs_only_variant_and_the_token_expiry_reach_the_serve_flags() -> None:
    assert mode_arguments(HubMode(xet=False)) == ["--lfs-only"]
    assert mode_arguments(HubMode(xet_token_expiry=2.5)) == ["--xet-token-expiry", "2.5"]
    assert HubMode().check_sha256 and HubMode.real_hub().check_sha256  # the tests' guard is on unless asked
    assert mode_arguments(HubMode(check_sha256=False)) == ["--trust-sha256"]


def test_the_cdn_connection_rate_is_off_unless_asked_and_reaches_the_serve_flags() -> None:
    assert HubMode().cdn_connection_rate == 0 == HubMode.real_hub().cdn_connection_rate
    capped = HubMode.real_hub(cdn_connection_rate=25e6)
    assert mode_arguments(capped)[-2:] == ["--cdn-connection-rate", "25000000.0"]
    assert "--cdn-connection-rate" not in mode_arguments(HubMode.real_hub())


def test_real_hub_switches_everything_on_with_the_hubs_quotas() -> None:
    mode = HubMode.real_hub()
    assert (mode.redirects, mode.rate_limits, mode.window) == (True, True, 300.0)
    assert mode.quotas == FREE_USER == {"api": 1000, "resolvers": 5000}
    assert mode.anonymous_quotas == ANONYMOUS == {"api": 500, "resolvers": 3000}
    assert mode.cdn_host != "127.0.0.1"  # another host: a client must drop the token on the redirect
    tight = HubMode.real_hub(quotas={"api": 3, "resolvers": 4}, url_expiry=2)
    assert (tight.redirects, tight.quotas, tight.url_expiry) == (True, {"api": 3, "resolvers": 4}, 2)


def test_quotas_are_not_shared_between_modes() -> None:
    a, b = HubMode(), HubMode()
    a.quotas["api"] = 1
    assert b.quotas["api"] == 1000 and FREE_USER["api"] == 1000


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"url_expiry": 0}, "url expiry and rate-limit windows must be positive, finite numbers of seconds"),
    ({"window": -1}, "url expiry and rate-limit windows must be positive, finite numbers of seconds"),
    ({"commit_window": 0}, "url expiry and rate-limit windows must be positive, finite numbers of seconds"),
    ({"url_expiry": float("nan")}, "url expiry and rate-limit windows must be positive, finite numbers of seconds"),
    ({"window": float("inf")}, "url expiry and rate-limit windows must be positive, finite numbers of seconds"),
    ({"quotas": {"api": 1, "commits": 2}}, r"unknown rate-limit bucket\(s\) \['commits'\]: use api, resolvers"),
    ({"anonymous_quotas": {"downloads": 2}}, r"unknown rate-limit bucket\(s\) \['downloads'\]"),
    ({"quotas": {"api": 0}}, "rate-limit quotas must be whole numbers >= 1"),
    ({"quotas": {"api": 1.5}}, "rate-limit quotas must be whole numbers >= 1"),
    ({"commit_quota": 0}, "the commit quota must be >= 1"),
    ({"cdn_connection_rate": -1}, "the CDN connection rate must be a finite number of bytes per second >= 0"),
    ({"cdn_connection_rate": float("nan")}, "the CDN connection rate must be a finite number"),
    ({"xet_token_expiry": 0}, "the Xet token expiry must be a positive, finite number of seconds"),
    ({"xet_token_expiry": float("nan")}, "the Xet token expiry must be a positive, finite number of seconds"),
])
def test_bad_settings_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HubMode(**kwargs)


def test_public_is_json_and_a_copy() -> None:
    mode = HubMode.real_hub()
    public = mode.public()
    assert json.loads(json.dumps(public)) == public
    assert set(public) == {"redirects", "cdn_host", "url_expiry", "rate_limits", "window", "quotas",
                           "anonymous_quotas", "commit_quota", "commit_window", "xet", "xet_token_expiry",
                           "commit_limits", "commit_timeout", "commit_max_operations", "commit_timeout_lands",
                           "check_sha256", "cdn_connection_rate"}
    public["quotas"]["api"] = 1
    assert mode.quotas["api"] == 1000


def test_parse_quotas() -> None:
    assert parse_quotas("api=1000,resolvers=5000") == FREE_USER
    assert parse_quotas(" api = 7 ,") == {"api": 7}
    assert parse_quotas("") == {}
    with pytest.raises(ValueError, match=r"^quota 'commits=3': expected BUCKET=N with BUCKET one of api, resolvers$"):
        parse_quotas("commits=3")
    with pytest.raises(ValueError, match=r"^quota 'api': expected BUCKET=N"):
        parse_quotas("api")
    with pytest.raises(ValueError, match=r"^quota 'api=many': 'many' is not a whole number$"):
        parse_quotas("api=many")
    assert set(BUCKETS) == set(FREE_USER) == set(ANONYMOUS)


def test_the_serve_flags_of_a_mode_carry_every_setting() -> None:
    """LocalHub hands its mode to the child process as `hfconnect localhub serve` flags."""
    mode = HubMode.real_hub(url_expiry=1.5, window=2.5, quotas={"api": 3, "resolvers": 9}, commit_quota=4,
                            commit_window=60)
    args = mode_arguments(mode)
    assert args == ["--redirects", "--cdn-host", "127.0.0.2", "--url-expiry", "1.5", "--rate-limits",
                    "--rate-window", "2.5", "--quota", "api=3,resolvers=9", "--anonymous-quota",
                    "api=500,resolvers=3000", "--commit-quota", "4", "--commit-window", "60",
                    "--commit-limits", "--commit-timeout", "60.0", "--commit-max-operations", "0"]
    assert parse_quotas(args[args.index("--quota") + 1]) == mode.quotas
    assert parse_quotas(args[args.index("--anonymous-quota") + 1]) == mode.anonymous_quotas
    assert mode_arguments(HubMode(redirects=True, url_expiry=7)) == ["--redirects", "--cdn-host", "127.0.0.2",
                                                                     "--url-expiry", "7"]
