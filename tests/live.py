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
