"""Cold import of each function's handler module, in a fresh interpreter each time, as a ratio against
importing botocore and creating a bare DynamoDB client in the same way."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASELINE = "import botocore.session; botocore.session.get_session().create_client('dynamodb')"
PROBE = "import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"


def _once(code: str, cwd: Path) -> float:  # not money
    env = {
        **os.environ,
        "PYTHONPATH": f"{REPO / 'layers' / 'cashback' / 'python'}:{cwd}",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "MEMBERS_TABLE": "bench-members",
        "LEDGER_TABLE": "bench-ledger",
        "OUTBOX_TABLE": "bench-outbox",
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code)], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())  # not money


def median_import(code: str, cwd: Path, repeats: int) -> float:  # not money
    return statistics.median(_once(code, cwd) for _ in range(repeats))


def measure(repeats: int = 7) -> tuple[float, dict[str, float]]:  # not money
    baseline = median_import(BASELINE, REPO, repeats)
    figures = {}
    for function_dir in sorted((REPO / "functions").iterdir()):
        if (function_dir / "app.py").exists():
            figures[function_dir.name] = median_import("import app", function_dir, repeats)
    return baseline, figures
