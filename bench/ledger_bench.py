"""What the ledger costs: deposits, scan->release and the held list, on SQLite and PostgreSQL.

    .venv/bin/python bench/ledger_bench.py [--db sqlite|postgres|both] [--quick]

For each database the bench sets up a fresh ledger with the real CLI
(`kiosk init`, users, tokens), runs `kiosk serve` (waitress, 8 threads) as a
separate process, and drives it over loopback HTTP from 8 client threads,
each with its own requests.Session:

1. deposits per second and their latency (POST /api/v1/items);
2. scan -> release latency: POST /scans with the kiosk token, then
   POST /items/{id}/release with the staff token, timed from the start of the
   scan to the end of the release;
3. a baseline: the same number of bare INSERTs into ``items`` through
   SQLAlchemy Core from 8 threads (no API, no audit chain, no codes), i.e.
   what a plain CRUD table would cost;
4. the held-items list with 1,000,000 historical items in the table (~1%
   held): ``kiosk.ledger.list_items`` (keyset: ``WHERE status=? AND id<?
   ORDER BY id DESC``) on the first page and deep cursors, next to the naive
   ``ORDER BY deposited_at DESC LIMIT 50 OFFSET k`` a user would write, and
   through the API. Target: p95 under 50 ms on PostgreSQL.

PostgreSQL: a database ``kiosk_bench`` is created on 127.0.0.1:5432 (user
postgres, trust auth) and dropped at the end; nothing else is touched.
SQLite: a file in a temporary directory, removed at the end.

The machine this runs on is small (2 cores): client threads, the server and
PostgreSQL share it, so the figures are a floor, not a capacity claim.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import create_engine, event, insert, select, text  # noqa: E402

from kiosk import ledger  # noqa: E402
from kiosk.db import make_engine, session_factory  # noqa: E402
from kiosk.models import Item, User  # noqa: E402

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PG_DB = "kiosk_bench"
SECRET = "ledger-bench-secret-key-not-for-production"
CLIENTS = 8
LIST_LIMIT = 50
PG_LIST_TARGET_MS = 50.0
SQLITE_BUILD_LIMIT_S = 120.0
PHASE_DEADLINE_S = 120.0      # no request loop runs longer than this
REQUEST_TIMEOUT_S = 30.0
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


# ---------------------------------------------------------------- the ledger under test

@dataclass
class Ledger:
    kind: str                      # sqlite | postgres
    url: str
    workdir: Path
    tokens: dict[str, str] = field(default_factory=dict)
    port: int = 0

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        # 8 clients scan with one kiosk token as fast as they can: that is what the rate limits
        # refuse (bench/flood_bench.py measures them); here the ledger itself is measured.
        env.update(KIOSK_DATABASE_URL=self.url, KIOSK_SECRET_KEY=SECRET,
                   KIOSK_INSTANCE_PATH=str(self.workdir / "instance"), KIOSK_RATE_LIMITS="off")
        return env

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"kiosk {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout.strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served(ledger_: Ledger, print_worker: bool = True):
    """`kiosk serve` in its own process; always stopped on the way out.

    With print_worker (serve's default) its print-worker thread sends each deposit's
    label to the default printer, preview://INSTANCE/labels (a PNG per label).
    """
    ledger_.port = free_port()
    log_path = ledger_.workdir / f"serve-{ledger_.port}.log"
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "web.cli", "serve", "--host", "127.0.0.1", "--port", str(ledger_.port),
             "--threads", str(CLIENTS), "--print-worker" if print_worker else "--no-print-worker"],
            cwd=ROOT, env=ledger_.env, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"kiosk serve exited: {log_path.read_text()[-2000:]}")
                try:
                    if requests.get(f"{ledger_.base}/api/v1/health", timeout=1).ok:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"kiosk serve did not answer within 30 s: {log_path.read_text()[-2000:]}")
                time.sleep(0.1)
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)


def pg_admin():
    return create_engine(f"{PG_SERVER.replace('postgresql://', 'postgresql+psycopg://')}/postgres",
                         isolation_level="AUTOCOMMIT")


def pg_drop() -> None:
    admin = pg_admin()
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    finally:
        admin.dispose()


def pg_create() -> None:
    pg_drop()
    admin = pg_admin()
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {PG_DB}")
    finally:
        admin.dispose()


def set_up(ledger_: Ledger) -> None:
    ledger_.cli("init")
    ledger_.cli("user", "add", "lin", "--role", "staff")
    ledger_.cli("user", "add", "wang", "--role", "supervisor")
    ledger_.tokens["staff"] = ledger_.cli("token", "create", "lin").splitlines()[-1]
    ledger_.tokens["supervisor"] = ledger_.cli("token", "create", "wang").splitlines()[-1]
    ledger_.tokens["kiosk"] = ledger_.cli("token", "create", "--kiosk", "lobby-1").splitlines()[-1]


# ---------------------------------------------------------------- concurrent clients

def race(n: int, body, label: str) -> tuple[list, float]:
    """Run ``body(i, go)`` in n threads; each prepares, calls ``go()`` at the shared start
    line, then does the timed work and returns its result. (results, wall seconds)."""
    barrier = threading.Barrier(n + 1)
    results: list = [None] * n
    errors: list = []

    def worker(i):
        try:
            results[i] = body(i, lambda: barrier.wait(timeout=60))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))
            results[i] = []
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait(timeout=60)
    start = time.perf_counter()
    for t in threads:
        t.join(timeout=PHASE_DEADLINE_S + 60)
    wall = time.perf_counter() - start
    if errors:
        print(f"    {label} errors: {errors[:3]}", flush=True)
    return results, wall


def run_clients(base: str, work, n: int = CLIENTS) -> tuple[list, float]:
    """Run ``work(http, i, deadline)`` in n threads from one start line; (results, wall seconds)."""

    def body(i, go):
        with requests.Session() as http:
            http.get(f"{base}/api/v1/health", timeout=REQUEST_TIMEOUT_S)  # connect before the start
            go()
            return work(http, i, time.monotonic() + PHASE_DEADLINE_S)

    return race(n, body, "client")


def deposit_body(i: int) -> dict:
    """A valid deposit, shaped like tests/conftest.py::luggage(), picked up tomorrow."""
    return {
        "kind": "luggage",
        "owner": {"unit": f"{i % 30 + 1}-{i % 12 + 1:02d}01", "name": "张伟", "phone": "13812345678"},
        "size": "large" if i % 2 else "small",
        "description": "black suitcase",
        "expected_pickup_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }


def bench_deposits(ledger_: Ledger, per_client: int) -> dict:
    headers = {"Authorization": f"Bearer {ledger_.tokens['staff']}"}
    url = f"{ledger_.base}/api/v1/items"

    def work(http, i, deadline):
        out = []
        for j in range(per_client):
            if time.monotonic() > deadline:
                break
            start = time.perf_counter()
            try:
                response = http.post(url, json=deposit_body(i * per_client + j), headers=headers,
                                     timeout=REQUEST_TIMEOUT_S)
            except requests.RequestException as error:   # e.g. no answer within 30 s: count it, go on
                out.append((type(error).__name__, time.perf_counter() - start, None))
                continue
            elapsed = time.perf_counter() - start
            body = response.json() if response.status_code == 201 else None
            out.append((response.status_code, elapsed, body))
        return out

    results, wall = run_clients(ledger_.base, work)
    flat = [r for batch in results for r in batch]
    ok = [r for r in flat if r[0] == 201]
    latencies = [r[1] * 1000 for r in ok]
    items = [{"id": b["id"], "stub_code": b["stub_code"], "tag_code": b["tag_code"]} for _, _, b in ok]
    return {"sent": CLIENTS * per_client, "ok": len(ok), "wall": wall, "rate": len(ok) / wall,
            "p50": pct(latencies, .5), "p95": pct(latencies, .95), "max": max(latencies, default=float("nan")),
            "items": items,
            "statuses": {str(k): sum(1 for r in flat if r[0] == k) for k in {r[0] for r in flat if r[0] != 201}}}


def print_job_counts(ledger_: Ledger) -> dict[str, int]:
    engine = make_engine(ledger_.url)
    try:
        with engine.connect() as connection:
            return dict(connection.execute(text("SELECT status, count(*) FROM print_jobs GROUP BY status")).all())
    finally:
        engine.dispose()


def warm_up(ledger_: Ledger, wait_for_prints: bool) -> None:
    """A few sequential deposit, scan, release rounds (first ticket counter, caches), untimed;
    then, with a worker, let it print their labels. The items end released, as in section 2."""
    headers = {"Authorization": f"Bearer {ledger_.tokens['staff']}"}
    kiosk = {"Authorization": f"Bearer {ledger_.tokens['kiosk']}"}
    with requests.Session() as http:
        for i in range(CLIENTS):
            response = http.post(f"{ledger_.base}/api/v1/items", json=deposit_body(i), headers=headers,
                                 timeout=REQUEST_TIMEOUT_S)
            if response.status_code != 201:
                raise RuntimeError(f"warm-up deposit answered {response.status_code}: {response.text[:300]}")
            item = response.json()
            scan = http.post(f"{ledger_.base}/api/v1/scans", json={"code": item["stub_code"]}, headers=kiosk,
                             timeout=REQUEST_TIMEOUT_S)
            release = http.post(f"{ledger_.base}/api/v1/items/{item['id']}/release",
                                json={"stub_code": item["stub_code"], "tag_code": item["tag_code"]},
                                headers=headers, timeout=REQUEST_TIMEOUT_S)
            if scan.status_code != 200 or release.status_code != 200:
                raise RuntimeError(f"warm-up scan/release answered {scan.status_code}/{release.status_code}")
    deadline = time.monotonic() + 30
    while wait_for_prints and print_job_counts(ledger_).get("queued", 0) and time.monotonic() < deadline:
        time.sleep(0.2)


def bench_releases(ledger_: Ledger, items: list[dict]) -> dict:
    kiosk = {"Authorization": f"Bearer {ledger_.tokens['kiosk']}"}
    staff = {"Authorization": f"Bearer {ledger_.tokens['staff']}"}
    share = [items[i::CLIENTS] for i in range(CLIENTS)]

    def work(http, i, deadline):
        out = []
        for item in share[i]:
            if time.monotonic() > deadline:
                break
            start = time.perf_counter()
            try:
                scan = http.post(f"{ledger_.base}/api/v1/scans", json={"code": item["stub_code"]},
                                 headers=kiosk, timeout=REQUEST_TIMEOUT_S)
                scanned = time.perf_counter()
                release = http.post(f"{ledger_.base}/api/v1/items/{item['id']}/release",
                                    json={"stub_code": item["stub_code"], "tag_code": item["tag_code"]},
                                    headers=staff, timeout=REQUEST_TIMEOUT_S)
            except requests.RequestException as error:   # e.g. no answer within 30 s: count it, go on
                out.append((False, time.perf_counter() - start, 0, 0, type(error).__name__, ""))
                continue
            end = time.perf_counter()
            good = (scan.status_code == 200 and scan.json().get("next") == "present_at_desk"
                    and release.status_code == 200 and release.json().get("status") == "released")
            out.append((good, end - start, scanned - start, end - scanned, scan.status_code, release.status_code))
        return out

    results, wall = run_clients(ledger_.base, work)
    flat = [r for batch in results for r in batch]
    ok = [r for r in flat if r[0]]
    total = [r[1] * 1000 for r in ok]
    return {"sent": len(items), "ok": len(ok), "wall": wall, "rate": len(ok) / wall,
            "p50": pct(total, .5), "p95": pct(total, .95), "max": max(total, default=float("nan")),
            "scan_p50": pct([r[2] * 1000 for r in ok], .5), "release_p50": pct([r[3] * 1000 for r in ok], .5),
            "statuses": {f"{a}/{b}": sum(1 for r in flat if not r[0] and (r[4], r[5]) == (a, b))
                         for a, b in {(r[4], r[5]) for r in flat if not r[0]}}}


# ---------------------------------------------------------------- baseline: a plain table

def bench_bare_inserts(ledger_: Ledger, count: int) -> dict:
    """The same number of rows as the API deposits, one INSERT per transaction, from 8 threads."""
    engine = make_engine(ledger_.url, pool_size=CLIENTS, max_overflow=0)
    try:
        table = Item.__table__
        per_client = count // CLIENTS

        def row(i, j):
            now = datetime.now(UTC)
            return dict(site="A", ticket_no=f"B-{i}-{j}", kind="luggage", status="held", owner_unit="12-0301",
                        owner_name="张伟", owner_phone="13812345678", description="black suitcase",
                        size="large", declared="", disclaimer_acknowledged=False,
                        expected_pickup_at=now + timedelta(days=1), urgent=False, location="front_desk",
                        suggested_location="front_desk", staff_name="lin", deposited_at=now,
                        claim_generation=0, claim_state="active")

        def body(i, go):
            latencies: list[float] = []
            with engine.connect() as connection:   # connect before the start line
                connection.execute(text("SELECT 1"))
                connection.rollback()
                go()
                deadline = time.monotonic() + PHASE_DEADLINE_S
                for j in range(per_client):
                    if time.monotonic() > deadline:
                        break
                    start = time.perf_counter()
                    with connection.begin():
                        connection.execute(insert(table).values(**row(i, j)))
                    latencies.append((time.perf_counter() - start) * 1000)
            return latencies

        results, wall = race(CLIENTS, body, "insert")
        flat = [x for per in results for x in per]
        # Leave the table as the API left it: these rows were only for timing.
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM items WHERE ticket_no LIKE 'B-%'"))
        return {"ok": len(flat), "wall": wall, "rate": len(flat) / wall, "p50": pct(flat, .5),
                "p95": pct(flat, .95)}
    finally:
        engine.dispose()


# ---------------------------------------------------------------- 4. the held list on a big table

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

NAIVE = "SELECT * FROM items WHERE status = 'held' ORDER BY deposited_at DESC LIMIT 50 OFFSET :k"
KEYSET_CORE = "SELECT * FROM items WHERE status = 'held' AND id < :before ORDER BY id DESC LIMIT 51"


def fill_history(ledger_: Ledger, total: int) -> dict:
    """Bulk-insert ``total`` historical items (~1% held) in chunks; SQLite gives up past 2 minutes."""
    engine = make_engine(ledger_.url)
    try:
        with engine.connect() as connection:
            staff = connection.execute(select(User.id).where(User.name == "lin")).scalar_one()
        chunk = min(total, 100_000)
        start = time.perf_counter()
        done = 0
        sql = text(PG_FILL if ledger_.kind == "postgres" else SQLITE_FILL)
        while done < total:
            hi = min(total, done + chunk)
            with engine.begin() as connection:
                connection.execute(sql, {"lo": done + 1, "hi": hi, "total": total, "staff": staff})
            done = hi
            elapsed = time.perf_counter() - start
            if ledger_.kind == "sqlite" and done < total and elapsed / done * total > SQLITE_BUILD_LIMIT_S:
                log(ledger_.kind, f"building {total:,} rows would take ~{elapsed / done * total:.0f} s "
                                  f"(> {SQLITE_BUILD_LIMIT_S:.0f} s): skipped")
                return {"built": False, "rows": done, "seconds": elapsed,
                        "projected": elapsed / done * total}
        insert_s = time.perf_counter() - start
        analyze_start = time.perf_counter()
        if ledger_.kind == "postgres":
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


def timed(runs: int, call) -> list[float]:
    out = []
    for i in range(runs):
        start = time.perf_counter()
        call(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def bench_list_queries(ledger_: Ledger, runs: int) -> dict:
    engine = make_engine(ledger_.url)
    sessions = session_factory(engine)
    result: dict = {}
    try:
        with engine.connect() as connection:
            held_ids = list(connection.execute(
                text("SELECT id FROM items WHERE status = 'held' ORDER BY id DESC")).scalars())
        pages = max(1, len(held_ids) // LIST_LIMIT)
        rng = random.Random(7)
        # Deep pages: a random page past the first, the same depth for keyset and OFFSET.
        depth = [rng.randrange(1, pages) if pages > 1 else 0 for _ in range(runs)]
        cursors = [held_ids[p * LIST_LIMIT - 1] if p else None for p in depth]
        result["held"], result["pages"] = len(held_ids), pages

        # The exact SQL list_items sends, for EXPLAIN.
        captured: list = []

        def capture(conn, cursor, statement, parameters, context, executemany):
            captured.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", capture)
        with sessions() as session:
            rows, cursor = ledger.list_items(session, status="held", limit=LIST_LIMIT,
                                             before_id=cursors[0] or None)
        event.remove(engine, "before_cursor_execute", capture)
        result["rows_per_page"], result["cursor_ok"] = len(rows), cursor is not None
        statement, parameters = [c for c in captured if "FROM items" in c[0]][-1]
        with engine.connect() as connection:
            if ledger_.kind == "postgres":
                plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).scalars()
            else:
                plan = (" ".join(str(x) for x in r[-1:])
                        for r in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
            result["plan"] = [line for line in plan]
            if ledger_.kind == "postgres":
                naive_plan = connection.execute(text("EXPLAIN " + NAIVE), {"k": 5000}).scalars()
            else:
                naive_plan = (str(r[-1]) for r in connection.execute(text("EXPLAIN QUERY PLAN " + NAIVE), {"k": 5000}))
            result["naive_plan"] = list(naive_plan)
        result["uses_index"] = any("ix_items_status_id" in line for line in result["plan"])

        def ours(before_id):
            with sessions() as session:
                rows, _ = ledger.list_items(session, status="held", limit=LIST_LIMIT, before_id=before_id)
                assert len(rows) == min(LIST_LIMIT, len(held_ids))

        for _ in range(5):   # warm caches and pools
            ours(None)
        result["first"] = timed(runs, lambda i: ours(None))
        result["deep"] = timed(runs, lambda i: ours(cursors[i]))

        with engine.connect() as connection:
            keyset = text(KEYSET_CORE)
            naive = text(NAIVE)
            for _ in range(5):
                connection.execute(naive, {"k": 0}).all()
                connection.rollback()

            def core(statement, params):
                connection.execute(statement, params).all()
                connection.rollback()

            result["core_deep"] = timed(runs, lambda i: core(keyset, {"before": cursors[i] or 2**62}))
            result["naive_first"] = timed(runs, lambda i: core(naive, {"k": 0}))
            result["naive_deep"] = timed(runs, lambda i: core(naive, {"k": depth[i] * LIST_LIMIT}))
        result["cursors"] = cursors
    finally:
        engine.dispose()
    return result


def bench_list_api(ledger_: Ledger, runs: int, cursors: list) -> dict:
    headers = {"Authorization": f"Bearer {ledger_.tokens['supervisor']}"}
    url = f"{ledger_.base}/api/v1/items"
    out: dict = {}
    with requests.Session() as http:
        deadline = time.monotonic() + PHASE_DEADLINE_S

        def get(params):
            if time.monotonic() > deadline:
                raise TimeoutError("list phase over its time limit")
            response = http.get(url, params=params, headers=headers, timeout=REQUEST_TIMEOUT_S)
            if response.status_code != 200 or len(response.json()["items"]) != LIST_LIMIT:
                raise RuntimeError(f"GET /items answered {response.status_code}: {response.text[:200]}")

        for _ in range(5):
            get({"status": "held", "limit": LIST_LIMIT})
        out["first"] = timed(runs, lambda i: get({"status": "held", "limit": LIST_LIMIT}))
        out["deep"] = timed(runs, lambda i: get({"status": "held", "limit": LIST_LIMIT, "cursor": cursors[i]}
                                                if cursors[i] else {"status": "held", "limit": LIST_LIMIT}))
    return out


# ---------------------------------------------------------------- one database, all sections

def bench_database(kind: str, args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"kiosk_bench_{kind}_"))
    if kind == "postgres":
        url = f"{PG_SERVER}/{PG_DB}"
        pg_create()
    else:
        url = f"sqlite:///{workdir / 'kiosk.sqlite3'}"
    ledger_ = Ledger(kind, url, workdir)
    out: dict = {}
    try:
        set_up(ledger_)
        log(kind, f"ledger ready ({url})")
        # Sections 1-2 twice: as `kiosk serve` runs by default (print worker on), then with
        # --no-print-worker, which isolates the ledger's own cost. Worker first, so that no
        # backlog of labels from the other run is waiting for it.
        for suffix, worker in (("", True), ("_nw", False)):
            label = "print worker on" if worker else "--no-print-worker"
            with served(ledger_, print_worker=worker):
                warm_up(ledger_, wait_for_prints=worker)
                before = print_job_counts(ledger_)
                d = out["deposit" + suffix] = bench_deposits(ledger_, args.per_client)
                log(kind, f"{label}: deposits {d['ok']}/{d['sent']} in {d['wall']:.1f} s")
                r = out["release" + suffix] = bench_releases(ledger_, d["items"])
                log(kind, f"{label}: scan+release {r['ok']}/{r['sent']} in {r['wall']:.1f} s")
            after = print_job_counts(ledger_)
            d["printed"] = after.get("printed", 0) - before.get("printed", 0)
        d = out["deposit"]
        out["bare"] = bench_bare_inserts(ledger_, d["sent"])
        log(kind, f"bare inserts: {out['bare']['ok']} in {out['bare']['wall']:.1f} s")

        # 4: server stopped while the history is written.
        engine = make_engine(ledger_.url)
        try:
            with engine.connect() as connection:
                out["held_before"] = connection.execute(
                    text("SELECT count(*) FROM items WHERE status = 'held'")).scalar_one()
        finally:
            engine.dispose()
        fill = fill_history(ledger_, args.history)
        out["fill"] = fill
        if not fill["built"]:
            return out
        log(kind, f"history: {fill['rows']:,} rows ({fill['held']:,} held) in {fill['seconds']:.1f} s "
                  f"+ analyze {fill['analyze']:.1f} s")
        out["list"] = bench_list_queries(ledger_, args.runs)
        with served(ledger_, print_worker=False):   # no label backlog from sections 1-2 competing
            out["api_list"] = bench_list_api(ledger_, args.runs, out["list"]["cursors"])
        log(kind, "list timings done")
        return out
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if kind == "postgres":
            pg_drop()


# ---------------------------------------------------------------- report

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


def report(results: dict, args, command: str) -> None:
    dbs = list(results)
    get = lambda section, key: [(results[d].get(section) or {}).get(key) for d in dbs]  # noqa: E731

    def pair(section, key):
        return [(results[d].get(section) or {}).get(key) for d in dbs]

    def rows_for(section, spec):
        out = []
        for suffix, config in (("", "serve"), ("_nw", "--no-print-worker")):
            for label, digits, key in spec:
                out.append((f"{label} [{config}]", digits, *pair(section + suffix, key)))
        return out

    ok_sent = lambda section: [f"{o}/{n}" for o, n in zip(pair(section, "ok"), pair(section, "sent"))]  # noqa: E731
    table(f"1. Deposits through the API: POST /api/v1/items, {CLIENTS} clients x {args.per_client}, "
          f"`kiosk serve --threads {CLIENTS}`", [
              ("deposits ok / sent [serve]", 0, *ok_sent("deposit")),
              ("deposits ok / sent [--no-print-worker]", 0, *ok_sent("deposit_nw")),
              ("labels printed meanwhile [serve]", 0, *pair("deposit", "printed")),
              *rows_for("deposit", [("wall time (s)", 2, "wall"), ("deposits/s", 1, "rate"),
                                    ("latency p50 (ms)", 1, "p50"), ("latency p95 (ms)", 1, "p95"),
                                    ("latency max (ms)", 1, "max")]),
          ], dbs, ["[serve] = `kiosk serve` as it runs by default: its print-worker thread renders each "
                   "deposit's label to the default preview:// printer;",
                   "[--no-print-worker] = the same server without that thread: the ledger's own cost."]
        + ([f"not 201 [serve]: {dict(zip(dbs, pair('deposit', 'statuses')))}; "
            f"[--no-print-worker]: {dict(zip(dbs, pair('deposit_nw', 'statuses')))}"]
           if any(pair("deposit", "statuses") + pair("deposit_nw", "statuses")) else []))

    table(f"2. Scan -> release through the API: POST /scans (kiosk) then POST /items/{{id}}/release (staff), "
          f"{CLIENTS} clients, the items of section 1", [
              ("releases ok / items [serve]", 0, *ok_sent("release")),
              ("releases ok / items [--no-print-worker]", 0, *ok_sent("release_nw")),
              *rows_for("release", [("wall time (s)", 2, "wall"), ("releases/s", 1, "rate"),
                                    ("scan->release p50 (ms)", 1, "p50"), ("scan->release p95 (ms)", 1, "p95"),
                                    ("scan->release max (ms)", 1, "max"), ("  scan alone p50 (ms)", 1, "scan_p50"),
                                    ("  release alone p50 (ms)", 1, "release_p50")]),
          ], dbs, [f"failed pairs (scan/release status) [serve]: {dict(zip(dbs, pair('release', 'statuses')))}; "
                   f"[--no-print-worker]: {dict(zip(dbs, pair('release_nw', 'statuses')))}"]
        if any(pair("release", "statuses") + pair("release_nw", "statuses")) else [])

    ratio = lambda a, b: [x / y if x and y else None for x, y in zip(a, b)]  # noqa: E731
    table(f"3. Baseline: bare INSERT into items via SQLAlchemy Core, {CLIENTS} threads, one row per "
          f"transaction (no API, no audit chain, no codes, no print job)", [
              ("rows inserted", 0, *pair("bare", "ok")),
              ("bare INSERTs/s", 1, *pair("bare", "rate")),
              ("bare INSERT p50 (ms)", 2, *pair("bare", "p50")),
              ("bare INSERT p95 (ms)", 2, *pair("bare", "p95")),
              ("API deposits/s [serve]", 1, *pair("deposit", "rate")),
              ("API deposits/s [--no-print-worker]", 1, *pair("deposit_nw", "rate")),
              ("API / bare rate [serve]", 3, *ratio(pair("deposit", "rate"), pair("bare", "rate"))),
              ("API / bare rate [--no-print-worker]", 3, *ratio(pair("deposit_nw", "rate"), pair("bare", "rate"))),
          ], dbs, ["bare INSERTs run in the bench process (8 Python threads, one GIL); the API runs in "
                   "its own process"])

    p = lambda source, key, q: [pct(v, q) if v else None for v in get(source, key)]  # noqa: E731
    built = []
    for d, f in zip(dbs, [results[d].get("fill", {}) for d in dbs]):
        if f.get("built"):
            built.append(f"{f['rows']:,}")
        elif f:
            built.append(f"skipped (~{f['projected']:.0f} s)")
        else:
            built.append(None)
    verdicts = []
    for d in dbs:
        first = results[d].get("list", {}).get("first")
        if d == "postgres" and first:
            verdicts.append("met" if pct(first, .95) < PG_LIST_TARGET_MS and pct(results[d]["list"]["deep"], .95)
                            < PG_LIST_TARGET_MS else "MISSED")
        else:
            verdicts.append("-")
    table(f"4. Held list with {args.history:,} historical items (~1% held), {args.runs} runs each, "
          f"limit {LIST_LIMIT}", [
              ("rows in items", 0, *built),
              ("held rows", 0, *get("fill", "held")),
              ("  of which left held by sections 1-2", 0, *[results[d].get("held_before") for d in dbs]),
              ("bulk insert (s)", 1, *get("fill", "seconds")),
              ("ANALYZE (s)", 1, *get("fill", "analyze")),
              ("list_items first page p50 (ms)", 2, *p("list", "first", .5)),
              ("list_items first page p95 (ms)", 2, *p("list", "first", .95)),
              ("list_items deep cursor p50 (ms)", 2, *p("list", "deep", .5)),
              ("list_items deep cursor p95 (ms)", 2, *p("list", "deep", .95)),
              ("same keyset SQL, Core rows, deep p50 (ms)", 2, *p("list", "core_deep", .5)),
              ("same keyset SQL, Core rows, deep p95 (ms)", 2, *p("list", "core_deep", .95)),
              ("naive OFFSET 0 p50 (ms)", 2, *p("list", "naive_first", .5)),
              ("naive OFFSET 0 p95 (ms)", 2, *p("list", "naive_first", .95)),
              ("naive OFFSET deep p50 (ms)", 2, *p("list", "naive_deep", .5)),
              ("naive OFFSET deep p95 (ms)", 2, *p("list", "naive_deep", .95)),
              ("API GET first page p50 (ms)", 2, *p("api_list", "first", .5)),
              ("API GET first page p95 (ms)", 2, *p("api_list", "first", .95)),
              ("API GET deep cursor p50 (ms)", 2, *p("api_list", "deep", .5)),
              ("API GET deep cursor p95 (ms)", 2, *p("api_list", "deep", .95)),
              ("index ix_items_status_id used", 0,
               *[("yes" if results[d]["list"]["uses_index"] else "NO") if "list" in results[d] else None
                 for d in dbs]),
              (f"target p95 < {PG_LIST_TARGET_MS:.0f} ms (PostgreSQL, list_items)", 0, *verdicts),
          ], dbs, [
              "deep = a random page past the first, the same depth for the keyset cursor and the OFFSET;",
              "naive = SELECT * FROM items WHERE status='held' ORDER BY deposited_at DESC LIMIT 50 OFFSET k;",
              "list_items builds ORM objects; the Core and naive rows are plain tuples; API = one client, "
              "sequential, JSON included, `kiosk serve --no-print-worker` restarted.",
          ])
    for d in dbs:
        listed = results[d].get("list")
        if not listed:
            continue
        print(f"\n  {NAMES[d]} plan of the list_items query (deep cursor):")
        for line in listed["plan"]:
            print(f"    {line}")
        print(f"  {NAMES[d]} plan of the naive OFFSET query (k=5000):")
        for line in listed["naive_plan"]:
            print(f"    {line}")
    print(f"\ncommand: {command}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    args = parser.parse_args()
    args.per_client, args.history, args.runs = (10, 20_000, 30) if args.quick else (150, 1_000_000, 200)
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    command = " ".join([".venv/bin/python", "bench/ledger_bench.py", *sys.argv[1:]])
    print(f"ledger bench: {', '.join(NAMES[d] for d in dbs)}; {CLIENTS} clients x {args.per_client} deposits; "
          f"{args.history:,} historical items; {os.cpu_count()} CPUs", flush=True)
    results = {}
    started = time.perf_counter()
    for kind in dbs:
        t0 = time.perf_counter()
        results[kind] = bench_database(kind, args)
        log(kind, f"done in {time.perf_counter() - t0:.0f} s")
    report(results, args, command)
    print(f"total time: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
