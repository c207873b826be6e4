"""The only package that imports Flask: app factory, JSON API, pages, live events, CLI."""
from __future__ import annotations

import os
import secrets
import weakref
from pathlib import Path

from flask import Flask

from kiosk.keys import derive_key

from . import limits


class ConfigError(RuntimeError):
    pass


class KioskFlask(Flask):
    """Flask, asking once per function whether it is a coroutine. Flask asks at every call of a
    view and of every before- and after-request function, about ten times a request, and each
    asking goes through ``inspect`` (issue 9). Weakly held: a function made for one request
    (``after_this_request``) is not kept."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._synchronous: weakref.WeakSet = weakref.WeakSet()

    def ensure_sync(self, func):
        try:
            if func in self._synchronous:
                return func
        except TypeError:   # unhashable: asked each time
            return super().ensure_sync(func)
        made = super().ensure_sync(func)
        if made is func:
            try:
                self._synchronous.add(func)
            except TypeError:   # a builtin: no weak reference to it, asked each time
                pass
        return made


def _secret_key(app: Flask) -> str:
    """The site secret: from KIOSK_SECRET_KEY, else made once in the instance folder.

    A shared (PostgreSQL) ledger served by several app servers must have the same
    key everywhere, or a stub printed by one server would not scan at another.
    """
    path = Path(app.instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        raise ConfigError("KIOSK_SECRET_KEY must be set when the ledger is on a shared database")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def create_app(test_config: dict | None = None) -> Flask:
    instance = os.environ.get("KIOSK_INSTANCE_PATH") or os.path.join(os.getcwd(), "instance")
    app = KioskFlask(__name__, instance_path=os.path.abspath(instance))
    # Keep answers in the order they are written, and names as the desk writes them (张*, not \u5f20*).
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.config.from_mapping(
        DATABASE_URL=os.environ.get("KIOSK_DATABASE_URL")
        or f"sqlite:///{os.path.join(app.instance_path, 'kiosk.sqlite3')}",
        # The schema owner's connection (PostgreSQL): `kiosk init` migrates with it and grants
        # the app's role (the user of KIOSK_DATABASE_URL) only what it needs.
        ADMIN_DATABASE_URL=os.environ.get("KIOSK_ADMIN_DATABASE_URL"),
        # Where the audit chain's head is anchored outside the database (append-only).
        AUDIT_ANCHORS=os.environ.get("KIOSK_AUDIT_ANCHORS")
        or os.path.join(app.instance_path, "audit-anchors.log"),
        SECRET_KEY=os.environ.get("KIOSK_SECRET_KEY"),
        SITE=os.environ.get("KIOSK_SITE", "A"),
        SITE_NAME=os.environ.get("KIOSK_SITE_NAME", ""),
        # Uploads (camera frames) are the largest legitimate requests.
        MAX_CONTENT_LENGTH=int(os.environ.get("KIOSK_MAX_UPLOAD_BYTES", 8 * 1024 * 1024)),
        # Where labels print: one default printer, plus named ones for other desks and kiosks.
        PRINTER_URL=os.environ.get("KIOSK_PRINTER_URL")
        or "preview://" + os.path.join(app.instance_path, "labels"),
        PRINTERS_NAMED=os.environ.get("KIOSK_PRINTERS", ""),
        TIMEZONE=os.environ.get("KIOSK_TIMEZONE", "Asia/Shanghai"),
        DEVICE_NAME=os.environ.get("KIOSK_DEVICE_NAME"),
        # Rate limits: counted in this process, or in Redis when several app servers share them.
        REDIS_URL=os.environ.get("KIOSK_REDIS_URL"),
        RATE_LIMIT_PREFIX=os.environ.get("KIOSK_REDIS_PREFIX", "kiosk"),
        RATE_LIMITS=limits.parse_setting(os.environ.get("KIOSK_RATE_LIMITS")),
        # X-Forwarded-For is believed only from these addresses (the operator's own proxies).
        TRUSTED_PROXIES=limits.parse_proxies(os.environ.get("KIOSK_TRUSTED_PROXIES")),
        # Pictures decoded at once per request process (kiosk serve runs one per core on
        # PostgreSQL, so as many decoders as cores); more get 503 busy.
        MAX_DECODES=int(os.environ.get("KIOSK_MAX_DECODES", 1)),
        # Database connections kept open per process: one per request thread (kiosk serve sets it
        # from --threads) plus a few for the background threads.
        DB_POOL_SIZE=int(os.environ.get("KIOSK_DB_POOL_SIZE", 8)) + 2,
        # Owner notifications: email through this SMTP server, text messages through this gateway.
        # Either may be unset; its messages then wait in the outbox.
        SMTP_URL=os.environ.get("KIOSK_SMTP_URL", ""),
        SMS_WEBHOOK_URL=os.environ.get("KIOSK_SMS_WEBHOOK_URL", ""),
    )
    if test_config:
        app.config.update(test_config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(app)
    site = app.config["SITE"]
    if not (1 <= len(site) <= 8 and site.isalnum() and site.isascii()):
        raise ConfigError("KIOSK_SITE is 1 to 8 letters or digits")
    import printing

    from .labels import parse_printers

    try:
        app.config["PRINTERS"] = parse_printers(app.config["PRINTER_URL"], app.config["PRINTERS_NAMED"])
        for url in app.config["PRINTERS"].values():
            printing.parse_printer_url(url)
    except (ValueError, printing.PrinterUrlInvalid) as error:
        raise ConfigError(f"printer configuration: {error}") from None
    import notifying

    from .notify_worker import senders_from_config

    try:
        app.extensions["kiosk.senders"] = senders_from_config(app.config)
    except notifying.ConfigInvalid as error:
        raise ConfigError(f"notification configuration: {error.message}") from None
    # Claim codes and the audit chain get keys of their own, derived so that the same secret
    # never signs two kinds of thing. Neither is stored in the database.
    app.config["CODE_KEY"] = derive_key(app.config["SECRET_KEY"], "claim codes")
    app.config["AUDIT_KEY"] = derive_key(app.config["SECRET_KEY"], "audit chain")

    from . import api, cli, db, errors, uploads

    db.init_app(app)
    errors.init_app(app)
    limits.init_app(app)
    uploads.init_app(app)
    api.init_app(app)
    cli.init_app(app)

    from . import events, i18n, pages, security

    i18n.init_app(app)
    security.init_app(app)
    events.init_app(app)
    pages.init_app(app)
    return app
