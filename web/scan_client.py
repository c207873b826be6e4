"""Where `kiosk scan` sends what the camera reads: this host's ledger, or a server's API.

Both paths end in the same scan operation as POST /api/v1/scans.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request

from kiosk import claims
from kiosk.errors import KioskError
from kiosk.values import Actor

from .api import scan_payload
from .auth import desk


class LocalLedger:
    """Scans straight into the database this host is configured for, as a kiosk device."""

    def __init__(self, app, device: str):
        self.app = app
        self.actor = Actor(name=f"kiosk:{device}", role="kiosk", device=device)

    def scan(self, text: str) -> dict:
        with self.app.extensions["kiosk.sessions"]() as session:
            try:
                outcome = claims.scan(session, desk(self.app), self.actor, text)
            except KioskError as error:
                if error.recorded:
                    session.commit()
                return {"error": {"code": error.code, "message": error.message}}
            answer = scan_payload(self.actor, outcome)
            session.commit()
        return answer


class RemoteLedger:
    """Scans through a server's API with a kiosk token."""

    def __init__(self, server: str, token: str, timeout: float = 10.0):
        self.url = server.rstrip("/") + "/api/v1/scans"
        self.token, self.timeout = token, timeout

    def scan(self, text: str) -> dict:
        request = urllib.request.Request(
            self.url, data=json.dumps({"code": text}).encode(), method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            try:
                return json.load(error)
            except ValueError:
                return {"error": {"code": f"http_{error.code}", "message": error.reason}}
            finally:
                error.close()
        except (urllib.error.URLError, TimeoutError) as error:
            return {"error": {"code": "server_unreachable", "message": str(getattr(error, "reason", error))}}


def describe(text: str, answer: dict) -> str:
    """One line for the terminal from a scan answer, local or remote (the same shape)."""
    if "error" in answer:
        return f"{answer['error']['code']}: {answer['error']['message']}"
    ticket = f"{answer['item']['ticket_no']} {answer['role']}: " if "item" in answer else ""
    return f"{ticket}{answer['next']} - {answer['message']}"
