import pytest

from tests.live import serve

# Debian's chromium (scripts/setup installs it); the machine may have no network, so
# Playwright never downloads a browser of its own.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]


@pytest.fixture
def live_server(app):
    """The app behind the same production WSGI server `kiosk serve` uses, on loopback."""
    with serve(app) as url:
        yield url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A lobby screen in mainland China: its browser asks for zh-CN.
    return {**browser_context_args, "locale": "zh-CN", "viewport": {"width": 1280, "height": 800}}
