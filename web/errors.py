"""Every API error is ``{"error": {"code", "message"}}`` with a stable code."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from kiosk.errors import KioskError

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def error_body(code: str, message: str, status: int, **extra):
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        response = error_body(error.code, error.message, error.status, **error.extra)
        if error.status == 401:
            response[0].headers["WWW-Authenticate"] = 'Bearer realm="kiosk"'
        return response

    @app.errorhandler(KioskError)
    def _domain_error(error: KioskError):
        extra = {k: v for k, v in error.details.items() if v is not None}
        return error_body(error.code, error.message, error.status, **extra)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if not request.path.startswith("/api/"):
            return error
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
                 413: "payload_too_large", 415: "unsupported_media_type"}
        code = codes.get(error.code, "http_error")
        return error_body(code, error.description or error.name, error.code)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_body("internal_error", "something went wrong; nothing was changed", 500)
