"""Who a browser is, and what protects it: staff sessions, kiosk device cookies, CSRF, headers.

* Staff sign in on /login (Flask-Login). A session ends after ``SESSION_IDLE_MINUTES``
  without a request, and at the latest ``SESSION_MAX_HOURS`` after signing in; it
  also ends when the user's password changes or the user is disabled.
* A lobby browser enrolled as a kiosk device carries the device's token in an
  HttpOnly, SameSite=Strict cookie: it acts as that kiosk, whoever signed in on it.
* Every form and every state-changing call a page makes with a cookie carries a
  CSRF token (Flask-WTF). Calls with a bearer token need none: no browser sends
  an Authorization header on its own.
* Every answer carries a content security policy with no inline script, frame
  denial, nosniff and a referrer policy (Flask-Talisman).
"""
from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from functools import wraps

from flask import Flask, Response, current_app, flash, render_template, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, logout_user
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFError, CSRFProtect

from kiosk import accounts
from kiosk.models import User
from kiosk.values import Actor

from ..auth import token_client
from ..errors import error_body

csrf = CSRFProtect()
login_manager = LoginManager()

DEVICE_COOKIE = "kiosk_device"
DEVICE_COOKIE_DAYS = 365
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": ["'self'", "data:", "blob:"],
    "media-src": ["'self'", "blob:"],
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# The kiosk page may use this site's camera; nothing may use the microphone or location.
PERMISSIONS_POLICY = {"camera": "(self)", "microphone": "()", "geolocation": "()", "interest-cohort": "()"}


class StaffUser(UserMixin):
    """A signed-in desk user, as Flask-Login holds it."""

    def __init__(self, user: User):
        self.user_id, self.name, self.role = user.id, user.name, user.role
        self._id = session_id(user)

    def get_id(self) -> str:
        return self._id

    def actor(self) -> Actor:
        return Actor(name=self.name, role=self.role, user_id=self.user_id)


def session_id(user: User) -> str:
    """The user's id and a fingerprint of the password hash: a new password ends old sessions."""
    fingerprint = hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]
    return f"{user.id}.{fingerprint}"


@login_manager.user_loader
def _load_user(value: str) -> StaffUser | None:
    from .. import db

    user_id, _, _ = value.partition(".")
    if not user_id.isdigit() or len(user_id) > 18:
        return None
    user = db.session().get(User, int(user_id))
    if user is None or not user.active or not user.password_hash or session_id(user) != value:
        return None
    return StaffUser(user)


def now() -> datetime:
    """The app's clock: the real one, or the one a test put in ``CLOCK``."""
    clock = current_app.config.get("CLOCK")
    return clock() if clock else datetime.now(UTC)


def start_session(user: User) -> None:
    from flask_login import login_user

    session.clear()
    session.permanent = True
    login_user(StaffUser(user))
    stamp = int(now().timestamp())
    session["signed_in_at"] = session["seen_at"] = stamp


def _expire_idle_sessions() -> None:
    if "_user_id" not in session:
        return
    config = current_app.config
    stamp = int(now().timestamp())
    idle = stamp - session.get("seen_at", 0)
    age = stamp - session.get("signed_in_at", 0)
    if idle > config["SESSION_IDLE_MINUTES"] * 60 or age > config["SESSION_MAX_HOURS"] * 3600:
        logout_user()
        for key in ("signed_in_at", "seen_at"):
            session.pop(key, None)
        if request.blueprint not in ("api", "events"):
            flash(_l("Your session ended after a time without use. Please sign in again."), "info")
    elif stamp - session.get("seen_at", 0) >= 30:
        # Refreshed at most twice a minute, so the cookie is not rewritten on every request.
        session["seen_at"] = stamp


def device_token() -> str | None:
    return request.cookies.get(DEVICE_COOKIE) or None


def device_actor() -> Actor | None:
    """The kiosk device this browser is enrolled as, if its cookie is still valid."""
    from .. import db

    token = device_token()
    if token is None:
        return None
    actor = accounts.authenticate(db.session(), token)
    return actor if actor is not None and actor.role == accounts.KIOSK else None


def cookie_actor() -> Actor | None:
    """Who a request without a bearer token acts as: the enrolled kiosk, else the signed-in staff member.

    A cookie is sent by the browser on its own, so a state-changing call made
    with one must carry the page's CSRF token.
    """
    actor = device_actor()
    if actor is None and current_user.is_authenticated:
        actor = current_user.actor()
    if actor is not None and request.method not in SAFE_METHODS:
        csrf.protect()
    return actor


def set_device_cookie(response, token: str) -> None:
    response.set_cookie(DEVICE_COOKIE, token, max_age=DEVICE_COOKIE_DAYS * 86400, httponly=True,
                        samesite="Strict", secure=current_app.config["HTTPS"], path="/")


def _csrf_failed(error: CSRFError):
    if request.path.startswith("/api/"):
        return error_body("csrf_failed", 400)
    return render_template("error.html", status=400, reason="csrf"), 400


class _CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with none at all for a token client of the API, and
    without making the signer for a request that brings no session cookie (it cost more than
    reading the cookie; issue 9)."""

    def open_session(self, app: Flask, request):
        if token_client(request.environ):
            # It acts as its token (web.auth.current_actor), its cookies play no part in it, and
            # the API writes no session. No cookie is read or written, and the answer does not
            # vary by cookie.
            return self.make_null_session(app)
        # The raw header is enough to see that the cookie is not there (parsing it cost more); a
        # name that only looks present is parsed and looked up as Flask does.
        if app.secret_key and self.get_cookie_name(app) not in request.environ.get("HTTP_COOKIE", ""):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        if not session and not session.modified:
            # Nothing to write or delete: only the Vary header Flask would add (it works out the
            # cookie's name, domain, path and flags first, for nothing, on every API call).
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


class _Talisman(Talisman):
    """Flask-Talisman, with each view's options and the headers they make worked out once instead
    of at every request (they cost a JSON answer more than its own view; issue 9). No view sets
    options of its own and no policy carries a nonce, so both are the same for every request of a
    view; only HSTS depends on the request (whether it came over HTTPS)."""

    def __init__(self, *args, **kwargs):
        self._options: dict[str | None, dict] = {}
        self._headers: dict[tuple, tuple[list[tuple[str, str]], frozenset[str]]] = {}
        super().__init__(*args, **kwargs)

    def _set_response_headers(self, response):
        asked = request._get_current_object()   # the request itself, not each attribute through the proxy
        if getattr(asked, "csp_nonce", None):
            return super()._set_response_headers(response)
        key = (asked.endpoint, asked.is_secure, asked.environ.get("HTTP_X_FORWARDED_PROTO") == "https")
        made = self._headers.get(key)
        if made is None:
            headers = [(name, value) for name, value in super()._set_response_headers(Response()).headers.items()
                       if name not in ("Content-Type", "Content-Length")]
            made = self._headers[key] = (headers, frozenset(name.lower() for name, _ in headers))
        headers, names = made
        present = response.headers
        if any(name.lower() in names for name, _ in present):
            present.update(headers)   # a view set one of them itself: Talisman's replaces it, as it always did
        else:
            # Appended as they are: Werkzeug's update() checks each value again and looks up each
            # name (these were checked when made, and none is there), which cost more than the
            # rest of this hook (issue 9: ~2 % of a scan and release).
            present._list.extend(headers)
        return response

    def _force_https(self):
        # Nothing to force for a view that does not ask for HTTPS, on a site that does not set
        # secure session cookies: the request need not be looked at.
        if self.session_cookie_secure or self._get_local_options()["force_https"]:
            return super()._force_https()
        return None

    def _get_local_options(self):
        endpoint = request.endpoint
        options = self._options.get(endpoint)
        if options is None:
            options = self._options[endpoint] = super()._get_local_options()
        return options


def init_app(app: Flask) -> None:
    app.config.setdefault("HTTPS", os.environ.get("KIOSK_HTTPS", "").lower() in ("1", "true", "yes"))
    app.config.setdefault("SESSION_IDLE_MINUTES", int(os.environ.get("KIOSK_SESSION_IDLE_MINUTES", 30)))
    app.config.setdefault("SESSION_MAX_HOURS", int(os.environ.get("KIOSK_SESSION_MAX_HOURS", 12)))
    https = app.config["HTTPS"]
    app.config.update(
        PERMANENT_SESSION_LIFETIME=timedelta(hours=app.config["SESSION_MAX_HOURS"]),
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=https,
        # A kiosk page stays open for days: its token lives as long as the browser's session cookie.
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.session_interface = _CookieSessions()
    csrf.init_app(app)
    # The JSON API authenticates by bearer token; cookie-authenticated calls are checked in cookie_actor().
    csrf.exempt(app.blueprints["api"])
    app.register_error_handler(CSRFError, _csrf_failed)

    login_manager.init_app(app)
    login_manager.login_view = "staff.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    app.before_request(_expire_idle_sessions)

    talisman = _Talisman(app, force_https=https, strict_transport_security=https, session_cookie_secure=https,
                         content_security_policy=CSP, frame_options="DENY", referrer_policy="same-origin",
                         permissions_policy=PERMISSIONS_POLICY, x_content_type_options=True)
    _for_browsers_only(app, [_csrf_hook(app), _expire_idle_sessions, talisman._make_nonce,
                             login_manager._update_remember_cookie])


def _csrf_hook(app: Flask):
    """The before-request check Flask-WTF's ``init_app`` registered."""
    for hook in app.before_request_funcs[None]:
        if getattr(hook, "__module__", "") == "flask_wtf.csrf" and hook.__name__ == "csrf_protect":
            return hook
    raise RuntimeError("Flask-WTF's CSRF check is not among the before-request functions")


def _for_browsers_only(app: Flask, hooks: list) -> None:
    """Skip ``hooks`` (before- or after-request functions: the CSRF check, the session's idle time
    and remember-me cookie, the CSP nonce) for a token client of the API, which has no session,
    needs no CSRF token and gets JSON, never a page (web.auth.token_client). They cost a scan and
    release ~1 % of its CPU for nothing (issue 9). Each keeps its place among the others."""
    def browsers_only(hook, after: bool):
        @wraps(hook)
        def run(*response):
            if token_client(request.environ):
                return response[0] if after else None
            return hook(*response)
        return run

    missing = list(hooks)
    for funcs, after in ((app.before_request_funcs, False), (app.after_request_funcs, True)):
        registered = funcs[None]
        for index, hook in enumerate(registered):
            if hook in missing:
                missing.remove(hook)
                registered[index] = browsers_only(hook, after)
    if missing:
        raise RuntimeError(f"not registered as request hooks: {missing}")
