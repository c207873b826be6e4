"""The ``kiosk`` command line: commands hang off the app (``app.cli``), so tests drive them
with Flask's CLI runner and every command works inside the app's context."""
from __future__ import annotations

import sys
import threading

import click
from flask import current_app
from flask.cli import AppGroup, FlaskGroup

from sqlalchemy.engine import make_url

from kiosk import accounts, anchors, audit
from kiosk.db import current_revision, grant_app_role, make_engine, migrate, normalise_url
from kiosk.errors import KioskError

from . import uploads
from .db import engine, transaction
from .messages import API_LOCALE, message
from .sealer import Sealer, anchor_path, seal_now
from .sealer import start_thread as start_sealer

cli = AppGroup("kiosk", help="Lobby custody kiosk commands.")


def _fail(error: KioskError):
    raise click.ClickException(f"{message(error.code, API_LOCALE, **error.params)} [{error.code}]")


def _app():
    app = current_app._get_current_object()
    # Close pooled connections when the command ends, not whenever the GC gets to them.
    click.get_current_context().call_on_close(engine(app).dispose)
    return app


@cli.command(help="Create or upgrade the database schema (Alembic migrations).\n\n"
                  "On PostgreSQL, set KIOSK_ADMIN_DATABASE_URL to the schema owner's connection: the "
                  "schema is migrated as that role, and the app's role (the user of KIOSK_DATABASE_URL) "
                  "is granted only what it needs (the audit trail: SELECT and INSERT).")
def init():
    app = _app()
    admin_url = app.config.get("ADMIN_DATABASE_URL")
    if not admin_url:
        migrate(engine(app))
        click.echo(f"database ready at revision {current_revision(engine(app))}")
        if engine(app).dialect.name == "postgresql":
            click.echo("warning: the app's own role owns the schema, so it could rewrite the audit trail; "
                       "set KIOSK_ADMIN_DATABASE_URL to migrate as a separate owner role", err=True)
        return
    owner = make_engine(admin_url)
    try:
        migrate(owner)
        click.echo(f"database ready at revision {current_revision(owner)}")
        app_role = make_url(normalise_url(app.config["DATABASE_URL"])).username
        if owner.dialect.name == "postgresql" and app_role and app_role != owner.url.username:
            grant_app_role(owner, app_role)
            click.echo(f"granted role {app_role} what the app needs (audit trail: SELECT, INSERT)")
    finally:
        owner.dispose()


@cli.group(help="Desk users.")
def user():
    pass


@user.command("add", help="Add a user with a role: staff, supervisor, security or admin.")
@click.argument("name")
@click.option("--role", type=click.Choice(accounts.ROLES), required=True)
@click.option("--password", default=None, help="For the web pages; API access uses tokens.")
def user_add(name, role, password):
    try:
        with transaction(_app()) as session:
            accounts.add_user(session, name, role, password)
    except KioskError as error:
        _fail(error)
    click.echo(f"added {role} {name}")


@cli.group(help="API bearer tokens.")
def token():
    pass


@token.command("create", help="Print a new bearer token for user NAME, or with --kiosk for a kiosk device.\n\n"
                              "A kiosk token may only scan.")
@click.argument("name", required=False)
@click.option("--kiosk", "device", default=None, metavar="DEVICE", help="A token for this kiosk device.")
def token_create(name, device):
    if (name is None) == (device is None):
        raise click.UsageError("give a user NAME or --kiosk DEVICE")
    try:
        with transaction(_app()) as session:
            value = accounts.create_token(session, user_name=name, device=device)
    except KioskError as error:
        _fail(error)
    click.echo(value)


@token.command("revoke", help="Revoke a bearer token.")
@click.argument("value")
def token_revoke(value):
    try:
        with transaction(_app()) as session:
            accounts.revoke_token(session, value)
    except KioskError as error:
        _fail(error)
    click.echo("revoked")


@cli.group(help="The audit trail.")
def audit_group():
    pass


cli.add_command(audit_group, "audit")


@audit_group.command("verify", help="Check every row, seal and anchor; exit 1 if anything was changed or removed.")
@click.option("--anchors", "anchor_files", multiple=True, type=click.Path(dir_okay=False),
              help="Anchor files to check against (default: the instance's audit-anchors.log).")
def audit_verify(anchor_files):
    app = _app()
    key = app.config["AUDIT_KEY"]
    found = [a for path in (anchor_files or (anchor_path(app),)) for a in anchors.read(path, key)]
    with transaction(app) as session:
        verdict = audit.verify(session, key, anchors=found)
    waiting = f", {verdict.unsealed} not sealed yet" if verdict.unsealed else ""
    if verdict.ok:
        click.echo(f"audit trail intact: {verdict.rows} rows ({verdict.sealed} sealed{waiting}), "
                   f"{verdict.anchors} anchors agree; head {verdict.head_position}:{verdict.head_hash[:16]}")
        return
    for problem in verdict.problems:
        click.echo(f"BROKEN: {problem}", err=True)
    sys.exit(1)


@audit_group.command("seal", help="Chain new audit rows as they commit (kiosk serve and kiosk print-worker "
                                  "already do this; one process seals at a time).")
@click.option("--once", is_flag=True, help="One pass, then exit.")
def audit_seal(once):
    app = _app()
    _check_schema(app)
    if once:
        sealed = seal_now(app)
        click.echo("another process is sealing" if sealed is None else f"sealed {sealed} rows")
        return
    Sealer(app).run(threading.Event())


@audit_group.command("anchor", help="Write the sealed chain's head to the anchor file (outside the database).")
@click.option("--reason", default="manual", show_default=True)
def audit_anchor(reason):
    app = _app()
    with transaction(app) as session:
        taken = anchors.anchor(session, app.config["AUDIT_KEY"], anchor_path(app), reason)
    click.echo(f"anchored seal {taken.position} ({taken.hash}) in {anchor_path(app)}")


def _check_schema(app):
    from alembic.script import ScriptDirectory

    from kiosk.db import _alembic_config

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if current_revision(engine(app)) != head:
        raise click.ClickException("the database schema is not current: run `kiosk init` first")


@cli.command(help="Serve the web pages and API with a production WSGI server (waitress).\n\n"
                  "Also sends queued labels to the printers, unless --no-print-worker (then run "
                  "`kiosk print-worker` somewhere), and seals the audit trail (one process at a time).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--print-worker/--no-print-worker", default=True, show_default=True)
def serve(host, port, threads, print_worker):
    app = _app()
    _check_schema(app)
    _serve(app, host, port, threads, print_worker)


def _serve(app, host, port, threads, print_worker):
    import waitress

    from .print_worker import start_thread

    if print_worker:
        start_thread(app)
    start_sealer(app)
    uploads.warm_up(app)
    click.echo(f"serving on http://{host}:{port}/  (API: /api/v1, OpenAPI: /api/openapi.json)")
    waitress.serve(app, host=host, port=port, threads=threads, ident="kiosk")


@cli.command("print-worker", help="Send queued labels to their printers, retrying offline printers with backoff; "
                                  "also seals the audit trail (one process at a time).")
@click.option("--once", is_flag=True, help="One pass over the due jobs, then exit.")
def print_worker_command(once):
    from .print_worker import run_forever, run_once

    app = _app()
    _check_schema(app)
    if once:
        done = run_once(app)
        click.echo(f"printed {len(done.printed)}, printer offline {len(done.offline)}, in doubt "
                   f"{len(done.in_doubt)}, failed {len(done.failed)}")
        return
    start_sealer(app)
    run_forever(app, threading.Event())


@cli.command(help="Read claim codes from a camera, a video file or image files and scan each new one.\n\n"
                    "Locally into this host's ledger as kiosk DEVICE, or with --server and a kiosk --token "
                    "through a server's API. Runs headless; --show opens a preview window.")
@click.option("--camera", default=None, metavar="INDEX|URL", help="Camera index (0) or stream URL.")
@click.option("--video", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--image", "images", type=click.Path(exists=True, dir_okay=False), multiple=True)
@click.option("--server", default=None, help="Base URL of a kiosk server, e.g. http://desk:8080")
@click.option("--token", envvar="KIOSK_TOKEN", default=None, help="Kiosk device token for --server.")
@click.option("--device", envvar="KIOSK_DEVICE_NAME", default="lobby", show_default=True,
              help="This kiosk's name in the audit trail (local mode).")
@click.option("--max-frames", type=int, default=None, help="Stop after this many frames.")
@click.option("--show", is_flag=True, help="Show the camera picture with the codes outlined.")
def scan(camera, video, images, server, token, device, max_frames, show):
    import scanning

    from .scan_client import LocalLedger, RemoteLedger, describe

    sources = [s for s in (camera, video, images or None) if s is not None]
    if len(sources) != 1:
        raise click.UsageError("give exactly one of --camera, --video or --image")
    if server and not token:
        raise click.UsageError("--server needs a kiosk --token (or KIOSK_TOKEN)")
    ledger = RemoteLedger(server, token) if server else LocalLedger(_app(), device)
    if not server:
        _check_schema(ledger.app)

    def report(text):
        click.echo(describe(text, ledger.scan(text)))

    if images:
        for path in images:
            try:
                found = scanning.decode_file(path, budget_ms=800.0)
            except scanning.ScanError as error:
                click.echo(f"{path}: {error} [{error.code}]", err=True)
                continue
            if not found:
                click.echo(f"{path}: no code found")
            for code in found:
                report(code.text)
        return
    try:
        frames = scanning.scan_source(camera if camera is not None else video, lambda s: report(s.code.text),
                                      max_frames=max_frames, show=show)
    except scanning.ScanError as error:
        raise click.ClickException(f"{error} [{error.code}]") from None
    except KeyboardInterrupt:
        return
    click.echo(f"{frames} frames read", err=True)


@cli.group(help="Label printers.")
def printer():
    pass


@printer.command("test", help="Print a test label on the printer at URL (tcp://, usb://, serial://, file://, "
                              "cups://, preview://DIR).")
@click.argument("url")
def printer_test(url):
    import printing

    try:
        delivery = printing.print_test_label(url)
    except printing.PrintingError as error:
        raise click.ClickException(f"{error.message} [{error.code}]") from None
    click.echo(f"sent {delivery.bytes_sent} bytes to {url}")
    for path in delivery.files:
        click.echo(f"  wrote {path}")


@cli.command(help="Set up a demo desk on SQLite with sample items, print their labels, and serve it.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set up and print, but do not start the server.")
def demo(host, port, no_serve):
    from .demo import build_demo

    app = _app()
    migrate(engine(app))
    for line in build_demo(app):
        click.echo(line)
    if no_serve:
        return
    _serve(app, host, port, 8, True)


def init_app(app) -> None:
    for name, command in cli.commands.items():
        app.cli.add_command(command, name)


def _create_app():
    from . import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, add_default_commands=False, add_version_option=False,
                  set_debug_flag=False, load_dotenv=False,
                  help="Lobby custody kiosk: the front desk's ledger for luggage, keys, parcels and mail.\n\n"
                       "Configuration comes from KIOSK_* environment variables (see README).")

if __name__ == "__main__":
    main()
