"""A real WSGI server on loopback for whole-flow and browser tests."""
from __future__ import annotations

import threading
from contextlib import contextmanager

from waitress.server import create_server


@contextmanager
def serve(app, threads: int = 8):
    """Serve ``app`` with waitress (what `kiosk serve` uses) on a free loopback port; yield its URL.

    Stopping closes every socket from inside the server's own loop thread, so the loop
    never polls a descriptor another thread has just closed.
    """
    server = create_server(app, host="127.0.0.1", port=0, threads=threads, ident="kiosk-test")
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

        server.trigger.pull_trigger(close_all)
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

    def next(self, timeout: float = 10.0) -> tuple[str, dict, str | None]:
        return self.events.get(timeout=timeout)

    def close(self) -> None:
        self._response.close()
