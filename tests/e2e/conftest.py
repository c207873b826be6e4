import pytest

from tests.live import serve


@pytest.fixture
def live_server(app):
    """The app behind the same production WSGI server `kiosk serve` uses, on loopback."""
    with serve(app) as url:
        yield url
