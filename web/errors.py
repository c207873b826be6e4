"""Every API error is ``{"error": {"code", "message", …}}`` with a stable code.

The message is the catalogue's sentence (web/messages.py) in the client's
language; the other keys are the error's parameters (``field``, ``limit``, …).
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from kiosk.errors import KioskError

from .messages import has_message, message

log = logging.getLogger(__name__)

# How long a client should wait before trying again after a 503.
RETRY_AFTER_SECONDS = 2


class ApiError(Exception):
    def __init__(self, status: int, code: str, **params):
        super().__init__(code)
        self.status, self.code = status, code
        self.params = {key: value for key, value in params.items() if value is not None}


def error_body(code: str, status: int, /, **params):
    body = {"error": {"code": code, "message": message(code, **params), **params}}
    suggestion = f"{code}.suggestion"
    if has_message(suggestion):
        body["error"]["suggestion"] = message(suggestion)
    return jsonify(body), status


def unavailable():
    response, status = error_body("unavailable", 503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, status


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        response = error_body(error.code, error.status, **error.params)
        if error.status == 401:
            response[0].headers["WWW-Authenticate"] = 'Bearer realm="kiosk"'
        if "retry_after" in error.params:
            response[0].headers["Retry-After"] = str(error.params["retry_after"])
        return response

    @app.errorhandler(KioskError)
    def _domain_error(error: KioskError):
        return error_body(error.code, error.status, **error.params)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if not request.path.startswith("/api/"):
            return error
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
                 413: "payload_too_large", 415: "unsupported_media_type"}
        return error_body(codes.get(error.code, "http_error"), error.code)

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    @app.errorhandler(sa_exc.DisconnectionError)
    @app.errorhandler(sa_exc.TimeoutError)
    def _database_unavailable(error: Exception):
        # The database is down, restarting, locked or out of connections: say so, and let
        # the client retry. The pool drops the broken connections, so the app recovers by
        # itself once the database answers again.
        log.warning("database unavailable on %s %s: %s", request.method, request.path, error)
        return unavailable()

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_body("internal_error", 500)
