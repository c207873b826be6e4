"""The three QR decoders behind one shape: grey uint8 pixels in, (text, corners) out.

Each reader is called on an already prepared grey image and returns corners in
that image's pixel coordinates; mapping back to the camera frame is the
decoder's job. Only QR Model 2 symbols are asked for: a 1D decoder let loose on
lines of receipt text can misread them, Micro QR's short checksums make it
easy to "read" a fragment of a larger code, and a claim stub carries only a
QR code.

Texts are what the code holds, byte for byte: zxing-cpp is asked for plain
text, not its human-readable form (which shows a GS separator as "<GS>"), and
a payload whose bytes no reader can vouch for (not UTF-8, and not text in an
encoding the code declares) is dropped rather than guessed at, since a guess
could invent a text.

pyzbar loads libzbar with ctypes at import time, so a machine without the
system library cannot even import it. That must not take the kiosk down:
we log once and carry on with zxing-cpp and OpenCV.
"""
from __future__ import annotations

import logging
from typing import NamedTuple

import cv2
import numpy as np

log = logging.getLogger(__name__)

try:
    import zxingcpp
except ImportError:  # pragma: no cover - zxing-cpp is a hard dependency, but be robust
    zxingcpp = None
    log.warning("zxing-cpp is not importable; scanning without it")

try:
    from pyzbar import pyzbar
except (ImportError, OSError) as exc:  # OSError: libzbar itself is missing
    pyzbar = None
    log.warning("pyzbar unavailable (%s); scanning without zbar. Install libzbar0.", exc)


class Read(NamedTuple):
    text: str
    points: np.ndarray  # 4x2 float32, in the coordinates of the image that was read


class Symbol(NamedTuple):
    """A QR symbol zxing-cpp found but could not read (its code words failed their check)."""
    points: np.ndarray   # 4x2 float32 corners, clockwise from the symbol's top left
    modules: int | None  # modules a side, from the version it decoded; None if unknown


def available() -> dict[str, bool]:
    return {"zxing": zxingcpp is not None, "zbar": pyzbar is not None, "opencv": True}


def _zxing_points(position) -> np.ndarray:
    corners = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
    return np.float32([[p.x, p.y] for p in corners])


def _zxing_modules(barcode) -> int | None:
    version = str((barcode.extra or {}).get("Version", ""))
    return 17 + 4 * int(version) if version.isdigit() and 1 <= int(version) <= 40 else None


_BINARIZERS = {"local": "LocalAverage", "global": "GlobalHistogram", "fixed": "FixedThreshold"}


def zxing_scan(grey: np.ndarray, *, binarizer: str = "local",
               downscale: bool = True) -> tuple[list[Read], list[Symbol]]:
    """What zxing-cpp reads in ``grey``, and the symbols it found but could not read.

    The second list is cheap, strong evidence: zxing-cpp reports a symbol only
    after its finder patterns, grid and format information fitted together.
    """
    if zxingcpp is None:
        return [], []
    found = zxingcpp.read_barcodes(
        grey, formats=zxingcpp.BarcodeFormat.QRCodeModel2,
        binarizer=getattr(zxingcpp.Binarizer, _BINARIZERS[binarizer]),
        try_downscale=downscale, text_mode=zxingcpp.TextMode.Plain, return_errors=True)
    reads, unread = [], []
    for r in found:
        if r.valid and r.text:
            reads.append(Read(r.text, _zxing_points(r.position)))
        elif not r.valid and r.error.type == zxingcpp.ErrorType.Checksum:
            unread.append(Symbol(_zxing_points(r.position), _zxing_modules(r)))
    return reads, unread


def zxing(grey: np.ndarray, *, binarizer: str = "local", downscale: bool = True) -> list[Read]:
    return zxing_scan(grey, binarizer=binarizer, downscale=downscale)[0]


def zbar(grey: np.ndarray) -> list[Read]:
    if pyzbar is None:
        return []
    out = []
    for r in pyzbar.decode(np.ascontiguousarray(grey), symbols=[pyzbar.ZBarSymbol.QRCODE]):
        text = _text(r.data)
        if text is None:
            continue
        pts = np.float32([[p.x, p.y] for p in r.polygon])
        if len(pts) != 4:
            x, y, w, h = r.rect
            pts = np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
        out.append(Read(text, pts))
    return out


_opencv_detector = None


def opencv(grey: np.ndarray) -> list[Read]:
    """OpenCV's reader, asked for bytes: its text interface raises UnicodeDecodeError on a
    Kanji-mode (Shift_JIS) code, which takes every other code in the image down with it."""
    global _opencv_detector
    if _opencv_detector is None:
        # The ArUco-based detector finds finder patterns under perspective and
        # blur that the classic detector misses, at a similar cost.
        _opencv_detector = cv2.QRCodeDetectorAruco()
    ok, payloads, points, _ = _opencv_detector.detectAndDecodeBytesMulti(grey)
    if not ok or points is None:
        return []
    out = []
    for data, p in zip(payloads, points):
        text = _text(data)
        if text and not _latin1_guess(text):
            out.append(Read(text, np.float32(p).reshape(4, 2)))
    return out


def _latin1_guess(text: str) -> bool:
    """Whether OpenCV may have guessed: it turns byte-mode bytes that are not UTF-8
    into Latin-1, so Shift_JIS half-width kana come out as "±²³". Such a text is
    non-ASCII with nothing above U+00FF; zxing-cpp and zbar read those codes better."""
    return not text.isascii() and max(map(ord, text)) <= 0xFF


def _text(data: bytes) -> str | None:
    """A payload's bytes as text, or None when they are not UTF-8 (guessing could invent a text)."""
    try:
        return bytes(data).decode("utf-8") or None
    except UnicodeDecodeError:
        return None
