"""The camera loop: frames from a device, stream or video file, each new code handed on once.

A stub held up to the lobby camera stays in view for dozens of frames; the
desk wants one event per presentation, not thirty. So a text is reported when
it first appears and not again until it has been out of view for
``forget_frames`` frames and ``forget_s`` seconds both (a single missed frame
under glare must not make a second handover event).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from .decoder import Decoded, decode
from .errors import SourceError

log = logging.getLogger(__name__)

Source = int | str | Path


def open_source(source: Source) -> cv2.VideoCapture:
    """A VideoCapture on a device index ("0" counts), a stream URL or a video file."""
    if isinstance(source, str) and source.isdigit():
        source = int(source)
    if isinstance(source, Path):
        source = str(source)
    if isinstance(source, str) and "://" not in source and not Path(source).exists():
        raise SourceError(f"no such video file: {source}")
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"cannot open video source {source!r}")
    return capture


@dataclass
class Sighting:
    """One new code seen by the loop."""
    code: Decoded
    frame_index: int
    at: float  # time.monotonic() when seen


class Dedupe:
    """Remembers which texts are in view; ``new(texts)`` yields those not seen recently."""

    def __init__(self, forget_frames: int = 15, forget_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        self.forget_frames = forget_frames
        self.forget_s = forget_s
        self._clock = clock
        self._last: dict[str, tuple[int, float]] = {}  # text -> (frame index, time) last seen

    def new(self, texts: list[str], frame_index: int) -> list[str]:
        now = self._clock()
        fresh = []
        for text in texts:
            seen = self._last.get(text)
            if seen is None or (frame_index - seen[0] > self.forget_frames
                                and now - seen[1] > self.forget_s):
                fresh.append(text)
            self._last[text] = (frame_index, now)
        return fresh


def scan_source(source: Source | cv2.VideoCapture, on_code: Callable[[Sighting], None], *,
                stop: threading.Event | None = None, max_frames: int | None = None,
                forget_frames: int = 15, forget_s: float = 1.0, budget_ms: float = 250.0,
                accept: Callable[[str], bool] | None = None, show: bool = False,
                clock: Callable[[], float] = time.monotonic) -> int:
    """Read frames until the source ends, ``stop`` is set or ``max_frames`` were read.

    Calls ``on_code`` once for each newly seen code (see module docstring for
    what "new" means). Returns the number of frames read. ``show`` opens a
    preview window and needs a GUI build of OpenCV; the kiosk runs headless.
    A live device that fails to deliver a frame ends the loop as a file does,
    so a supervisor can restart it.
    """
    capture = source if isinstance(source, cv2.VideoCapture) else open_source(source)
    seen = Dedupe(forget_frames, forget_s, clock)
    frames = 0
    try:
        while (stop is None or not stop.is_set()) and (max_frames is None or frames < max_frames):
            ok, frame = capture.read()
            if not ok or frame is None:
                break
            codes = decode(frame, budget_ms=budget_ms, accept=accept)
            by_text = {c.text: c for c in codes}
            for text in seen.new(list(by_text), frames):
                on_code(Sighting(by_text[text], frames, clock()))
            if show:
                _preview(frame, codes)
            frames += 1
    finally:
        capture.release()
    return frames


def decode_file(path: str | Path, **kwargs) -> list[Decoded]:
    """The codes in one image file (PNG, JPEG, ...). Raises SourceError if unreadable."""
    data = np.fromfile(str(path), dtype=np.uint8) if Path(path).is_file() else None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data is not None and data.size else None
    if image is None:
        raise SourceError(f"cannot read an image from {path}")
    return decode(image, **kwargs)


def _preview(frame: np.ndarray, codes: list[Decoded]) -> None:
    shown = frame.copy()
    for c in codes:
        cv2.polylines(shown, [c.points.astype(np.int32)], True, (0, 200, 0), 3)
    cv2.imshow("scan", shown)
    cv2.waitKey(1)
