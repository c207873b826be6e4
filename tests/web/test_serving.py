"""`kiosk serve` as processes: gunicorn workers answer, a print-worker process of its own prints,
and a process that never decodes or previews never loads the scanning and printing libraries."""
import os
import re
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from kiosk import accounts
from tests.conftest import TEST_SECRET, luggage, sealed_verdict
from tests.printing.conftest import LoopbackPrinter
from tests.printing.escpos_helpers import part_text, split_parts
from web.serving import default_workers, gunicorn_command

# What scanning and printing load (cv2, numpy, Pillow, python-escpos, qrcode, the two QR readers).
HEAVY_MODULES = ("cv2", "numpy", "PIL", "escpos", "qrcode", "zxingcpp", "pyzbar")
# The same libraries as shared objects in a process's memory map.
HEAVY_LIBRARIES = re.compile(r"/(cv2|numpy|PIL|zxingcpp|pyzbar)/|zxingcpp\.|libzbar")

LEAN_PROCESS = """
import sys
from web import create_app
from kiosk import accounts
app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": sys.argv[2]})
with app.extensions["kiosk.sessions"]() as session:
    accounts.add_user(session, "lin", "staff")
    staff = accounts.create_token(session, user_name="lin")
    kiosk = accounts.create_token(session, device="lobby-1")
    session.commit()
client = app.test_client()
body = {"kind": "short_term", "owner": {"unit": "1-1", "name": "王芳", "phone": "13900000000"},
        "expected_pickup_at": "2099-01-01T09:00+08:00"}
item = client.post("/api/v1/items", json=body, headers={"Authorization": f"Bearer {staff}"}).get_json()
scan = client.post("/api/v1/scans", json={"code": item["stub_code"]}, headers={"Authorization": f"Bearer {kiosk}"})
release = client.post(f"/api/v1/items/{item['id']}/release", json={"stub_code": item["stub_code"],
                      "tag_code": item["tag_code"]}, headers={"Authorization": f"Bearer {staff}"})
assert scan.status_code == 200 and release.get_json()["status"] == "released", (scan.data, release.data)
print(" ".join(sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[3:]))))
"""


def test_an_app_that_deposits_scans_and_releases_loads_no_scanning_or_printing_library(database_url, tmp_path):
    env = {**os.environ, "KIOSK_INSTANCE_PATH": str(tmp_path / "instance")}
    done = subprocess.run([sys.executable, "-c", LEAN_PROCESS, database_url, TEST_SECRET, *HEAVY_MODULES],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def job_printed(app, item_id: int) -> bool:
    from sqlalchemy import select

    from kiosk.models import PrintJob

    with app.extensions["kiosk.sessions"]() as session:
        return session.scalar(select(PrintJob.status).where(PrintJob.item_id == item_id)) == "printed"


@pytest.fixture
def serve_env(database_url, tmp_path):
    return {**os.environ, "KIOSK_DATABASE_URL": database_url, "KIOSK_SECRET_KEY": TEST_SECRET,
            "KIOSK_INSTANCE_PATH": str(tmp_path / "instance")}


# `kiosk serve` on a machine without gunicorn (Windows): the import machinery is told it is not there.
WITHOUT_GUNICORN = """
import sys
from web import serving
find_spec = serving.find_spec
serving.find_spec = lambda name: None if name == "gunicorn" else find_spec(name)
from web.cli import main
main()
"""


@contextmanager
def kiosk_serve(env, *args, gunicorn=True):
    """`kiosk serve --port 0 ARGS` in its own process; yields (process, base URL, output lines so far)."""
    program = ["-m", "web.cli"] if gunicorn else ["-c", WITHOUT_GUNICORN]
    process = subprocess.Popen([sys.executable, *program, "serve", "--port", "0", *args], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while not any("serving on" in line for line in lines):
            assert process.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.05)
        port = re.search(r"serving on http://127\.0\.0\.1:(\d+)/", "".join(lines))[1]
        yield process, f"http://127.0.0.1:{port}", lines
    finally:
        process.terminate()
        process.wait(timeout=30)
        reader.join(timeout=5)
        process.stdout.close()


def children(pid: int) -> list[int]:
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def mapped_libraries(pid: int) -> set[str]:
    return {line.split()[-1] for line in Path(f"/proc/{pid}/maps").read_text().splitlines()
            if HEAVY_LIBRARIES.search(line)}


def staff_token(app) -> str:
    with app.extensions["kiosk.sessions"]() as session:
        accounts.add_user(session, "lin", "staff")
        token = accounts.create_token(session, user_name="lin")
        session.commit()
    return token


def test_processes_default_to_the_cores_on_postgresql_and_to_one_on_sqlite():
    assert default_workers("sqlite:////srv/kiosk.sqlite3") == 1
    assert default_workers("postgresql://kiosk@db/kiosk") == len(os.sched_getaffinity(0))


def test_a_gunicorn_worker_keeps_its_app_out_of_the_garbage_collector_s_walks():
    """gunicorn reads web/gunicorn_conf.py; its hook, once the worker has made its app, freezes
    what is alive (in a child process here: the test runner's own objects stay collectable)."""
    command = gunicorn_command("web:create_app()", "127.0.0.1:0", workers=1, threads=2)
    assert command[command.index("--config") + 1] == "python:web.gunicorn_conf"
    frozen = subprocess.run([sys.executable, "-c", "import gc; from web import gunicorn_conf; "
                             "before = gc.get_freeze_count(); gunicorn_conf.post_worker_init(None); "
                             "print(before, gc.get_freeze_count())"],
                            capture_output=True, text=True, timeout=60, check=True)
    before, after = map(int, frozen.stdout.split())
    assert before == 0 and after > 1000


def test_the_app_asks_once_whether_a_function_is_a_coroutine_and_keeps_no_dead_one(app):
    """web.KioskFlask.ensure_sync: a function seen once is not asked about again, a coroutine is
    still handed to Flask's own wrapping, and a function made for one request is not kept."""
    import gc
    import inspect

    import flask.app
    from flask import Flask

    def handler(response):
        return response

    asked = []
    real = inspect.iscoroutinefunction
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flask.app, "iscoroutinefunction", lambda func: asked.append(func) or real(func))
        assert app.ensure_sync(handler) is handler and app.ensure_sync(handler) is handler
    assert asked.count(handler) == 1

    async def coroutine():
        return None

    wrapped = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Flask, "async_to_sync", lambda self, func: wrapped.append(func) or (lambda: None))
        assert app.ensure_sync(coroutine) is not coroutine and app.ensure_sync(coroutine) is not coroutine
    assert wrapped == [coroutine, coroutine]

    kept = len(app._synchronous)
    app.ensure_sync(lambda response: response)
    gc.collect()
    assert len(app._synchronous) == kept

    class Unhashable:   # __eq__ without __hash__: no set can hold it, and it is still served
        def __eq__(self, other):
            return self is other

        def __call__(self, response):
            return response

    odd = Unhashable()
    assert app.ensure_sync(odd) is odd and app.ensure_sync(odd) is odd


def test_without_gunicorn_waitress_serves_in_one_process(serve_env):
    with kiosk_serve(serve_env, "--no-print-worker", "--no-notify-worker", gunicorn=False) as (process, base, lines):
        response = requests.get(f"{base}/api/v1/health", timeout=30)
        assert response.status_code == 200 and response.headers["Server"] == "kiosk"
    refused = subprocess.run([sys.executable, "-c", WITHOUT_GUNICORN, "serve", "--workers", "2"], env=serve_env,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "gunicorn" in refused.stderr


needs_proc = pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from /proc")


@needs_proc
def test_two_worker_processes_both_take_deposits(app, serve_env, session):
    token = staff_token(app)
    # gunicorn takes further options from GUNICORN_CMD_ARGS: an access log naming the process.
    env = {**serve_env, "GUNICORN_CMD_ARGS": "--access-logfile - --access-logformat=served-by:%(p)s:%(s)s"}
    with kiosk_serve(env, "--workers", "2", "--threads", "2", "--no-print-worker", "--no-notify-worker") as (process, base, lines):
        served: set[str] = set()
        deadline = time.monotonic() + 60
        while len(served) < 2 and time.monotonic() < deadline:
            # A new connection each time, so that either process may accept it.
            response = requests.post(f"{base}/api/v1/items", json=luggage(), timeout=30,
                                     headers={"Authorization": f"Bearer {token}", "Connection": "close"})
            assert response.status_code == 201, response.text
            time.sleep(0.05)
            served = {pid for pid, status in re.findall(r"served-by:<?(\d+)>?:(\d+)", "".join(lines))
                      if status == "201"}
        [gunicorn] = children(process.pid)
        workers = children(gunicorn)
        assert served == {str(pid) for pid in workers} and len(workers) == 2
        for pid in workers:
            assert mapped_libraries(pid) == set()
    assert sealed_verdict(session).ok


@needs_proc
def test_the_print_worker_process_prints_a_deposit_while_serve_runs(app, serve_env):
    token = staff_token(app)
    printer = LoopbackPrinter()
    try:
        env = {**serve_env, "KIOSK_PRINTER_URL": printer.url}
        with kiosk_serve(env, "--workers", "1", "--threads", "2") as (process, base, lines):
            item = requests.post(f"{base}/api/v1/items", json=luggage(), timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}).json()
            tag, stub = split_parts(printer.wait_for_job(timeout=30))
            assert item["ticket_no"] in part_text(tag) and item["ticket_no"] in part_text(stub)
            processes = {command_line(pid): pid for pid in children(process.pid)}
            [print_worker] = [pid for line, pid in processes.items() if "web.serving worker print" in line]
            [gunicorn] = [pid for line, pid in processes.items() if "gunicorn" in line]

            # Printing loaded the label libraries into the print worker only, never into a request process.
            assert mapped_libraries(print_worker)
            [worker] = children(gunicorn)
            assert mapped_libraries(worker) == set()

            # A print worker that dies is started again, and the next label prints. Killed only
            # once it has marked the first label printed: killed between sending and marking, that
            # label would rightly wait in doubt and hold its printer (tests/e2e/test_print_crash.py).
            deadline = time.monotonic() + 30
            while not job_printed(app, item["id"]):
                assert time.monotonic() < deadline, "the first label was never marked printed"
                time.sleep(0.05)
            os.kill(print_worker, 9)
            deadline = time.monotonic() + 30
            while print_worker in children(process.pid) or len(children(process.pid)) < 2:
                assert time.monotonic() < deadline, "the print worker was not restarted"
                time.sleep(0.1)
            again = requests.post(f"{base}/api/v1/items", json=luggage(), timeout=30,
                                  headers={"Authorization": f"Bearer {token}"}).json()
            tag, _ = split_parts(printer.wait_for_job(count=2, timeout=30))
            assert again["ticket_no"] in part_text(tag)
    finally:
        printer.close()
