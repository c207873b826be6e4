"""The three QR decoders behind one shape: grey uint8 pixels in, (text, corners) out.

Each reader is called on an already prepared grey image and returns corners in
that image's pixel coordinates; mapping back to the camera frame is the
decoder's job. Only QR symbols are asked for: a 1D decoder let loose on lines
of receipt text can misread them, and a claim stub carries only a QR code.

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


def available() -> dict[str, bool]:
    return {"zxing": zxingcpp is not None, "zbar": pyzbar is not None, "opencv": True}


def _zxing_points(position) -> np.ndarray:
    corners = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
    return np.float32([[p.x, p.y] for p in corners])


def zxing(grey: np.ndarray, *, binarizer: str = "local", downscale: bool = True) -> list[Read]:
    if zxingcpp is None:
        return []
    mode = {
        "local": zxingcpp.Binarizer.LocalAverage,
        "global": zxingcpp.Binarizer.GlobalHistogram,
    }[binarizer]
    found = zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.QRCode,
                                   binarizer=mode, try_downscale=downscale)
    return [Read(r.text, _zxing_points(r.position)) for r in found if r.valid and r.text]


def zbar(grey: np.ndarray) -> list[Read]:
    if pyzbar is None:
        return []
    out = []
    for r in pyzbar.decode(np.ascontiguousarray(grey), symbols=[pyzbar.ZBarSymbol.QRCODE]):
        try:
            text = r.data.decode("utf-8")
        except UnicodeDecodeError:
            continue  # not one of our payloads, and guessing an encoding could invent text
        pts = np.float32([[p.x, p.y] for p in r.polygon])
        if len(pts) != 4:
            x, y, w, h = r.rect
            pts = np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
        out.append(Read(text, pts))
    return out


_opencv_detector = None


def opencv(grey: np.ndarray) -> list[Read]:
    global _opencv_detector
    if _opencv_detector is None:
        # The ArUco-based detector finds finder patterns under perspective and
        # blur that the classic detector misses, at a similar cost.
        _opencv_detector = cv2.QRCodeDetectorAruco()
    ok, texts, points, _ = _opencv_detector.detectAndDecodeMulti(grey)
    if not ok or points is None:
        return []
    return [Read(t, np.float32(p).reshape(4, 2)) for t, p in zip(texts, points) if t]
