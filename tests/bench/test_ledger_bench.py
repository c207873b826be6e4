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
    # The machine's CPU per deposit and busy cores, for both servers and both process counts.
    busy = re.findall(r"(project|floor) ([12]) process\(es\) ([\d.]+) ms \(([\d.]+)\)", done.stdout)
    assert sorted((name, processes) for name, processes, *_ in busy) == [
        ("floor", "1"), ("floor", "2"), ("project", "1"), ("project", "2")], done.stdout
    assert all(float(ms) > 0 and 0 < float(cores) <= 64 for *_, ms, cores in busy)
    assert "FAILED" not in done.stdout


@pytest.mark.slow
@pytest.mark.no_database
def test_the_instruction_count_bench_counts_the_pairs_of_both_servers():
    """bench/pair_instructions.py under callgrind, a few pairs on a SQLite ledger of its own: the
    counting is switched on for the pairs only, so a few pairs count far fewer instructions than
    a whole process's start (~ a billion here)."""
    done = subprocess.run([sys.executable, str(BENCH.parent / "pair_instructions.py"), "--db", "sqlite",
                           "--pairs", "3"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    [(project, floor, ratio)] = re.findall(r"^\| millions of instructions \| ([\d.]+) \| ([\d.]+) \| ([\d.]+)× \|$",
                                           done.stdout, re.MULTILINE)
    assert 0.5 < float(project) < 100 and 0.5 < float(floor) < 100, done.stdout
    assert abs(float(ratio) - float(project) / float(floor)) < 0.01
