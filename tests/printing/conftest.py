"""Fixtures for the printing tests: label values and a loopback TCP printer."""

from __future__ import annotations

import socket
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from printing import LabelData

SHANGHAI = timezone(timedelta(hours=8))
TAG = "K1T-2BX-0-7Q2MABCDEFGHJKMNPQRS"
STUB = "K1S-2BX-0-7Q2MABCDEFGHJKMNPQRS"
PICKUP = "K1P-2BX-0-7Q2MABCDEFGHJKMNPQRS"


def base_label(**changes) -> LabelData:
    label = LabelData(
        ticket_no="A-0042",
        kind="luggage",
        unit="12-0301",
        owner_name_masked="张*",
        owner_phone_masked="138****5678",
        deposited_at=datetime(2025, 11, 22, 9, 39, tzinfo=SHANGHAI),
        staff="李小红",
        location="前台 Front desk",
        tag_code=TAG,
        claim_code=STUB,
        expected_pickup_at=datetime(2025, 11, 23, 18, 0, tzinfo=SHANGHAI),
        description="黑色拉杆箱 black trolley case",
    )
    return replace(label, **changes)


@pytest.fixture
def label() -> LabelData:
    return base_label()


class LoopbackPrinter:
    """A real TCP server on 127.0.0.1 that records every connection's bytes.

    ``status_reply`` is sent back when a DLE EOT 4 status query arrives
    (None: stay silent, as many printers do).
    """

    def __init__(self, status_reply: bytes | None = None, port: int = 0) -> None:
        self.status_reply = status_reply
        self.jobs: list[bytes] = []
        self._done = threading.Condition()
        self._server = socket.create_server(("127.0.0.1", port))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                chunks = []
                while True:
                    try:
                        chunk = conn.recv(65536)
                    except TimeoutError:
                        break
                    if not chunk:
                        break
                    chunks.append(chunk)
                    if b"".join(chunks) == b"\x10\x04\x04":
                        if self.status_reply is not None:
                            conn.sendall(self.status_reply)
                        else:
                            # Silent printer: hold the line until the client gives up.
                            conn.settimeout(3)
            with self._done:
                self.jobs.append(b"".join(chunks))
                self._done.notify_all()

    def wait_for_job(self, count: int = 1, timeout: float = 5) -> bytes:
        with self._done:
            assert self._done.wait_for(lambda: len(self.jobs) >= count, timeout), "printer got no job"
            return self.jobs[count - 1]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()


@pytest.fixture
def loopback_printer():
    printer = LoopbackPrinter()
    yield printer
    printer.close()


@pytest.fixture
def dead_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
