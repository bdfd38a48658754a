"""Every benchmark under ``bench/`` still runs, at a toy size, on SQLite: a benchmark is not a
test (its figures are never asserted), but one that no longer starts is found here rather than
on the day its figures are needed. Each run prints the same tables and targets as a real one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.edge.conftest import require_sip_tools

ROOT = Path(__file__).resolve().parents[2]

SMALL = {  # each script's options for a toy run
    "run.py": "--users 40 --no-postgres",
    "sync_bench.py": "--users 40 --no-postgres --repeats 1 --no-trace",
    "serve_sync_bench.py": "--users 40 --repeat 1",
    "continuity_bench.py": "--users 40 --sessions 20 --switches 2 --route-seconds 0.2 --http-seconds 0 --no-postgres",
    "login_bench.py": "--tries 2 --no-postgres",
    "console_bench.py": "--users 40 --requests 3 --runs 2",
    "edge_bench.py": "--users 10 --rates 20 --seconds 2 --no-step-up",
}
NEEDS_SIP = {"edge_bench.py"}  # Kamailio and sipp: skipped without them, failed without them in CI


def test_every_benchmark_has_a_small_run_here():
    scripts = {p.name for p in (ROOT / "bench").glob("*.py")} - {"foundation.py"}  # foundation: run.py's module
    assert scripts == set(SMALL)


@pytest.mark.parametrize("script", sorted(SMALL))
def test_the_benchmark_runs_to_its_end(script, tmp_path):
    if script in NEEDS_SIP:
        require_sip_tools()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFEBOAT_")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *SMALL[script].split()],
        cwd=tmp_path,
        env={**env, "COLUMNS": "250"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "sqlite" in result.stdout
