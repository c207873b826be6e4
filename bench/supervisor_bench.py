"""What the supervisor's lists cost on a big site: the overdue list, the CSV, the charts.

    .venv/bin/python bench/supervisor_bench.py [--db sqlite|postgres|both] [--quick]

For each database: a fresh, migrated ledger; 1,000,000 historical items from
bench/history.py (one a minute for ~2 years, exactly 1% = 10,000 still held), made
varied the way a desk is — keys, parcels and mail without a pickup time, a third of
the mail and parcels express, some mail undeliverable, held items spread over the
locations, a contact attempt logged for every parcel and letter (~400,000 rows) —
then, in this process, through the domain functions the API calls:

1. the overdue list (``kiosk.overdue.list_items``, overdue only, urgency order,
   limit 50): first page, deep keyset cursors, and filtered by kind, location,
   policy status and unit; beside it the same query paged with OFFSET;
2. the summary counts per policy status;
3. the CSV of all 10,000 held items (``kiosk.exports.csv_chunks``): total time, time
   to the first row, and the Python memory it peaks at — next to building the same
   file in memory from one 10,000-row page;
4. the chart data: held and overdue per day (30 and 90 days), traffic per hour.

Targets (PostgreSQL): overdue list p95 < 200 ms; CSV of 10,000 rows < 2 s, streamed.

PostgreSQL: a database ``supervisor_bench`` on 127.0.0.1:5432 is made and dropped at
the end; nothing else is touched. SQLite: a file in a temporary directory.
"""
from __future__ import annotations

import csv
import io
import os
import random
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from history import (  # noqa: E402
    NAMES,
    fill_history,
    log,
    main,
    pct,
    scratch_ledger,
    table,
    timed,
)
from sqlalchemy import event, text  # noqa: E402

from kiosk import accounts, charts, exports, overdue  # noqa: E402
from kiosk.db import make_engine, migrate, session_factory  # noqa: E402
from kiosk.keys import derive_key  # noqa: E402
from kiosk.overdue import Filters  # noqa: E402

# Sessions write audit rows, which are keyed (README: audit trail).
BENCH_AUDIT_KEY = derive_key("bench-secret-key-not-for-production", "audit chain")

PG_DB = "supervisor_bench"
TZ = ZoneInfo("Asia/Shanghai")
LIMIT = 50
LIST_TARGET_MS = 200.0
CSV_TARGET_S = 2.0

# Make the history look like a desk's: (PostgreSQL, SQLite) statements run in order.
VARY = [
    ("UPDATE items SET expected_pickup_at = NULL WHERE status = 'held' AND kind IN ('key', 'parcel', 'mail')",) * 2,
    ("UPDATE items SET urgent = true WHERE kind IN ('parcel', 'mail') AND id % 3 = 0",
     "UPDATE items SET urgent = 1 WHERE kind IN ('parcel', 'mail') AND id % 3 = 0"),
    ("UPDATE items SET undeliverable_at = deposited_at + interval '1 day', undeliverable_reason = 'moved away' "
     "WHERE status = 'held' AND kind = 'mail' AND id % 7 = 0",
     "UPDATE items SET undeliverable_at = strftime('%Y-%m-%d %H:%M:%S', deposited_at, '+1 day') || '.000000', "
     "undeliverable_reason = 'moved away' WHERE status = 'held' AND kind = 'mail' AND id % 7 = 0"),
    ("UPDATE items SET location = (ARRAY['front_desk','management_office','storeroom'])[1 + id % 3] "
     "WHERE status = 'held' AND kind IN ('luggage', 'short_term')",
     "UPDATE items SET location = CASE id % 3 WHEN 0 THEN 'front_desk' WHEN 1 THEN 'management_office' "
     "ELSE 'storeroom' END WHERE status = 'held' AND kind IN ('luggage', 'short_term')"),
    ("UPDATE items SET location = 'key_cabinet' WHERE status = 'held' AND kind = 'key'",) * 2,
    ("UPDATE items SET location = 'mail_shelf' WHERE status = 'held' AND kind IN ('parcel', 'mail')",) * 2,
    # Some held luggage not due yet, so the list is not all one status.
    ("UPDATE items SET expected_pickup_at = now() + make_interval(days => (id % 9)::int) "
     "WHERE status = 'held' AND kind IN ('luggage', 'short_term') AND id % 4 = 0",
     "UPDATE items SET expected_pickup_at = strftime('%Y-%m-%d %H:%M:%S', 'now', '+' || (id % 9) || ' days') "
     "|| '.000000' WHERE status = 'held' AND kind IN ('luggage', 'short_term') AND id % 4 = 0"),
    ("INSERT INTO item_contacts (item_id, at, method, outcome, promised_at, note, staff_id, staff_name, logged_at) "
     "SELECT id, deposited_at + interval '2 hours', 'phone', "
     "(ARRAY['reached','no_answer','left_message','promised_pickup'])[1 + id % 4], "
     "CASE WHEN id % 4 = 3 THEN deposited_at + interval '1 day' END, '', staff_id, 'lin', "
     "deposited_at + interval '2 hours' FROM items WHERE kind IN ('parcel', 'mail')",
     "INSERT INTO item_contacts (item_id, at, method, outcome, promised_at, note, staff_id, staff_name, logged_at) "
     "SELECT id, strftime('%Y-%m-%d %H:%M:%S', deposited_at, '+2 hours') || '.000000', 'phone', "
     "CASE id % 4 WHEN 0 THEN 'reached' WHEN 1 THEN 'no_answer' WHEN 2 THEN 'left_message' "
     "ELSE 'promised_pickup' END, "
     "CASE WHEN id % 4 = 3 THEN strftime('%Y-%m-%d %H:%M:%S', deposited_at, '+1 day') || '.000000' END, "
     "'', staff_id, 'lin', strftime('%Y-%m-%d %H:%M:%S', deposited_at, '+2 hours') || '.000000' "
     "FROM items WHERE kind IN ('parcel', 'mail')"),
    # What log_contact keeps on the item when an attempt reached the owner.
    ("UPDATE items SET owner_reached_at = deposited_at + interval '2 hours' "
     "WHERE kind IN ('parcel', 'mail') AND id % 4 IN (0, 3)",
     "UPDATE items SET owner_reached_at = strftime('%Y-%m-%d %H:%M:%S', deposited_at, '+2 hours') || '.000000' "
     "WHERE kind IN ('parcel', 'mail') AND id % 4 IN (0, 3)"),
]


def set_up(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate(engine)
        with session_factory(engine, audit_key=BENCH_AUDIT_KEY)() as session:
            accounts.add_user(session, "lin", "staff")
            accounts.add_user(session, "wang", "supervisor")
            session.commit()
    finally:
        engine.dispose()


def vary(url: str, kind: str) -> dict:
    engine = make_engine(url)
    start = time.perf_counter()
    try:
        with engine.begin() as connection:
            for pg, lite in VARY:
                connection.execute(text(pg if kind == "postgres" else lite))
        if kind == "postgres":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE items")
                connection.exec_driver_sql("VACUUM ANALYZE item_contacts")
        else:
            with engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
        with engine.connect() as connection:
            contacts = connection.execute(text("SELECT count(*) FROM item_contacts")).scalar_one()
        return {"seconds": time.perf_counter() - start, "contacts": contacts}
    finally:
        engine.dispose()


# ---------------------------------------------------------------- 1-2. the list

def walk(session, filters: Filters, now: datetime) -> list[str | None]:
    """Every page's cursor of the filtered list (None for the first page)."""
    cursors, cursor = [None], None
    while True:
        page = overdue.list_items(session, filters, now=now, tz=TZ, limit=LIMIT, after=cursor)
        cursor = page.next_cursor
        if cursor is None:
            return cursors
        cursors.append(cursor)


def bench_list(url: str, kind: str, runs: int, now: datetime) -> dict:
    engine = make_engine(url)
    sessions = session_factory(engine, audit_key=BENCH_AUDIT_KEY)
    out: dict = {}
    rng = random.Random(14)
    late = Filters(overdue=True)
    try:
        with sessions() as session:
            cursors = walk(session, late, now)
            out["pages"], out["summary"] = len(cursors), overdue.summary(session, now=now, tz=TZ)

            def page(filters, after=None):
                session.rollback()     # each request its own transaction, as the API does
                return overdue.list_items(session, filters, now=now, tz=TZ, limit=LIMIT, after=after)

            for _ in range(5):
                page(late)
            out["first"] = timed(runs, lambda i: page(late))
            out["load"] = os.getloadavg()[0]
            deep = [rng.choice(cursors[1:]) if len(cursors) > 1 else None for _ in range(runs)]
            out["deep"] = timed(runs, lambda i: page(late, deep[i]))
            for label, filters in (("kind", Filters(kind="parcel", overdue=True)),
                                   ("location", Filters(location="storeroom", overdue=True)),
                                   ("policy", Filters(policy=("owner_not_reached", "express_not_reached"))),
                                   ("unit", Filters(unit="7-0801"))):
                out[label] = timed(runs, lambda i, f=filters: page(f))
            out["summary_ms"] = timed(max(10, runs // 10), lambda i: overdue.summary(session, now=now, tz=TZ))

            # The same query paged with OFFSET, to the same depth as the deep cursors.
            depth = {c: i for i, c in enumerate(cursors)}
            def offset(i):
                session.rollback()
                session.execute(overdue.list_query(late, now=now, tz=TZ, limit=LIMIT + 1,
                                                   offset=depth[deep[i]] * LIMIT)).all()

            out["offset_deep"] = timed(runs, offset)
            if kind == "postgres":
                # The exact statement list_items sends, for EXPLAIN.
                sent = []
                listen = lambda conn, cursor, statement, params, *rest: sent.append((statement, params))  # noqa: E731
                event.listen(engine, "before_cursor_execute", listen)
                page(late)
                event.remove(engine, "before_cursor_execute", listen)
                statement, params = next(s for s in sent if "FROM items" in s[0])
                session.rollback()
                out["plan"] = list(session.connection().exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, params).scalars())
    finally:
        engine.dispose()
    return out


# ---------------------------------------------------------------- 3. the CSV

def bench_csv(url: str, runs: int, now: datetime) -> dict:
    engine = make_engine(url)
    sessions = session_factory(engine, audit_key=BENCH_AUDIT_KEY)
    out: dict = {"total": [], "first": [], "rows": 0, "bytes": 0}
    try:
        def streamed():
            with sessions() as session:
                start = time.perf_counter()
                first, size, lines = None, 0, 0
                for n, chunk in enumerate(exports.csv_chunks(session, Filters(), now=now, tz=TZ)):
                    if n == 1:
                        first = time.perf_counter() - start
                    size += len(chunk)
                    lines += chunk.count(b"\r\n")
                return time.perf_counter() - start, first, size, lines - 1

        def whole():
            """What one would write first: one big page, then the file in memory."""
            with sessions() as session:
                rows = overdue.list_items(session, Filters(), now=now, tz=TZ, limit=20_000).rows
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                for row in rows:
                    item = row.item
                    writer.writerow([item.ticket_no, item.kind, row.status, item.owner_unit, item.owner_name,
                                     item.owner_phone, item.description, item.location, item.deposited_at])
                return buffer.getvalue().encode("utf-8")

        streamed()
        cpu = time.process_time()
        for _ in range(runs):
            total, first, size, rows = streamed()
            out["total"].append(total)
            out["first"].append(first)
            out["rows"], out["bytes"] = rows, size
        out["cpu"] = (time.process_time() - cpu) / runs
        out["load"] = os.getloadavg()[0]
        out["whole"] = [timed(1, lambda i: whole())[0] / 1000 for _ in range(runs)]
        for label, call in (("peak_streamed", streamed), ("peak_whole", whole)):
            tracemalloc.start()
            call()
            out[label] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    finally:
        engine.dispose()
    return out


# ---------------------------------------------------------------- 4. the charts

def bench_charts(url: str, runs: int, now: datetime) -> dict:
    engine = make_engine(url)
    out: dict = {}
    try:
        with session_factory(engine, audit_key=BENCH_AUDIT_KEY)() as session:
            for days in charts.WINDOWS:
                out[f"daily_{days}"] = timed(runs, lambda i, d=days: charts.held_per_day(session, days=d, now=now,
                                                                                         tz=TZ))
                out[f"hourly_{days}"] = timed(runs, lambda i, d=days: charts.per_hour(session, days=d, now=now,
                                                                                      tz=TZ))
            chart = charts.held_per_day(session, days=90, now=now, tz=TZ)
            out["held_today"] = sum(counts[-1] for counts in chart.held.values())
            out["overdue_today"] = sum(counts[-1] for counts in chart.overdue.values())
    finally:
        engine.dispose()
    return out


# ---------------------------------------------------------------- one database

def bench_database(kind: str, args) -> dict:
    out: dict = {}
    with scratch_ledger(kind, PG_DB, "supervisor_bench") as (url, _):
        set_up(url)
        fill = out["fill"] = fill_history(url, kind, args.history)
        if not fill["built"]:
            return out
        log(kind, f"history: {fill['rows']:,} rows ({fill['held']:,} held) in {fill['seconds']:.1f} s")
        out["vary"] = vary(url, kind)
        log(kind, f"varied, {out['vary']['contacts']:,} contacts in {out['vary']['seconds']:.1f} s")
        now = datetime.now(UTC)
        out["list"] = bench_list(url, kind, args.runs, now)
        log(kind, "list done")
        out["csv"] = bench_csv(url, args.csv_runs, now)
        log(kind, "csv done")
        out["charts"] = bench_charts(url, max(5, args.runs // 10), now)
        log(kind, "charts done")
        return out


def report(results: dict, args, command: str) -> None:
    dbs = list(results)

    def get(section, key, q=None):
        values = [(results[d].get(section) or {}).get(key) for d in dbs]
        return [pct(v, q) if q is not None and v else v for v in values]

    def verdict(value, target):
        return "met" if value is not None and value < target else "MISSED"

    lists = [("first page", "first"), ("deep cursor", "deep"), ("kind=parcel", "kind"),
             ("location=storeroom", "location"), ("policy=not reached", "policy"), ("unit=7-0801", "unit")]
    table(f"1. Overdue list with {args.history:,} historical items, limit {LIMIT}, {args.runs} runs each "
          f"(ms; overdue only, urgency order)", [
              ("rows in items", 0, *[(results[d].get("fill") or {}).get("rows") for d in dbs]),
              ("held", 0, *[(results[d].get("fill") or {}).get("held") for d in dbs]),
              ("contact log rows", 0, *[(results[d].get("vary") or {}).get("contacts") for d in dbs]),
              ("pages of the overdue list", 0, *get("list", "pages")),
              *[(f"{label} p{q}", 1, *get("list", key, q / 100)) for label, key in lists for q in (50, 95)],
              ("same SQL with OFFSET, deep, p50", 1, *get("list", "offset_deep", .5)),
              ("same SQL with OFFSET, deep, p95", 1, *get("list", "offset_deep", .95)),
              ("summary per status p50", 1, *get("list", "summary_ms", .5)),
              ("machine load average meanwhile (2 cores)", 1, *get("list", "load")),
              (f"target p95 < {LIST_TARGET_MS:.0f} ms (every list above)", 0,
               *[verdict(max(pct(results[d]["list"][k], .95) for _, k in lists), LIST_TARGET_MS)
                 if "list" in results[d] else None for d in dbs]),
          ], dbs, ["deep = a random page of the overdue list past the first; filtered rows: first page"])
    mib = lambda key: get("csv", key)  # noqa: E731
    table(f"2. CSV of the held list (all statuses), {args.csv_runs} runs", [
        ("rows", 0, *get("csv", "rows")),
        ("bytes", 0, *get("csv", "bytes")),
        ("streamed: total p50 (s)", 2, *get("csv", "total", .5)),
        ("streamed: total max (s)", 2, *[max(v) if v else None for v in get("csv", "total")]),
        ("streamed: first rows after (s)", 3, *get("csv", "first", .5)),
        ("streamed: this process's CPU per file (s)", 2, *get("csv", "cpu")),
        ("machine load average meanwhile (2 cores)", 1, *get("csv", "load")),
        ("streamed: Python memory peak (MiB)", 1, *mib("peak_streamed")),
        ("whole file in memory: total p50 (s)", 2, *get("csv", "whole", .5)),
        ("whole file in memory: peak (MiB)", 1, *mib("peak_whole")),
        (f"target < {CSV_TARGET_S:.0f} s, streamed", 0,
         *[verdict(max(results[d]["csv"]["total"]), CSV_TARGET_S) if "csv" in results[d] else None for d in dbs]),
    ], dbs, ["streamed = kiosk.exports.csv_chunks (keyset batches of 2,000, last contact and next contact "
             "due per row); whole = one 10,000-row page, then the file built in memory (fewer columns)"])
    table(f"3. Chart data, {max(5, args.runs // 10)} runs (ms)", [
        *[(f"held/overdue per day, {d} days, p{q}", 1, *get("charts", f"daily_{d}", q / 100))
          for d in charts.WINDOWS for q in (50, 95)],
        *[(f"deposits/releases per hour, {d} days, p{q}", 1, *get("charts", f"hourly_{d}", q / 100))
          for d in charts.WINDOWS for q in (50, 95)],
        ("held at the end of today", 0, *get("charts", "held_today")),
        ("  of which overdue (time rules)", 0, *get("charts", "overdue_today")),
    ], dbs)
    for d in dbs:
        plan = (results[d].get("list") or {}).get("plan")
        if plan:
            print(f"\n  {NAMES[d]} plan of the overdue list's first page:")
            for line in plan:
                print(f"    {line}")
    print(f"\ncommand: {command}")


if __name__ == "__main__":
    sys.exit(main(
        "supervisor_bench.py", __doc__, {"history": (20_000, 1_000_000), "runs": (20, 200), "csv_runs": (2, 5)},
        lambda args, dbs: f"supervisor bench: {dbs}; {args.history:,} historical items", bench_database, report))
