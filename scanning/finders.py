"""Cheap evidence that a frame holds a QR code, and where.

Most camera frames show no stub, and the expensive decoder stages must not run
on them. A QR finder pattern is three nested squares: a dark ring, a light
ring, a dark core. After a local threshold that shows up as a contour with a
grandchild in the contour tree, which lettering almost never has (an "O" or
"B" has holes but nothing inside the holes). We look for such nests, keep the
roughly square ones, and turn them into regions worth a closer look.
"""
from __future__ import annotations

from itertools import combinations
from typing import NamedTuple

import cv2
import numpy as np

from .readers import Symbol

# Work on a frame at most this wide: the search is linear in pixels, and a
# finder of a 60 px code is still ~8 px across at 640 px.
_SEARCH_WIDTH = 640


class Region(NamedTuple):
    x: int
    y: int
    w: int
    h: int
    finders: int       # finder-like nests inside
    corroborated: bool  # some nest has a sibling where the same code's next finder would be
    nests: tuple = ()  # (centre x, centre y, size) of each nest inside, in frame pixels


def _nests(binary: np.ndarray) -> list[tuple[float, float, float]]:
    # A finder is 7 of a code's >= 21 modules, and a whole code fits in the frame.
    largest = 0.35 * min(binary.shape)
    contours, hierarchy = cv2.findContours(binary, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    h = hierarchy[0]
    child = h[:, 2]
    grandchild = np.where(child >= 0, h[np.maximum(child, 0), 2], -1)
    out = []
    for i in np.flatnonzero(grandchild >= 0):
        x, y, w, hh = cv2.boundingRect(contours[i])
        if w < 5 or hh < 5 or max(w, hh) > largest or max(w, hh) > 2.2 * min(w, hh):
            continue
        cx, cy, cw, ch = cv2.boundingRect(contours[grandchild[i]])
        # The core is 3/7 of the pattern; allow for blur, tilt and thresholding.
        ratio = max(cw, ch) / max(w, hh)
        if not 0.2 < ratio < 0.75:
            continue
        # Its size across its own sides, not its upright bounding box's: tilted 45 degrees, a
        # finder's box is 1.4 times as wide, which would put its code's version far off.
        (_, _), (side_a, side_b), _ = cv2.minAreaRect(contours[i])
        out.append((x + w / 2, y + hh / 2, float(max(side_a, side_b))))
    return out


def find(grey: np.ndarray, max_regions: int = 3) -> list[Region]:
    """Regions of ``grey`` (in its coordinates) that may hold a QR code, best first."""
    height, width = grey.shape
    scale = min(1.0, _SEARCH_WIDTH / width)
    small = grey if scale == 1.0 else cv2.resize(grey, None, fx=scale, fy=scale,
                                                 interpolation=cv2.INTER_AREA)
    # A light blur keeps sensor noise from shattering into thousands of contours.
    small = cv2.blur(small, (3, 3))
    found = []
    for polarity in (cv2.THRESH_BINARY_INV, cv2.THRESH_BINARY):  # dark-on-light, then inverted
        binary = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, polarity, 25, 4)
        found += _nests(binary)
    boxes = []
    nests = [(cx / scale, cy / scale, size / scale) for cx, cy, size in found]
    for i, (cx, cy, size) in enumerate(found):
        # A finder sits in a corner of its code, which spans up to ~5 finders.
        # It counts as corroborated when another nest of similar size sits where
        # a sibling finder of the same code would be.
        partner = any(
            0.5 < s2 / size < 2.0 and 1.5 * size < np.hypot(cx - x2, cy - y2) < 8 * size
            for j, (x2, y2, s2) in enumerate(found) if j != i)
        half = 5.0 * size
        boxes.append([cx - half, cy - half, cx + half, cy + half, 1, partner])
    merged = _merge(boxes)
    merged.sort(key=lambda b: (-b[5], -b[4]))
    regions = []
    for x0, y0, x1, y1, n, partner in merged[:max_regions]:
        x0, y0 = max(0, int(x0 / scale)), max(0, int(y0 / scale))
        x1, y1 = min(width, int(x1 / scale) + 1), min(height, int(y1 / scale) + 1)
        inside = tuple(t for t in nests if x0 <= t[0] < x1 and y0 <= t[1] < y1)
        regions.append(Region(x0, y0, x1 - x0, y1 - y0, int(n), bool(partner), inside))
    return regions


def symbols(region: Region, most: int = 4) -> list[Symbol]:
    """Symbols that three of the region's nests imply, best first.

    Three finder patterns of one code sit at the corners of an L: two equal
    legs at a right angle, each leg (modules - 7) modules long, a module being
    a seventh of a finder. Perspective and curvature bend that, so the test is
    loose; the corners are extrapolated as if the code were flat, which is what
    the restoration that follows expects to refine.
    """
    found = []
    for i, j, k in combinations(_distinct_nests(region.nests), 3):
        sizes = (i[2], j[2], k[2])
        if max(sizes) > 1.6 * min(sizes):
            continue
        module = float(np.mean(sizes)) / 7
        for corner, p, q in ((i, j, k), (j, i, k), (k, i, j)):
            c = np.float32(corner[:2])
            a, b = np.float32(p[:2]) - c, np.float32(q[:2]) - c
            la, lb = float(np.hypot(*a)), float(np.hypot(*b))
            if min(la, lb) < 7 * module:
                continue
            cos = float(a @ b) / (la * lb)
            if not (0.7 < la / lb < 1.4 and abs(cos) < 0.5 and (la + lb) / 2 > 12 * module):
                continue
            fit = abs(cos) + abs(np.log(la / lb))
            for version in _versions((la + lb) / 2 / module):
                found.append((fit, _symbol(c, a, b, 17 + 4 * version)))
    found.sort(key=lambda t: t[0])
    return [s for _, s in found[:most]]


def pair_symbols(region: Region, most: int = 4) -> list[Symbol]:
    """Symbols two of the region's nests could belong to, when the third finder is lost
    (to glare, or crowded at the far edge of a curved code): both nests the size of a
    finder, as far apart as two finders of some version are, side by side or across the
    diagonal. A side-by-side pair gives a square on either side of it. They are guesses,
    best fitting a version's spacing first, and which corner is the code's top left is
    one too.
    """
    out = []
    for i, j in combinations(_distinct_nests(region.nests), 2):
        if max(i[2], j[2]) > 1.4 * min(i[2], j[2]):
            continue
        module = (i[2] + j[2]) / 14
        p, q = np.float32(i[:2]), np.float32(j[:2])
        span = float(np.hypot(*(q - p))) / module
        for legs, diagonal in ((span, False), (span / np.sqrt(2), True)):
            for version in _versions(legs):
                misfit = abs(legs - 10 - 4 * version)
                out += [(misfit, s) for s in _pair_guesses(p, q, diagonal, 17 + 4 * version)]
    out.sort(key=lambda t: t[0])
    return [s for _, s in out[:most]]


def _versions(legs: float) -> list[int]:
    """Versions whose finder centres are about ``legs`` modules apart (10 + 4 v). A nest
    looks a little large, its module so a little long, and a curved code's legs shrink:
    the versions either side of the estimate are both worth a guess."""
    v = (legs - 10) / 4
    return [n for n in sorted({int(np.floor(v)), int(np.ceil(v))}) if 1 <= n <= 40 and abs(legs - 10 - 4 * n) <= 4]


def _pair_guesses(p: np.ndarray, q: np.ndarray, diagonal: bool, n: int) -> list[Symbol]:
    d = q - p
    normal = np.float32([-d[1], d[0]])
    if diagonal:  # p, q are opposite corners' finders: one square has them
        corner = (p + q) / 2 + normal / 2
        return [_symbol(corner, p - corner, q - corner, n)]
    # Two finders along one side: the code lies on either side of them. Which finder was
    # lost, so which corner is the top-left, the restoration finds out.
    return [_symbol(p, d, normal, n), _symbol(p, d, -normal, n)]


def _symbol(corner: np.ndarray, a: np.ndarray, b: np.ndarray, n: int) -> Symbol:
    """The flat symbol of ``n`` modules whose top-left finder centre is ``corner`` and whose
    other two finder centres are ``corner + a`` and ``corner + b``, in either order."""
    if a[0] * b[1] - a[1] * b[0] < 0:
        a, b = b, a  # a runs to the top-right finder, b to the bottom-left, in the code's own frame
    grid = np.float32([[0, 0], [n, 0], [n, n], [0, n]])
    points = corner + ((grid[:, :1] - 3.5) * a + (grid[:, 1:] - 3.5) * b) / (n - 7)
    return Symbol(points.astype(np.float32), n)


def _distinct_nests(nests):
    """Each nest once: the light and the dark threshold often both find it."""
    out = []
    for n in nests:
        if all(np.hypot(n[0] - o[0], n[1] - o[1]) > 0.3 * o[2] for o in out):
            out.append(n)
    return out


def _merge(boxes: list[list[float]]) -> list[list[float]]:
    """Union overlapping boxes until none overlap; counts add up."""
    boxes = [b[:] for b in boxes]
    changed = True
    while changed:
        changed = False
        out: list[list[float]] = []
        for b in boxes:
            for m in out:
                if b[0] < m[2] and m[0] < b[2] and b[1] < m[3] and m[1] < b[3]:
                    m[0], m[1] = min(m[0], b[0]), min(m[1], b[1])
                    m[2], m[3] = max(m[2], b[2]), max(m[3], b[3])
                    m[4] += b[4]
                    m[5] = m[5] or b[5]
                    changed = True
                    break
            else:
                out.append(b)
        boxes = out
    return boxes
