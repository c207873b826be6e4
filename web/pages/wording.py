"""Words the kiosk screen's script shows, in the page's language.

The script gets them as a JSON block in the page, so it holds no sentences of its own.
"""
from __future__ import annotations

from flask_babel import gettext as _

from kiosk import codes, policy

from .. import i18n
from ..messages import message

# Kinds a resident collects at the desk in person; the others staff fetch from where they are kept.
COLLECT_AT_DESK = ("key", "parcel", "mail")
# The API's answers to a scanned code that is not one of ours (POST /scans, /decode?scan=true):
# a forged or unknown code, a code that is not a claim code at all, and one far too long.
SCAN_ERRORS = ("unknown_code", "malformed_code", "code_too_long")


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
