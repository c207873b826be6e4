"""The pages people touch: server-rendered, in zh-Hans or English, with their assets served from here.

Views are thin like the API's: read the form, call the domain, commit once
(``committed``), render. A failure shows a calm page in the visitor's
language, never a stack trace.
"""
from __future__ import annotations

import logging
import os
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from kiosk.db import unit_of_work

from .. import db
from ..errors import RETRY_AFTER_SECONDS, error_body
from ..messages import message

log = logging.getLogger(__name__)

# The database is down, restarting or out of connections (as the API's 503 unavailable).
DATABASE_AWAY = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)


def committed(view):
    """Run the view in the request's one transaction (the API's boundary): commit if it
    returns, roll back if it raises."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        with unit_of_work(db.session()):
            return view(*args, **kwargs)

    return wrapper


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site (for ?next= and the language switch), else ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def page_error(error: Exception):
    if isinstance(error, CSRFError):
        return render_template("error.html", status=400, reason="csrf"), 400
    if isinstance(error, HTTPException):
        return render_template("error.html", status=error.code, reason="http"), error.code
    if isinstance(error, DATABASE_AWAY):
        log.warning("database unavailable on %s: %s", request.path, error)
        return (render_template("error.html", status=503, reason="unavailable"), 503,
                {"Retry-After": str(RETRY_AFTER_SECONDS)})
    log.exception("page failed")
    return render_template("error.html", status=500, reason="internal"), 500


def blueprint(name: str) -> Blueprint:
    bp = Blueprint(name, __name__)
    bp.register_error_handler(Exception, page_error)
    return bp


def init_app(app: Flask) -> None:
    from . import (complaint_reports, complaints, desk, handover, keys, kiosk, language, mail, security_desk, staff,
                   supervisor, supervisor_item)

    # How long the kiosk shows an answer before it returns to its welcome screen, and how
    # often the browser camera sends a frame to be read.
    app.config.setdefault("KIOSK_RESULT_SECONDS", int(os.environ.get("KIOSK_RESULT_SECONDS", 12)))
    app.config.setdefault("KIOSK_FRAME_MS", 500)

    for module in (staff, language, kiosk, desk, keys, mail, handover, supervisor, supervisor_item, security_desk,
                   complaints, complaint_reports):
        app.register_blueprint(module.bp)

    @app.errorhandler(404)
    def _no_such_page(error):
        # An address no blueprint knows: the API's JSON answer under /api/, a page elsewhere.
        if request.path.startswith("/api/"):
            return error_body("not_found", 404)
        return page_error(error)

    @app.context_processor
    def _site():
        # `message` is the API's catalogue (web/messages.py), in the page's language.
        return {"site_name": current_app.config["SITE_NAME"], "message": message}
