"""The language switch on every page: remembered in a cookie, then back to the same page."""
from __future__ import annotations

from flask import abort, current_app, redirect, request

from ..i18n import COOKIE, COOKIE_DAYS, LANGUAGES
from . import blueprint, local_path

bp = blueprint("language")


@bp.post("/language")
def switch():
    chosen = request.form.get("lang")
    if chosen not in LANGUAGES:
        abort(400)
    response = redirect(local_path(request.form.get("next")), code=303)
    response.set_cookie(COOKIE, chosen, max_age=COOKIE_DAYS * 86400, samesite="Lax",
                        secure=current_app.config["HTTPS"], httponly=True)
    return response
