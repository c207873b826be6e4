"""Delivering bytes to printers named by URL (the URLs themselves: printing.urls).

``preview:///some/dir`` writes the .bin and a .png of it and needs no hardware.

Every failure to reach or write to a printer is ``PrinterOffline`` so a
print queue can retry; a URL we cannot use at all is ``PrinterUrlInvalid``
or ``PrinterBackendMissing`` and retrying will not help.
"""

from __future__ import annotations

import hashlib
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from printing._escpos import DeviceNotFoundError, escpos_printer, escpos_profile
from printing.errors import PrinterBackendMissing, PrinterOffline, PrintingError
from printing.escpos_output import render
from printing.escpos_reader import UnknownCommand
from printing.labels import LabelData
from printing.preview import render_stream
from printing.profiles import PrinterProfile
from printing.urls import PrinterUrl, parse_printer_url


@dataclass(frozen=True, slots=True)
class Delivery:
    """What was sent where. ``files`` lists what a preview printer wrote."""

    url: str
    bytes_sent: int
    files: tuple[Path, ...] = ()


def _as_target(url: str | PrinterUrl) -> PrinterUrl:
    return url if isinstance(url, PrinterUrl) else parse_printer_url(url)


def send(url: str | PrinterUrl, data: bytes, timeout: float | None = None) -> Delivery:
    """Deliver ``data`` to the printer at ``url``, whole or not at all as far as we can tell.

    Raises PrinterOffline when the printer cannot be reached or the write
    fails (retry later), PrinterBackendMissing when the URL's library is not
    installed, PrinterUrlInvalid for a bad URL.
    """
    target = _as_target(url)
    wait = timeout if timeout is not None else target.timeout
    sender = {
        "tcp": _send_tcp, "file": _send_file, "usb": _send_usb,
        "serial": _send_serial, "cups": _send_cups, "preview": _send_preview,
    }[target.scheme]
    return sender(target, bytes(data), wait)


def _send_tcp(target: PrinterUrl, data: bytes, timeout: float) -> Delivery:
    # A plain socket rather than escpos.printer.Network: we need the connect
    # and write timeouts and errors ourselves, and Network logs to the root logger.
    try:
        with socket.create_connection((target.target, target.port), timeout=timeout) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
    except OSError as exc:
        raise PrinterOffline(f"{target.url}: {exc}") from exc
    return Delivery(target.url, len(data))


def _send_file(target: PrinterUrl, data: bytes, timeout: float) -> Delivery:
    try:
        with open(target.target, "wb") as device:
            device.write(data)
            device.flush()
    except OSError as exc:
        raise PrinterOffline(f"{target.url}: {exc}") from exc
    return Delivery(target.url, len(data))


def _through_escpos(target: PrinterUrl, printer, data: bytes) -> Delivery:
    # python-escpos finds the device (USB endpoints, kernel driver, serial
    # settings, CUPS job); the bytes are already built, so they go through
    # _raw, the per-connection write that every escpos printer class defines.
    try:
        printer.open()
        printer._raw(data)
        if hasattr(printer, "send"):
            printer.send()
    except (DeviceNotFoundError, OSError) as exc:
        raise PrinterOffline(f"{target.url}: {exc}") from exc
    except Exception as exc:
        if type(exc).__name__ == "NoBackendError":  # pyusb without libusb
            raise PrinterBackendMissing(f"{target.url}: {exc}") from exc
        if type(exc).__module__.split(".")[0] in ("usb", "serial", "cups"):
            raise PrinterOffline(f"{target.url}: {exc}") from exc
        raise
    finally:
        try:
            printer.close()
        except Exception:  # noqa: BLE001 - closing a dead device must not hide the real error
            pass
    return Delivery(target.url, len(data))


def _require(printer_class, target: PrinterUrl, package: str) -> None:
    if not printer_class.is_usable():
        raise PrinterBackendMissing(f"{target.url}: install {package} to use {target.scheme}:// printers")


def _send_usb(target: PrinterUrl, data: bytes, timeout: float) -> Delivery:
    _require(escpos_printer.Usb, target, "pyusb")
    vid, pid = (int(part, 16) for part in target.target.split(":"))
    printer = escpos_printer.Usb(
        vid, pid, timeout=int(timeout * 1000), profile=escpos_profile(target.profile.width_dots)
    )
    return _through_escpos(target, printer, data)


def _send_serial(target: PrinterUrl, data: bytes, timeout: float) -> Delivery:
    _require(escpos_printer.Serial, target, "pyserial")
    printer = escpos_printer.Serial(
        devfile=target.target, baudrate=int(target.options.get("baudrate", "9600")), timeout=timeout,
        profile=escpos_profile(target.profile.width_dots),
    )
    return _through_escpos(target, printer, data)


def _send_cups(target: PrinterUrl, data: bytes, timeout: float) -> Delivery:
    _require(escpos_printer.CupsPrinter, target, "pycups")
    printer = escpos_printer.CupsPrinter(target.target, profile=escpos_profile(target.profile.width_dots))
    return _through_escpos(target, printer, data)


def _send_preview(target: PrinterUrl, data: bytes, timeout: float) -> Delivery:
    folder = Path(target.target)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    stem = f"label-{stamp}-{time.time_ns() % 10**9:09d}-{hashlib.sha256(data).hexdigest()[:8]}"
    try:
        page = render_stream(data, target.profile.width_dots)
    except UnknownCommand as exc:
        raise PrintingError(f"{target.url}: not a stream this package made: {exc}") from exc
    try:
        folder.mkdir(parents=True, exist_ok=True)
        raw, png = folder / f"{stem}.bin", folder / f"{stem}.png"
        raw.write_bytes(data)
        png.write_bytes(page.png())
    except OSError as exc:
        raise PrinterOffline(f"{target.url}: {exc}") from exc
    return Delivery(target.url, len(data), (raw, png))


def print_label(label: LabelData, url: str | PrinterUrl, roles: tuple[str, ...] | None = None) -> Delivery:
    """Render ``label`` (or only its parts whose role is in ``roles``) for the printer's profile
    (from its URL) and send it."""
    target = _as_target(url)
    return send(target, render(label, target.profile, roles))


def sample_label(profile: PrinterProfile) -> LabelData:
    """A label that exercises every feature, with codes no ledger would ever issue."""
    return LabelData(
        ticket_no="TEST",
        kind="luggage",
        unit="00-0000",
        owner_name_masked="测*",
        owner_phone_masked="000****0000",
        deposited_at=datetime.now(timezone.utc).astimezone(),
        staff="打印测试 printer test",
        location=profile.name,
        tag_code="TEST-TAG-0000",
        claim_code="TEST-STUB-0000",
        description="中文 GB18030 / raster 测试; QR below.",
        site_name="打印测试 PRINTER TEST",
    )


def print_test_label(url: str | PrinterUrl) -> Delivery:
    """Print a test label (for ``kiosk printer test URL``); raises like ``send``."""
    target = _as_target(url)
    return send(target, render(sample_label(target.profile), target.profile))


def paper_status(url: str | PrinterUrl, timeout: float = 1.0) -> str:
    """Ask the printer for its paper sensor: "ok", "near_end", "out" or "unknown".

    Only tcp:// printers answer here. Silence is "unknown": python-escpos's
    own paper_status() reports paper present when nothing answers.
    """
    target = _as_target(url)
    if target.scheme != "tcp":
        return "unknown"
    try:
        with socket.create_connection((target.target, target.port), timeout=timeout) as sock:
            sock.sendall(b"\x10\x04\x04")  # DLE EOT 4: transmit roll paper sensor status
            try:
                reply = sock.recv(1)
            except TimeoutError:
                return "unknown"
    except OSError as exc:
        raise PrinterOffline(f"{target.url}: {exc}") from exc
    if len(reply) != 1 or reply[0] & 0x93 != 0x12:
        return "unknown"
    if reply[0] & 0x60:
        return "out"
    if reply[0] & 0x0C:
        return "near_end"
    return "ok"
