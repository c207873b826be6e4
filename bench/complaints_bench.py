"""What the complaints desk costs with years of history: the weekly analysis, taking a
complaint (repeat detection + working-day calendar), the overdue check and the owner's desk.

    .venv/bin/python bench/complaints_bench.py [--db sqlite|postgres|both] [--rows N] [--runs N]

Builds ``--rows`` complaints (default 1,000,000: five years of a large site) spread
over 2022-2026 in 400 units, with replies, closings and a follow-up step for most,
straight into the tables (bulk INSERT; no API, no audit chain), then times:

1. ``complaint_analysis.weekly`` for random ISO weeks (each holds ~4,000 complaints);
2. the same figures the naive way: load the week's rows and compute in Python;
3. ``complaints.take`` (calendar, repeat lookup, step, audit append), committed;
4. ``complaints.overdue_replies`` and the owner's open desk list (first page).

PostgreSQL: a database ``complaints_bench`` on 127.0.0.1:5432 is created and dropped at
the end. SQLite: a file in a temporary directory. The machine is small and shared: read
the figures as a floor.
"""
from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from kiosk import accounts, complaint_analysis, complaint_policy, complaints  # noqa: E402
from kiosk.db import make_engine, migrate, session_factory  # noqa: E402
from kiosk.keys import derive_key  # noqa: E402
from kiosk.models import Complaint, ComplaintStep, User  # noqa: E402
from kiosk.values import Actor, ComplaintForm  # noqa: E402

# Sessions write audit rows, which are keyed (README: audit trail).
BENCH_AUDIT_KEY = derive_key("bench-secret-key-not-for-production", "audit chain")

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PG_DB = "complaints_bench"
TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2022, 1, 3, tzinfo=TZ).astimezone(UTC)
SPAN = timedelta(days=5 * 365)
BATCH = 20_000
UNITS = [f"{b}-{f:02d}{r:02d}" for b in range(1, 5) for f in range(1, 26) for r in range(1, 5)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def rows(n: int, owner_id: int, rng: random.Random):
    """Complaints and their follow-up steps, in batches."""
    complaints_batch, steps_batch = [], []
    for i in range(1, n + 1):
        received = START + timedelta(seconds=rng.uniform(0, SPAN.total_seconds()))
        due = received + timedelta(days=1)
        replied = received + timedelta(hours=rng.expovariate(1 / 10)) if rng.random() < 0.95 else None
        closed = received + timedelta(days=rng.expovariate(1 / 4)) if rng.random() < 0.8 else None
        complaints_batch.append(dict(
            id=i, kind=rng.choice(complaint_policy.KINDS), channel=rng.choice(complaint_policy.CHANNELS),
            category=rng.choice(complaint_policy.CATEGORIES), area=rng.choice(complaint_policy.AREAS),
            unit=rng.choice(UNITS), name="王芳", contact="13900000000", content="bench", wants="fix",
            our_cause=None, reasonable=None, written=False, repair_scope=None,
            state="closed" if closed else "in_progress", owner_id=owner_id, owner_name="staff-1",
            taken_by="staff-1", device=None, received_at=received, reply_due_at=due, reply_due_promised=False,
            first_reply_at=replied, written_reply_at=None, resolved_at=closed, closed_at=closed,
            state_changed_at=closed or received, repeat_of=None, reply_overdue_alert_id=None))
        if closed:
            steps_batch.append(dict(
                complaint_id=i, at=closed - timedelta(hours=1), actor="staff-1", actor_role="staff",
                action="follow_up", from_state="resolved", to_state="followed_up", note="", written=None,
                satisfied=rng.random() < 0.85, details="{}"))
        if len(complaints_batch) == BATCH or i == n:
            yield complaints_batch, steps_batch
            complaints_batch, steps_batch = [], []


def build(engine, n: int) -> int:
    sessions = session_factory(engine, audit_key=BENCH_AUDIT_KEY)
    with sessions() as session:
        accounts.add_user(session, "staff-1", "staff")
        session.commit()
        owner_id = session.scalar(select(User.id))
    rng = random.Random(7)
    started = time.perf_counter()
    with engine.begin() as connection:
        for complaint_rows, step_rows in rows(n, owner_id, rng):
            connection.execute(insert(Complaint), complaint_rows)
            if step_rows:
                connection.execute(insert(ComplaintStep), step_rows)
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"SELECT setval('complaints_id_seq', {n})"))
    # What autovacuum would have done by now: statistics, and on PostgreSQL the visibility
    # map that lets the analysis read its covering indexes without touching the table.
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    print(f"  built {n:,} complaints in {time.perf_counter() - started:.0f} s")
    return owner_id


def naive_weekly(session, week: str) -> tuple:
    """What one would write first: fetch the week's complaints and compute in Python."""
    span = complaint_analysis.parse_week(week, TZ)
    received = session.scalars(select(Complaint).where(
        Complaint.received_at >= span.starts_at, Complaint.received_at < span.ends_at)).all()
    closed = session.scalars(select(Complaint).where(
        Complaint.closed_at >= span.starts_at, Complaint.closed_at < span.ends_at)).all()
    by_category = {}
    for row in received:
        by_category[row.category] = by_category.get(row.category, 0) + 1
    median = statistics.median([(r.closed_at - r.received_at).total_seconds() for r in closed]) if closed else None
    session.expunge_all()
    return by_category, median


def timed(fn, runs: int) -> list[float]:
    times = []
    for i in range(runs):
        started = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - started) * 1000)
    return times


def report(label: str, times: list[float]) -> None:
    print(f"  {label:<48} p50 {statistics.median(times):8.1f} ms   p95 {pct(times, 0.95):8.1f} ms")


def run(url: str, n: int, runs: int) -> None:
    engine = make_engine(url)
    migrate(engine)
    owner_id = build(engine, n)
    sessions = session_factory(engine, audit_key=BENCH_AUDIT_KEY)
    rng = random.Random(11)
    weeks = [f"{y}-W{w:02d}" for y, w in ((rng.randint(2022, 2026), rng.randint(2, 50)) for _ in range(runs))]
    now = START + SPAN
    with sessions() as session:
        weekly = complaint_analysis.weekly(session, weeks[0], tz=TZ, now=now)
        print(f"  a week holds {weekly.received:,} complaints; month {weekly.month.received:,}")
        report("weekly analysis (all figures, SQL)",
               timed(lambda i: complaint_analysis.weekly(session, weeks[i], tz=TZ, now=now), runs))
        report("naive: load the week's rows, count in Python",
               timed(lambda i: naive_weekly(session, weeks[i]), runs))
        staff = Actor(name="staff-1", role="staff", user_id=owner_id)

        def take(i):
            complaints.take(session, staff, ComplaintForm(
                kind="complaint", category=rng.choice(complaint_policy.CATEGORIES), channel="phone",
                unit=rng.choice(UNITS), name="李娜", contact="13912345678", content="bench"),
                tz=TZ, now=now + timedelta(minutes=i))
            session.commit()

        report("take (calendar, repeat lookup, audit), committed", timed(take, runs))
        report("overdue_replies(now), up to 500", timed(lambda i: complaints.overdue_replies(session, now), runs))
        report("owner's open desk, first page of 50", timed(lambda i: complaints.list_complaints(
            session, owner_id=owner_id, open_only=True, now=now), runs))
        if engine.dialect.name == "postgresql":
            span = complaint_analysis.parse_week(weeks[0], TZ)
            plan = session.execute(text(
                "EXPLAIN SELECT category, channel, kind, area, count(*) FROM complaints "
                "WHERE received_at >= :s AND received_at < :e GROUP BY 1, 2, 3, 4"),
                {"s": span.starts_at, "e": span.ends_at}).scalars().all()
            print("  plan of the weekly counts: " + " / ".join(line.strip() for line in plan if "Scan" in line))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    if args.db in ("sqlite", "both"):
        print("SQLite")
        with tempfile.TemporaryDirectory() as directory:
            run(f"sqlite:///{directory}/bench.sqlite3", args.rows, args.runs)
    if args.db in ("postgres", "both"):
        print("PostgreSQL")
        admin = make_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            connection.exec_driver_sql(f"CREATE DATABASE {PG_DB}")
        try:
            run(f"{PG_SERVER}/{PG_DB}", args.rows, args.runs)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            admin.dispose()


if __name__ == "__main__":
    main()
