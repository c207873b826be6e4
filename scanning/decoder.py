"""The decoder chain: cheap first, harder stages only where a code seems to be.

1. zxing-cpp on the whole grey frame. It is fast (~2-3 ms at 1280x720), reads
   inverted and rotated codes itself, and reads most real frames.
2. If that fails, look for finder-pattern evidence (scanning.finders). A frame
   without any is almost surely empty, and we stop there: most camera frames
   show no stub, and they must stay cheap.
3. Around each piece of evidence, try preparations and decoders in order of
   rescues per millisecond, until one reads or the frame's time budget is spent.

Every decoder here checks the QR Reed-Solomon code words before it answers,
so a read is never a guess. On top of that, two different texts found at the
same place are a conflict: the one more stages agreed on wins, and a tie
returns neither, because a missed frame costs a retry while a wrong text costs
a handover to the wrong person.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np

from . import filters, finders, readers


@dataclass(frozen=True, eq=False)
class Decoded:
    text: str
    points: np.ndarray = field(repr=False)  # 4x2 float32, input image pixel coordinates
    decoder: str                            # "zxing", "zbar" or "opencv"
    stage: str                              # which preparation read it, e.g. "direct", "clahe"
    votes: int = 1                          # how many stage reads agreed on this text here

    @property
    def centre(self) -> tuple[float, float]:
        c = self.points.mean(axis=0)
        return float(c[0]), float(c[1])


class Stage(NamedTuple):
    name: str
    decoder: str
    prepare: Callable[[np.ndarray, np.ndarray], np.ndarray | None]  # (grey crop, colour crop)
    scale: float = 1.0   # size of the prepared image relative to the crop
    small_only: bool = False  # only for crops of small codes, where upscaling pays


def _up(g, _c):
    return filters.upscale(g, 2.0)


# Ordered by rescues per millisecond, measured with bench/scan_bench.py on the
# synthetic frames of scanning.synth.
STAGES: tuple[Stage, ...] = (
    Stage("clahe", "zxing", lambda g, c: filters.clahe(g)),
    Stage("sharpen", "zxing", lambda g, c: filters.sharpen(g)),
    Stage("upscale", "zxing", _up, 2.0, True),
    Stage("grey", "zbar", lambda g, c: g),
    Stage("denoise", "zxing", lambda g, c: filters.denoise(g)),
    Stage("streaks", "zxing", lambda g, c: filters.fill_streaks(g)),
    Stage("channel", "zxing", lambda g, c: filters.best_channel(c)),
    Stage("stretch", "zxing", lambda g, c: filters.stretch(g)),
    Stage("clahe", "zbar", lambda g, c: filters.clahe(g)),
    Stage("inverted", "zbar", lambda g, c: filters.invert(g)),
    Stage("sharpen-up", "zxing", lambda g, c: filters.sharpen(filters.upscale(g)), 2.0, True),
    Stage("clahe", "opencv", lambda g, c: filters.clahe(g)),
    Stage("grey", "opencv", lambda g, c: g),
)

_READERS = {"zxing": readers.zxing, "zbar": readers.zbar, "opencv": readers.opencv}

# How many of STAGES a region with a single finder-like nest gets.
_LONE_STAGES = 1

# A crop narrower than this holds a code small enough that 2x upscaling helps.
_SMALL_CROP = 420


def decode(image: np.ndarray, *, budget_ms: float = 250.0,
           accept: Callable[[str], bool] | None = None,
           exhaustive: bool = False) -> list[Decoded]:
    """The QR codes in ``image`` (grey HxW or BGR HxWx3 uint8), de-duplicated.

    ``budget_ms`` bounds the time spent escalating on one frame (the cheap
    first pass always runs). ``accept`` may reject texts that are not the
    caller's payloads, so a stage that finds some other QR code in the frame
    does not end the search. ``exhaustive`` runs every stage (for diagnosis).
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels, got {image.dtype}")
    start = time.perf_counter()
    deadline = start + budget_ms / 1000.0
    grey = np.ascontiguousarray(filters.grey(image))
    found: list[Decoded] = []

    def keep(reads, stage, decoder, scale=1.0, offset=(0, 0)):
        for r in reads:
            if accept is not None and not accept(r.text):
                continue
            pts = r.points / scale + np.float32(offset)
            found.append(Decoded(r.text, pts.astype(np.float32), decoder, stage))

    keep(readers.zxing(grey), "direct", "zxing")
    settled, contested = _settle(found)
    if settled and not contested and not exhaustive:
        return settled

    for region in finders.find(grey):
        # A lone finder-like nest is weak evidence (furniture edges make them
        # too): it earns only the cheapest stage, so empty frames stay cheap.
        stages = STAGES if region.corroborated or exhaustive else STAGES[:_LONE_STAGES]
        crop = _pad(region, grey.shape, 0.1)
        x0, y0, x1, y1 = crop
        g = np.ascontiguousarray(grey[y0:y1, x0:x1])
        c = image[y0:y1, x0:x1] if image.ndim == 3 else g
        for stage in stages:
            if time.perf_counter() > deadline and not exhaustive:
                break
            if stage.small_only and max(g.shape) > _SMALL_CROP:
                continue
            if stage.decoder == "zbar" and not readers.available()["zbar"]:
                continue
            prepared = stage.prepare(g, c)
            if prepared is None:
                continue
            before = len(found)
            keep(_READERS[stage.decoder](np.ascontiguousarray(prepared)),
                 stage.name, stage.decoder, stage.scale, (x0, y0))
            if len(found) > before and not exhaustive:
                settled, contested = _settle(found)
                if not contested:
                    break  # otherwise go on: more stages may break the tie
    return _settle(found)[0]


def _pad(region: finders.Region, shape, frac: float) -> tuple[int, int, int, int]:
    h, w = shape
    px, py = int(region.w * frac), int(region.h * frac)
    return (max(0, region.x - px), max(0, region.y - py),
            min(w, region.x + region.w + px), min(h, region.y + region.h + py))


def _settle(found: list[Decoded]) -> tuple[list[Decoded], bool]:
    """Merge reads of one code; drop places where stages disagree without a majority.

    Also tells whether any such tie was dropped.
    """
    groups: list[list[Decoded]] = []
    for d in found:
        for g in groups:
            if _overlap(g[0], d):
                g.append(d)
                break
        else:
            groups.append([d])
    out: list[Decoded] = []
    contested = False
    for g in groups:
        counts: dict[str, int] = {}
        for d in g:
            counts[d.text] = counts.get(d.text, 0) + 1
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            contested = True  # a tie between two texts at one place: better none than a wrong one
            continue
        text, votes = ranked[0]
        first = next(d for d in g if d.text == text)
        if any(o.text == text for o in out):
            continue  # the same code seen twice (e.g. a reflection): report it once
        out.append(Decoded(text, first.points, first.decoder, first.stage, votes))
    return out, contested


def _overlap(a: Decoded, b: Decoded) -> bool:
    """Whether two reads are of the same printed code: each centre lies within the other's extent."""
    (ax, ay), (bx, by) = a.centre, b.centre
    ra = float(np.ptp(a.points, axis=0).max()) / 2 + 1
    rb = float(np.ptp(b.points, axis=0).max()) / 2 + 1
    return abs(ax - bx) < max(ra, rb) and abs(ay - by) < max(ra, rb)
