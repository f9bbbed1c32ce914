"""Cold import of each function's handler module, in a fresh interpreter each time, as a ratio against
importing botocore and creating a bare DynamoDB client in the same way.

A handler module builds its container at import (`Container.from_environment()`): that validates the
settings, all of which have defaults, and touches no AWS service (clients, tables and secrets are built on
first use), so the import needs no table, secret or endpoint in its environment.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASELINE = "import botocore.session; botocore.session.get_session().create_client('dynamodb')"
PROBE = "import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"


def _once(code: str, cwd: Path, environ: Mapping[str, str]) -> float:  # not money
    env = {
        **environ,
        "PYTHONPATH": f"{REPO / 'layers' / 'cashback' / 'python'}:{cwd}",
        "AWS_DEFAULT_REGION": "eu-central-1",
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code)], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"{code!r} failed in {cwd}:\n{out.stderr}")
    return float(out.stdout.strip())  # not money


def median_import(code: str, cwd: Path, repeats: int, environ: Mapping[str, str]) -> float:  # not money
    return statistics.median(_once(code, cwd, environ) for _ in range(repeats))


def measure(repeats: int = 7, environ: Mapping[str, str] | None = None) -> tuple[float, dict[str, float]]:  # not money
    """`environ`: the environment the fresh interpreters start from (this process's by default), plus the
    few variables above."""
    base = dict(os.environ if environ is None else environ)
    baseline = median_import(BASELINE, REPO, repeats, base)
    figures = {}
    for function_dir in sorted((REPO / "functions").iterdir()):
        if (function_dir / "app.py").exists():
            figures[function_dir.name] = median_import("import app", function_dir, repeats, base)
    return baseline, figures
