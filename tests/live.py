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


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def kiosk_server(env: dict, *args: str, timeout: float = 30.0):
    """A real `kiosk serve` process on a free loopback port; yield (process, url).

    Stopped with SIGTERM at the end unless the test killed it already."""
    import os
    import subprocess
    import sys
    import time

    import requests

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port), *args],
                               env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(f"{url}/api/v1/health/live", timeout=1)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"kiosk serve did not come up: {process.stderr.read()}") from None
                time.sleep(0.1)
        yield process, url
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=15)
        process.stderr.close()
