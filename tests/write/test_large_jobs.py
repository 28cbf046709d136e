"""Jobs bigger than one Hub commit, on a real local hub over HTTP in real-Hub mode (commit limits, Xet on): staged
on a pull request in commits that fit, merged in ONE step; exactly once under 504s and lost answers; a concurrent
writer fails the job cleanly; a failed or killed job leaves main unchanged."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from huggingface_hub import CommitOperationAdd, HfApi

from hfconnect.errors import CommitConflictError, HfConnectError, HubRequestError
from hfconnect.localhub import LocalHub
from hfconnect.localhub.mode import HubMode
from hfconnect.options import WriteOptions
from hfconnect.write import WriteJob, write_task
from hfconnect.write.commit import JOB_MARKER
from hfconnect.write.staging import MAX_STAGING_COMMITS
from tests.conftest import WRITE_TOKEN

pytestmark = pytest.mark.integration
BUDGET = 10
PR_PATH = "refs(%2F|/)pr"  # fault rules for the commits to a pull request


@pytest.fixture
def limited_hub(tmp_path: Path) -> Any:
    """A hub of this test that times out (504, not applied) any commit of more than BUDGET operations."""
    with LocalHub(tmp_path / "hub", tokens={WRITE_TOKEN: "write"}, log_file=tmp_path / "hub.log",
                  mode=HubMode(commit_limits=True, commit_max_operations=BUDGET)) as hub:
        yield hub


def _api(hub: LocalHub) -> HfApi:
    return HfApi(endpoint=hub.endpoint, token=WRITE_TOKEN)


def _options(hub: LocalHub, repo: str, **more: Any) -> WriteOptions:
    """One file per row (files roll after every 1-row row group): a few hundred rows make a few hundred files."""
    return WriteOptions.build(repo=repo, endpoint=hub.endpoint, token=WRITE_TOKEN, max_file_size=1, row_group_size=1,
                              max_commit_operations=BUDGET, **more)


def _run(options: WriteOptions, rows: int, tasks: int = 2, job: WriteJob | None = None) -> Any:
    table = pa.table({"id": pa.array(range(rows), pa.int64())})
    job = job or WriteJob(options)
    job.begin(table.schema)
    per = -(-rows // tasks)
    messages = [write_task(table.slice(i * per, per).to_batches(), table.schema, options, job_id=job.job_id,
                           partition_id=i) for i in range(tasks)]
    return job.commit(messages, table.schema)


def _data_files(api: HfApi, repo: str, revision: str = "main") -> list[str]:
    return sorted(f for f in api.list_repo_files(repo, repo_type="dataset", revision=revision)
                  if f.endswith(".parquet"))


def _ids(hub: LocalHub, repo: str) -> list[int]:
    from hfconnect.options import ReadOptions
    from hfconnect.plan import plan_read
    from hfconnect.read import read_shard

    plan = plan_read(ReadOptions.build(repo=repo, endpoint=hub.endpoint, token=WRITE_TOKEN))
    return sorted(pa.Table.from_batches([b for s in plan.shards for b in read_shard(plan, s)],
                                        schema=plan.schema).column("id").to_pylist())


def _seed(api: HfApi, repo: str) -> str:
    api.create_repo(repo, repo_type="dataset")
    return api.repo_info(repo, repo_type="dataset").sha


def _prs(api: HfApi, repo: str) -> list[Any]:
    return list(api.get_repo_discussions(repo, repo_type="dataset", discussion_type="pull_request"))


def test_a_spark_job_of_many_files_lands_as_one_commit_while_a_reader_sees_all_or_nothing(
        spark, limited_hub: LocalHub) -> None:
    import hfconnect.spark as hs

    api, repo, rows = _api(limited_hub), "u/many", 300
    before = _seed(api, repo)
    seen: set[int] = set()
    done = threading.Event()

    def poll() -> None:  # a reader of main meanwhile: never part of the job
        while not done.is_set():
            seen.add(len(_data_files(api, repo)))

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        df = spark.range(rows).repartition(4)
        result = hs.write(df, repo, endpoint=limited_hub.endpoint, token=WRITE_TOKEN, max_file_size=1,
                          row_group_size=1, max_commit_operations=BUDGET)
    finally:
        done.set()
        reader.join()
    assert seen <= {0, rows}, seen
    commits = api.list_repo_commits(repo, repo_type="dataset")
    assert [c.commit_id for c in commits[1:]] == [before] and commits[0].commit_id == result.commit_sha
    assert commits[0].title.endswith("(#1)") and JOB_MARKER in commits[0].message
    assert len(result.files) == rows == len(_data_files(api, repo)) and _ids(limited_hub, repo) == list(range(rows))
    pr = api.get_discussion_details(repo, 1, repo_type="dataset")
    assert pr.status == "merged" and pr.merge_commit_oid == result.commit_sha
    stagings = api.list_repo_commits(repo, repo_type="dataset", revision="refs/pr/1")
    assert len(stagings) - 1 == -(-(rows + 1) // BUDGET)  # the parts (files + card), then main's first commit
    # The direct path's landed check finds the merged job by its marker.
    job = WriteJob(_options(limited_hub, repo), job_id=commits[0].message.split(f"{JOB_MARKER} ")[1].split()[0])
    assert job._find_landed() == (result.commit_sha, None)


def test_a_small_job_keeps_its_one_direct_commit(limited_hub: LocalHub) -> None:
    api, repo = _api(limited_hub), "u/small"
    _seed(api, repo)
    result = _run(_options(limited_hub, repo), rows=BUDGET - 1, tasks=1)
    assert result.commit_sha == api.repo_info(repo, repo_type="dataset").sha and not _prs(api, repo)


@pytest.mark.parametrize("fault", [
    {"action": "status", "status": 504, "times": 2},  # not applied: sent again
    {"action": "reset_after", "times": 2},  # applied, answer lost: found on the PR head, not sent again
    "lands",  # every commit past the hub's cap answers 504 and lands all the same (--commit-timeout-lands)
])
def test_a_staging_commit_answered_504_is_applied_once(tmp_path: Path, fault: Any) -> None:
    cap = BUDGET // 2 if fault == "lands" else BUDGET
    mode = HubMode(commit_limits=True, commit_max_operations=cap, commit_timeout_lands=fault == "lands")
    with LocalHub(tmp_path / "hub", tokens={WRITE_TOKEN: "write"}, mode=mode) as hub:
        api, repo, rows = _api(hub), "u/faults", 45
        before = _seed(api, repo)
        if fault != "lands":  # the opening commit (create_pr) and a later part
            hub.set_faults([{"route": "commit", **fault}])  # the opening commit (create_pr) and part 2
        result = _run(_options(hub, repo), rows)
        parts = -(-(rows + 1) // BUDGET)
        stagings = api.list_repo_commits(repo, repo_type="dataset", revision="refs/pr/1")
        assert [c.commit_id for c in stagings[parts:]] == [before], [c.title for c in stagings]
        assert all(c.title.endswith(f"part {parts - i} of {parts}") for i, c in enumerate(stagings[:parts - 1]))
        assert len(_prs(api, repo)) == 1
        assert api.list_repo_commits(repo, repo_type="dataset")[0].commit_id == result.commit_sha
        assert _ids(hub, repo) == list(range(rows))
        if fault != "lands":
            assert hub.counters()["commit"]["faults"] == 2


def _in_background(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def _wait_for(check: Any, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not check():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("when", ["staging", "merge"])
def test_a_concurrent_writer_fails_the_job_cleanly_and_closes_its_pr(limited_hub: LocalHub, when: str) -> None:
    api, repo, rows = _api(limited_hub), "u/conflict", 40
    _seed(api, repo)
    _run(_options(limited_hub, repo), rows=3, tasks=1)  # a split and a card the other writer changes
    parts = -(-(rows + 1) // BUDGET)
    if when == "staging":
        limited_hub.set_faults([{"route": "commit", "action": "latency", "latency_ms": 400, "match": PR_PATH}])
    else:
        limited_hub.set_faults([{"route": "api", "action": "latency", "latency_ms": 2500, "match": "/merge"}])
    thread, out = _in_background(lambda: _run(_options(limited_hub, repo), rows))

    def ready() -> bool:
        try:
            newest = api.list_repo_commits(repo, repo_type="dataset", revision="refs/pr/1")[0].title
        except Exception:  # noqa: BLE001 - not opened yet
            return False
        return when == "staging" or f"part {parts} of {parts}" in newest

    _wait_for(ready)
    if when == "merge":
        time.sleep(0.8)  # the job checked main and sent the merge, which waits at the hub
    theirs = api.upload_file(path_or_fileobj=b"---\nlicense: mit\n---\n", path_in_repo="README.md", repo_id=repo,
                             repo_type="dataset", commit_message="someone else").oid
    thread.join(120)
    assert isinstance(out.get("error"), CommitConflictError), out
    assert "README.md" in str(out["error"]) and "nothing was committed" in str(out["error"])
    if when == "merge":  # the Hub's merge refused it (409), after the job's own check found main unchanged
        assert "changed on both sides" in str(out["error"])
    assert api.repo_info(repo, repo_type="dataset").sha == theirs
    pr = api.get_discussion_details(repo, 1, repo_type="dataset")
    assert pr.status == "closed" and "did not complete" in pr.events[-2].content


def test_a_failing_job_leaves_main_unchanged_closes_its_pr_and_deletes_the_repo_it_created(
        limited_hub: LocalHub) -> None:
    api, repo = _api(limited_hub), f"u/new-{uuid.uuid4().hex[:6]}"
    limited_hub.set_faults([{"route": "commit", "action": "status", "status": 500, "match": PR_PATH}])
    with pytest.raises(HfConnectError, match="staging commit 2 of"):
        _run(_options(limited_hub, repo, retry_budget=0.5), rows=30)
    assert not api.repo_exists(repo, repo_type="dataset")

    other = "u/kept"
    before = _seed(api, other)
    with pytest.raises(HfConnectError):
        _run(_options(limited_hub, other, retry_budget=0.5), rows=30)
    assert api.repo_info(other, repo_type="dataset").sha == before
    (pr,) = _prs(api, other)
    assert pr.status == "closed"
    said = [e.content for e in api.get_discussion_details(other, pr.num, repo_type="dataset").events
            if e.type == "comment"]
    assert any("did not complete" in c and "staging commit 2 of" in c for c in said), said  # the error's message
    assert not any("Error:" in c for c in said), said  # never an exception's repr


@pytest.mark.parametrize("merge_fault", [
    {"action": "reset_after"},  # merged, answer lost
    {"action": "status", "status": 500},  # not merged, but the job cannot know
])
def test_a_merge_that_failed_ambiguously_and_cannot_be_read_back_says_it_may_have_merged(
        limited_hub: LocalHub, merge_fault: dict[str, Any]) -> None:
    """The merge's answer is lost and reading the PR back fails for the whole retry budget: the job must not
    close the PR (it may be merged) nor say "nothing was committed" (a re-run append would land twice)."""
    api, repo = _api(limited_hub), "u/maybe-merged"
    before = _seed(api, repo)
    limited_hub.set_faults([
        {"route": "api", "method": "POST", "match": "/merge$", "times": 1, **merge_fault},
        {"route": "api", "method": "GET", "match": r"/discussions/\d+$", "action": "status", "status": 500}])
    job = WriteJob(_options(limited_hub, repo, retry_budget=0.5))
    with pytest.raises(HubRequestError) as caught:
        _run(job.options, rows=25, job=job)
    limited_hub.set_faults([])
    err, said = caught.value, str(caught.value)
    assert err.maybe_published is True and job.maybe_published
    assert "pull request #1 may have merged" in said and f"'{JOB_MARKER} {job.job_id}'" in said, said
    assert "nothing was committed" not in said and WRITE_TOKEN not in said
    pr = api.get_discussion_details(repo, 1, repo_type="dataset")
    assert "closed" not in [getattr(e, "new_status", None) for e in pr.events]
    job.abort([])  # what an engine does next: undoes nothing
    if merge_fault["action"] == "reset_after":
        assert pr.status == "merged" and api.repo_info(repo, repo_type="dataset").sha == pr.merge_commit_oid
        assert _ids(limited_hub, repo) == list(range(25))
    else:
        assert pr.status == "open" and api.repo_info(repo, repo_type="dataset").sha == before


def test_a_duplicate_pull_request_left_by_a_lost_opening_answer_is_closed_when_the_job_ends(
        limited_hub: LocalHub) -> None:
    """A lost answer to the opening commit whose PR the job did not find in time (here: an earlier attempt's,
    of another part count) leaves a second PR of the job: closed as a duplicate once the job merged; another
    job's PR is left alone."""
    api, repo = _api(limited_hub), "u/duplicate"
    _seed(api, repo)
    job = WriteJob(_options(limited_hub, repo))
    marker = f"{JOB_MARKER} {job.job_id}"
    for description in (f"{marker}\n{marker} part 1 of 99", f"{JOB_MARKER} {job.job_id}x part 1 of 3"):
        api.create_commit(repo, repo_type="dataset", create_pr=True, commit_message="a part 1",
                          commit_description=description,
                          operations=[CommitOperationAdd("stray.txt", description.encode())])
    limited_hub.set_faults([{"route": "commit", "action": "status", "status": 500, "times": 1}])  # the opening
    result = _run(job.options, rows=25, job=job)
    prs = {pr.num: pr.status for pr in _prs(api, repo)}
    assert prs == {1: "closed", 2: "open", 3: "merged"}, prs
    assert api.repo_info(repo, repo_type="dataset").sha == result.commit_sha
    said = [e.content for e in api.get_discussion_details(repo, 1, repo_type="dataset").events if e.type == "comment"]
    assert any("duplicate of pull request #3" in c and job.job_id in c for c in said), said


JOB = """
import sys
import pyarrow as pa
from hfconnect.options import WriteOptions
from hfconnect.write import WriteJob, write_task
endpoint, token, repo = sys.argv[1:4]
options = WriteOptions.build(repo=repo, endpoint=endpoint, token=token, max_file_size=1, row_group_size=1,
                             max_commit_operations=10)
table = pa.table({"id": pa.array(range(60), pa.int64())})
job = WriteJob(options)
job.begin(table.schema)
message = write_task(table.to_batches(), table.schema, options, job_id=job.job_id, partition_id=0)
print("STAGING", flush=True)
job.commit([message], table.schema)
print("COMMITTED", flush=True)
"""


def test_a_job_killed_while_staging_leaves_main_unchanged(limited_hub: LocalHub) -> None:
    api, repo = _api(limited_hub), "u/killed"
    before = _seed(api, repo)
    limited_hub.set_faults([{"route": "commit", "action": "latency", "latency_ms": 500, "match": PR_PATH}])
    proc = subprocess.Popen([sys.executable, "-c", JOB, limited_hub.endpoint, WRITE_TOKEN, repo],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: len(_prs(api, repo)) == 1)
        proc.kill()
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert api.repo_info(repo, repo_type="dataset").sha == before and not _data_files(api, repo)
    (pr,) = _prs(api, repo)
    assert pr.status == "open"  # left for the user: a killed job can close nothing


def test_create_pr_leaves_a_big_job_on_its_pull_request(limited_hub: LocalHub) -> None:
    api, repo = _api(limited_hub), "u/review"
    before = _seed(api, repo)
    result = _run(_options(limited_hub, repo, create_pr=True), rows=25)
    assert api.repo_info(repo, repo_type="dataset").sha == before
    assert result.pr_url and result.pr_url.endswith("/discussions/1")
    assert result.commit_sha == api.list_repo_commits(repo, repo_type="dataset", revision="refs/pr/1")[0].commit_id
    assert len(_data_files(api, repo, "refs/pr/1")) == 25


def test_a_spark_write_of_ten_thousand_files_is_one_commit_within_the_real_hubs_limits(spark, tmp_path: Path,
                                                                                      ) -> None:
    """10,000 files from Spark in the real-Hub mode (rate limits, commit timeout): at 100 operations a commit the
    job would need 101 commits, more than the repo's hourly commit quota (100), so its commits grow to fit 40
    staging commits; then one merge: one change on main, which a reader polling it sees all or none of. (Reading
    the 10,000 files back would take two of the resolver quota's 5-minute windows: the listing and the job's row
    count tell instead.)"""
    import hfconnect.spark as hs

    with LocalHub(tmp_path / "hub", tokens={WRITE_TOKEN: "write"}, mode=HubMode.real_hub()) as hub:
        api, repo, rows = _api(hub), "u/ten-thousand", 10_000
        before = _seed(api, repo)
        seen: set[int] = set()
        done = threading.Event()

        def poll() -> None:  # a reader of main meanwhile, once a second (the API quota is the job's too)
            while not done.wait(1.0):
                seen.add(len(_data_files(api, repo)))

        reader = threading.Thread(target=poll)
        reader.start()
        try:
            result = hs.write(spark.range(rows).repartition(2), repo, endpoint=hub.endpoint, token=WRITE_TOKEN,
                              max_file_size=1, row_group_size=1)
        finally:
            done.set()
            reader.join()
        assert seen and seen <= {0, rows}, seen
        commits = api.list_repo_commits(repo, repo_type="dataset")
        assert [c.commit_id for c in commits] == [result.commit_sha, before]
        c = hub.counters()
        assert len(result.files) == rows == result.rows == len(_data_files(api, repo))
        assert c["commits"] == MAX_STAGING_COMMITS + 1
        assert not any(b.get("limited") for b in c["rate_limits"].values()), c["rate_limits"]  # no 429 on the way
