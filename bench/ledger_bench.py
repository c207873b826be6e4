"""What the ledger costs, side by side with its floor: deposits and scan -> release, SQLite and PostgreSQL.

    .venv/bin/python bench/ledger_bench.py [--db sqlite|postgres|both] [--quick] [--seconds S] [--rounds R]
        [--clients 1,4,8,16] [--processes 1,2] [--history N] [--pg-url URL]

For each database the bench sets up a fresh ledger with the real CLI (`kiosk init`, users, tokens)
and serves it two ways at once, each with 1 and then 2 app processes of 8 threads:

- project: `kiosk serve --workers P --threads 8 --no-print-worker` (gunicorn; web/serving.py);
- floor:   bench/floor.py, the same three requests on the same tables with nothing between HTTP
           and the database, served by the same gunicorn command (web.serving.gunicorn_command).

Against each, 1, 4, 8 and 16 clients: threads of this process, each with one keep-alive HTTP
connection (http.client, so that the load tool itself costs little CPU), all starting at one line:

1. deposits: POST /api/v1/items for --seconds: deposits/s and latency;
2. scan -> release: for the items each client deposited, POST /scans (kiosk token) then
   POST /items/{id}/release (staff token), for --seconds: p50/p95 of the pair, end to end.

The two servers take turns, --rounds rounds of (project 1 and 2, floor 1 and 2) per cell, so that
both sides of a ratio see the same machine while others' work on it comes and goes. Before each
timed phase the tables are analyzed, as autovacuum keeps a desk's database (Ledger.analyze).

Then: (3) the project again with its print-worker process drawing a preview PNG of every
deposit's label, 8 clients; (4) the resident memory of the project's request process after a few
requests and after the load; (5) `kiosk audit verify` over every row both servers wrote; (6) the
held-items list with 1,000,000 historical items: `kiosk.ledger.list_items` (keyset) next to the
naive OFFSET query, and through the API. Target there: p95 under 50 ms on PostgreSQL.

PostgreSQL: everything lives in a schema `ledger_bench` of the database at --pg-url (default
postgresql://postgres@127.0.0.1:5432/postgres), dropped at the end; nothing else is touched.
SQLite: a file in a temporary directory, removed at the end.

--quick is a smoke run (3 requests per client, 1 and 4 clients, 20,000 historical items) that
tests/bench/test_ledger_bench.py runs. The exit status is 1 if any request failed or the audit
chain does not verify. The machine this runs on is small (2 cores): clients, servers and
PostgreSQL share it, so read the figures as a floor, not a capacity claim.
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, text  # noqa: E402

import history  # noqa: E402
from history import NAMES, fmt, log, pct, timed  # noqa: E402
from kiosk import ledger  # noqa: E402
from kiosk.db import make_engine, normalise_url, session_factory  # noqa: E402
from kiosk.keys import derive_key  # noqa: E402
from web.serving import gunicorn_command  # noqa: E402

PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_SCHEMA = "ledger_bench"
SECRET = "ledger-bench-secret-key-not-for-production"
BENCH_AUDIT_KEY = derive_key(SECRET, "audit chain")
THREADS = 8                     # per app process, for both servers
SERVERS = ("project", "floor")
PRINT_CLIENTS = 8
LIST_LIMIT = 50
PG_LIST_TARGET_MS = 50.0
SQLITE_BUILD_LIMIT_S = 120.0
REQUEST_TIMEOUT_S = 30.0


# ---------------------------------------------------------------- numbers

def ratio(a, b) -> float | None:
    return a / b if a and b and not (math.isnan(a) or math.isnan(b)) else None


# ---------------------------------------------------------------- the ledger under test

@dataclass
class Ledger:
    kind: str                      # sqlite | postgres
    url: str
    workdir: Path
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        # Keep-alive past gunicorn's 2 s: on a busy machine 16 clients waiting at the start line
        # (or a client thread waiting for the CPU) would otherwise find their connections closed.
        # 8 clients scan with one kiosk token as fast as they can: that is what the rate limits
        # refuse (bench/flood_bench.py measures them); here the ledger itself is measured.
        env.update(KIOSK_DATABASE_URL=self.url, KIOSK_SECRET_KEY=SECRET,
                   KIOSK_INSTANCE_PATH=str(self.workdir / "instance"), GUNICORN_CMD_ARGS="--keep-alive 60",
                   KIOSK_RATE_LIMITS="off",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        return env

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=600)
        if check and done.returncode != 0:
            raise RuntimeError(f"kiosk {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done

    def set_up(self) -> None:
        self.cli("init")
        self.cli("user", "add", "lin", "--role", "staff")
        self.cli("user", "add", "wang", "--role", "supervisor")
        for role, who in (("staff", ["lin"]), ("supervisor", ["wang"]), ("kiosk", ["--kiosk", "lobby-1"])):
            self.tokens[role] = self.cli("token", "create", *who).stdout.strip().splitlines()[-1]

    def analyze(self) -> None:
        """Fresh statistics of the tables the requests use, as autovacuum keeps them on a desk in
        service (it analyzes a table once a tenth of it has changed, within a minute).

        Each timed phase adds a tenth or more to a ledger a few minutes old. A table without
        statistics is one PostgreSQL plans blind: before autovacuum's first pass it sent the
        release's ``UPDATE … WHERE id = … AND status = 'held'`` through the index on
        (status, next_notify_at), reading every held item to find one (measured: ~600 index tuples
        per scan and release, pg_stat_user_tables), where with statistics it reads one. Both servers'
        phases come after the same ``ANALYZE``."""
        self.sql("ANALYZE items, audit_events, audit_seals, print_jobs" if self.kind == "postgres" else "ANALYZE")

    def sql(self, statement: str, **params):
        """Rows, or the number of rows changed; in a transaction of its own."""
        engine = make_engine(self.url)
        try:
            with engine.begin() as connection:
                result = connection.execute(text(statement), params)
                return result.all() if result.returns_rows else result.rowcount
        finally:
            engine.dispose()


def pg_schema_url(server_url: str, schema: str = PG_SCHEMA) -> str:
    """The database at server_url, seen through a search_path of only the bench's own schema."""
    return f"{server_url}{'&' if '?' in server_url else '?'}options=-csearch_path%3D{schema}"


def pg_schema(server_url: str, create: bool, schema: str = PG_SCHEMA) -> None:
    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            if create:
                connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    finally:
        admin.dispose()


@contextmanager
def fresh_ledger(kind: str, pg_url: str, schema: str = PG_SCHEMA):
    """A place for a new ledger: a SQLite file in a temporary directory, or a schema of its own
    in the PostgreSQL database at pg_url; both removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{schema}_{kind}_"))
    if kind == "postgres":
        pg_schema(pg_url, create=True, schema=schema)
        url = pg_schema_url(pg_url, schema)
    else:
        url = f"sqlite:///{workdir / 'kiosk.sqlite3'}"
    try:
        yield Ledger(kind, url, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if kind == "postgres":
            pg_schema(pg_url, create=False, schema=schema)


# ---------------------------------------------------------------- servers

def machine_busy() -> float:
    """CPU-seconds the whole machine has spent busy so far, every process and core (/proc/stat)."""
    user, nice, system, idle, iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    try:
        return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
                for child in (task / "children").read_text().split()]
    except OSError:
        return []


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    base: str

    def request_pids(self) -> list[int]:
        """gunicorn's worker processes (the master is this process, or a child of `kiosk serve`)."""
        masters = [self.process.pid] if "gunicorn" in command_line(self.process.pid) else [
            pid for pid in child_pids(self.process.pid) if "gunicorn" in command_line(pid)]
        return [pid for master in masters for pid in child_pids(master)]


@contextmanager
def served(ledger_: Ledger, name: str, processes: int):
    """The project (`kiosk serve`) or the floor (gunicorn, same command) on a free port; stopped on exit."""
    if name == "project":
        command = [sys.executable, "-m", "web.cli", "serve", "--host", "127.0.0.1", "--port", "0",
                   "--workers", str(processes), "--threads", str(THREADS), "--no-print-worker", "--no-notify-worker"]
    else:
        command = gunicorn_command("bench.floor:create_app()", "127.0.0.1:0", workers=processes, threads=THREADS)
    log_path = ledger_.workdir / f"{name}-{processes}-{time.monotonic_ns()}.log"
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(command, cwd=ROOT, env=ledger_.env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (found := re.search(r"(?:serving on|Listening at:) http://127\.0\.0\.1:(\d+)", log_path.read_text())):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} server did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.05)
        server = Server(name, process, f"http://127.0.0.1:{found[1]}")
        # Every process up and answering before anything is timed.
        while len(server.request_pids()) < processes or Http(server.base).call("GET", "/api/v1/health")[0] != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} server did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.05)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


# ---------------------------------------------------------------- the load tool

class Http:
    """One keep-alive HTTP/1.1 connection speaking JSON."""

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_TIMEOUT_S)

    def call(self, method: str, path: str, body=None, token: str | None = None) -> tuple[int | str, dict | None]:
        """(status, JSON answer); a failure to get any answer is (its exception's name, None)."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            self.connection.request(method, path, body=None if body is None else json.dumps(body).encode(),
                                    headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()   # the next call connects afresh
            return type(error).__name__, None
        return response.status, json.loads(data) if data.startswith(b"{") else None

    def close(self) -> None:
        self.connection.close()


@dataclass(frozen=True)
class Limit:
    """How long a phase runs: each client stops after ``count`` requests or ``seconds``."""

    seconds: float
    count: int | None = None

    def requests(self):
        return range(self.count) if self.count is not None else iter(int, 1)


def race(n: int, body, label: str) -> tuple[list, float, list[str]]:
    """Run ``body(i, go)`` in n threads; each prepares, calls ``go()`` at the shared start
    line, then does the timed work and returns its result. (results, wall seconds, errors)."""
    barrier = threading.Barrier(n + 1)
    results: list = [[] for _ in range(n)]
    errors: list[str] = []

    def worker(i):
        try:
            results[i] = body(i, lambda: barrier.wait(timeout=60))
        except Exception as error:  # noqa: BLE001 - reported by the caller
            errors.append(f"{label} {i}: {error!r}")
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    try:
        barrier.wait(timeout=60)
    except threading.BrokenBarrierError:
        pass
    start = time.perf_counter()
    for t in threads:
        t.join()
    return results, time.perf_counter() - start, errors


def run_clients(base: str, n: int, limit: Limit, work) -> tuple[list, float, list[str]]:
    """``work(http, i, requests, deadline)`` in n client threads from one start line."""

    def body(i, go):
        http_ = Http(base)
        try:
            status, _ = http_.call("GET", "/api/v1/health")   # connected before the start line
            if status != 200:
                raise RuntimeError(f"health answered {status}")
            go()
            return work(http_, i, limit.requests(), time.monotonic() + limit.seconds)
        finally:
            http_.close()

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


@dataclass
class Phase:
    """What timed phases gave: (ok, ms, what failed) per request or pair, and their wall time."""

    samples: list[tuple] = field(default_factory=list)
    wall: float = 0.0
    errors: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, per_client: list[list[tuple]], wall: float, errors: list[str]) -> Phase:
        return cls([s for client in per_client for s in client], wall, errors)

    def __add__(self, other: Phase) -> Phase:
        return Phase(self.samples + other.samples, self.wall + other.wall, self.errors + other.errors)

    def summary(self) -> dict:
        ok = [ms for good, ms, _ in self.samples if good]
        failed = dict(Counter(what for good, _, what in self.samples if not good))
        return {"ok": len(ok), "sent": len(self.samples), "rate": len(ok) / self.wall if self.wall else 0.0,
                "p50": pct(ok, .5), "p95": pct(ok, .95),
                "failed": failed | ({"errors": self.errors} if self.errors else {})}


def bench_deposits(ledger_: Ledger, base: str, clients: int, limit: Limit) -> tuple[Phase, list[list[dict]]]:
    """Deposits per second; and each client's items, for it to release next."""
    staff = ledger_.tokens["staff"]
    items: list[list[dict]] = [[] for _ in range(clients)]

    def work(http_, i, requests, deadline):
        out = []
        for j in requests:
            if time.monotonic() > deadline:
                break
            start = time.perf_counter()
            status, body = http_.call("POST", "/api/v1/items", deposit_body(i * 100_003 + j), staff)
            out.append((status == 201, (time.perf_counter() - start) * 1000, status))
            if status == 201:
                items[i].append({key: body[key] for key in ("id", "stub_code", "tag_code")})
        return out

    return Phase.of(*run_clients(base, clients, limit, work)), items


def bench_releases(ledger_: Ledger, base: str, items: list[list[dict]], limit: Limit) -> Phase:
    """Scan -> release latency: each client hands out the items it deposited."""
    kiosk, staff = ledger_.tokens["kiosk"], ledger_.tokens["staff"]

    def work(http_, i, requests, deadline):
        out = []
        for _, item in zip(requests, items[i]):
            if time.monotonic() > deadline:
                break
            start = time.perf_counter()
            scan, answer = http_.call("POST", "/api/v1/scans", {"code": item["stub_code"]}, kiosk)
            release, handed = http_.call("POST", f"/api/v1/items/{item['id']}/release",
                                         {"stub_code": item["stub_code"], "tag_code": item["tag_code"]}, staff)
            good = (scan == 200 and answer.get("next") == "present_at_desk"
                    and release == 200 and handed.get("status") == "released")
            out.append((good, (time.perf_counter() - start) * 1000, f"{scan}/{release}"))
        return out

    return Phase.of(*run_clients(base, len(items), limit, work))


def warm_up(ledger_: Ledger, server: Server, rounds: int) -> None:
    """Sequential deposit, scan, release rounds on fresh connections (so that every process gets
    some), plus a read of the item and of the held list; untimed."""
    staff, kiosk = ledger_.tokens["staff"], ledger_.tokens["kiosk"]
    for i in range(rounds):
        http_ = Http(server.base)
        try:
            status, item = http_.call("POST", "/api/v1/items", deposit_body(i), staff)
            if status != 201:
                raise RuntimeError(f"{server.name}: warm-up deposit answered {status}: {item}")
            scan, _ = http_.call("POST", "/api/v1/scans", {"code": item["stub_code"]}, kiosk)
            release, _ = http_.call("POST", f"/api/v1/items/{item['id']}/release",
                                    {"stub_code": item["stub_code"], "tag_code": item["tag_code"]}, staff)
            if (scan, release) != (200, 200):
                raise RuntimeError(f"{server.name}: warm-up scan/release answered {scan}/{release}")
            if server.name == "project":
                http_.call("GET", f"/api/v1/items/{item['id']}", token=staff)
                http_.call("GET", "/api/v1/items?status=held&limit=50", token=ledger_.tokens["supervisor"])
        finally:
            http_.close()


def print_jobs(ledger_: Ledger) -> dict[str, int]:
    return dict(ledger_.sql("SELECT status, count(*) FROM print_jobs GROUP BY status"))


@contextmanager
def print_worker(ledger_: Ledger):
    """The print-worker process `kiosk serve` starts (web/serving.py), up until it has drawn a label
    (or 30 s have passed), stopped on exit."""
    before = print_jobs(ledger_).get("printed", 0)
    with open(ledger_.workdir / "print-worker.log", "a") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "web.serving", "worker", "print"], cwd=ROOT,
                                   env=ledger_.env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while print_jobs(ledger_).get("printed", 0) == before and time.monotonic() < deadline:
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=60)


# ---------------------------------------------------------------- 1-5: project vs floor, one database

def bench_servers(ledger_: Ledger, args) -> dict:
    out: dict = {"cells": {}, "rss": {}}
    for processes in args.processes:
        # Both servers up at once, taking turns round by round: on a shared machine others' work
        # changes by the minute, and each cell's two sides should see the same machine.
        with served(ledger_, "project", processes) as ours, served(ledger_, "floor", processes) as floor:
            servers = {"project": ours, "floor": floor}
            for server in servers.values():
                warm_up(ledger_, server, rounds=4 * processes)
            if processes == 1:
                time.sleep(0.5)
                out["rss"]["idle"] = max(filter(None, map(rss_mb, ours.request_pids())), default=None)
            for clients in args.clients:
                runs = {name: [Phase(), Phase()] for name in servers}
                # The machine's CPU-seconds and the seconds that passed, over the deposit phases.
                busy = {name: [0.0, 0.0] for name in servers}
                for _ in range(args.rounds):
                    for name, server in servers.items():
                        ledger_.analyze()
                        cpu, wall = machine_busy(), time.monotonic()
                        deposits, items = bench_deposits(ledger_, server.base, clients, args.limit)
                        busy[name][0] += machine_busy() - cpu
                        busy[name][1] += time.monotonic() - wall
                        ledger_.analyze()
                        releases = bench_releases(ledger_, server.base, items, args.limit)
                        runs[name] = [runs[name][0] + deposits, runs[name][1] + releases]
                for name, (deposits, releases) in runs.items():
                    cell = out["cells"][name, processes, clients] = {
                        "deposits": deposits.summary() | {"cores_busy": busy[name][0] / busy[name][1]},
                        "releases": releases.summary()}
                    log(ledger_.kind, f"{name:7}, {processes} process(es), {clients:2} clients: "
                                      f"{cell['deposits']['rate']:7.1f} deposits/s, scan->release p95 "
                                      f"{cell['releases']['p95']:6.1f} ms")
            if processes == 1:
                out["rss"]["loaded"] = max(filter(None, map(rss_mb, ours.request_pids())), default=None)

    # 3. The print worker beside the requests: one `kiosk serve --no-print-worker` and the print-worker
    # process `kiosk serve` starts, running in the "on" rounds and stopped in the "off" ones, so that
    # both see the same machine. The "off" rounds leave it a backlog, as a burst of deposits would:
    # it works all through the "on" rounds. The labels of the runs above are marked printed first.
    ledger_.sql("UPDATE print_jobs SET status = 'printed' WHERE status = 'queued'")
    clients = out["print_clients"] = PRINT_CLIENTS if PRINT_CLIENTS in args.clients else max(args.clients)
    for processes in args.processes:
        with served(ledger_, "project", processes) as server:
            warm_up(ledger_, server, rounds=2)
            runs = {mode: [Phase(), Phase()] for mode in ("off", "on")}
            printed = 0
            for _ in range(args.rounds):
                for mode in runs:
                    with print_worker(ledger_) if mode == "on" else nullcontext() as worker:
                        before = print_jobs(ledger_).get("printed", 0)
                        ledger_.analyze()
                        deposits, items = bench_deposits(ledger_, server.base, clients, args.limit)
                        ledger_.analyze()
                        releases = bench_releases(ledger_, server.base, items, args.limit)
                        if worker:
                            printed += print_jobs(ledger_).get("printed", 0) - before
                            out["rss"]["print_worker"] = rss_mb(worker.pid)
                    runs[mode] = [runs[mode][0] + deposits, runs[mode][1] + releases]
            for mode, (deposits, releases) in runs.items():
                out["cells"][f"print worker {mode}", processes, clients] = {
                    "deposits": deposits.summary() | {"labels_per_s": printed / (deposits.wall + releases.wall)},
                    "releases": releases.summary()}
            log(ledger_.kind, f"print worker off/on, {processes} process(es): " + ", ".join(
                f"{out['cells'][f'print worker {mode}', processes, clients]['deposits']['rate']:.1f}"
                for mode in runs) + f" deposits/s; {printed} labels drawn while on")

    done = ledger_.cli("audit", "verify", check=False)
    out["verify"] = (done.stdout + done.stderr).strip()
    out["verified"] = done.returncode == 0
    log(ledger_.kind, f"audit verify: {out['verify'].splitlines()[0] if out['verify'] else done.returncode}")
    return out


# ---------------------------------------------------------------- 6. the held list on a big table

NAIVE = "SELECT * FROM items WHERE status = 'held' ORDER BY deposited_at DESC LIMIT 50 OFFSET :k"
KEYSET_CORE = "SELECT * FROM items WHERE status = 'held' AND id < :before ORDER BY id DESC LIMIT 51"


def fill_history(ledger_: Ledger, total: int) -> dict:
    """Bulk-insert ``total`` historical items (~1% held): bench/history.py, shared with the supervisor bench."""
    return history.fill_history(ledger_.url, ledger_.kind, total)


def bench_list_queries(ledger_: Ledger, runs: int) -> dict:
    engine = make_engine(ledger_.url)
    sessions = session_factory(engine, audit_key=BENCH_AUDIT_KEY)
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


def bench_list_api(ledger_: Ledger, base: str, runs: int, cursors: list) -> dict:
    supervisor = ledger_.tokens["supervisor"]
    http_ = Http(base)

    def get(cursor):
        query = f"/api/v1/items?status=held&limit={LIST_LIMIT}" + (f"&cursor={cursor}" if cursor else "")
        status, body = http_.call("GET", query, token=supervisor)
        if status != 200 or len(body["items"]) != LIST_LIMIT:
            raise RuntimeError(f"GET /items answered {status}: {str(body)[:200]}")

    try:
        for _ in range(5):
            get(None)
        return {"first": timed(runs, lambda i: get(None)), "deep": timed(runs, lambda i: get(cursors[i]))}
    finally:
        http_.close()


# ---------------------------------------------------------------- one database, all sections

def bench_database(kind: str, args) -> dict:
    with fresh_ledger(kind, args.pg_url) as ledger_:
        ledger_.set_up()
        log(kind, f"ledger ready ({ledger_.url})")
        out = bench_servers(ledger_, args)

        # 6: no server runs while the history is written.
        out["held_before"] = ledger_.sql("SELECT count(*) FROM items WHERE status = 'held'")[0][0]
        fill = out["fill"] = fill_history(ledger_, args.history)
        if not fill["built"]:
            return out
        log(kind, f"history: {fill['rows']:,} rows ({fill['held']:,} held) in {fill['seconds']:.1f} s "
                  f"+ analyze {fill['analyze']:.1f} s")
        out["list"] = bench_list_queries(ledger_, args.runs)
        with served(ledger_, "project", 1) as server:
            out["api_list"] = bench_list_api(ledger_, server.base, args.runs, out["list"]["cursors"])
        log(kind, "list timings done")
        return out


# ---------------------------------------------------------------- report

def table(title: str, headers: list[str], rows: list[list], notes: list[str] = ()) -> None:
    """A Markdown table (the README's are pasted from here)."""
    cells = [[fmt(v) if not isinstance(v, str) else v for v in row] for row in rows]
    widths = [max(len(str(r[c])) for r in [headers, *cells]) for c in range(len(headers))]
    print(f"\n{title}\n")
    for n, row in enumerate([headers, ["-" * w for w in widths], *cells]):
        print("| " + " | ".join(str(v).ljust(widths[c]) if c == 0 or n == 1 else str(v).rjust(widths[c])
                                for c, v in enumerate(row)) + " |")
    for note in notes:
        print(f"\n{note}")


def p50_95(section: dict) -> str:
    return f"{fmt(section['p50'])} / {fmt(section['p95'])}"


def times(value) -> str:
    return f"{value:.2f}×" if value else "-"


def report_servers(db: str, out: dict, args) -> list[str]:
    """The side-by-side table of one database; returns the failures it saw."""
    cells = out["cells"]
    rows, failures = [], []
    for (name, processes, clients), cell in cells.items():
        for phase in ("deposits", "releases"):
            if cell[phase]["failed"] or not cell[phase]["ok"]:
                failures.append(f"{NAMES[db]} {name} {processes}p {clients}c {phase}: "
                                f"{cell[phase]['ok']}/{cell[phase]['sent']} ok, failed {cell[phase]['failed']}")
    for processes in args.processes:
        for clients in args.clients:
            ours, floor = cells["project", processes, clients], cells["floor", processes, clients]
            rows.append([str(processes), str(clients),
                         ours["deposits"]["rate"], floor["deposits"]["rate"],
                         times(ratio(ours["deposits"]["rate"], floor["deposits"]["rate"])),
                         p50_95(ours["releases"]), p50_95(floor["releases"]),
                         times(ratio(ours["releases"]["p95"], floor["releases"]["p95"]))])
    notes = []
    if len(args.processes) > 1:
        few, many = min(args.processes), max(args.processes)
        clients = PRINT_CLIENTS if PRINT_CLIENTS in args.clients else max(args.clients)
        rate = lambda name, processes: cells[name, processes, clients]["deposits"]["rate"]  # noqa: E731
        grow = {name: ratio(rate(name, many), rate(name, few)) for name in SERVERS}
        notes.append(f"Deposits/s from {few} to {many} app processes at {clients} clients: project "
                     f"{times(grow['project'])}, floor {times(grow['floor'])}.")
        # What more processes can add depends on what the machine has left: its cores are shared by
        # the app, PostgreSQL and the load tool. The machine's CPU per deposit (all of them) says how
        # many deposits its cores allow at most, while that cost stays what it was.
        cost = {(name, processes): (cells[name, processes, clients]["deposits"].get("cores_busy"),
                                    cells[name, processes, clients]["deposits"]["rate"])
                for name in SERVERS for processes in (few, many)}
        if all(busy and per_s for busy, per_s in cost.values()):
            notes.append(f"The machine's CPU per deposit at {clients} clients, every process counted, and the cores "
                         f"busy (of {os.cpu_count()}): " + "; ".join(
                             f"{name} {processes} process(es) {1000 * busy / per_s:.1f} ms ({busy:.2f})"
                             for (name, processes), (busy, per_s) in cost.items()) + ".")
    table(f"### {NAMES[db]}: project vs floor (app processes x {THREADS} threads; ratio = project / floor)",
          ["processes", "clients", "deposits/s project", "deposits/s floor", "ratio",
           "scan→release p50 / p95 ms project", "floor", "p95 ratio"], rows, notes)
    return failures


def report(results: dict, args, command: str) -> list[str]:
    dbs = list(results)
    failures = []
    for db in dbs:
        failures += report_servers(db, results[db], args)

    rows = []
    clients = results[dbs[0]]["print_clients"]
    for db in dbs:
        cells = results[db]["cells"]
        for processes in args.processes:
            for mode in ("off", "on"):
                cell = cells[f"print worker {mode}", processes, clients]
                rows.append([NAMES[db], str(processes), mode, cell["deposits"]["rate"], p50_95(cell["releases"]),
                             cell["deposits"]["labels_per_s"] if mode == "on" else "-"])
    table(f"### The print worker beside the requests ({clients} clients; preview:// printer, a PNG per label)",
          ["database", "processes", "print worker", "deposits/s", "scan→release p50 / p95 ms", "labels/s drawn"],
          rows, ["One `kiosk serve --no-print-worker`; the print-worker process `kiosk serve` starts (nice 10) runs "
                 "in the \"on\" rounds, with a backlog, and is stopped in the \"off\" ones."])

    rss = lambda key: [results[d]["rss"].get(key) for d in dbs]  # noqa: E731
    table("### Memory (RSS, MB) and the audit chain", ["", *(NAMES[d] for d in dbs)], [
        ["request process after a few requests (idle)", *rss("idle")],
        ["request process after the load", *rss("loaded")],
        ["print-worker process", *rss("print_worker")],
        ["`kiosk audit verify` after both servers' writes", *(results[d]["verify"].splitlines()[0] for d in dbs)],
    ])
    failures += [f"{NAMES[d]} audit chain: {results[d]['verify']}" for d in dbs if not results[d]["verified"]]

    report_list(results, args, dbs)
    print(f"\ncommand: {command}")
    return failures


def report_list(results: dict, args, dbs: list[str]) -> None:
    built = []
    for d in dbs:
        fill = results[d].get("fill", {})
        built.append(f"{fill['rows']:,}" if fill.get("built") else f"skipped (~{fill['projected']:.0f} s)")
    p = lambda source, key, q: [pct(results[d][source][key], q) if source in results[d] else None  # noqa: E731
                                for d in dbs]
    verdicts = []
    for d in dbs:
        listed = results[d].get("list")
        met = listed and max(pct(listed["first"], .95), pct(listed["deep"], .95)) < PG_LIST_TARGET_MS
        verdicts.append(("met" if met else "MISSED") if d == "postgres" and listed else "-")
    rows = [
        ["rows in items", *built],
        ["held rows", *[results[d].get("fill", {}).get("held") for d in dbs]],
        ["  of which left held by the runs above", *[results[d].get("held_before") for d in dbs]],
        ["bulk insert (s)", *[results[d].get("fill", {}).get("seconds") for d in dbs]],
        ["ANALYZE (s)", *[results[d].get("fill", {}).get("analyze") for d in dbs]],
    ]
    for label, source, key in (
            ("list_items first page", "list", "first"), ("list_items deep cursor", "list", "deep"),
            ("same keyset SQL, Core rows, deep", "list", "core_deep"), ("naive OFFSET 0", "list", "naive_first"),
            ("naive OFFSET deep", "list", "naive_deep"), ("API GET first page", "api_list", "first"),
            ("API GET deep cursor", "api_list", "deep")):
        rows += [[f"{label} p50 (ms)", *p(source, key, .5)], [f"{label} p95 (ms)", *p(source, key, .95)]]
    rows += [["index ix_items_status_id used",
              *[("yes" if results[d]["list"]["uses_index"] else "NO") if "list" in results[d] else "-" for d in dbs]],
             [f"target p95 < {PG_LIST_TARGET_MS:.0f} ms (PostgreSQL, list_items)", *verdicts]]
    table(f"### Held list with {args.history:,} historical items (~1% held), {args.runs} runs each, "
          f"limit {LIST_LIMIT}", ["", *(NAMES[d] for d in dbs)], rows, [
              "deep = a random page past the first, the same depth for the keyset cursor and the OFFSET; "
              "naive = SELECT * FROM items WHERE status='held' ORDER BY deposited_at DESC LIMIT 50 OFFSET k; "
              "list_items builds ORM objects, the Core and naive rows are plain tuples; API = one client, "
              "sequential, JSON included, `kiosk serve --workers 1`."])
    for d in dbs:
        listed = results[d].get("list")
        if listed:
            print(f"\n{NAMES[d]} plan of the list_items query (deep cursor):")
            print("\n".join(f"    {line}" for line in listed["plan"]))
            print(f"{NAMES[d]} plan of the naive OFFSET query (k=5000):")
            print("\n".join(f"    {line}" for line in listed["naive_plan"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="a smoke run: a few requests per client, one round")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each timed phase")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per cell, the servers taking turns")
    parser.add_argument("--clients", default=None, help="client counts, e.g. 1,4,8,16 (quick: 1,4)")
    parser.add_argument("--processes", default="1,2", help="app process counts")
    parser.add_argument("--history", type=int, default=None, help="historical items for the held list")
    parser.add_argument("--pg-url", default=os.environ.get("KIOSK_BENCH_DATABASE_URL", PG_URL),
                        help="a PostgreSQL database; the bench works in a schema of its own there")
    args = parser.parse_args()
    numbers = lambda spec: [int(n) for n in spec.split(",")]  # noqa: E731
    args.clients = numbers(args.clients or ("1,4" if args.quick else "1,4,8,16"))
    args.processes = numbers(args.processes)
    args.limit = Limit(seconds=30.0, count=3) if args.quick else Limit(seconds=args.seconds)
    args.history = args.history or (20_000 if args.quick else 1_000_000)
    args.runs = 10 if args.quick else 200
    args.rounds = 1 if args.quick else args.rounds
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    command = " ".join([".venv/bin/python", "bench/ledger_bench.py", *sys.argv[1:]])
    print(f"ledger bench: {', '.join(NAMES[d] for d in dbs)}; project vs floor; {args.processes} app processes x "
          f"{THREADS} threads; {args.clients} clients; "
          f"{f'{args.limit.count} requests' if args.limit.count else f'{args.limit.seconds:g} s'} per client and "
          f"phase, {args.rounds} round(s) per cell; {args.history:,} historical items; {os.cpu_count()} CPUs; "
          f"load average {os.getloadavg()[0]:.2f} (others' work on the machine skews the figures)", flush=True)
    # Stopped from outside, still stop the servers and drop the schema on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = {}
    started = time.perf_counter()
    for kind in dbs:
        t0 = time.perf_counter()
        results[kind] = bench_database(kind, args)
        log(kind, f"done in {time.perf_counter() - t0:.0f} s")
    failures = report(results, args, command)
    print(f"total time: {time.perf_counter() - started:.0f} s; load average over the last 15 minutes "
          f"{os.getloadavg()[2]:.2f}")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
