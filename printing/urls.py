"""Printer URLs: what a printer is called, checked without touching a printer.

``tcp://host:9100``, ``usb://04b8:0202``, ``serial:///dev/ttyUSB0?baudrate=19200``,
``file:///dev/usb/lp0``, ``cups://queue`` and ``preview:///some/dir``; any URL may
add ``paper=58mm|80mm``, ``qr=native|raster``, ``text=gb18030|raster`` and
``timeout=seconds``.

Apart from printers.py (delivery) so that checking a configuration imports
neither python-escpos nor Pillow: an API process that never previews a label
never loads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from printing.errors import PrinterUrlInvalid
from printing.profiles import PrinterProfile, profile_from_options

SCHEMES = ("tcp", "usb", "serial", "file", "cups", "preview")
_COMMON_OPTIONS = {"paper", "qr", "text", "timeout"}
_EXTRA_OPTIONS = {"serial": {"baudrate"}}
_BAUDRATES = {1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200}
_USB_ID_RE = re.compile(r"([0-9a-fA-F]{4}):([0-9a-fA-F]{4})")
_QUEUE_RE = re.compile(r"[A-Za-z0-9_.-]{1,127}")
DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class PrinterUrl:
    """A parsed printer URL. ``target`` is the host, device path, queue, USB id or preview folder."""

    url: str
    scheme: str
    target: str
    port: int | None
    profile: PrinterProfile
    timeout: float
    options: dict[str, str] = field(default_factory=dict)


def _invalid(url: str, why: str) -> PrinterUrlInvalid:
    return PrinterUrlInvalid(f"{url!r}: {why}")


def parse_printer_url(url: str) -> PrinterUrl:
    """Parse and check a printer URL; PrinterUrlInvalid says what is wrong."""
    if not isinstance(url, str) or not url or len(url) > 1024:
        raise PrinterUrlInvalid("printer URL must be a non-empty string of at most 1024 characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise _invalid(url, "whitespace or control characters")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise _invalid(url, f"scheme must be one of {', '.join(SCHEMES)}")
    if parts.fragment:
        raise _invalid(url, "fragments are not allowed")
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError as exc:
        raise _invalid(url, f"bad query: {exc}") from None
    options = dict(pairs)
    if len(options) != len(pairs):
        raise _invalid(url, "an option is given twice")
    unknown = set(options) - _COMMON_OPTIONS - _EXTRA_OPTIONS.get(scheme, set())
    if unknown:
        raise _invalid(url, f"unknown options {sorted(unknown)}")
    try:
        timeout = float(options.get("timeout", DEFAULT_TIMEOUT))
    except ValueError:
        raise _invalid(url, "timeout must be a number of seconds") from None
    if not 0.05 <= timeout <= 120:
        raise _invalid(url, "timeout must be between 0.05 and 120 seconds")
    profile = profile_from_options(options)

    port = None
    if scheme == "tcp":
        try:
            host, port = parts.hostname, parts.port or 9100
        except ValueError:
            raise _invalid(url, "port must be a number 1-65535") from None
        if not host or parts.path not in ("", "/") or parts.username or parts.password:
            raise _invalid(url, "expected tcp://host:port")
        target = host
    elif scheme == "usb":
        if not _USB_ID_RE.fullmatch(parts.netloc) or parts.path:
            raise _invalid(url, "expected usb://VID:PID with 4 hex digits each")
        target = parts.netloc.lower()
    elif scheme in ("serial", "file"):
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise _invalid(url, f"expected {scheme}:///absolute/path")
        target = parts.path
        if scheme == "serial":
            baudrate = options.get("baudrate", "9600")
            if not baudrate.isdigit() or int(baudrate) not in _BAUDRATES:
                raise _invalid(url, f"baudrate must be one of {sorted(_BAUDRATES)}")
    elif scheme == "cups":
        if not _QUEUE_RE.fullmatch(parts.netloc) or parts.path not in ("", "/"):
            raise _invalid(url, "expected cups://queue-name")
        target = parts.netloc
    else:  # preview
        target = parts.netloc + parts.path
        if not target:
            raise _invalid(url, "expected preview:///folder or preview://relative/folder")
    return PrinterUrl(url, scheme, target, port, profile, timeout, options)
