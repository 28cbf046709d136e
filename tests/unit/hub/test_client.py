"""HubClient against the local hub's own app run in-process: a small picklable value that never shows its token,
HfApi calls under the one retry policy, and the head / files / changes / bytes every reader and writer uses."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

from hfconnect.errors import AuthenticationError, HubRequestError, RepoNotFoundError, RevisionNotFoundError
from hfconnect.hub.client import HubClient, resolve_token
from hfconnect.hub.http import Target, signed_urls
from hfconnect.hub.retry import RetryPolicy
from hfconnect.hub.snapshot import Snapshot
from hfconnect.localhub.mode import HubMode
from tests.unit.inprocess_hub import WRITE_TOKEN, InProcessHub, request, running_hub

FAST = RetryPolicy(attempts=4, base=0.01, cap=0.05, budget=1.0)
BLOB = bytes(range(256)) * 64  # 16 KiB, every position recognisable
CARD = b"---\nlicense: mit\n---\n# a card\n"


@pytest.fixture
def seeded(inproc_hub: InProcessHub) -> Iterator[tuple[InProcessHub, HubClient, str]]:
    sha = inproc_hub.dataset("o/d", {"README.md": CARD, "data/train-00000-of-00001.parquet": BLOB,
                                     "data/sub/notes.txt": b"hello"})
    yield inproc_hub, HubClient(inproc_hub.endpoint + "/", WRITE_TOKEN, FAST), sha


def test_a_small_picklable_value_that_never_shows_its_token() -> None:
    client = HubClient("http://127.0.0.1:9/", "hf_very_secret", FAST)
    assert client.endpoint == "http://127.0.0.1:9"
    assert "hf_very_secret" not in repr(client) and "hf_very_secret" not in str(client)
    back = pickle.loads(pickle.dumps(client))
    assert back == client and back.token == "hf_very_secret" and back.policy == FAST  # tasks need the token
    client.api()  # caches live per process, never in the value
    assert pickle.dumps(client) == pickle.dumps(HubClient("http://127.0.0.1:9", "hf_very_secret", FAST))
    assert client.api() is HubClient("http://127.0.0.1:9", "hf_very_secret").api()  # one HfApi per process
    assert client.api() is not HubClient("http://127.0.0.1:9", None).api()


def test_resolve_token_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "token"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert resolve_token(None) is None
    (tmp_path / "token").write_text("hf_saved_login")
    assert resolve_token(None) == "hf_saved_login"  # what `hf auth login` saved
    monkeypatch.setenv("HF_TOKEN", "hf_from_env")
    assert resolve_token(None) == "hf_from_env"
    assert resolve_token("hf_given") == "hf_given"
    assert resolve_token("") == ""  # anonymous on purpose: no fallback


def test_snapshot_pins_branches_tags_and_shas(seeded: tuple[InProcessHub, HubClient, str]) -> None:
    hub, client, sha = seeded
    hub.api().create_tag("o/d", tag="v1", repo_type="dataset")
    snap = client.snapshot("o/d", "main")
    assert snap == Snapshot("o/d", sha, "main", hub.endpoint, "dataset")
    assert client.snapshot("o/d", "v1").sha == sha
    assert client.snapshot("o/d", sha).sha == sha
    with pytest.raises(RevisionNotFoundError, match=r"^dataset o/d@nope: revision not found: use a branch"):
        client.snapshot("o/d", "nope")
    with pytest.raises(RepoNotFoundError, match=r"^dataset o/missing@main: not found on the Hub: check the name"):
        client.snapshot("o/missing", "main")
    with pytest.raises(RepoNotFoundError, match="the repo may be private: pass a token with read access"):
        HubClient(hub.endpoint, None, FAST).snapshot("o/missing", "main")


def test_a_wrong_token_is_an_authentication_error_that_does_not_show_it(
        seeded: tuple[InProcessHub, HubClient, str]) -> None:
    hub, _, _ = seeded
    with pytest.raises(AuthenticationError) as exc:
        HubClient(hub.endpoint, "hf_wrong_secret_42", FAST).snapshot("o/d", "main")
    assert "HTTP 401: the token is not valid" in str(exc.value)
    assert "hf_wrong_secret_42" not in str(exc.value) + repr(exc.value) + str(pickle.dumps(exc.value))


def test_list_files_sizes_content_ids_and_paths(seeded: tuple[InProcessHub, HubClient, str]) -> None:
    import hashlib

    hub, client, _ = seeded
    snap = client.snapshot("o/d", "main")
    files = {f.path: f for f in client.list_files(snap)}
    assert set(files) == {".gitattributes", "README.md", "data/train-00000-of-00001.parquet", "data/sub/notes.txt"}
    lfs = files["data/train-00000-of-00001.parquet"]
    assert (lfs.size, lfs.oid) == (len(BLOB), hashlib.sha256(BLOB).hexdigest())  # LFS: the sha256
    assert files["README.md"].oid == hashlib.sha1(b"blob %d\0" % len(CARD) + CARD).hexdigest()  # git blob id
    assert [f.path for f in client.list_files(snap, "data/sub")] == ["data/sub/notes.txt"]
    with pytest.raises(RepoNotFoundError, match=r"o/d@\w{40} path 'nothing'"):
        client.list_files(snap, "nothing")


def test_head_reads_the_card_and_skips_resolving_a_known_sha(seeded: tuple[InProcessHub, HubClient, str]) -> None:
    hub, client, sha = seeded
    head = client.head("o/d", "main")
    assert (head.snapshot.sha, head.card) == (sha, CARD.decode())
    assert head.file("README.md") is not None and head.file("nope") is None
    assert client.head("o/d", "main", with_card=False).card is None
    before = hub.counters()["api"]["requests"]
    known = client.head("o/d", "main", sha=sha, with_card=False)
    assert hub.counters()["api"]["requests"] == before + 1  # the listing only: no revision lookup
    assert known.files == head.files and known.snapshot.revision == "main"
    bare = hub.dataset("o/bare", {"x.txt": b"x"})
    assert client.head("o/bare", "main").card is None and client.head("o/bare", "main").snapshot.sha == bare


def test_changes_between_commits(seeded: tuple[InProcessHub, HubClient, str]) -> None:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    hub, client, old = seeded
    new = hub.api().create_commit("o/d", repo_type="dataset", commit_message="edit", operations=[
        CommitOperationAdd(path_in_repo="data/sub/notes.txt", path_or_fileobj=b"rewritten"),
        CommitOperationAdd(path_in_repo="data/b.txt", path_or_fileobj=b"new"),
        CommitOperationDelete(path_in_repo="README.md")]).oid
    snap, changes = client.changes("o/d", old, "main")
    assert (snap.sha, changes.old, changes.new) == (new, old, new)
    assert sorted(f.path for f in changes.added) == ["data/b.txt", "data/sub/notes.txt"]  # a rewrite is both
    assert sorted(f.path for f in changes.removed) == ["README.md", "data/sub/notes.txt"]
    before = hub.counters()["api"]["requests"]
    snap, same = client.changes("o/d", new, "main")
    assert (same.added, same.removed) == ((), ()) and hub.counters()["api"]["requests"] == before + 1  # no listing


def test_bytes_of_a_file(seeded: tuple[InProcessHub, HubClient, str]) -> None:
    hub, client, sha = seeded
    snap = client.snapshot("o/d", "main")
    url = client.file_url(snap, "data/train-00000-of-00001.parquet")
    assert url == f"{hub.endpoint}/datasets/o/d/resolve/{sha}/data/train-00000-of-00001.parquet"
    assert client.file_url(Snapshot("o/d", "refs/pr/1", "x", hub.endpoint), "a b.txt").endswith(
        "/resolve/refs%2Fpr%2F1/a%20b.txt")
    assert client.read_range(url, 100, 4196) == BLOB[100:4196]
    before = hub.downloads()  # the file's bridge URL is known by now: a request would go there
    assert client.read_range(url, 5, 5) == bytearray()  # an empty range asks nothing
    assert hub.downloads() == before
    assert client.read_file(snap, "README.md", len(CARD)) == CARD
    out = bytearray(10)
    client.read_range_into(url, len(BLOB) - 10, len(BLOB), memoryview(out))
    assert out == BLOB[-10:]


def test_calls_and_reads_ride_out_transient_failures_under_the_policy(seeded: tuple[InProcessHub, HubClient, str],
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    hub, client, sha = seeded
    caplog.set_level(logging.DEBUG)
    hub.set_faults([{"route": "api", "action": "status", "status": 503, "times": 2},
                    {"route": "resolve", "action": "status", "status": 500, "times": 1}])
    assert client.snapshot("o/d", "main").sha == sha
    assert client.read_file(client.snapshot("o/d", "main"), "README.md", len(CARD)) == CARD
    assert hub.counters()["api"]["faults"] == 2 and hub.counters()["resolve"]["faults"] == 1
    assert "retrying" in caplog.text and WRITE_TOKEN not in caplog.text  # the token never reaches a log


def test_a_constant_failure_gives_up_within_the_policy_naming_the_request(
        seeded: tuple[InProcessHub, HubClient, str]) -> None:
    hub, client, _ = seeded
    hub.set_faults([{"route": "api", "action": "status", "status": 503}])
    with pytest.raises(HubRequestError, match=r"^repo info: giving up after 4 failed attempt\(s\) in \d+s "
                                              r"\(HTTP 503 x4\); check the endpoint") as exc:
        client.snapshot("o/d", "main")
    assert WRITE_TOKEN not in str(exc.value)
    assert hub.counters()["api"]["faults"] == 4


def test_without_retry_a_failure_comes_back_at_once_with_its_status(
        seeded: tuple[InProcessHub, HubClient, str]) -> None:
    """Commits call with retry=False: a 5xx may have landed, so the caller decides."""
    hub, client, _ = seeded
    hub.set_faults([{"route": "api", "action": "status", "status": 502, "times": 1}])
    with pytest.raises(HubRequestError, match=r"^whoami: HTTP 502$") as exc:
        client.call("whoami", client.api().whoami, where="x", retry=False)
    assert exc.value.status == 502 and hub.counters()["api"]["faults"] == 1
    assert client.call("whoami", client.api().whoami, where="x")["name"] == "hfuser"


def test_signed_urls_travel_with_the_plan_and_daft_gets_no_token_for_them(inproc_hub: InProcessHub) -> None:
    """The signed URL here is the Xet bridge's, where `/resolve/` of every Xet file redirects (as on the Hub)."""
    hub = inproc_hub
    hub.dataset("o/r", {"data/x.parquet": BLOB})
    client = HubClient(hub.endpoint, WRITE_TOKEN, FAST)
    snap = client.snapshot("o/r", "main")
    url = client.file_url(snap, "data/x.parquet")
    assert client.known_targets([url]) == ()
    assert client.read_range(url, 0, 16) == BLOB[:16]
    (known_url, target), = client.known_targets([url])
    assert known_url == url and target.signed and target.url.startswith(f"{hub.cas_endpoint}/bridge/")
    bridge = hub.counters()["bridge"]
    assert bridge["requests"] == 1 and bridge["authorized"] == 0  # the token stayed on the hub's host
    # Another process (here: after forgetting) takes the planner's URL and reads without resolving.
    signed_urls.drop(url, target)
    client.remember(((url, target),))
    resolves = hub.counters()["resolve"]["requests"]
    assert client.read_range(url, 16, 32) == BLOB[16:32]
    assert hub.counters()["resolve"]["requests"] == resolves
    assert client.download_target(url) == target
    assert hub.counters()["bridge"]["requests"] == 2 and hub.counters()["bridge"]["authorized"] == 0
    settings = client.http_settings(target)
    assert settings["bearer_token"] is None  # never the token to the bridge
    own = client.download_target(client.file_url(snap, ".gitattributes"))
    assert not own.signed and client.http_settings(own)["bearer_token"] == WRITE_TOKEN


def test_lasting_targets_are_signed_urls_that_outlive_the_read_or_none() -> None:
    """For a reader that cannot renew URLs: resolve URLs where the endpoint serves files itself; the signed URLs
    `/resolve/` redirects to (the Xet bridge, as huggingface.co does for every file it stores now; the CDN for LFS
    files in the real-Hub mode) when they outlive the read (sized at 50 MB/s, with a 10-minute floor); None when
    they would not."""
    contents = {"data/a.parquet": BLOB, "data/b.parquet": BLOB[::-1]}  # not one LFS object twice in a commit
    files = [(p, len(data)) for p, data in contents.items()]
    with running_hub() as hub:
        hub.dataset("o/lfs", contents, lfs=True)  # LFS files: the plain hub serves them itself
        client = HubClient(hub.endpoint, WRITE_TOKEN, FAST)
        snap = client.snapshot("o/lfs", "main")
        resolves = hub.counters()["resolve"]["requests"]
        assert client.lasting_targets(snap, files) == [Target(client.file_url(snap, p), False) for p, _ in files]
        assert hub.counters()["resolve"]["requests"] == resolves + 2  # each file asked: a repo may mix LFS and Xet
        assert client.lasting_targets(snap, []) == []
        hub.dataset("o/r", contents)  # Xet files: `/resolve/` redirects to the bridge
        snap = client.snapshot("o/r", "main")
        resolves = hub.counters()["resolve"]["requests"]
        targets = client.lasting_targets(snap, files)
        assert targets is not None and all(t.signed and t.url.startswith(f"{hub.cas_endpoint}/bridge/")
                                           and t.expires_at - t.issued_at > 3000 for t in targets)
        assert hub.counters()["resolve"]["requests"] == resolves + 2  # one resolver request per file
        assert hub.counters()["bridge"]["requests"] == 0  # resolving reads no bytes
        for (path, _), target in zip(files, targets, strict=True):  # what Daft does with one: ranges, no token
            status, _, body = request("GET", target.url, headers={"Range": "bytes=16-31"})
            assert (status, body) == (206, contents[path][16:32])
            assert client.http_settings(target)["bearer_token"] is None
        assert client.lasting_targets(snap, [(files[0][0], 100 * 10**9)]) is None  # 100 GB: ~33 min at 50 MB/s
        # an LFS file (bytes the hub never got through Xet, else it would know them as a Xet file), then a Xet file
        hub.dataset("o/mixed", {"data/a.parquet": BLOB + b"lfs"}, lfs=True)
        hub.dataset("o/mixed", {"data/b.parquet": BLOB[::-1]})
        mixed = client.lasting_targets(client.snapshot("o/mixed", "main"), files)
        assert mixed is not None and [t.signed for t in mixed] == [False, True]
        assert "/resolve/" in mixed[0].url and mixed[1].url.startswith(f"{hub.cas_endpoint}/bridge/")
    with running_hub(mode=HubMode(redirects=True, url_expiry=3600)) as hub:
        hub.dataset("o/r", contents, lfs=True)  # LFS files on the real Hub: the CDN
        client = HubClient(hub.endpoint, WRITE_TOKEN, FAST)
        snap = client.snapshot("o/r", "main")
        targets = client.lasting_targets(snap, files)
        assert targets is not None and all(t.signed and t.url.startswith(f"{hub.cdn_endpoint}/cdn/") for t in targets)
        assert hub.counters()["resolve"]["requests"] == 2  # one resolver request per file
        assert client.lasting_targets(snap, [(files[0][0], 100 * 10**9)]) is None
    with running_hub(mode=HubMode(url_expiry=300)) as hub:  # bridge URLs that expire within the 10-minute floor
        hub.dataset("o/r", contents)
        client = HubClient(hub.endpoint, WRITE_TOKEN, FAST)
        assert client.lasting_targets(client.snapshot("o/r", "main"), files) is None
        assert hub.counters()["resolve"]["requests"] == 2  # it did resolve both: bridge URLs, too short-lived


@pytest.mark.parametrize(("policy", "tries", "backoff_ms"), [
    (RetryPolicy(), 7, 500),  # 60 s of budget from 0.5 s, doubling with jitter: 1 + log2(81) -> 7 tries
    (RetryPolicy(attempts=3), 3, 500),  # never more than our own attempts
    (RetryPolicy(base=2.0, budget=1.0), 1, 2000),  # a budget smaller than one backoff: one try
])
def test_http_settings_give_daft_the_same_budget(policy: RetryPolicy, tries: int, backoff_ms: int) -> None:
    from hfconnect.hub.http import Target

    settings = HubClient("http://h", "t", policy).http_settings(Target("http://h/x", False))
    assert (settings["num_tries"], settings["retry_initial_backoff_ms"]) == (tries, backoff_ms)
