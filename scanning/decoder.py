"""The decoder chain: cheap first, harder stages only where a code seems to be.

1. zxing-cpp on the whole grey frame. It is fast (~1-3 ms at 1280x720), reads
   inverted and rotated codes itself, and reads most real frames. Asked for its
   errors too, it also reports symbols it found but could not read.
2. Locate: zxing-cpp with a fixed threshold on a half-size frame, plain and
   with strong unsharp masks, which still finds the finder patterns of codes
   blurred by most of a module (~0.2-0.7 ms each). A read here ends the search.
3. Restore each located symbol (scanning.restoration): cut it out along its
   corners at a sane module size, then deconvolve it for a few blur strengths
   and flatten it for a few cylinder curvatures, reading after each.
4. Finder-pattern evidence (scanning.finders), for codes zxing-cpp does not
   even find (a dim frame, glare): a frame without any is almost surely empty,
   and we stop there, since most camera frames show no stub and must stay cheap.
   Around each piece of evidence, try preparations and decoders in order of
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

from . import filters, finders, readers, restoration


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

# Views of the half-size frame in which zxing-cpp, with a fixed threshold, looks
# for symbols: as it is (a fraction of a millisecond); unsharp-masked, which pulls
# apart the rings of finder patterns blurred by most of a module: at 6 px of the
# frame, and for blur of 0.8-0.9 module at 4-5 px two and four times as strongly
# (the second after smoothing away the sensor noise so strong a mask would
# raise); and, in a frame too dark for any threshold, stretched to the full
# range. None: the view does not apply to this frame. Each view costs every
# frame without a code ~0.7 ms, so only views that locate codes the others miss
# are kept (on development seeds, the usual-strength masks at 4 and 9 px located
# no code these did not).
LOCATORS: tuple[tuple[str, Callable[[np.ndarray], np.ndarray | None]], ...] = (
    ("half", lambda h: h),
    ("unsharp-3", lambda h: filters.unsharp(h, 3.0)),
    ("unsharp-2-strong", lambda h: filters.unsharp(h, 2.0, 10.0)),
    ("smooth-unsharp-2.5", lambda h: filters.unsharp(filters.smooth(h, 0.8), 2.5, 20.0)),
    ("dark", lambda h: filters.stretch(h) if filters.dark(h) else None),
)

# Located symbols restored per frame, at most: more than this are rarely one stub's.
_MAX_SYMBOLS = 3


MIN_SIDE = 21


def decode(image: np.ndarray, *, budget_ms: float = 250.0,
           accept: Callable[[str], bool] | None = None,
           exhaustive: bool = False,
           clock: Callable[[], float] = time.perf_counter) -> list[Decoded]:
    """The QR codes in ``image`` (grey HxW or BGR HxWx3 uint8), de-duplicated.

    ``budget_ms`` bounds the time spent escalating on one frame (the cheap
    first passes always run). ``accept`` may reject texts that are not the
    caller's payloads, so a stage that finds some other QR code in the frame
    does not end the search. ``exhaustive`` runs every stage (for diagnosis).
    ``clock`` measures the budget: wall time, which is what a person at the desk
    waits; the benchmark passes the thread's CPU time, so that other work on a
    shared machine does not cut the search short and change what is read.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels, got {image.dtype}")
    deadline = clock() + budget_ms / 1000.0
    grey = np.ascontiguousarray(filters.grey(image))
    if min(grey.shape[:2]) < MIN_SIDE:
        # No QR code fits: the smallest has 21 modules a side. (The halving passes would
        # also ask OpenCV for an empty picture.)
        return []
    found: list[Decoded] = []

    def keep(reads, stage, decoder, to_frame=None) -> bool:
        """Record accepted reads; whether the search may stop here."""
        for r in reads:
            if accept is not None and not accept(r.text):
                continue
            pts = r.points if to_frame is None else to_frame(r.points)
            found.append(Decoded(r.text, np.float32(pts).reshape(4, 2), decoder, stage))
        if exhaustive or not found:
            return False
        return not _settle(found)[1]

    reads, symbols = readers.zxing_scan(grey)
    if keep(reads, "direct", "zxing"):
        return _settle(found)[0]

    half = filters.half(grey)
    for name, prepare in LOCATORS:
        view = prepare(half)
        if view is None:
            continue
        reads, more = readers.zxing_scan(view, binarizer="fixed", downscale=False)
        symbols += [readers.Symbol(s.points * 2, s.modules) for s in more]
        if keep(reads, name, "zxing", _scaled(0.5)):
            return _settle(found)[0]

    def read_restored(stage, restored, to_frame):
        reads, unread = readers.zxing_scan(restored)
        if keep(reads, stage, "zxing", to_frame):
            return True, unread
        return clock() > deadline and not exhaustive, unread

    restored: list[readers.Symbol] = []
    for symbol in _distinct(symbols)[:_MAX_SYMBOLS]:
        restored.append(symbol)
        if restoration.restore(grey, symbol, read_restored) and found and not exhaustive:
            return _settle(found)[0]

    for region in finders.find(grey):
        # A lone finder-like nest is weak evidence (furniture edges make them
        # too): it earns only the cheapest stage, so empty frames stay cheap.
        stages = STAGES if region.corroborated or exhaustive else STAGES[:_LONE_STAGES]
        crop = _pad(region, grey.shape, 0.1)
        x0, y0, x1, y1 = crop
        g = np.ascontiguousarray(grey[y0:y1, x0:x1])
        c = image[y0:y1, x0:x1] if image.ndim == 3 else g
        for stage in stages:
            if clock() > deadline and not exhaustive:
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
                 stage.name, stage.decoder, _scaled(stage.scale, (x0, y0)))
            if len(found) > before and not exhaustive and not _settle(found)[1]:
                break  # otherwise go on: more stages may break the tie
        else:
            # No stage read it: maybe the code is curved. Three of its finders, or two
            # when the third is lost, give a first guess at its corners, which the
            # restoration refines; a guess far from what was tried is worth a try.
            if region.corroborated or exhaustive:
                guesses = finders.symbols(region) + finders.pair_symbols(region)
                for symbol in _distinct(guesses, restored, by_corners=True):
                    restored.append(symbol)
                    if (restoration.restore(grey, symbol, read_restored, oriented=False)
                            and found and not exhaustive):
                        return _settle(found)[0]
    return _settle(found)[0]


def _scaled(scale: float, offset=(0, 0)) -> Callable[[np.ndarray], np.ndarray]:
    """Points in an image ``scale`` times the size of a crop at ``offset`` -> frame points."""
    return lambda points: np.float32(points) / scale + np.float32(offset)


def _distinct(symbols: list[readers.Symbol], seen: list[readers.Symbol] = (),
              by_corners: bool = False) -> list[readers.Symbol]:
    """One symbol per place, none where one of ``seen`` is: several locators usually find
    the same one. ``by_corners``: a symbol at the same place counts as new when its
    corners differ by more than a module, or its size in modules does (another guess
    at a curved code's outline)."""
    out: list[readers.Symbol] = []
    for s in symbols:
        size = float(np.ptp(s.points, axis=0).max())
        if by_corners:
            near = size / (s.modules or restoration.MODULES)
            new = all(_corner_distance(s, o) > near or s.modules != o.modules for o in (*seen, *out))
        else:
            centre = s.points.mean(axis=0)
            new = all(np.linalg.norm(centre - o.points.mean(axis=0)) > 0.25 * size for o in (*seen, *out))
        if new:
            out.append(s)
    return out


def _corner_distance(a: readers.Symbol, b: readers.Symbol) -> float:
    """How far apart two outlines are at their worst corner, whichever corner each starts at."""
    return min(float(np.linalg.norm(np.roll(a.points, k, axis=0) - b.points, axis=1).max()) for k in range(4))


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
