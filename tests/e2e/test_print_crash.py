"""A print worker killed at the worst moment never leaves two valid stubs.

The worker is a real `kiosk print-worker` process; the printer is a real TCP server on
loopback that, the instant the label's final cut arrives, kills the worker with SIGKILL:
after the paper came out, before the worker could mark the job printed. Before this design
the next worker re-sent such a job when the lease ran out (3 of 5 kills left a second copy
of a claim stub). A worker can still win that race by a hair and mark its label printed
before the kill lands; such a round leaves nothing in doubt and the test takes another.
"""
import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest

from kiosk import printjobs
from printing.escpos_reader import parse, qr_payloads
from tests.conftest import TEST_SECRET, luggage
from tests.printing.escpos_helpers import part_text, split_parts
from web.print_worker import run_once

pytestmark = pytest.mark.slow
ROUNDS = 3          # workers killed with their label out and not yet marked printed
MAX_ROUNDS = 8


FULL_CUT = b"\x1dV\x00"   # GS V 0: a label ends with it


def _fully_cut(stream: bytes) -> bool:
    try:
        return any(op.name == "cut" and op.args[0] == "full" for op in parse(stream))
    except Exception:  # a command cut in two by the network: wait for the rest
        return False


class KillingPrinter:
    def __init__(self):
        self.jobs: list[bytes] = []
        self.victim: int | None = None
        self.received = threading.Condition()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.url = f"tcp://127.0.0.1:{self._server.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                connection, _ = self._server.accept()
            except TimeoutError:
                continue
            with connection:
                stream = bytearray()
                while chunk := connection.recv(65536):
                    stream += chunk
                    # The label's final (full) cut is on paper: kill the worker now, before it has
                    # even closed the connection, let alone recorded the label as printed. The
                    # bytes are looked at, not parsed: parsing first gave a fast worker the time
                    # to mark the label printed (the whole label is parsed after the kill).
                    if self.victim is not None and stream.endswith(FULL_CUT):
                        os.kill(self.victim, signal.SIGKILL)
                        self.victim = None
            with self.received:
                self.jobs.append(bytes(stream))
                self.received.notify_all()

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()


@pytest.fixture
def killing_printer(app):
    printer = KillingPrinter()
    app.config["PRINTERS"] = {"default": printer.url}
    yield printer
    printer.close()


def _worker(database_url, tmp_path, printer_url):
    env = {**os.environ, "KIOSK_DATABASE_URL": database_url, "KIOSK_SECRET_KEY": TEST_SECRET,
           "KIOSK_INSTANCE_PATH": str(tmp_path / "worker"), "KIOSK_PRINTER_URL": printer_url}
    return subprocess.Popen([sys.executable, "-m", "web.cli", "print-worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_worker_killed_after_the_label_came_out_never_prints_the_stub_twice(
        app, api, killing_printer, database_url, tmp_path):
    deposits, in_doubt = [], []   # in_doubt: (job id, its deposit)
    while len(in_doubt) < ROUNDS:
        # A worker that marks its label printed in the instant before the kill lands leaves no
        # doubt (that round proves nothing, and breaks nothing): take another round.
        assert len(deposits) < MAX_ROUNDS, "the worker kept marking its label printed before it was killed"
        deposit = api.post("/items", json=luggage()).get_json()
        deposits.append(deposit)
        worker = _worker(database_url, tmp_path, killing_printer.url)
        killing_printer.victim = worker.pid
        assert worker.wait(timeout=60) == -signal.SIGKILL
        with killing_printer.received:  # killed first, filed just after
            assert killing_printer.received.wait_for(lambda: len(killing_printer.jobs) == len(deposits), timeout=30)
        assert _fully_cut(killing_printer.jobs[-1])   # the whole label came out before the kill
        # Another worker comes along once the dead one's lease has run out.
        later = datetime.now(UTC) + printjobs.LEASE + timedelta(seconds=20)
        settled = run_once(app, now=later)
        assert settled.printed == [] and len(killing_printer.jobs) == len(deposits)   # never sent again
        assert len(settled.in_doubt) <= 1
        in_doubt += [(job_id, deposit) for job_id in settled.in_doubt]

    stubs = [qr_payloads(split_parts(job)[1])[0] for job in killing_printer.jobs]
    assert sorted(stubs) == sorted(d["stub_code"] for d in deposits)  # each printed once, none twice
    listed = api.get("/print-jobs").get_json()["print_jobs"]
    assert sorted(j["id"] for j in listed if j["status"] == "in_doubt") == sorted(job_id for job_id, _ in in_doubt)

    # Staff decide: two came out fine; the third they cannot tell, so its stub is revoked and reprinted.
    for job_id, _ in in_doubt[:2]:
        assert api.post(f"/print-jobs/{job_id}/confirm").status_code == 200
    unsure_job, unsure = in_doubt[2]
    reprint = api.post(f"/print-jobs/{unsure_job}/reprint", json={"reason": "no label in the tray"})
    assert reprint.status_code == 202
    assert run_once(app).printed == [reprint.get_json()["id"]]
    with killing_printer.received:  # the printer's thread files the job once its connection closes
        assert killing_printer.received.wait_for(lambda: len(killing_printer.jobs) == len(deposits) + 1, timeout=30)
    _, stub = split_parts(killing_printer.jobs[-1])
    assert "REPRINT" in part_text(stub)
    assert api.post("/scans", role="kiosk", json={"code": unsure["stub_code"]}).get_json()["next"] == \
        "wait_for_staff"
    for deposit in deposits:
        if deposit is not unsure:
            assert api.post("/scans", role="kiosk", json={"code": deposit["stub_code"]}).get_json()["next"] == \
                "present_at_desk"
    assert api.post("/scans", role="kiosk", json={"code": qr_payloads(stub)[0]}).get_json()["next"] == \
        "present_at_desk"
