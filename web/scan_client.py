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

from .api.scans import scan_answer
from .auth import desk
from .db import transaction
from .messages import API_LOCALE, message


class LocalLedger:
    """Scans straight into the database this host is configured for, as a kiosk device."""

    def __init__(self, app, device: str):
        self.app = app
        self.actor = Actor(name=f"kiosk:{device}", role="kiosk", device=device)

    def scan(self, text: str) -> dict:
        try:
            with self.app.app_context(), transaction(self.app) as session:
                outcome = claims.scan(session, desk(self.app), self.actor, text)
                answer = scan_answer(self.actor, outcome)
        except KioskError as error:
            return {"error": {"code": error.code, "message": message(error.code, API_LOCALE, **error.params)}}
        return answer.model_dump(mode="json", exclude_unset=True)


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
