"""Decoder chain behaviour on synthetic 1280x720 frames of claim stubs."""
from __future__ import annotations

import logging
import time
import zlib

import cv2
import numpy as np
import pytest
from pyzbar import pyzbar

import scanning
from scanning import synth


def _texts(image, **kw):
    return [d.text for d in scanning.decode(image, **kw)]


def test_reads_nearly_all_degraded_frames_and_never_a_wrong_text(degraded_frames):
    misses, wrong = [], []
    for f in degraded_frames:
        texts = _texts(f.image)
        if f.text not in texts:
            misses.append(f.category)
        wrong += [t for t in texts if t != f.text]
    assert wrong == []
    # 60 frames across 15 categories; the bench measures the rate on many more.
    assert len(misses) <= 2, misses


@pytest.mark.parametrize("category", ["inverted", "low_light", "colour", "small", "large",
                                      "perspective", "glare", "faded"])
def test_each_hard_category_is_read(category):
    rng = np.random.default_rng(zlib.crc32(category.encode()))
    frames = [synth.photograph(synth.claim_code(rng), category, rng) for _ in range(3)]
    read = sum(f.text in _texts(f.image) for f in frames)
    assert read >= 2, category


def test_points_are_the_code_corners_in_frame_coordinates():
    rng = np.random.default_rng(5)
    for category in ("clean", "low_light", "rotation"):  # direct and escalated stages
        f = synth.photograph(synth.claim_code(rng), category, rng)
        (d,) = scanning.decode(f.image)
        assert d.points.shape == (4, 2)
        # Same set of corners, whichever corner a decoder starts from.
        for p in f.corners:
            assert np.min(np.linalg.norm(d.points - p, axis=1)) < 6, (category, d.stage)


def test_inverted_code_is_read_though_pyzbar_alone_cannot():
    rng = np.random.default_rng(8)
    f = synth.photograph(synth.claim_code(rng), "inverted", rng)
    assert pyzbar.decode(f.image) == []
    assert _texts(f.image) == [f.text]


def test_grey_and_colour_input_agree_and_colour_uses_all_channels():
    rng = np.random.default_rng(3)
    f = synth.photograph(synth.claim_code(rng), "clean", rng)
    grey = cv2.cvtColor(f.image, cv2.COLOR_BGR2GRAY)
    assert _texts(grey) == _texts(f.image) == [f.text]
    # A code visible only in green and red: the blue channel is flat.
    tinted = f.image.copy()
    tinted[..., 0] = 230
    assert pyzbar.decode(tinted) == []  # pyzbar reads the first channel only
    assert _texts(tinted) == [f.text]


def test_frames_without_a_code_return_nothing_quickly(empty_frames):
    scanning.decode(empty_frames[0].image)  # warm up
    times = []
    for f in empty_frames:
        start = time.perf_counter()
        assert scanning.decode(f.image) == []
        times.append(time.perf_counter() - start)
    # The bench checks < 10 ms p95 on one quiet core; a shared CI core gets slack.
    assert np.percentile(times, 95) < 0.03


def test_blank_and_odd_images():
    assert scanning.decode(np.zeros((720, 1280), np.uint8)) == []
    assert scanning.decode(np.full((10, 10, 3), 255, np.uint8)) == []
    with pytest.raises(ValueError):
        scanning.decode(np.zeros((10, 10), np.float32))
    with pytest.raises(ValueError):
        scanning.decode(np.zeros((10, 10, 2), np.uint8))


def _half_around_code(f):
    x = int(np.clip(f.corners[:, 0].mean() - 320, 0, 640))
    return f.image[:, x:x + 640]


def test_two_codes_in_one_frame_are_both_returned_once():
    rng = np.random.default_rng(12)
    a, b = (synth.photograph(synth.claim_code(rng), "clean", rng) for _ in range(2))
    frame = np.ascontiguousarray(np.hstack([_half_around_code(a), _half_around_code(b)]))
    assert sorted(_texts(frame)) == sorted([a.text, b.text])


def test_accept_filters_foreign_codes():
    rng = np.random.default_rng(4)
    f = synth.photograph(synth.claim_code(rng), "clean", rng)
    assert _texts(f.image, accept=lambda t: t.startswith("K1")) == [f.text]
    assert _texts(f.image, accept=lambda t: False) == []


def test_same_code_from_many_stages_is_reported_once():
    rng = np.random.default_rng(6)
    f = synth.photograph(synth.claim_code(rng), "clean", rng)
    out = scanning.decode(f.image, exhaustive=True)
    assert [d.text for d in out] == [f.text]
    assert out[0].votes > 1


def test_tied_disagreement_returns_nothing(monkeypatch):
    from scanning import decoder, readers
    square = np.float32([[100, 100], [200, 100], [200, 200], [100, 200]])
    monkeypatch.setattr(decoder.readers, "zxing", lambda g, **kw: [
        readers.Read("K1S-AAA-0-X", square), readers.Read("K1S-BBB-0-Y", square + 2)])
    monkeypatch.setattr(decoder.finders, "find", lambda g: [])
    assert scanning.decode(np.zeros((300, 300), np.uint8)) == []


def test_missing_zbar_is_logged_not_warned(monkeypatch, caplog):
    import builtins
    import importlib
    from scanning import readers
    real_import = builtins.__import__

    def no_pyzbar(name, *args, **kwargs):
        if name.startswith("pyzbar"):
            raise ImportError("libzbar not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyzbar)
    with caplog.at_level(logging.WARNING, logger="scanning.readers"):
        importlib.reload(readers)
    try:
        assert readers.available()["zbar"] is False
        assert "pyzbar unavailable" in caplog.text
        assert readers.zbar(np.zeros((50, 50), np.uint8)) == []
    finally:
        monkeypatch.setattr(builtins, "__import__", real_import)
        importlib.reload(readers)
    assert readers.available()["zbar"] is True


def test_synth_is_deterministic_by_seed():
    a = next(synth.frames(1, seed=1, categories=("glare",)))
    b = next(synth.frames(1, seed=1, categories=("glare",)))
    assert a.text == b.text and np.array_equal(a.image, b.image)
    assert a.image.shape == (720, 1280, 3)
