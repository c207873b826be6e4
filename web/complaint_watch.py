"""Keeps the desk's promises visible: every promised reply not given in time raises one alert,
on the owner's desk and the supervisor's screen. A thread of `kiosk serve`, or
`kiosk complaints check-overdue` from cron."""
from __future__ import annotations

import logging
import threading
from datetime import datetime

from flask import Flask

from kiosk import complaints
from kiosk.values import Actor

from .db import transaction

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 60.0


def run_once(app: Flask, now: datetime | None = None) -> list[int]:
    """Raise the alerts now due; their ids. Several servers may run this at once (SKIP LOCKED)."""
    watcher = Actor(name="overdue-check", role="system", device=app.config.get("DEVICE_NAME"))
    with transaction(app) as session:
        return [alert.id for alert in complaints.raise_overdue_alerts(session, watcher, now=now)]


def run_forever(app: Flask, stop: threading.Event, interval: float = INTERVAL_SECONDS) -> None:
    while not stop.is_set():
        try:
            run_once(app)
        except Exception:  # a database hiccup must not end the watch
            log.exception("overdue reply check failed")
        stop.wait(interval)


def start_thread(app: Flask) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(app, stop), name="overdue-check", daemon=True).start()
    return stop
