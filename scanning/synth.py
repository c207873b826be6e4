"""Synthetic camera frames of claim stubs, for tests and the scan benchmark.

A stub is rendered the way the thermal printer lays it out (a QR code at ECC
level M among lines of text on white paper), then "photographed" into a
1280x720 frame: placed with a homography and degraded the way lobby frames
go wrong. Everything is drawn from one ``numpy.random.Generator``, so a seed
gives the same frames on every machine; nothing here reads files or the
network.

The degradation strengths are chosen to be hard but physically plausible:
a frame no decoder could read in principle (code saturated away, blurred
below one module) would only measure noise.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import cv2
import numpy as np
import qrcode

FRAME_W, FRAME_H = 1280, 720
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

CATEGORIES = (
    "clean", "perspective", "rotation", "blur", "noise", "glare", "low_light",
    "jpeg", "small", "large", "inverted", "colour", "crumpled", "faded",
    "phone_photo",
)


@dataclass(frozen=True)
class Frame:
    image: np.ndarray           # HxWx3 BGR uint8
    text: str | None            # the payload, None for a frame without a code
    category: str
    corners: np.ndarray | None  # 4x2 float32: the code's corners in the frame


def claim_code(rng: np.random.Generator) -> str:
    """A payload shaped like kiosk.codes.make(): ``K1{T|S|P}-{id}-{gen}-{mac}``."""
    role = "TSP"[rng.integers(3)]
    item = "".join(BASE36[i] for i in rng.integers(0, 36, rng.integers(2, 6)))
    gen = BASE36[rng.integers(0, 4)]
    mac = "".join(CROCKFORD[i] for i in rng.integers(0, 32, 20))
    return f"K1{role}-{item.lstrip('0') or '0'}-{gen}-{mac}"


def qr_modules(text: str) -> np.ndarray:
    """The code's module matrix (True = dark), without quiet zone."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(text)
    qr.make(fit=True)
    return np.array(qr.get_matrix(), dtype=bool)


def label(text: str, rng: np.random.Generator, module_px: int = 8):
    """A stub as grey pixels, and the code's corners in it (4x2, clockwise from top-left)."""
    modules = qr_modules(text)
    code = np.where(modules, 0, 255).astype(np.uint8)
    code = cv2.resize(code, None, fx=module_px, fy=module_px, interpolation=cv2.INTER_NEAREST)
    side = code.shape[0]
    width, top = side + 2 * 60, 150
    height = top + side + 170
    img = np.full((height, width), 250, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(img, "LOBBY DESK - CLAIM STUB", (18, 40), font, 0.75, 20, 2, cv2.LINE_AA)
    cv2.putText(img, f"Ticket {rng.integers(100, 999)}  bag x{rng.integers(1, 4)}",
                (18, 80), font, 0.7, 30, 2, cv2.LINE_AA)
    cv2.putText(img, "2024-05-%02d 14:%02d" % (rng.integers(1, 28), rng.integers(0, 60)),
                (18, 118), font, 0.6, 40, 1, cv2.LINE_AA)
    x0 = (width - side) // 2
    img[top:top + side, x0:x0 + side] = code
    cv2.putText(img, text[:16], (18, top + side + 50), font, 0.7, 25, 2, cv2.LINE_AA)
    cv2.putText(img, "Keep this stub. Show it to collect.", (18, top + side + 95),
                font, 0.6, 40, 1, cv2.LINE_AA)
    cv2.line(img, (10, height - 30), (width - 10, height - 30), 60, 1)
    corners = np.float32([[x0, top], [x0 + side, top], [x0 + side, top + side], [x0, top + side]])
    return img, corners


def background(rng: np.random.Generator) -> np.ndarray:
    """A lobby-ish BGR scene: a lit gradient, furniture-like blocks, some signage text."""
    yy, xx = np.mgrid[0:FRAME_H, 0:FRAME_W].astype(np.float32)
    base = rng.uniform(60, 170, 3).astype(np.float32)
    tilt = rng.uniform(-0.06, 0.06, 2)
    img = base[None, None, :] + (tilt[0] * xx + tilt[1] * yy)[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(rng.integers(3, 9)):
        x, y = int(rng.integers(0, FRAME_W)), int(rng.integers(0, FRAME_H))
        w, h = int(rng.integers(40, 400)), int(rng.integers(40, 300))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        cv2.rectangle(img, (x, y), (x + w, y + h), colour, -1)
    for _ in range(rng.integers(0, 4)):
        x, y = int(rng.integers(0, FRAME_W - 200)), int(rng.integers(30, FRAME_H))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        cv2.putText(img, "EXIT  LIFTS  MAIL"[: rng.integers(4, 17)], (x, y),
                    cv2.FONT_HERSHEY_SIMPLEX, rng.uniform(0.5, 1.5), colour, 2, cv2.LINE_AA)
    return cv2.GaussianBlur(img, (3, 3), 0)


def _placement(src: np.ndarray, code_corners: np.ndarray, rng: np.random.Generator,
               code_px: float, angle_deg: float, tilt: float) -> np.ndarray:
    """A homography that shows the code ``code_px`` wide, rotated, with perspective ``tilt``."""
    h, w = src.shape[:2]
    scale = code_px / (code_corners[1, 0] - code_corners[0, 0])
    centre = code_corners.mean(axis=0)
    pts = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    rel = (pts - centre) * scale
    a = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], np.float32)
    rel = rel @ rot.T
    # Perspective: push two adjacent corners away and pull the others in.
    jitter = rng.uniform(-tilt, tilt, (4, 2)).astype(np.float32) * code_px
    rel = rel + jitter
    margin = code_px * 0.75 + 10
    cx = rng.uniform(margin, FRAME_W - margin) if FRAME_W > 2 * margin else FRAME_W / 2
    cy = rng.uniform(margin, FRAME_H - margin) if FRAME_H > 2 * margin else FRAME_H / 2
    return cv2.getPerspectiveTransform(pts, (rel + np.float32([cx, cy])).astype(np.float32))


def _paste(frame: np.ndarray, src: np.ndarray, homography: np.ndarray) -> None:
    size = (frame.shape[1], frame.shape[0])
    warped = cv2.warpPerspective(src, homography, size, flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full(src.shape[:2], 255, np.uint8), homography, size,
                               flags=cv2.INTER_LINEAR)
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    if warped.ndim == 2:
        warped = cv2.cvtColor(warped, cv2.COLOR_GRAY2BGR)
    frame[:] = (frame * (1 - alpha) + warped * alpha).astype(np.uint8)


def _crumple(img: np.ndarray, rng: np.random.Generator, module_px: int) -> np.ndarray:
    """Smooth random displacement plus crease shading, as on a pocketed stub."""
    h, w = img.shape[:2]
    field = []
    for _ in range(2):
        coarse = rng.normal(0, 1, (5, 4)).astype(np.float32)
        field.append(cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC))
    amp = rng.uniform(0.12, 0.25) * module_px
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = cv2.remap(img, xx + amp * field[0], yy + amp * field[1], cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)
    shade = 1.0 - 0.12 * np.abs(field[0] - field[1])
    for _ in range(rng.integers(2, 4)):
        p = rng.uniform(0, 1, 2) * [w, h]
        d = rng.normal(0, 1, 2)
        d /= np.linalg.norm(d) + 1e-6
        dist = (xx - p[0]) * d[1] - (yy - p[1]) * d[0]
        shade -= 0.22 * np.exp(-(dist / 2.5) ** 2)
    return np.clip(out * shade, 0, 255).astype(np.uint8)


def _phone(img: np.ndarray, corners: np.ndarray, rng: np.random.Generator):
    """The stub as a photo shown on a phone: dark bezel, backlit, pixel grid, slight tilt."""
    h, w = img.shape[:2]
    pad = int(0.12 * w)
    phone = np.full((h + 2 * pad, w + 2 * pad), 20, np.uint8)
    shot = cv2.convertScaleAbs(img, alpha=rng.uniform(0.75, 0.95), beta=rng.uniform(10, 40))
    phone[pad:pad + h, pad:pad + w] = shot
    grid = np.ones_like(phone, np.float32)
    grid[:, ::3] = 0.85
    grid[::3, :] = 0.85
    phone = (phone * grid).astype(np.uint8)
    return phone, corners + pad


def _glare(frame: np.ndarray, centre: np.ndarray, code_px: float, rng: np.random.Generator):
    """A specular highlight: a small blown-out core inside a wide low-contrast halo."""
    yy, xx = np.mgrid[0:FRAME_H, 0:FRAME_W].astype(np.float32)
    c = centre + rng.uniform(-0.3, 0.3, 2) * code_px
    d2 = (xx - c[0]) ** 2 + (yy - c[1]) ** 2
    halo_r, core_r = code_px * rng.uniform(0.5, 0.9), code_px * rng.uniform(0.08, 0.14)
    g = rng.uniform(0.75, 0.88) * np.exp(-d2 / (2 * halo_r ** 2))
    g = np.maximum(g, np.clip((core_r - np.sqrt(d2)) / (0.3 * core_r) + 1, 0, 1))
    return (frame * (1 - g[..., None]) + 255 * g[..., None]).astype(np.uint8)


def _camera(frame: np.ndarray, rng: np.random.Generator, sigma: float = 2.0) -> np.ndarray:
    """What every webcam adds: a little softness and sensor noise."""
    frame = cv2.GaussianBlur(frame, (0, 0), 0.6)
    noise = rng.normal(0, sigma, frame.shape).astype(np.float32)
    return np.clip(frame + noise, 0, 255).astype(np.uint8)


def photograph(text: str, category: str, rng: np.random.Generator,
               source: tuple[np.ndarray, np.ndarray] | None = None) -> Frame:
    """A 1280x720 BGR frame showing a stub carrying ``text``, degraded as ``category``.

    ``source`` is a real stub picture (grey pixels) and its code's corners, e.g.
    the printer preview of a label; without it a stand-in stub is drawn.
    """
    if source is None:
        module_px = 8
        img, corners = label(text, rng, module_px)
    else:
        img, corners = source
        module_px = max(2, round(float(corners[1, 0] - corners[0, 0]) / qr_modules(text).shape[0]))
    code_px = rng.uniform(140, 260)
    angle = rng.uniform(-12, 12)
    tilt = 0.05
    if category == "perspective":
        tilt = rng.uniform(0.15, 0.25)
    elif category == "rotation":
        angle = rng.uniform(0, 360)
    elif category == "small":
        code_px = rng.uniform(52, 66)
    elif category == "large":
        code_px = rng.uniform(420, 560)
    elif category == "inverted":
        img = 255 - img
    elif category == "crumpled":
        img = _crumple(img, rng, module_px)
        tilt = 0.1
    elif category == "faded":
        # A worn thermal head leaves pale columns, and old paper fades greyer.
        img = cv2.convertScaleAbs(img, alpha=rng.uniform(0.35, 0.5), beta=rng.uniform(120, 150))
        for x in rng.integers(0, img.shape[1], rng.integers(2, 5)):
            img[:, x:x + 2] = np.maximum(img[:, x:x + 2], 230)
    elif category == "phone_photo":
        img, corners = _phone(img, corners, rng)
        code_px = rng.uniform(120, 200)
        tilt = 0.1
    frame = background(rng)
    homography = _placement(img, corners, rng, code_px, angle, tilt)
    _paste(frame, img, homography)
    frame_corners = cv2.perspectiveTransform(corners[None], homography)[0]
    sigma = 2.0
    if category == "blur":
        if rng.random() < 0.5:
            frame = cv2.GaussianBlur(frame, (0, 0), code_px / 25 * rng.uniform(0.35, 0.5))
        else:
            length = int(code_px / 25 * rng.uniform(1.0, 1.5)) | 1
            kernel = np.zeros((length, length), np.float32)
            kernel[length // 2, :] = 1.0 / length
            rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1)
            frame = cv2.filter2D(frame, -1, cv2.warpAffine(kernel, rot, (length, length)))
    elif category == "noise":
        sigma = rng.uniform(18, 28)
    elif category == "glare":
        frame = _glare(frame, frame_corners.mean(axis=0), code_px, rng)
    elif category == "low_light":
        frame = cv2.convertScaleAbs(frame, alpha=rng.uniform(0.04, 0.08))
        sigma = rng.uniform(1.5, 2.5)
    elif category == "colour":
        # A tinted light blows out one channel: the code lives in the other two.
        gains = rng.uniform(0.5, 1.0, 3)
        dead = rng.choice([0, 2])
        frame = (frame * gains).astype(np.uint8)
        frame[..., dead] = np.clip(frame[..., dead].astype(np.int16) * 0 + rng.integers(200, 255), 0, 255)
    elif category == "phone_photo":
        frame = _glare(frame, frame_corners.mean(axis=0), code_px * 0.6, rng)
    frame = _camera(frame, rng, sigma)
    if category == "jpeg":
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(8, 20))])
        frame = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return Frame(frame, text, category, frame_corners.astype(np.float32))


def empty(rng: np.random.Generator) -> Frame:
    """A frame with no code: an empty lobby, sometimes a stub's back or a plain receipt."""
    frame = background(rng)
    kind = rng.integers(3)
    if kind == 1:
        # A receipt with text but no code: the printed side held the wrong way round.
        paper = np.full((420, 300), 248, np.uint8)
        for i in range(8):
            cv2.putText(paper, "ITEM %d  ....  %d.00" % (i, rng.integers(1, 99)), (12, 40 + 45 * i),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.6, 30, 2, cv2.LINE_AA)
        corners = np.float32([[0, 0], [300, 0], [300, 420], [0, 420]])
        _paste(frame, paper, _placement(paper, corners, rng, rng.uniform(150, 320), rng.uniform(-30, 30), 0.1))
    elif kind == 2:
        # Tiled floor and a chequered jacket: square-ish structure that is not a code.
        tile = int(rng.integers(12, 40))
        yy, xx = np.mgrid[0:FRAME_H, 0:FRAME_W]
        board = (((yy // tile) + (xx // tile)) % 2).astype(bool)
        frame[board & (yy > FRAME_H * 0.6)] //= 2
    return Frame(_camera(frame, rng), None, "no_code", None)


def frames(per_category: int, seed: int = 0, categories=CATEGORIES,
           no_code: int = 0) -> Iterator[Frame]:
    """``per_category`` frames of each category, then ``no_code`` frames without a code."""
    rng = np.random.default_rng(seed)
    for category in categories:
        for _ in range(per_category):
            yield photograph(claim_code(rng), category, rng)
    for _ in range(no_code):
        yield empty(rng)
