"""Synthetic camera frames of claim stubs, for tests and the scan benchmark.

A stub is drawn the way the thermal printer lays it out (a version-2 QR code
at ECC level M among lines of text), changed the way paper goes wrong (faded,
grey, coloured, crumpled, curved round a bottle), then photographed into a
1280x720 frame through a simple camera model: the stub is integrated over each
sensor pixel (rendered at several times the resolution and averaged down, so a
code of 2 px a module aliases as it would on a sensor), blurred by the lens (a
Gaussian, or out of focus a disc) and by motion, given shot and read noise, and
JPEG-compressed as a browser camera frame is before it is posted.

Every strength is stated in the code's own units, because that is what makes a
frame hard: pixels per module (``ppm``), blur sigma and motion length in
modules, the arc a curved code spans. ``Frame.params`` records the values
drawn, so the benchmark can say where reading stops. The ranges reach past
what the project's own chain was first tuned on (Gaussian blur to 0.9 module,
defocus to 0.9, and past the issue's range to 1.2 in a category of its own, 2 px
modules, 110-degree curves) but stay physically plausible:
a frame no decoder could read in principle would only measure noise.

Everything is drawn from one ``numpy.random.Generator``, so a seed gives the
same frames on every machine; nothing here reads files or the network. The QR
mask pattern is drawn too, as a printer's firmware picks its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import cv2
import numpy as np
import qrcode

FRAME_W, FRAME_H = 1280, 720
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

CATEGORIES = (
    "clean", "perspective", "rotation", "blur", "defocus", "motion", "rolling_shutter", "noise", "glare",
    "low_light", "jpeg", "small", "large", "inverted", "colour", "colour_label", "curved",
    "crumpled", "faded", "grey_paper", "phone_photo", "defocus_far",
)
# Categories past the ranges issue 10 asks for, reported on their own so they neither
# pad nor sink the figure it sets a target for: defocus beyond 0.9 module (the issue
# states blur up to 0.9 of a module; a disc past ~1.0 module wipes out alternate modules).
BEYOND_ISSUE = ("defocus_far",)

# The stand-in stub's resolution: fine enough that the camera model, not the
# drawing, decides how the code looks at every size the categories reach.
_MASTER_PPM = 8

# Label stock and ink, BGR: what a desk actually loads (coloured thermal and
# direct-print label rolls) and prints with (black, or a two-colour printer's
# red; blue-black ribbons).
_PAPERS = {"yellow": (120, 235, 250), "pink": (205, 190, 255), "blue": (245, 215, 170),
           "green": (175, 240, 185), "orange": (90, 180, 255), "white": (245, 248, 250)}
_INKS = {"black": (25, 25, 30), "red": (45, 40, 200), "blue": (120, 40, 30), "green": (50, 100, 20)}


@dataclass(frozen=True)
class Frame:
    image: np.ndarray           # HxWx3 BGR uint8
    text: str | None            # the payload, None for a frame without a code
    category: str
    corners: np.ndarray | None  # 4x2 float32: the code's corners in the frame
    params: dict = field(default_factory=dict, compare=False)  # strengths drawn, in module units


def claim_code(rng: np.random.Generator) -> str:
    """A payload shaped like kiosk.codes.make(): ``K1{T|S|P}-{id}-{gen}-{mac}``."""
    role = "TSP"[rng.integers(3)]
    item = "".join(BASE36[i] for i in rng.integers(0, 36, rng.integers(2, 6)))
    gen = BASE36[rng.integers(0, 4)]
    mac = "".join(CROCKFORD[i] for i in rng.integers(0, 32, 20))
    return f"K1{role}-{item.lstrip('0') or '0'}-{gen}-{mac}"


def qr_modules(text: str, mask: int | None = None) -> np.ndarray:
    """The code's module matrix (True = dark), without quiet zone."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=mask)
    qr.add_data(text)
    qr.make(fit=True)
    return np.array(qr.get_matrix(), dtype=bool)


def label(text: str, rng: np.random.Generator, module_px: int = _MASTER_PPM):
    """A stub as grey pixels, and the code's corners in it (4x2, clockwise from top-left).

    Thermal dots bleed: dark modules grow or shrink by up to a tenth of a module.
    """
    modules = qr_modules(text, int(rng.integers(8)))
    code = np.where(modules, 0, 255).astype(np.uint8)
    code = cv2.resize(code, None, fx=module_px, fy=module_px, interpolation=cv2.INTER_NEAREST)
    spread = int(round(rng.uniform(-0.1, 0.1) * module_px))
    if spread:
        kernel = np.ones((abs(spread) + 1, abs(spread) + 1), np.uint8)
        code = cv2.erode(code, kernel) if spread > 0 else cv2.dilate(code, kernel)
    side = code.shape[0]
    quiet = module_px * 4
    width, top = max(side + 2 * quiet, 320), 150
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


def cut_stub(page: np.ndarray, code: str) -> tuple[np.ndarray, np.ndarray]:
    """The part of a printed label page (grey pixels) that carries ``code``, as torn off at
    the cut, and the code's corners in it: a real stub picture for ``photograph``."""
    from .readers import zxing

    corners = next(r.points for r in zxing(page) if r.text == code)
    side = corners[1, 0] - corners[0, 0]
    top = int(max(0, corners[0, 1] - 1.6 * side))
    bottom = int(min(page.shape[0], corners[2, 1] + 1.2 * side))
    return np.ascontiguousarray(page[top:bottom]), corners - np.float32([0, top])


def background(rng: np.random.Generator) -> np.ndarray:
    """A lobby-ish BGR scene: a lit gradient, furniture-like blocks, some signage text."""
    base = rng.uniform(60, 170, 3).astype(np.float32)
    tilt = rng.uniform(-0.06, 0.06, 2).astype(np.float32)
    ramp = (tilt[0] * np.arange(FRAME_W, dtype=np.float32)[None, :]
            + tilt[1] * np.arange(FRAME_H, dtype=np.float32)[:, None])
    img = np.clip(base[None, None, :] + ramp[..., None], 0, 255).astype(np.uint8)
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


# --- what happens to the paper ---------------------------------------------------------

def _colourise(grey: np.ndarray, paper, ink) -> np.ndarray:
    """Map a grey stub (255 = paper, 0 = ink) onto coloured stock and ink."""
    t = (grey.astype(np.float32) / 255.0)[..., None]
    ink, paper = np.float32(ink), np.float32(paper)
    return np.clip(ink + (paper - ink) * t, 0, 255).astype(np.uint8)


def _thermal_fade(img: np.ndarray, rng: np.random.Generator, paper: float, ink: float,
                  module_px: float) -> np.ndarray:
    """Old thermal print: ink faded unevenly towards ``ink``, paper ``paper``, a worn head's pale lines."""
    h, w = img.shape[:2]
    t = img.astype(np.float32) / 255.0
    # The fade varies smoothly over the stub (handled, sunlit, rubbed), by up to a third.
    coarse = rng.uniform(-1, 1, (3, 3)).astype(np.float32)
    unevenness = 1.0 + 0.33 * cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    contrast = np.clip((paper - ink) * unevenness, 20, 250)
    out = paper - contrast * (1.0 - t)
    # Dead heating elements: lines in the paper's feed direction where dots print pale.
    for x in rng.integers(0, w, rng.integers(1, 4)):
        width = max(1, int(round(module_px * rng.uniform(0.15, 0.35))))
        out[:, x:x + width] = np.maximum(out[:, x:x + width], paper - 0.25 * (paper - ink))
    # Paper fibre: fine mottling the size of a fraction of a module.
    grain = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 0.3 * module_px)
    out += grain * (4.0 / (grain.std() + 1e-6))
    return np.clip(out, 0, 255).astype(np.uint8)


def _crumple(img: np.ndarray, rng: np.random.Generator, module_px: float) -> np.ndarray:
    """Smooth random displacement plus crease shading, as on a pocketed stub."""
    h, w = img.shape[:2]
    fields = []
    for _ in range(2):
        coarse = rng.normal(0, 1, (5, 4)).astype(np.float32)
        fields.append(cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC))
    amp = rng.uniform(0.12, 0.25) * module_px
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = cv2.remap(img, xx + amp * fields[0], yy + amp * fields[1], cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)
    shade = 1.0 - 0.12 * np.abs(fields[0] - fields[1])
    for _ in range(rng.integers(2, 4)):
        p = rng.uniform(0, 1, 2) * [w, h]
        d = rng.normal(0, 1, 2)
        d /= np.linalg.norm(d) + 1e-6
        dist = (xx - p[0]) * d[1] - (yy - p[1]) * d[0]
        shade -= 0.22 * np.exp(-(dist / 2.5) ** 2)
    if out.ndim == 3:
        shade = shade[..., None]
    return np.clip(out * shade, 0, 255).astype(np.uint8)


def _curve(img: np.ndarray, corners: np.ndarray, rng: np.random.Generator, params: dict):
    """The stub wrapped round a cylinder (a bottle, a rolled bag handle), seen from the side.

    The code spans an arc of ``params["arc_deg"]`` degrees; the cylinder is turned
    ``turn_deg`` from facing the camera and seen from ``elevation_deg`` above or below,
    which bends the code's top and bottom edges. Returns the image as the camera would
    see it before perspective, a visibility mask, and the code's corners in it.
    """
    horizontal = params["axis"] == "horizontal"
    if horizontal:  # wrap round the other way: work on the transposed stub
        img, corners = np.ascontiguousarray(np.swapaxes(img, 0, 1)), corners[:, ::-1].copy()
    h, w = img.shape[:2]
    code_w = float(corners[:, 0].max() - corners[:, 0].min())
    radius = code_w / np.deg2rad(params["arc_deg"])
    turn, elev = np.deg2rad(params["turn_deg"]), np.deg2rad(params["elevation_deg"])
    u0 = float(corners[:, 0].mean())
    # Visible part of the surface: where it still faces the camera (less than ~85 degrees away).
    limit = np.deg2rad(85)
    lo = u0 + radius * (-limit - turn)
    hi = u0 + radius * (limit - turn)

    def project(u, v):
        a = (u - u0) / radius + turn
        x = radius * (np.sin(a) - np.sin(turn))
        depth = radius * (np.cos(turn) - np.cos(a))  # away from the camera, 0 at the code's centre
        y = v * np.cos(elev) + depth * np.sin(elev)
        return x, y

    xs, _ = project(np.array([max(0.0, lo), min(float(w), hi)]), np.array([0.0, 0.0]))
    x_min, x_max = float(xs.min()), float(xs.max())
    depth_max = radius * 1.1
    y_min = -abs(depth_max * np.sin(elev)) - 2
    y_max = h * np.cos(elev) + abs(depth_max * np.sin(elev)) + 2
    out_w, out_h = int(np.ceil(x_max - x_min)) + 2, int(np.ceil(y_max - y_min)) + 2
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    xp, yp = xx + x_min, yy + y_min
    s = np.clip(xp / radius + np.sin(turn), -1.0, 1.0)
    a = np.arcsin(s)
    u = u0 + radius * (a - turn)
    depth = radius * (np.cos(turn) - np.cos(a))
    v = (yp - depth * np.sin(elev)) / np.cos(elev)
    visible = (np.abs(s) < np.sin(limit)) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
    # Light from one side: the far side of the curve is darker.
    light = np.deg2rad(params["light_deg"])
    shade = np.clip(0.45 + 0.55 * np.cos(a - light), 0.3, 1.0)
    out = cv2.remap(img, u.astype(np.float32), v.astype(np.float32), cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)
    out = np.clip(out * (shade[..., None] if out.ndim == 3 else shade), 0, 255).astype(np.uint8)
    mask = np.where(visible, 255, 0).astype(np.uint8)
    cx, cy = project(corners[:, 0], corners[:, 1])
    new_corners = np.stack([cx - x_min, cy - y_min], axis=1).astype(np.float32)
    if horizontal:
        out, mask = np.ascontiguousarray(np.swapaxes(out, 0, 1)), np.ascontiguousarray(mask.T)
        new_corners = new_corners[:, ::-1].copy()
    return out, mask, new_corners


def _phone(img: np.ndarray, corners: np.ndarray, rng: np.random.Generator):
    """The stub as a photo shown on a phone: dark bezel, backlit, pixel grid."""
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


# --- how the camera sees it -------------------------------------------------------------

def _placement(src_shape, code_corners: np.ndarray, rng: np.random.Generator,
               ppm: float, modules: int, angle_deg: float, tilt: float) -> np.ndarray:
    """A homography showing the code at ``ppm`` pixels a module, rotated, with perspective ``tilt``."""
    h, w = src_shape[:2]
    code_px = ppm * modules
    src_side = float(np.linalg.norm(code_corners[1] - code_corners[0]))
    scale = code_px / src_side
    centre = code_corners.mean(axis=0)
    pts = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    rel = (pts - centre) * scale
    a = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], np.float32)
    rel = rel @ rot.T
    # Perspective: move each corner of the stub by up to ``tilt`` code widths.
    rel = rel + rng.uniform(-tilt, tilt, (4, 2)).astype(np.float32) * code_px
    margin = code_px * 0.75 + 10
    cx = rng.uniform(margin, FRAME_W - margin) if FRAME_W > 2 * margin else FRAME_W / 2
    cy = rng.uniform(margin, FRAME_H - margin) if FRAME_H > 2 * margin else FRAME_H / 2
    return cv2.getPerspectiveTransform(pts, (rel + np.float32([cx, cy])).astype(np.float32))


def _paste(frame: np.ndarray, src: np.ndarray, homography: np.ndarray,
           mask: np.ndarray | None = None) -> None:
    """Composite ``src`` into ``frame`` as a sensor would integrate it.

    Where the stub shrinks, it is warped onto a grid several times finer than
    the frame and averaged down, so fine modules blend into grey as they do on a
    sensor instead of aliasing into false sharp edges.
    """
    h, w = src.shape[:2]
    pts = cv2.perspectiveTransform(np.float32([[[0, 0], [w, 0], [w, h], [0, h]]]), homography)[0]
    x0, y0 = np.floor(pts.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 2
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, frame.shape[1]), min(y1, frame.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    shrink = np.sqrt(w * h / max(cv2.contourArea(pts), 1.0))
    ss = int(np.clip(np.ceil(shrink), 1, 4))
    to_grid = np.float64([[ss, 0, -ss * x0], [0, ss, -ss * y0], [0, 0, 1]]) @ homography
    size = ((x1 - x0) * ss, (y1 - y0) * ss)
    if mask is None:
        mask = np.full((h, w), 255, np.uint8)
    warped = cv2.warpPerspective(src, to_grid, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpPerspective(mask, to_grid, size, flags=cv2.INTER_LINEAR)
    if ss > 1:
        warped = cv2.resize(warped, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(alpha, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    if warped.ndim == 2:
        warped = cv2.cvtColor(warped, cv2.COLOR_GRAY2BGR)
    a = (alpha.astype(np.float32) / 255.0)[..., None]
    region = frame[y0:y1, x0:x1].astype(np.float32)
    frame[y0:y1, x0:x1] = (region * (1 - a) + warped * a).astype(np.uint8)


def _glare(frame: np.ndarray, centre: np.ndarray, code_px: float, rng: np.random.Generator):
    """A specular highlight: a small blown-out core inside a wide low-contrast halo."""
    yy, xx = np.mgrid[0:FRAME_H, 0:FRAME_W].astype(np.float32)
    c = centre + rng.uniform(-0.3, 0.3, 2) * code_px
    d2 = (xx - c[0]) ** 2 + (yy - c[1]) ** 2
    halo_r, core_r = code_px * rng.uniform(0.5, 0.9), code_px * rng.uniform(0.08, 0.14)
    g = rng.uniform(0.75, 0.88) * np.exp(-d2 / (2 * halo_r ** 2))
    g = np.maximum(g, np.clip((core_r - np.sqrt(d2)) / (0.3 * core_r) + 1, 0, 1))
    return (frame * (1 - g[..., None]) + 255 * g[..., None]).astype(np.uint8)


def _motion_kernel(length_px: float, angle_deg: float) -> np.ndarray:
    """A straight-line blur of ``length_px`` pixels (sub-pixel lengths by a soft end)."""
    size = int(np.ceil(length_px)) | 1
    size = max(size, 3)
    kernel = np.zeros((size * 4, size * 4), np.float32)  # drawn 4x finer, then averaged down
    c = size * 2 - 0.5
    a = np.deg2rad(angle_deg)
    d = np.float32([np.cos(a), np.sin(a)]) * length_px * 2
    cv2.line(kernel, (int(round((c - d[0]) * 16)), int(round((c - d[1]) * 16))),
             (int(round((c + d[0]) * 16)), int(round((c + d[1]) * 16))), 1.0, 2, cv2.LINE_AA, shift=4)
    kernel = cv2.resize(kernel, (size, size), interpolation=cv2.INTER_AREA)
    return kernel / kernel.sum()


def _disc_kernel(radius_px: float) -> np.ndarray:
    """The blur of a lens focused at the wrong distance: a uniform disc (drawn 8x finer)."""
    size = 2 * int(np.ceil(radius_px)) + 1
    fine = np.zeros((size * 8, size * 8), np.float32)
    cv2.circle(fine, (size * 4, size * 4), int(round(radius_px * 8)), 1.0, -1, cv2.LINE_AA)
    kernel = cv2.resize(fine, (size, size), interpolation=cv2.INTER_AREA)
    return kernel / kernel.sum()


def _camera(frame: np.ndarray, rng: np.random.Generator, *, lens_px: float, blur_px: float = 0.0,
            defocus_px: float = 0.0, motion_px: float = 0.0, motion_deg: float = 0.0,
            read_noise: float = 1.5, shot: float = 0.03, jpeg: int | None = None) -> np.ndarray:
    """Lens, defocus and motion blur, then shot and read noise, then (a browser's) JPEG compression."""
    sigma = float(np.hypot(lens_px, blur_px))
    frame = cv2.GaussianBlur(frame, (0, 0), sigma)
    if defocus_px > 0.5:
        frame = cv2.filter2D(frame, -1, _disc_kernel(defocus_px))
    if motion_px > 0.5:
        frame = cv2.filter2D(frame, -1, _motion_kernel(motion_px, motion_deg))
    f = frame.astype(np.float32)
    noise_sd = np.sqrt(read_noise ** 2 + shot * f)
    f += rng.standard_normal(f.shape, dtype=np.float32) * noise_sd
    frame = np.clip(f + 0.5, 0, 255).astype(np.uint8)
    if jpeg is not None:
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg)])
        frame = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return frame


def photograph(text: str, category: str, rng: np.random.Generator,
               source: tuple[np.ndarray, np.ndarray] | None = None) -> Frame:
    """A 1280x720 BGR frame showing a stub carrying ``text``, degraded as ``category``.

    ``source`` is a real stub picture (grey pixels) and its code's corners, e.g.
    the printer preview of a label; without it a stand-in stub is drawn.
    """
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    if source is None:
        img, corners = label(text, rng)
    else:
        img, corners = source
    modules = qr_modules(text).shape[0]
    module_px = float(np.linalg.norm(corners[1] - corners[0])) / modules  # in the stub picture
    p: dict = {"ppm": float(rng.uniform(5.5, 10.5)), "angle_deg": float(rng.uniform(-12, 12)),
               "tilt": 0.05, "lens_px": float(rng.uniform(0.5, 0.9)), "read_noise": float(rng.uniform(1.0, 2.5)),
               "jpeg": int(rng.integers(70, 96)) if rng.random() < 0.5 else None}
    mask = None
    if category == "perspective":
        p["tilt"] = float(rng.uniform(0.15, 0.25))
    elif category == "rotation":
        p["angle_deg"] = float(rng.uniform(0, 360))
    elif category == "small":
        p["ppm"] = float(rng.uniform(2.0, 3.0))
    elif category == "large":
        p["ppm"] = float(rng.uniform(16, 22))
    elif category == "inverted":
        img = 255 - img
    elif category == "colour_label":
        paper = list(_PAPERS)[rng.integers(len(_PAPERS) - 1)]  # not white: that is "clean"
        ink = list(_INKS)[rng.integers(len(_INKS))]
        p.update(paper=paper, ink=ink)
        img = _colourise(img, _PAPERS[paper], _INKS[ink])
    elif category == "crumpled":
        img = _crumple(img, rng, module_px)
        p["tilt"] = 0.1
    elif category == "faded":
        # White thermal paper whose print has faded to a pale grey.
        p.update(paper_level=float(rng.uniform(215, 245)), ink_level=float(rng.uniform(120, 175)))
        img = _thermal_fade(img, rng, p["paper_level"], p["ink_level"], module_px)
    elif category == "grey_paper":
        # Recycled or aged grey thermal stock: dull paper, dull print, little between.
        p.update(paper_level=float(rng.uniform(150, 195)), ink_level=float(rng.uniform(60, 110)))
        img = _thermal_fade(img, rng, p["paper_level"], p["ink_level"], module_px)
    elif category == "curved":
        p.update(arc_deg=float(rng.uniform(50, 110)), turn_deg=float(rng.uniform(-20, 20)),
                 elevation_deg=float(rng.uniform(-20, 20)), light_deg=float(rng.uniform(-40, 40)),
                 axis=str(rng.choice(["vertical", "horizontal"])))
        img, mask, corners = _curve(img, corners, rng, p)
    elif category == "phone_photo":
        img, corners = _phone(img, corners, rng)
        p.update(ppm=float(rng.uniform(4.8, 8.0)), tilt=0.1)
    frame = background(rng)
    homography = _placement(img.shape, corners, rng, p["ppm"], modules, p["angle_deg"], p["tilt"])
    if category == "rolling_shutter":
        # The stub moves while the sensor reads its rows top to bottom: each row is
        # caught a little later, so the code shears sideways and stretches or squashes.
        p.update(skew=float(rng.uniform(0.06, 0.2) * rng.choice([-1, 1])),
                 stretch=float(rng.uniform(-0.12, 0.12)), motion_modules=float(rng.uniform(0.2, 0.5)))
        cy = FRAME_H / 2
        shear = np.float64([[1, p["skew"], -p["skew"] * cy], [0, 1 + p["stretch"], -p["stretch"] * cy], [0, 0, 1]])
        homography = shear @ homography
        p["motion_deg"] = 0.0
    _paste(frame, img, homography, mask)
    frame_corners = cv2.perspectiveTransform(corners[None].astype(np.float32), homography)[0]
    code_px = p["ppm"] * modules
    cam = {"lens_px": p["lens_px"], "read_noise": p["read_noise"], "jpeg": p["jpeg"]}
    if category == "blur":
        p["blur_modules"] = float(rng.uniform(0.3, 0.9))
        cam["blur_px"] = p["blur_modules"] * p["ppm"]
    elif category in ("defocus", "defocus_far"):
        # A fixed-focus kiosk camera and a stub held too close: a disc, not a Gaussian.
        # A disc of radius r (modules) has its first contrast zero at 0.61/r cycles a
        # module; at r = 1.22 that is the finest pattern (alternate modules), erased.
        near, far = (0.5, 0.9) if category == "defocus" else (0.9, 1.2)
        p["defocus_modules"] = float(rng.uniform(near, far))
        cam["defocus_px"] = p["defocus_modules"] * p["ppm"]
    elif category == "motion":
        p.update(motion_modules=float(rng.uniform(0.5, 1.5)), motion_deg=float(rng.uniform(0, 180)))
    elif category == "noise":
        cam["read_noise"] = p["read_noise"] = float(rng.uniform(12, 20))
        cam["shot"] = 0.5
    elif category == "glare":
        frame = _glare(frame, frame_corners.mean(axis=0), code_px, rng)
    elif category == "low_light":
        p["exposure"] = float(rng.uniform(0.04, 0.08))
        frame = cv2.convertScaleAbs(frame, alpha=p["exposure"])
    elif category == "colour":
        # A tinted light blows out one channel: the code lives in the other two.
        gains = rng.uniform(0.5, 1.0, 3)
        dead = rng.choice([0, 2])
        frame = (frame * gains).astype(np.uint8)
        frame[..., dead] = rng.integers(200, 255)
    elif category == "phone_photo":
        frame = _glare(frame, frame_corners.mean(axis=0), code_px * 0.6, rng)
    elif category == "jpeg":
        cam["jpeg"] = p["jpeg"] = int(rng.integers(8, 20))
    if "motion_modules" in p:
        cam.update(motion_px=p["motion_modules"] * p["ppm"], motion_deg=p["motion_deg"])
    frame = _camera(frame, rng, **cam)
    return Frame(frame, text, category, frame_corners.astype(np.float32), p)


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
        ppm = rng.uniform(150, 320) / 25
        _paste(frame, paper, _placement(paper.shape, corners, rng, ppm, 25, rng.uniform(-30, 30), 0.1))
    elif kind == 2:
        # Tiled floor and a chequered jacket: square-ish structure that is not a code.
        tile = int(rng.integers(12, 40))
        yy, xx = np.mgrid[0:FRAME_H, 0:FRAME_W]
        board = (((yy // tile) + (xx // tile)) % 2).astype(bool)
        frame[board & (yy > FRAME_H * 0.6)] //= 2
    jpeg = int(rng.integers(70, 96)) if rng.random() < 0.5 else None
    return Frame(_camera(frame, rng, lens_px=float(rng.uniform(0.5, 0.9)), jpeg=jpeg), None, "no_code", None)


def frames(per_category: int, seed: int = 0, categories=CATEGORIES,
           no_code: int = 0) -> Iterator[Frame]:
    """``per_category`` frames of each category, then ``no_code`` frames without a code."""
    rng = np.random.default_rng(seed)
    for category in categories:
        for _ in range(per_category):
            yield photograph(claim_code(rng), category, rng)
    for _ in range(no_code):
        yield empty(rng)
