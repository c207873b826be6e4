import threading

import pytest
from waitress.server import create_server


@pytest.fixture
def live_server(app):
    """The app behind the same production WSGI server `kiosk serve` uses, on loopback."""
    server = create_server(app, host="127.0.0.1", port=0, threads=8, ident="kiosk-test")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.task_dispatcher.shutdown()
    # Close the kept-alive client channels too, or their sockets are left for the GC to find.
    for channel in list(server._map.values()):
        channel.close()
    thread.join(timeout=5)
