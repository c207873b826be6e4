"""Helpers for the browser tests: enrolment, accessibility checks, screenshots, a fake camera."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from kiosk import enrolment

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def enrol(page, site: str, app, device: str = "lobby-1") -> None:
    """Open a fresh one-time enrolment link for ``device`` in ``page`` and confirm it."""
    with app.extensions["kiosk.sessions"]() as session:
        secret = enrolment.invite(session, device)
        session.commit()
    page.goto(f"{site}/kiosk/enrol/{secret}")
    page.click("#enrol")
    page.wait_for_url(f"{site}/kiosk")


def sign_in(page, site: str, name: str = "lin", path: str = "/desk") -> None:
    """Sign in as ``name`` (password ``<name>-password``) on the way to ``path``, and arrive there."""
    page.goto(f"{site}{path}")
    page.fill("#name", name)
    page.fill("#password", f"{name}-password")
    page.press("#password", "Enter")
    page.wait_for_url(f"{site}{path}")


def watch_console(page) -> list[str]:
    """Collect the page's script errors and refusals (a blocked inline script would show up here).

    Chromium also logs every 4xx answer and refused connection as a console error; those are
    the API answering or the server being away, which the tests look at on the screen instead.
    """
    errors: list[str] = []

    def console(message):
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def serious_violations(page) -> list[dict]:
    """axe-core's serious and critical accessibility violations on the page as it is now."""
    # Evaluated through the DevTools protocol, which the page's CSP does not govern.
    page.evaluate(AXE.read_text())
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 5) -> None:
    """A YUV4MPEG2 (I420) video, the format Chromium's fake camera plays in a loop."""
    height, width = frames[0].shape[:2]
    with path.open("wb") as handle:
        handle.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            handle.write(b"FRAME\n")
            handle.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
