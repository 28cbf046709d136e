"""scripts/ is not a package: its modules (bench_report, _bench_json) are imported from there, as the scripts
themselves import each other when run."""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[3] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))
