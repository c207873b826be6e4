"""`kiosk serve` as processes: gunicorn's workers answer requests, a process of its own prints.

    kiosk serve        binds the socket, starts and watches the two below, stops them on SIGTERM/SIGINT
    ├── gunicorn       --workers processes x --threads threads, each process with its own create_app()
    └── workers        `python -m web.serving worker print notify`: sends queued labels and owner
                       notifications, at a lower CPU priority

Processes, because one Python process runs one thread at a time: threads overlap waits on the
database, processes also overlap the Python work of requests. App processes share nothing but
the database, so any number of them (and of hosts) can serve one PostgreSQL ledger. On SQLite
every write transaction takes the one database file's lock, so a second process adds waiting,
not throughput: one process is the default there.

The background workers (labels, notifications) run in a process of their own so that drawing
preview PNGs (Pillow, numpy) never holds the request processes' interpreter lock, and never
loads those libraries into them.
Where gunicorn is missing (it does not run on Windows), waitress serves in this process instead,
one process only.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from importlib.util import find_spec

from . import create_app, gunicorn_conf
from .db import engine

APP = "web:create_app()"
PRINT_WORKER_NICE = 10          # the kernel favours request processes when the CPU is short
RESTART_DELAY_S = 5.0           # a print worker that keeps dying is restarted at most this often
STOP_TIMEOUT_S = 15.0

log = logging.getLogger(__name__)


class ServingError(RuntimeError):
    pass


def default_workers(database_url: str) -> int:
    """One process per core on PostgreSQL; one on SQLite (a single writer: see the module doc),
    and wherever gunicorn is missing."""
    if database_url.startswith("sqlite") or find_spec("gunicorn") is None:
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def gunicorn_command(app: str, bind: str, *, workers: int, threads: int) -> list[str]:
    """The gunicorn command line `kiosk serve` runs; the ledger bench serves its floor with it too.

    Threaded workers (gthread): a request mostly waits on the database, and a thread is what a
    waiting request costs. More options can be given in GUNICORN_CMD_ARGS.
    """
    return [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "gthread",
            "--threads", str(threads), "--bind", bind, "--graceful-timeout", "10",
            # No control socket: its default path is per user, so two servers of one user would collide.
            "--no-control-socket", "--config", "python:web.gunicorn_conf", app]


def serve(host: str, port: int, *, workers: int, threads: int, print_worker: bool, notify_worker: bool = True,
          announce=print) -> int:
    """Serve until SIGTERM or SIGINT; the exit status (non-zero when the HTTP server failed)."""
    gunicorn = find_spec("gunicorn") is not None
    if not gunicorn and workers > 1:
        raise ServingError("several worker processes need gunicorn, which is not installed here")
    # Each open live page (desk, kiosk, complaints, handover, security) holds a thread while it
    # listens: let half of them do so, unless the operator chose (KIOSK_EVENT_STREAMS).
    os.environ.setdefault("KIOSK_EVENT_STREAMS", str(max(1, threads // 2)))
    # Bound here, so that port 0 gives a free port this process can name before anything listens.
    listener = socket.create_server((host, port))
    bound = listener.getsockname()[1]
    server = f"gunicorn, {workers} process(es) x {threads} threads" if gunicorn else f"waitress, {threads} threads"
    announce(f"serving on http://{host}:{bound}/  ({server}; API: /api/v1, OpenAPI: /api/openapi.json)")
    if not gunicorn:
        import waitress

        printer = BackgroundWorkers(print_worker, notify_worker).start()
        try:
            app = create_app()
            gunicorn_conf.freeze()
            waitress.serve(app, sockets=[listener], threads=threads, ident="kiosk")
        finally:
            if printer:
                printer.stop()
        return 0

    stopping = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    http = printer = None
    try:
        printer = BackgroundWorkers(print_worker, notify_worker).start()
        with listener:   # gunicorn holds its own copy of the socket
            # Each process keeps a database connection per thread (web/db.py).
            http = subprocess.Popen(gunicorn_command(APP, f"fd://{listener.fileno()}", workers=workers,
                                                     threads=threads), pass_fds=(listener.fileno(),),
                                    env={**os.environ, "KIOSK_DB_POOL_SIZE": str(threads)})
        while not stopping.wait(0.2):
            if http.poll() is not None:
                log.error("gunicorn exited with status %s", http.returncode)
                return http.returncode or 1
        return 0
    finally:
        if http is not None:
            _stop(http)
        if printer:
            printer.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class BackgroundWorkers:
    """The workers' child process: started, restarted whenever it dies, stopped with the server.
    With neither worker wanted, nothing is started."""

    def __init__(self, print_worker: bool = True, notify_worker: bool = True) -> None:
        # Overdue complaint replies are reminders too: they are watched beside the notify worker.
        self.jobs = [name for name, wanted in (("print", print_worker), ("notify", notify_worker),
                                               ("complaints", notify_worker)) if wanted]
        self.process: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._keep_running, name="workers-watcher", daemon=True)

    def start(self) -> BackgroundWorkers:
        if self.jobs:
            self._watcher.start()
        return self

    def _keep_running(self) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            self.process = subprocess.Popen([sys.executable, "-m", "web.serving", "worker", *self.jobs])
            while self.process.poll() is None:
                if self._stopping.wait(0.2):
                    return
            log.error("background workers exited with status %s; restarting them", self.process.returncode)
            # A worker that dies at once (say, the database is down) is not restarted in a tight loop.
            self._stopping.wait(max(0.0, RESTART_DELAY_S - (time.monotonic() - started)))

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher.is_alive():
            self._watcher.join()
        if self.process is not None:
            _stop(self.process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_workers(jobs: list[str]) -> None:
    """The workers' process: each job's loop in a thread, until SIGTERM or SIGINT, or until the
    server that started it is gone."""
    from . import complaint_watch, notify_worker, print_worker

    loops = {"print": print_worker.run_forever, "notify": notify_worker.run_forever,
             "complaints": complaint_watch.run_forever}
    os.nice(PRINT_WORKER_NICE)
    logging.basicConfig(level=logging.INFO, format="[workers %(process)d] %(levelname)s %(message)s")
    app = create_app()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    parent = os.getppid()

    def watch_parent():
        while not stop.wait(1.0):
            if os.getppid() != parent:
                stop.set()

    threading.Thread(target=watch_parent, daemon=True).start()
    threads = [threading.Thread(target=loops[job], args=(app, stop), name=f"{job}-worker") for job in jobs]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        engine(app).dispose()


if __name__ == "__main__":
    jobs = sys.argv[2:]
    if sys.argv[1:2] != ["worker"] or not jobs or not set(jobs) <= {"print", "notify", "complaints"}:
        sys.exit("usage: python -m web.serving worker print|notify|complaints...")
    run_workers(jobs)
