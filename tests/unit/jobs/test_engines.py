"""What Ray workers get from the driver (jobs/engines.py): the HF_HUB_* settings and the HF_XET_* ones the user
set, never those hfconnect set itself nor HF_XET_CACHE. No engine is imported."""

from __future__ import annotations

import os

import pytest

from hfconnect.hub import xet
from hfconnect.jobs import engines


def test_ray_workers_get_the_hub_settings_and_the_users_hf_xet_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("HF_HUB_", "HF_XET_")) or key == xet.OURS:
            monkeypatch.delenv(key)
    user = {"HF_HUB_DISABLE_XET": "1", "HF_XET_HIGH_PERFORMANCE": "1", "HF_XET_CLIENT_RETRY_MAX_ATTEMPTS": "9"}
    ours = {"HF_XET_CLIENT_RETRY_BASE_DELAY": "2000ms", "HF_XET_CLIENT_RETRY_MAX_DURATION": "15000ms",
            xet.OURS: "HF_XET_CLIENT_RETRY_BASE_DELAY,HF_XET_CLIENT_RETRY_MAX_DURATION"}
    for key, value in {**user, **ours, xet.CACHE: "/tmp/my-xet-cache", "HF_TOKEN": "hf_not_forwarded"}.items():
        monkeypatch.setenv(key, value)
    runtime_env = engines.ray_runtime_env()
    assert runtime_env["env_vars"] == user
    assert runtime_env["py_modules"] and os.path.isdir(runtime_env["py_modules"][0])
