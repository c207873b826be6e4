"""Label layout and ESC/POS output for the lobby custody kiosk.

No database, no Flask: this package takes a plain ``LabelData`` value and a
printer (a ``PrinterProfile`` for the bytes, a printer URL for delivery).

Public API
----------
Values
    LabelData(ticket_no, kind, unit, owner_name_masked, owner_phone_masked,
              deposited_at, staff, location, tag_code, claim_code,
              expected_pickup_at=None, designated_collector_masked=None,
              description="", reprint=False, site_name=None)
    PrinterProfile(name, width_dots, native_qr=True, cjk_font=True)
    DEFAULT_PROFILE                       80 mm, native QR, GB18030 text
    KINDS                                 ("luggage", "key", "parcel", "mail", "short_term")

Bytes and pictures
    layout_label(label, *, redact_claim=False) -> Layout
                                           parts and blocks, printer-independent
    render(label, profile=DEFAULT_PROFILE, roles=None, *, redact_claim=False) -> bytes
                                           the whole ESC/POS job, cuts included; ``roles``
                                           picks parts (("notice",): a mailbox notice only)
    preview_png(label, profile=DEFAULT_PROFILE, *, redact_claim=False) -> bytes
                                           PNG drawn from those very bytes; redact_claim
                                           leaves the claim code (QR and text) out, for screens
    render_stream(stream, width_dots) -> Page
                                           draw any stream this package made

Printers (URLs: tcp://host:9100, usb://VID:PID, serial:///dev/ttyUSB0?baudrate=19200,
file:///dev/usb/lp0, cups://queue, preview:///some/dir; query options
paper=58mm|80mm, qr=native|raster, text=gb18030|raster, timeout=seconds)
    parse_printer_url(url) -> PrinterUrl   raises PrinterUrlInvalid
    send(url, data, timeout=None) -> Delivery
                                           raises PrinterOffline, PrinterBackendMissing
    print_label(label, url, roles=None) -> Delivery
                                           render with the URL's profile, then send
    print_test_label(url) -> Delivery      for ``kiosk printer test URL``
    paper_status(url, timeout=1.0) -> str  "ok" | "near_end" | "out" | "unknown"

Errors (printing.errors; each has a stable ``code``)
    PrintingError, LabelInvalid, PrinterUrlInvalid, PrinterBackendMissing,
    PrinterOffline, FontMissing

Label values, URLs and errors import eagerly and cheaply. Rendering, previews
and delivery load python-escpos, qrcode, Pillow and numpy (~30 MB) on first use
of the name, so a process that only checks a printer URL never pays for them.
"""

import importlib
from typing import TYPE_CHECKING

from printing.errors import (
    FontMissing,
    LabelInvalid,
    PrinterBackendMissing,
    PrinterOffline,
    PrinterUrlInvalid,
    PrintingError,
)
from printing.labels import KINDS, LabelData
from printing.layout import Layout, layout_label
from printing.profiles import DEFAULT_PROFILE, PrinterProfile
from printing.urls import PrinterUrl, parse_printer_url

# Loaded on first use: each name and the module that holds it.
_HEAVY = {
    "render": "printing.escpos_output",
    "Page": "printing.preview",
    "preview_png": "printing.preview",
    "render_stream": "printing.preview",
    "Delivery": "printing.printers",
    "paper_status": "printing.printers",
    "print_label": "printing.printers",
    "print_test_label": "printing.printers",
    "send": "printing.printers",
}

if TYPE_CHECKING:
    from printing.escpos_output import render
    from printing.preview import Page, preview_png, render_stream
    from printing.printers import Delivery, paper_status, print_label, print_test_label, send


def __getattr__(name: str):
    if name not in _HEAVY:
        raise AttributeError(f"module 'printing' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HEAVY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "DEFAULT_PROFILE",
    "Delivery",
    "KINDS",
    "FontMissing",
    "LabelData",
    "LabelInvalid",
    "Layout",
    "Page",
    "PrinterBackendMissing",
    "PrinterOffline",
    "PrinterProfile",
    "PrinterUrl",
    "PrinterUrlInvalid",
    "PrintingError",
    "layout_label",
    "paper_status",
    "parse_printer_url",
    "preview_png",
    "print_label",
    "print_test_label",
    "render",
    "render_stream",
    "send",
]
