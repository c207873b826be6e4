"""A real WSGI server on loopback for whole-flow and browser tests."""
from __future__ import annotations

import threading
from contextlib import contextmanager

from waitress.server import create_server


@contextmanager
def serve(app, threads: int = 8, port: int = 0):
    """Serve ``app`` with waitress (what `kiosk serve` uses) on loopback; yield its URL.

    On a free port unless ``port`` is given (to bring a stopped server back where it was).

    Stopping closes every socket from inside the server's own loop thread, so the loop
    never polls a descriptor another thread has just closed.
    """
    server = create_server(app, host="127.0.0.1", port=port, threads=threads, ident="kiosk-test")
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        def close_all():
            for channel in list(server._map.values()):
                if channel is not server.trigger:
                    channel.close()
            server.trigger.close()

        try:
            server.trigger.pull_trigger(close_all)
        except OSError:
            # A task thread's own pull woke the loop between our queueing close_all and our pull,
            # and close_all has already run and closed the trigger: the server is stopped.
            if not server.trigger._closed:
                raise
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()


class EventStream:
    """A reader of a server's /events stream (server-sent events) on a thread of its own."""

    def __init__(self, url: str, headers: dict | None = None, timeout: float = 10.0):
        import queue

        import requests

        self.events: queue.Queue = queue.Queue()
        self.ready = threading.Event()
        self._response = requests.get(f"{url}/events", headers=headers or {}, stream=True, timeout=timeout)
        self.status = self._response.status_code
        self._thread = threading.Thread(target=self._read, name="event-stream", daemon=True)
        self._thread.start()
        if self.status == 200 and not self.ready.wait(timeout):
            raise TimeoutError("the event stream did not open")

    def _read(self) -> None:
        import json

        event = {}
        try:
            for line in self._response.iter_lines(chunk_size=None, decode_unicode=True):
                if line == ": ready":
                    self.ready.set()
                elif line == "" and "data" in event:
                    self.events.put((event.get("event", "message"), json.loads(event["data"]), event.get("id")))
                    event = {}
                elif ":" in line and not line.startswith(":"):
                    field, _, value = line.partition(":")
                    event[field] = value.lstrip(" ")
        except Exception:  # the stream was closed under us: the test is over
            pass

    def next(self, kind: str | None = None, timeout: float = 10.0) -> tuple[str, dict, str | None]:
        """The next event (of type ``kind``, skipping others): (type, data, id)."""
        while True:
            event = self.events.get(timeout=timeout)
            if kind is None or event[0] == kind:
                return event

    def close(self) -> None:
        self._response.close()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def kiosk_server(env: dict, *args: str, timeout: float = 30.0):
    """A real `kiosk serve` process on a free loopback port; yield (process, url).

    It leads a process group of its own (it, gunicorn and gunicorn's workers): a test that kills
    the server kills the group (``kill_server``). Stopped with SIGTERM at the end unless the test
    killed it already, and whatever of the group is left is killed then."""
    import os
    import subprocess
    import sys
    import time

    import requests

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port), *args],
                               env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(f"{url}/api/v1/health/live", timeout=1)
                break
            except requests.RequestException:  # not listening yet, or listening before gunicorn answers
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"kiosk serve did not come up: {process.stderr.read()}") from None
                time.sleep(0.1)
        yield process, url
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=15)
        process.stderr.close()
        kill_server(process)   # anything of it still running: gunicorn outlives a killed `kiosk serve`


def kill_server(process) -> None:
    """SIGKILL a `kiosk serve` of ``kiosk_server`` with its gunicorn and workers, as a crash or an
    operator's kill of the service would; killing `kiosk serve` alone leaves gunicorn serving."""
    import os
    import signal

    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
