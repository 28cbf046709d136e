"""Fault injection through the hub's own rules, and the real client's reaction to them."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
import requests
from httpx2 import RemoteProtocolError
from huggingface_hub import CommitOperationAdd, HfApi

from hfconnect.localhub import LocalHub, parse_fault_spec
from tests.conftest import WRITE_TOKEN

pytestmark = pytest.mark.integration
PAYLOAD = os.urandom(300_000)


@pytest.fixture
def faulty(tmp_path):
    with LocalHub(tmp_path / "hub", tokens={WRITE_TOKEN: "write"}) as hub:
        api = HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)
        api.create_repo("f/ds", repo_type="dataset")
        api.create_commit("f/ds", repo_type="dataset", commit_message="x",
                          operations=[CommitOperationAdd("blob.bin", io.BytesIO(PAYLOAD)),  # LFS even with Xet on:
                                      CommitOperationAdd("other.bin", b"o")])  # the hub serves it, no bridge
        yield hub, api


def _get(hub, path: str = "blob.bin", **headers) -> requests.Response:
    return requests.get(f"{hub.endpoint}/datasets/f/ds/resolve/main/{path}", headers=headers)


def test_status_every_nth_with_retry_after(faulty) -> None:
    hub, _ = faulty
    hub.set_faults([{"route": "resolve", "action": "status", "status": 429, "retry_after": 2, "every": 3}])
    codes = [_get(hub).status_code for _ in range(6)]
    assert codes == [200, 200, 429, 200, 200, 429]
    r = [_get(hub) for _ in range(3)][-1]
    assert r.headers["Retry-After"] == "2" and r.headers["X-Error-Code"] == "InjectedFault"
    assert hub.counters()["resolve"]["faults"] == 3
    assert _get_api(hub).status_code == 200  # other route classes untouched


def _get_api(hub) -> requests.Response:
    return requests.get(f"{hub.endpoint}/api/datasets/f/ds/revision/main")


def test_probability_is_deterministic_with_seed(faulty) -> None:
    hub, _ = faulty

    def run() -> list[int]:
        hub.set_faults([{"route": "api", "action": "status", "status": 503, "prob": 0.5}], seed=42)
        return [_get_api(hub).status_code for _ in range(20)]

    first = run()
    assert first == run()
    assert 0 < first.count(503) < 20


def test_times_caps_firing(faulty) -> None:
    hub, _ = faulty
    hub.set_faults([{"route": "api", "action": "status", "status": 500, "times": 2}])
    assert [_get_api(hub).status_code for _ in range(4)] == [500, 500, 200, 200]


def test_reset_before_and_mid_body(faulty) -> None:
    hub, _ = faulty
    hub.set_faults([{"route": "resolve", "action": "reset", "times": 1}])
    with pytest.raises(requests.ConnectionError):
        _get(hub)
    assert _get(hub).content == PAYLOAD
    hub.set_faults([{"route": "resolve", "action": "reset_after", "after_bytes": 1000, "times": 1}])
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        _get(hub).content  # noqa: B018
    assert _get(hub).content == PAYLOAD


def test_hf_client_survives_429_and_resumes_after_reset(faulty, tmp_path) -> None:
    from huggingface_hub import hf_hub_download

    hub, _ = faulty
    hub.set_faults([{"route": "resolve", "action": "status", "status": 429, "retry_after": 0, "times": 1,
                     "method": "GET"},
                    {"route": "resolve", "action": "reset_after", "after_bytes": 100_000, "times": 1,
                     "method": "GET"}])
    path = hf_hub_download("f/ds", "blob.bin", repo_type="dataset", cache_dir=tmp_path, endpoint=hub.endpoint)
    assert Path(path).read_bytes() == PAYLOAD
    assert hub.counters()["resolve"]["faults"] == 2


def test_latency_and_bandwidth(faulty) -> None:
    hub, _ = faulty
    hub.set_faults([{"route": "api", "action": "latency", "latency_ms": 200}])
    t0 = time.perf_counter()
    assert _get_api(hub).ok
    assert time.perf_counter() - t0 >= 0.2
    hub.set_faults([{"route": "resolve", "action": "bandwidth", "bytes_per_sec": "1MB"}])
    t0 = time.perf_counter()
    assert _get(hub).content == PAYLOAD
    assert time.perf_counter() - t0 >= 0.25  # 300 KB at 1 MB/s


def test_match_limits_a_rule_to_paths(faulty) -> None:
    hub, _ = faulty
    hub.set_faults([{"route": "resolve", "action": "status", "status": 503, "match": r"other\.bin$"}])
    assert [_get(hub).status_code, _get(hub, "other.bin").status_code, _get(hub).status_code] == [200, 503, 200]
    assert hub.counters()["resolve"]["faults"] == 1


def test_commit_reset_after_lands_the_commit(faulty) -> None:
    hub, api = faulty
    before = api.dataset_info("f/ds").sha
    hub.set_faults([{"route": "commit", "action": "reset_after", "times": 1}])
    # the client sees the connection dropped before any answer (huggingface_hub's HTTP client is httpx2)
    with pytest.raises(RemoteProtocolError, match="Server disconnected without sending a response"):
        api.create_commit("f/ds", repo_type="dataset", commit_message="ambiguous",
                          operations=[CommitOperationAdd("x.txt", b"x")])
    after = api.dataset_info("f/ds")
    assert after.sha != before and "x.txt" in [s.rfilename for s in after.siblings]
    assert api.list_repo_commits("f/ds", repo_type="dataset")[0].title == "ambiguous"


def test_faults_from_cli_spec_and_bad_rules(tmp_path) -> None:
    rule = parse_fault_spec("route=upload,action=status,status=503,every=2")
    assert (rule.route, rule.status, rule.every) == ("upload", 503, 2)
    with pytest.raises(ValueError, match="route"):
        parse_fault_spec("route=nowhere,action=reset")
    with pytest.raises(ValueError, match="unknown fault keys"):
        parse_fault_spec("route=api,action=reset,bogus=1")
    with LocalHub(tmp_path / "h", faults=["route=api,action=status,status=500"]) as hub:
        assert _get_api(hub).status_code == 500
        r = requests.put(f"{hub.endpoint}/_admin/faults", json={"rules": [{"route": "api", "action": "nope"}]})
        assert r.status_code == 400 and "action" in r.json()["error"]
