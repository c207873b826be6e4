"""Words the kiosk screen's script shows, in the page's language.

The script gets them as a JSON block in the page, so it holds no sentences of its own.
"""
from __future__ import annotations

from flask_babel import gettext as _

from kiosk import codes, policy

from kiosk.errors import KioskError

from .. import i18n
from ..messages import has_message, message

# Kinds a resident collects at the desk in person; the others staff fetch from where they are kept.
COLLECT_AT_DESK = ("key", "parcel", "mail")
# The API's answers to a scanned code that is not one of ours (POST /scans, /decode?scan=true):
# a forged or unknown code, a code that is not a claim code at all, and one far too long.
SCAN_ERRORS = ("unknown_code", "malformed_code", "code_too_long")


def refusal(error: KioskError) -> dict:
    """A refusal as every page shows it: the catalogue's sentence in the page's language, and
    what to do instead where the catalogue says (``<code>.suggestion``)."""
    suggestion = f"{error.code}.suggestion"
    return {"code": error.code, "text": message(error.code, **error.params),
            "suggestion": message(suggestion, **error.params) if has_message(suggestion) else None}


def role_names() -> dict[str, str]:
    return {"staff": _("desk staff"), "supervisor": _("supervisor"), "security": _("security"),
            "admin": _("administrator")}


def kind_names() -> dict[str, str]:
    names = {
        "luggage": _("Luggage"),
        "key": _("Keys"),
        "parcel": _("Parcel"),
        "mail": _("Mail"),
        "short_term": _("Short-term item"),
    }
    assert set(names) == set(policy.KINDS)
    return names


def kiosk_texts() -> dict:
    """What the script needs: kind names, and what to say for each scan error the API may
    answer with — the catalogue's sentence (web/messages.py), then what to do about it."""
    again = _("Please scan the claim stub you were given, or ask at the desk.")
    space = "" if i18n.current() == "zh_Hans" else " "  # Chinese sentences follow each other unspaced
    return {
        "kinds": kind_names(),
        "collect_at_desk": list(COLLECT_AT_DESK),
        "errors": {
            **{code: f"{message(code, limit=codes.MAX_SCAN_LENGTH)}{space}{again}" for code in SCAN_ERRORS},
            "unauthorized": _("This screen is not set up as a kiosk any more. Please ask at the desk."),
        },
        "trouble": _("We cannot reach the desk's system just now. Trying again…"),
        "gave_up": _("Still no connection. Please ask at the desk; your stub is fine."),
        "camera_unavailable": _("The camera cannot be used on this screen. Please use the scanner."),
        "camera_looking": _("Hold the stub's QR code in front of the camera."),
    }


def status_names() -> dict[str, str]:
    return {"held": _("held"), "lent": _("lent out"), "released": _("handed out"), "returned": _("returned"),
            "disposed": _("disposed of"), "lost_and_found": _("lost and found")}


def history_names() -> dict[str, str]:
    """What the desk's item history calls each audit event (others show as recorded)."""
    return {
        "deposit": _("taken in"), "scan": _("code scanned"), "release": _("handed out"),
        "release_refused": _("hand-out refused"), "move": _("moved"), "reprint": _("label reprinted"), "print": _("label printed"),
        "lost": _("stub reported lost"), "reissue": _("new stub issued"), "alert": _("security alert"),
        "alert_resolved": _("alert resolved"), "in_hand": _("fetched for a waiting resident"),
        "lend": _("key lent"), "lend_refused": _("loan refused"), "key_return": _("key returned"),
        "reveal": _("phone number revealed"), "undeliverable": _("marked undeliverable"),
        "returned_to_post": _("returned to the post office"), "notification_reviewed": _("notice reviewed"),
    }


def channel_names() -> dict[str, str]:
    return {"email": _("Email"), "sms": _("Text message"), "slip": _("Printed notice slip")}


def notice_state_names() -> dict[str, str]:
    """How each notice went, as the item's page says it."""
    return {"queued": _("waiting to be sent"), "claimed": _("being sent"), "sending": _("being sent"),
            "sent": _("sent"), "failed": _("failed"), "in_doubt": _("in doubt: check before sending again"),
            "cancelled": _("not needed any more")}
