"""HfApi calls under hfconnect's policy: huggingface_hub does not retry them as well (one layer of retries),
and what they raise comes out as hfconnect's errors."""

from __future__ import annotations

import pytest

from hfconnect.errors import HubRequestError, RepoNotFoundError
from hfconnect.hub import HubClient
from tests.unit.hub.conftest import fast_policy


def test_retryable_answers_are_retried_once_by_our_policy(standin) -> None:
    client = HubClient(standin.endpoint, "hf_tok", fast_policy(attempts=5))
    standin.script.api_status = [(503, {}), (502, {}), (429, {"RateLimit": '"api";r=0;t=0'})]
    assert client.snapshot("o/r", "main").sha == "a" * 40
    assert len([s for s in standin.script.seen if s[0] == "api"]) == 4


def test_a_constant_503_fails_after_our_attempts_not_theirs_times_ours(standin) -> None:
    client = HubClient(standin.endpoint, None, fast_policy(attempts=3))
    standin.script.api_status = [(503, {})] * 50
    with pytest.raises(HubRequestError, match=r"repo info: giving up after 3 failed attempt\(s\)"):
        client.snapshot("o/r", "main")
    assert len([s for s in standin.script.seen if s[0] == "api"]) == 3


def test_answers_map_to_our_errors(standin) -> None:
    client = HubClient(standin.endpoint, None, fast_policy())
    standin.script.api_status = [(404, {"X-Error-Code": "RepoNotFound"})]
    with pytest.raises(RepoNotFoundError, match="dataset o/r@main: not found on the Hub: the repo may be private"):
        client.snapshot("o/r", "main")


def test_outside_hfconnect_calls_the_session_behaves_as_before(standin) -> None:
    """Our hooks sit on huggingface_hub's shared session, but only act inside hfconnect's calls."""
    from huggingface_hub import get_session

    HubClient(standin.endpoint, None, fast_policy()).snapshot("o/r", "main")  # installs the hooks
    standin.script.api_status = [(503, {})]
    response = get_session().get(f"{standin.endpoint}/api/datasets/o/r/revision/main")
    assert response.status_code == 503
