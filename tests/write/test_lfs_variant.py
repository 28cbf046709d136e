"""The LFS path stays covered: with Xet turned off in the client (HF_HUB_DISABLE_XET=1, as on a hub or a
huggingface_hub that does not speak Xet) and a hub that speaks LFS only (`--lfs-only`), an hfconnect write still
lands in one commit and reads back through hfconnect's reader; nothing goes near a CAS.

The rest of the suite runs with Xet on; huggingface_hub reads HF_HUB_DISABLE_XET once, at import, so the LFS
client runs in its own process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hfconnect.localhub import HubMode, LocalHub
from tests.conftest import WRITE_TOKEN

pytestmark = pytest.mark.integration

CLIENT = textwrap.dedent("""
    import json, sys
    import daft
    from huggingface_hub import constants
    from hfconnect.daft import read_huggingface, write_huggingface

    assert constants.HF_HUB_DISABLE_XET, "this client must not speak Xet"
    frame = daft.from_pydict({"id": list(range(5000)), "text": [f"row {i}" if i % 7 else None for i in range(5000)]})
    result = write_huggingface(frame.into_partitions(2), "lfs/variant", token=sys.argv[1])
    back = read_huggingface("lfs/variant", split="train", token=sys.argv[1]).sort("id").to_pydict()
    print(json.dumps({"rows": result.rows, "commit": result.commit_sha, "ids": back["id"][:3] + back["id"][-2:],
                      "nulls": sum(t is None for t in back["text"]), "count": len(back["id"])}))
""")


def test_an_lfs_only_hub_and_client_write_and_read(tmp_path: Path) -> None:
    with LocalHub(tmp_path / "hub", tokens={WRITE_TOKEN: "write"}, mode=HubMode(xet=False),
                  log_file=tmp_path / "hub.log") as hub:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HF_XET")}
        env.update(HF_HUB_DISABLE_XET="1", HF_ENDPOINT=hub.endpoint, HF_HOME=str(tmp_path / "home"))
        run = subprocess.run([sys.executable, "-c", CLIENT, WRITE_TOKEN], env=env, capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
        out = json.loads(run.stdout.strip().splitlines()[-1])
        assert (out["rows"], out["count"], out["ids"]) == (5000, 5000, [0, 1, 2, 4998, 4999])
        assert out["nulls"] == len(range(0, 5000, 7))
        counters = hub.counters()
        assert counters["upload"]["bytes_received"] > 0  # the files went through the LFS batch API
        assert counters["commits"] == 1
        assert not any(counters["xet"].values()), counters["xet"]
        assert not counters["cas_routes"] and not counters["unknown_routes"]
        assert counters["xet-token"]["requests"] == 0
