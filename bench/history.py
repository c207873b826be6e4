"""A big ledger for the benchmarks, and the small helpers they share.

``fill_history`` writes a million (or any number of) historical items straight into
``items`` with one INSERT … SELECT per 100,000 rows (``generate_series`` on
PostgreSQL, a recursive CTE on SQLite): what years of a busy desk leave behind.
The rest are numbers (percentiles, formatting), timing, a plain-text table and a
scratch PostgreSQL database made and dropped by name.
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, select, text

from kiosk.db import make_engine
from kiosk.models import User

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
SQLITE_BUILD_LIMIT_S = 120.0
NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


# ---------------------------------------------------------------- numbers

def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def log(db: str, message: str) -> None:
    print(f"  [{db}] {message}", flush=True)



def timed(runs: int, call) -> list[float]:
    out = []
    for i in range(runs):
        start = time.perf_counter()
        call(i)
        out.append((time.perf_counter() - start) * 1000)
    return out



def table(title: str, rows: list[tuple], dbs: list[str], notes: list[str] = ()) -> None:
    headers = ["", *(NAMES[d] for d in dbs)]
    cells = [[label, *(fmt(v, digits) for v in values)] for label, digits, *values in rows]
    widths = [max(len(str(r[c])) for r in [headers, *cells]) for c in range(len(headers))]
    print()
    print(title)
    line = "  " + "  ".join(h.ljust(widths[0]) if c == 0 else h.rjust(widths[c]) for c, h in enumerate(headers))
    print(line)
    print("  " + "-" * (len(line) - 2))
    for r in cells:
        print("  " + "  ".join(str(v).ljust(widths[0]) if c == 0 else str(v).rjust(widths[c])
                               for c, v in enumerate(r)))
    for note in notes:
        print(f"  {note}")



# ---------------------------------------------------------------- a scratch PostgreSQL database

def pg_admin():
    return create_engine(f"{PG_SERVER.replace('postgresql://', 'postgresql+psycopg://')}/postgres",
                         isolation_level="AUTOCOMMIT")


def _pg_admin_run(statement: str) -> None:
    admin = pg_admin()
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(statement)
    finally:
        admin.dispose()


def pg_drop(name: str) -> None:
    _pg_admin_run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def pg_create(name: str) -> None:
    pg_drop(name)
    _pg_admin_run(f"CREATE DATABASE {name}")


@contextmanager
def scratch_ledger(kind: str, pg_name: str, prefix: str) -> Iterator[tuple[str, Path]]:
    """A database URL and a working directory for one bench run, removed afterwards:
    PostgreSQL database ``pg_name`` (made anew), or an SQLite file in the directory."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{prefix}_{kind}_"))
    if kind == "postgres":
        pg_create(pg_name)
        url = f"{PG_SERVER}/{pg_name}"
    else:
        url = f"sqlite:///{workdir / 'kiosk.sqlite3'}"
    try:
        yield url, workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if kind == "postgres":
            pg_drop(pg_name)


# ---------------------------------------------------------------- a bench's command line

def main(script: str, doc: str, sizes: dict[str, tuple], describe, bench_database, report) -> int:
    """``--db sqlite|postgres|both`` and ``--quick``; ``sizes`` maps each size argument to its
    (quick, full) values; runs ``bench_database(kind, args)`` per database, then ``report``."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    args = parser.parse_args()
    for name, (quick, full) in sizes.items():
        setattr(args, name, quick if args.quick else full)
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    command = " ".join([".venv/bin/python", f"bench/{script}", *sys.argv[1:]])
    print(f"{describe(args, ', '.join(NAMES[d] for d in dbs))}; {os.cpu_count()} CPUs", flush=True)
    results = {}
    started = time.perf_counter()
    for kind in dbs:
        t0 = time.perf_counter()
        results[kind] = bench_database(kind, args)
        log(kind, f"done in {time.perf_counter() - t0:.0f} s")
    report(results, args, command)
    print(f"total time: {time.perf_counter() - started:.0f} s")
    return 0



# ---------------------------------------------------------------- the history

PG_FILL = """
INSERT INTO items (site, ticket_no, kind, status, owner_unit, owner_name, owner_phone, description, size,
                   declared, disclaimer_acknowledged, expected_pickup_at, urgent, location, suggested_location,
                   staff_id, staff_name, device, deposited_at, claim_generation, claim_state,
                   released_at, released_by_id, released_by_name, release_method, collector_name)
SELECT 'A', 'A-H' || g,
       (ARRAY['luggage','key','parcel','mail','short_term'])[1 + mod(g, 5)],
       CASE WHEN mod(g, 100) = 42 THEN 'held' ELSE 'released' END,
       (1 + mod(g, 30)) || '-' || lpad((1 + mod(g, 12))::text, 2, '0') || '01',
       'Owner ' || mod(g, 1000), '13800000000', 'historical item',
       CASE WHEN mod(g, 2) = 0 THEN 'small' ELSE 'large' END, '', false,
       t + interval '1 day', false, 'front_desk', 'front_desk', CAST(:staff AS bigint), 'lin', 'desk-1', t, 0, 'active',
       CASE WHEN mod(g, 100) = 42 THEN NULL ELSE t + interval '2 hours' END,
       CASE WHEN mod(g, 100) = 42 THEN NULL ELSE CAST(:staff AS bigint) END,
       CASE WHEN mod(g, 100) = 42 THEN NULL ELSE 'lin' END,
       CASE WHEN mod(g, 100) = 42 THEN NULL ELSE 'stub' END,
       CASE WHEN mod(g, 100) = 42 THEN NULL ELSE 'Owner ' || mod(g, 1000) END
FROM (SELECT g, now() - make_interval(mins => (CAST(:total AS bigint) - g)::int) AS t
      FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS g) AS s
"""

SQLITE_FILL = """
WITH RECURSIVE s(g) AS (SELECT :lo UNION ALL SELECT g + 1 FROM s WHERE g < :hi),
     r(g, t) AS (SELECT g, strftime('%Y-%m-%d %H:%M:%S', 'now', '-' || (:total - g) || ' minutes') FROM s)
INSERT INTO items (site, ticket_no, kind, status, owner_unit, owner_name, owner_phone, description, size,
                   declared, disclaimer_acknowledged, expected_pickup_at, urgent, location, suggested_location,
                   staff_id, staff_name, device, deposited_at, claim_generation, claim_state,
                   released_at, released_by_id, released_by_name, release_method, collector_name)
SELECT 'A', 'A-H' || g,
       CASE g % 5 WHEN 0 THEN 'luggage' WHEN 1 THEN 'key' WHEN 2 THEN 'parcel' WHEN 3 THEN 'mail'
                  ELSE 'short_term' END,
       CASE WHEN g % 100 = 42 THEN 'held' ELSE 'released' END,
       (1 + g % 30) || '-' || substr('0' || (1 + g % 12), -2) || '01',
       'Owner ' || (g % 1000), '13800000000', 'historical item',
       CASE WHEN g % 2 = 0 THEN 'small' ELSE 'large' END, '', 0,
       strftime('%Y-%m-%d %H:%M:%S', t, '+1 day') || '.000000', 0, 'front_desk', 'front_desk',
       :staff, 'lin', 'desk-1', t || '.000000', 0, 'active',
       CASE WHEN g % 100 = 42 THEN NULL ELSE strftime('%Y-%m-%d %H:%M:%S', t, '+2 hours') || '.000000' END,
       CASE WHEN g % 100 = 42 THEN NULL ELSE :staff END,
       CASE WHEN g % 100 = 42 THEN NULL ELSE 'lin' END,
       CASE WHEN g % 100 = 42 THEN NULL ELSE 'stub' END,
       CASE WHEN g % 100 = 42 THEN NULL ELSE 'Owner ' || (g % 1000) END
FROM r
"""


def fill_history(url: str, kind: str, total: int, staff_name: str = "lin") -> dict:
    """Bulk-insert ``total`` historical items (~1% held) in chunks; SQLite gives up past 2 minutes.

    One deposit a minute up to now, every kind in turn; item ``g`` is held when ``g % 100 == 42``
    (so exactly 1% of a round total), the rest were collected two hours after they came.
    """
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            staff = connection.execute(select(User.id).where(User.name == staff_name)).scalar_one()
        chunk = min(total, 100_000)
        start = time.perf_counter()
        done = 0
        sql = text(PG_FILL if kind == "postgres" else SQLITE_FILL)
        while done < total:
            hi = min(total, done + chunk)
            with engine.begin() as connection:
                connection.execute(sql, {"lo": done + 1, "hi": hi, "total": total, "staff": staff})
            done = hi
            elapsed = time.perf_counter() - start
            if kind == "sqlite" and done < total and elapsed / done * total > SQLITE_BUILD_LIMIT_S:
                log(kind, f"building {total:,} rows would take ~{elapsed / done * total:.0f} s "
                                  f"(> {SQLITE_BUILD_LIMIT_S:.0f} s): skipped")
                return {"built": False, "rows": done, "seconds": elapsed,
                        "projected": elapsed / done * total}
        insert_s = time.perf_counter() - start
        analyze_start = time.perf_counter()
        if kind == "postgres":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE items")
        else:
            with engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
        analyze_s = time.perf_counter() - analyze_start
        with engine.connect() as connection:
            counts = dict(connection.execute(text("SELECT status, count(*) FROM items GROUP BY status")).all())
        return {"built": True, "rows": sum(counts.values()), "held": counts.get("held", 0),
                "seconds": insert_s, "analyze": analyze_s}
    finally:
        engine.dispose()
