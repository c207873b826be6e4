"""Restoring a located QR symbol so a decoder can read it.

A symbol that was found but not read (zxing-cpp saw its finder patterns and
grid, but its code words failed their check) is cut out of the frame along its
corners onto a square grid of ``PPM`` pixels a module. That alone undoes
perspective, shrinks a large blurred code (its blur shrinks with it) and
enlarges a tiny one. Then, in turn, until one reads:

- the cut-out as it is;
- deconvolved (Wiener) for a few blur strengths, stated in modules, since that
  is what decides whether modules can still be told apart;
- unrolled, for a stub on a bottle or a rolled bag handle: along the arc, a
  wrapped code's columns crowd together towards its edges, and seen from above
  or below its rows bow. The arc and turn of the cylinder are measured from the
  cut-out (the module edges must fall on an even comb once unrolled), the bow
  is tried at a few strengths, and since the corners a decoder reports for a
  curved code are themselves pulled inwards, each unrolled view's own corners
  give a better cut-out for the next round.

Everything here works on the cut-out, so the cost does not grow with the frame.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

import cv2
import numpy as np

from .readers import Symbol

PPM = 5.0        # pixels a module in the cut-out: enough for any decoder, cheap to deconvolve
MARGIN = 4.0     # modules of quiet zone kept round the symbol
MODULES = 25     # assumed when the version was not read (a claim stub is version 2)

# Gaussian blur sigma in modules, and the noise-to-signal ratio the Wiener
# filter assumes, in order of how many codes each rescued on development frames
# (blur 0.5-0.9 module; a sigma a little off still reads, so few are needed; the
# corners of a code blurred by 0.9 module are located a little wide, so its blur
# in the cut-out looks stronger).
DEBLUR = ((0.6, 1e-3), (0.8, 1e-4), (0.7, 3e-4), (0.9, 1e-4), (0.5, 3e-3), (1.0, 1e-4))
# The same for a lens focused at the wrong distance: the blur is a disc (radius in
# modules), which a Gaussian does not undo; the radius must be near right.
DEFOCUS = ((0.9, 3e-3), (1.0, 3e-3), (0.7, 3e-3), (1.2, 1e-3))

# Cylinders are measured over arcs of 0-125 degrees and turns of +-30 degrees
# (the code's centre that far round from facing the camera); bows (how far the
# middle of a row moves, in code widths per unit of depth) are tried in turn.
ARCS = np.arange(0.0, 126.0, 5.0)
TURNS = np.arange(-30.0, 31.0, 2.5)
BOWS = (0.0, -0.15, 0.15, -0.3, 0.3, -0.45, 0.45)
UNROLL_ROUNDS = 5

ToFrame = Callable[[np.ndarray], np.ndarray]  # Nx2 points in a restored image -> frame pixels
# read(name, image, to_frame) -> (stop, symbols found in image but not read)
Reader = Callable[[str, np.ndarray, ToFrame], tuple[bool, list[Symbol]]]


def restore(grey: np.ndarray, symbol: Symbol, read: Reader, oriented: bool = True) -> bool:
    """Offer restored views of ``symbol`` to ``read``, cheapest and most often rewarding
    first, until it says stop. Returns whether it did. ``oriented``: the symbol's first
    corner is known to be its top left (zxing-cpp saw all three finders); a guess from
    two finder patterns does not know which corner lost its finder."""
    modules = symbol.modules or MODULES
    flat, to_frame = rectify(grey, symbol.points, modules)
    if not oriented:
        flat, to_frame = snap(grey, flat, to_frame, modules)
    if read("rectified", flat, to_frame)[0]:
        return True
    for turn in range(1 if oriented else 4):
        repaired = repair(flat, modules, turn)
        if repaired is not None and read(f"repaired-{turn}", repaired, to_frame)[0]:
            return True
    for sigma, nsr in DEBLUR:
        if read(f"deblur-{sigma}", deconvolve(flat, _gaussian_otf, sigma * PPM, nsr), to_frame)[0]:
            return True
    for radius, nsr in DEFOCUS:
        if read(f"defocus-{radius}", deconvolve(flat, _disc_otf, radius * PPM, nsr), to_frame)[0]:
            return True
    fits = curvature(flat, modules)
    for axis in sorted(fits, key=lambda a: -fits[a][0]):  # the likelier axis first
        if _unroll(grey, flat, to_frame, modules, axis, read):
            return True
    return False


def _unroll(grey: np.ndarray, flat: np.ndarray, to_frame: ToFrame, modules: int, axis: str,
            read: Reader) -> bool:
    """Unroll round ``axis``; after each round, cut the symbol out again along the corners
    a decoder found in the best unrolled view, and measure the cylinder anew."""
    for _ in range(UNROLL_ROUNDS):
        _, arc, turn = curvature(flat, modules)[axis]
        better = None
        for bow in BOWS:
            mx, my = _cylinder_maps(flat.shape[0], modules, axis, arc, turn, bow)
            unrolled = cv2.remap(flat, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            through = _through(mx, my, to_frame)
            stop, unread = read(f"unroll-{axis}{arc:.0f}/{turn:.0f}/{bow}", unrolled, through)
            if stop:
                return True
            if better is None and unread:
                better = through(unread[0].points)
        if better is None:
            return False
        flat, to_frame = rectify(grey, better, modules)
    return False


def rectify(grey: np.ndarray, quad: np.ndarray, modules: int) -> tuple[np.ndarray, ToFrame]:
    """The symbol inside ``quad`` on a square grid of PPM px a module, MARGIN modules round it."""
    ppm, margin = PPM, MARGIN
    quad = np.float32(quad)
    side = int(round((modules + 2 * margin) * ppm))
    lo, hi = margin * ppm, (modules + margin) * ppm
    target = np.float32([[lo, lo], [hi, lo], [hi, hi], [lo, hi]])
    homography = cv2.getPerspectiveTransform(quad, target)
    source, to_source = grey, homography
    src_ppm = np.sqrt(max(cv2.contourArea(quad), 1.0)) / modules
    if src_ppm > 2 * ppm:
        # Average the frame down first: a warp that skips pixels would alias fine modules.
        f = 1.5 * ppm / src_ppm
        x0, y0 = np.maximum(np.floor(quad.min(axis=0) - margin * src_ppm), 0).astype(int)
        x1, y1 = np.ceil(quad.max(axis=0) + margin * src_ppm).astype(int)
        source = cv2.resize(grey[y0:y1, x0:x1], None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        to_source = homography @ np.float64([[1 / f, 0, x0], [0, 1 / f, y0], [0, 0, 1]])
    flat = cv2.warpPerspective(source, to_source, (side, side), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
    back = np.linalg.inv(homography)

    def to_frame(points: np.ndarray) -> np.ndarray:
        return cv2.perspectiveTransform(np.float32(points).reshape(1, -1, 2), back)[0]

    return flat, to_frame


def snap(grey: np.ndarray, flat: np.ndarray, to_frame: ToFrame, modules: int) -> tuple[np.ndarray, ToFrame]:
    """The symbol cut out again along the grid its two clearest finder patterns and its
    alignment pattern show; as it was when those do not stand out.

    A guess from two finder patterns gets their corners right but extrapolates the
    rest as if the code were seen square on, so the far corner may be a module off,
    and redrawing the fixed patterns a module off breaks them rather than repairs
    them. Found by template matching within two modules of where they belong, two
    finders and the alignment pattern (versions 2-6) fix an affine grid.
    """
    def match(template, centre):
        half, reach = template.shape[0] // 2, int(2 * PPM)
        x, y = int(round(centre[0])), int(round(centre[1]))
        x0, y0 = max(x - half - reach, 0), max(y - half - reach, 0)
        window = flat[y0:y + half + reach + 1, x0:x + half + reach + 1]
        if min(window.shape) <= template.shape[0]:
            return -1.0, centre
        _, best, _, (bx, by) = cv2.minMaxLoc(cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED))
        return best, (x0 + bx + half, y0 + by + half)

    near, far = (MARGIN + 3.5) * PPM, (MARGIN + modules - 3.5) * PPM
    corners = [(near, near), (far, near), (far, far), (near, far)]
    finders = [match(_pattern_template(7), c) for c in corners]
    first, second = np.argsort([-score for score, _ in finders])[:2]
    if finders[second][0] < _MATCH:
        return flat, to_frame
    expected = [corners[first], corners[second]]
    seen = [finders[first][1], finders[second][1]]
    if 25 <= modules <= 41:
        # The alignment pattern sits 6.5 modules in from the corner without a finder, which
        # is one of the two corners where no finder was found.
        inner, outer = (MARGIN + 6.5) * PPM, (MARGIN + modules - 6.5) * PPM
        spots = [(inner, inner), (outer, inner), (outer, outer), (inner, outer)]  # near each corner
        candidates = [(match(_pattern_template(5), spots[k]), spots[k]) for k in range(4) if k not in (first, second)]
        (score, where), spot = max(candidates, key=lambda c: c[0][0])
        if score >= _MATCH:
            expected.append(spot)
            seen.append(where)
    if len(seen) == 3:
        moved = cv2.getAffineTransform(np.float32(expected), np.float32(seen))
    else:
        moved, _ = cv2.estimateAffinePartial2D(np.float32(expected), np.float32(seen))
    if moved is None:
        return flat, to_frame
    lo, hi = MARGIN * PPM, (MARGIN + modules) * PPM
    square = np.float32([[lo, lo], [hi, lo], [hi, hi], [lo, hi]])
    outline = square @ moved[:, :2].T + moved[:, 2]
    if np.abs(outline - square).max() > 2 * PPM:
        return flat, to_frame  # further than the matches could reach: a false match
    return rectify(grey, to_frame(outline), modules)


# How alike (normalised correlation) a patch must be to a finder or alignment pattern.
_MATCH = 0.5


@lru_cache(maxsize=2)
def _pattern_template(size: int) -> np.ndarray:
    """A finder (7) or alignment (5) pattern, one module of light round it, PPM px a module."""
    ring = np.abs(np.arange(size + 2) - (size + 1) // 2)
    rings = np.maximum(ring[:, None], ring[None, :])
    dark = (0, 1, 3) if size == 7 else (0, 2)
    cells = np.where(np.isin(rings, dark), 0, 255).astype(np.uint8)
    return cv2.resize(cells, None, fx=PPM, fy=PPM, interpolation=cv2.INTER_NEAREST)


def repair(flat: np.ndarray, modules: int, turn: int = 0) -> np.ndarray | None:
    """The rectified symbol with its fixed patterns (finders, separators, timing, alignment,
    the quiet zone's first ring) drawn in anew at the symbol's own ink and paper levels.

    A glare spot or a crease on one finder pattern stops every decoder from finding
    the code at all, though the error correction would cover the data it hides.
    Once the symbol is cut out along its corners, where those patterns belong is
    known exactly. ``turn``: quarter turns clockwise of the symbol in the cut-out, for
    a cut-out whose top-left corner was a guess. None when the cut-out shows no clear
    ink and paper.
    """
    cells, dark = _fixed_cells(modules)
    for _ in range(turn % 4):
        cells = np.stack([modules - 1 - cells[:, 1], cells[:, 0]], axis=1)
    centres = ((cells + 0.5 + MARGIN) * PPM).astype(int)
    values = flat[centres[:, 1], centres[:, 0]].astype(np.float32)
    ink, paper = float(np.median(values[dark])), float(np.median(values[~dark]))
    if abs(paper - ink) < 10:
        return None
    out = flat.copy()
    k = int(PPM)
    for (x, y), d in zip(centres - k // 2, dark):
        out[y:y + k, x:x + k] = ink if d else paper
    return out


@lru_cache(maxsize=8)
def _fixed_cells(modules: int) -> tuple[np.ndarray, np.ndarray]:
    """The module cells (column, row) whose colour every symbol of this size shares, and
    whether each is dark."""
    n = modules
    cells: dict[tuple[int, int], bool] = {}
    for ox, oy in ((0, 0), (n - 7, 0), (0, n - 7)):  # finder patterns and their separators
        for j in range(-1, 8):
            for i in range(-1, 8):
                if 0 <= ox + i < n and 0 <= oy + j < n:
                    cells[ox + i, oy + j] = max(abs(i - 3), abs(j - 3)) in (0, 1, 3)
    for k in range(8, n - 8):  # timing patterns
        cells[k, 6] = cells[6, k] = k % 2 == 0
    if 25 <= n <= 41:  # versions 2-6: one alignment pattern
        for j in range(-2, 3):
            for i in range(-2, 3):
                cells[n - 7 + i, n - 7 + j] = max(abs(i), abs(j)) != 1
    for k in range(-1, n + 1):  # the quiet zone's first ring
        for cell in ((k, -1), (k, n), (-1, k), (n, k)):
            cells[cell] = False
    return np.array(list(cells), int), np.array(list(cells.values()), bool)


def deconvolve(img: np.ndarray, otf: Callable, size: float, nsr: float) -> np.ndarray:
    """Wiener deconvolution of a blur of ``size`` px whose transfer function ``otf``
    gives, stretched back to 0..255."""
    h, w = img.shape
    pad = int(3 * size) + 4
    f = cv2.copyMakeBorder(img.astype(np.float32), pad, pad, pad, pad, cv2.BORDER_REFLECT)
    H, W = cv2.getOptimalDFTSize(f.shape[0]), cv2.getOptimalDFTSize(f.shape[1])
    f = cv2.copyMakeBorder(f, 0, H - f.shape[0], 0, W - f.shape[1], cv2.BORDER_REFLECT)
    out = np.fft.irfft2(np.fft.rfft2(f) * _wiener_gain(otf, H, W, float(size), float(nsr)),
                        s=(H, W))[pad:pad + h, pad:pad + w]
    lo, hi = np.percentile(out[::3, ::3], (1, 99))  # a sample: ringing outliers must not set the range
    return np.clip((out - lo) * (255.0 / max(hi - lo, 1e-3)), 0, 255).astype(np.uint8)


@lru_cache(maxsize=64)
def _wiener_gain(otf: Callable, h: int, w: int, size: float, nsr: float) -> np.ndarray:
    fy = np.fft.fftfreq(h).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(w).astype(np.float32)[None, :]
    t = otf(np.sqrt(fx ** 2 + fy ** 2), size)
    return t / (t ** 2 + nsr)


def _gaussian_otf(f: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(-2 * np.pi ** 2 * sigma ** 2 * f ** 2)


def _disc_otf(f: np.ndarray, radius: float) -> np.ndarray:
    """A uniform disc's transfer function, 2 J1(x) / x with x = 2 pi r f (real: the disc is
    symmetric). Past its first zero it turns negative: contrast reversed, which Wiener
    deconvolution with the right radius turns back."""
    x = 2 * np.pi * radius * np.maximum(f, 1e-6)
    return (2 * _bessel_j1(x) / x).astype(np.float32)


def _bessel_j1(x: np.ndarray) -> np.ndarray:
    """J1 by its polynomial approximations (Abramowitz and Stegun 9.4.4, 9.4.6), |error| < 1e-7;
    numpy has no Bessel functions and scipy is not worth a dependency for one."""
    x = np.asarray(x, np.float64)
    small = x <= 3.0
    t = np.where(small, x / 3.0, 0.0) ** 2
    near = x * (0.5 + t * (-0.56249985 + t * (0.21093573 + t * (-0.03954289 + t * (
        0.00443319 + t * (-0.00031761 + t * 0.00001109))))))
    y = 3.0 / np.where(small, 3.0, x)
    f1 = 0.79788456 + y * (0.00000156 + y * (0.01659667 + y * (0.00017105 + y * (
        -0.00249511 + y * (0.00113653 - y * 0.00020033)))))
    theta = x - 2.35619449 + y * (0.12499612 + y * (0.00005650 + y * (-0.00637879 + y * (
        0.00074348 + y * (0.00079824 - y * 0.00029166)))))
    far = f1 * np.cos(theta) / np.sqrt(np.where(small, 1.0, x))
    return np.where(small, near, far)


def curvature(flat: np.ndarray, modules: int) -> dict[str, tuple[float, float, float]]:
    """For each axis of a rectified symbol, the cylinder that best evens out its module
    edges: {axis: (gain, arc, turn)}. The axis the code is wrapped along gains most.

    Once unrolled, the edges between modules fall on a comb of one module's
    pitch. For each axis, the edge strength summed across the code gives a
    profile; each candidate cylinder resamples it along the arc, and scores
    how much of it falls on the comb (normalised locally, so the crowded edge
    regions count as much as the middle), against no cylinder at all.
    """
    index, frac, comb, flat_index = _arc_tables(modules)
    lo, hi = int(MARGIN * PPM), int((MARGIN + modules) * PPM)
    f = flat.astype(np.float32)
    fits = {}
    for axis in ("x", "y"):
        edges = np.abs(cv2.Sobel(f, cv2.CV_32F, 1, 0) if axis == "x" else cv2.Sobel(f, cv2.CV_32F, 0, 1).T)
        profile = edges[lo:hi, :].sum(axis=0)
        q = profile[index] + np.diff(profile)[index] * frac  # the profile resampled along each arc
        q /= cv2.blur(q, (2 * int(PPM) + 1, 1), borderType=cv2.BORDER_REPLICATE) + 1e-3
        score = np.linalg.norm(q @ comb, axis=1) / (q.sum(axis=1) + 1e-6)
        j = int(np.argmax(score))
        arc, turn = divmod(j, len(TURNS))
        fits[axis] = (float(score[j] / max(score[flat_index], 1e-6)), float(ARCS[arc]), float(TURNS[turn]))
    return fits


@lru_cache(maxsize=8)
def _arc_tables(modules: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """For every (arc, turn): where each pixel along the unrolled code lies in the rectified
    one (whole pixel and fraction); the comb of one module's pitch (cosine and sine); and
    the row of the no-cylinder candidate."""
    code = modules * PPM
    n = int(round(code))
    u = (np.arange(n) + 0.5) / n
    arc, turn = np.meshgrid(ARCS, TURNS, indexing="ij")
    x, _ = _arc_position(u[None, :], np.maximum(arc.reshape(-1, 1), 1e-3), turn.reshape(-1, 1))
    seen = MARGIN * PPM + x * code
    index = np.clip(seen.astype(int), 0, int(round((modules + 2 * MARGIN) * PPM)) - 2)
    frac = (seen - index).astype(np.float32)
    phase = 2 * np.pi * np.arange(n) / PPM
    comb = np.stack([np.cos(phase), np.sin(phase)], axis=1).astype(np.float32)  # real BLAS, not complex
    flat_index = int(np.flatnonzero((arc.ravel() == 0) & (turn.ravel() == 0))[0])
    return index, frac, comb, flat_index


def _arc_position(u, arc, turn):
    """For positions ``u`` (0..1) along a code wrapped over ``arc`` degrees, turned ``turn``
    degrees: where they are seen (0..1 between the code's edges), and their depth
    behind the straight line between the edges (in cylinder radii)."""
    a0, a1 = np.deg2rad(turn - arc / 2), np.deg2rad(turn + arc / 2)
    a = np.clip(a0 + (a1 - a0) * u, -np.pi / 2 + 0.05, np.pi / 2 - 0.05)
    seen = (np.sin(a) - np.sin(a0)) / (np.sin(a1) - np.sin(a0))
    depth = np.cos(a0) + (np.cos(a1) - np.cos(a0)) * u - np.cos(a)
    return seen, depth


def _cylinder_maps(size: int, modules: int, axis: str, arc: float, turn: float,
                   bow: float) -> tuple[np.ndarray, np.ndarray]:
    """Where each pixel of the unrolled symbol lies in the rectified one.

    Rectifying along the four corners already put the corners right; what is
    left is the cylinder's pull inside: along the arc, position goes as the sine
    of the angle round the cylinder, and seen from above or below, each point
    moves across the arc by its depth, so straight rows bow.
    """
    margin, code = MARGIN * PPM, modules * PPM
    line = np.arange(size, dtype=np.float32)
    seen, depth = _arc_position((line - margin) / code, max(arc, 1e-3), turn)
    seen_along = np.broadcast_to(np.float32(margin + seen * code)[None, :], (size, size))
    seen_across = line[:, None] + np.float32(bow * code * depth)[None, :]
    if axis == "x":  # rows of the maps run along the arc
        return np.ascontiguousarray(seen_along), seen_across.astype(np.float32)
    return np.ascontiguousarray(seen_across.T, np.float32), np.ascontiguousarray(seen_along.T)


def _through(mx: np.ndarray, my: np.ndarray, to_frame: ToFrame) -> ToFrame:
    def mapped(points: np.ndarray) -> np.ndarray:
        p = np.clip(np.rint(np.float32(points).reshape(-1, 2)), 0, mx.shape[0] - 1).astype(int)
        return to_frame(np.stack([mx[p[:, 1], p[:, 0]], my[p[:, 1], p[:, 0]]], axis=1))
    return mapped
