"""The ledger bench runs end to end: a smoke run, not a timing. Project and floor, one and two app
processes, the print-worker cells, the held list, and the audit chain both servers wrote, verified."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ledger_bench.py"


@pytest.mark.slow
def test_the_ledger_bench_prints_project_and_floor_side_by_side():
    # On the database this suite runs on; on PostgreSQL the bench keeps to a schema of its own.
    where = ["--db", "postgres", "--pg-url", POSTGRES_URL] if POSTGRES_URL else ["--db", "sqlite"]
    done = subprocess.run([sys.executable, str(BENCH), "--quick", "--clients", "2", *where],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    # | processes | clients | deposits/s project | deposits/s floor | ratio | p50 / p95 project | floor | ratio |
    rows = re.findall(r"^\| ([12]) +\| +2 \| +([\d,.]+) \| +([\d,.]+) \| +([\d.]+)× \| +[\d,.]+ / [\d,.]+ \| "
                      r"+[\d,.]+ / [\d,.]+ \| +[\d.]+× \|$", done.stdout, re.MULTILINE)
    assert [processes for processes, *_ in rows] == ["1", "2"], done.stdout
    assert "audit trail intact" in done.stdout
    assert "FAILED" not in done.stdout
