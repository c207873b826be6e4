"""The camera loop, played from generated video files."""
from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from scanning import Dedupe, SourceError, decode_file, scan_source, synth


def _write_video(path, frames, fps=10):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (1280, 720))
    assert writer.isOpened()
    for f in frames:
        writer.write(f)
    writer.release()
    return path


@pytest.fixture(scope="module")
def scene():
    rng = np.random.default_rng(77)
    stub_a = synth.photograph(synth.claim_code(rng), "clean", rng)
    stub_b = synth.photograph(synth.claim_code(rng), "perspective", rng)
    blank = synth.empty(rng).image
    # A held for 6 frames, gone for 3 (a glance away: too short to count as a new
    # presentation), back for 3, then B, then a long gap, then A again.
    frames = ([stub_a.image] * 6 + [blank] * 3 + [stub_a.image] * 3 + [stub_b.image] * 4
              + [blank] * 12 + [stub_a.image] * 2)
    return stub_a.text, stub_b.text, frames


def test_video_reports_each_presentation_once(tmp_path, scene):
    a, b, frames = scene
    path = _write_video(tmp_path / "lobby.avi", frames)
    seen = []
    n = scan_source(str(path), seen.append, forget_frames=8, forget_s=0.0)
    assert n == len(frames)
    assert [s.code.text for s in seen] == [a, b, a]
    assert [s.frame_index for s in seen] == [0, 12, 28]
    assert all(s.code.points.shape == (4, 2) for s in seen)


def test_max_frames_and_stop_event(tmp_path, scene):
    a, _, frames = scene
    path = _write_video(tmp_path / "lobby.avi", frames)
    seen = []
    assert scan_source(path, seen.append, max_frames=4) == 4
    assert [s.code.text for s in seen] == [a]

    stop = threading.Event()

    def stop_after_first(sighting):
        seen.append(sighting)
        stop.set()

    seen.clear()
    assert scan_source(path, stop_after_first, stop=stop) == 1
    assert len(seen) == 1


def test_dedupe_needs_both_frames_and_time_to_forget():
    now = [0.0]
    d = Dedupe(forget_frames=2, forget_s=1.0, clock=lambda: now[0])
    assert d.new(["X"], 0) == ["X"]
    assert d.new(["X"], 1) == []
    now[0] = 0.5
    assert d.new(["X"], 10) == []  # many frames, but only half a second
    now[0] = 5.0
    assert d.new(["X"], 11) == []  # long enough, but seen in the frame before
    now[0] = 7.0
    assert d.new(["X", "Y"], 20) == ["X", "Y"]


def test_missing_sources_raise(tmp_path):
    with pytest.raises(SourceError):
        scan_source(tmp_path / "nope.avi", lambda s: None)
    with pytest.raises(SourceError):
        decode_file(tmp_path / "nope.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(SourceError):
        decode_file(bad)


def test_decode_file_reads_a_phone_photo(tmp_path):
    rng = np.random.default_rng(31)
    f = synth.photograph(synth.claim_code(rng), "phone_photo", rng)
    path = tmp_path / "photo.jpg"
    cv2.imwrite(str(path), f.image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert [d.text for d in decode_file(path)] == [f.text]
