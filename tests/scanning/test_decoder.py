"""Decoder chain behaviour on synthetic 1280x720 frames of claim stubs."""
from __future__ import annotations

import logging
import zlib

import cv2
import numpy as np
import pytest
import zxingcpp
from pyzbar import pyzbar

import scanning
from scanning import synth


def _texts(image, **kw):
    # What the chain can read, not how fast on a busy shared machine: a budget that
    # a loaded CI core cannot cut short. Timing is tested on its own, in CPU time.
    kw.setdefault("budget_ms", 5000.0)
    return [d.text for d in scanning.decode(image, **kw)]


def _hardest(f: synth.Frame) -> bool:
    """The far ends of the ranges, where the bench shows the chain starts to miss."""
    p = f.params
    return (p.get("blur_modules", 0) >= 0.8 or p.get("defocus_modules", 0) >= 1.05
            or p.get("arc_deg", 0) >= 95 or p["ppm"] < 2.2 or f.category == "glare")


def test_reads_nearly_all_degraded_frames_and_never_a_wrong_text(degraded_frames):
    misses, wrong = [], []
    for f in degraded_frames:
        texts = _texts(f.image)
        if f.text not in texts:
            misses.append((f.category, f.params))
        wrong += [t for t in texts if t != f.text]
    assert wrong == []
    # 88 frames across 22 categories; the bench measures the rate on many more. A miss
    # in the ranges issue 10 sets may only be at the far end of one (seed 2024 has blur
    # 0.86 module, missed). Defocus past 0.9 module (seed 2024: 1.15-1.18, all missed)
    # lies outside them: it must never read wrong, but is not held to a rate.
    within = [m for m in misses if m[0] not in synth.BEYOND_ISSUE]
    assert len(within) <= 2 and all(_hardest(f) for f in degraded_frames
                                    if (f.category, f.params) in within), within


@pytest.mark.parametrize("category", ["inverted", "low_light", "colour", "small", "large",
                                      "perspective", "glare", "faded", "grey_paper", "colour_label",
                                      "motion", "rolling_shutter"])
def test_each_hard_category_is_read(category):
    rng = np.random.default_rng(zlib.crc32(category.encode()))
    frames = [synth.photograph(synth.claim_code(rng), category, rng) for _ in range(3)]
    read = sum(f.text in _texts(f.image) for f in frames)
    assert read >= 2, category


def test_points_are_the_code_corners_in_frame_coordinates():
    rng = np.random.default_rng(5)
    # Direct, escalated, half-size, deconvolved and unrolled stages.
    for category in ("clean", "low_light", "rotation", "blur", "curved"):
        f = synth.photograph(synth.claim_code(rng), category, rng)
        (d,) = scanning.decode(f.image, budget_ms=5000.0)
        assert d.points.shape == (4, 2)
        # Same set of corners, whichever corner a decoder starts from; a curved
        # code's corners are only as sure as the unrolling.
        tolerance = 6 if category != "curved" else 1.5 * f.params["ppm"]
        for p in f.corners:
            assert np.min(np.linalg.norm(d.points - p, axis=1)) < tolerance, (category, d.stage)


def _raw_zxing(image):
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def _hard_frames(category, keep, seed, count=5):
    """The first ``count`` frames of ``category`` whose drawn strengths pass ``keep``."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        f = synth.photograph(synth.claim_code(rng), category, rng)
        if keep(f.params):
            out.append(f)
    return out


@pytest.mark.parametrize("category, keep", [
    ("blur", lambda p: p["blur_modules"] >= 0.6),  # Gaussian blur of 0.6-0.9 of a module
    ("curved", lambda p: p["arc_deg"] >= 75),      # wrapped round a bottle or a bag handle
])
def test_blurred_and_curved_codes_raw_zxing_misses_are_restored(category, keep):
    frames = _hard_frames(category, keep, seed=zlib.crc32(category.encode()))
    raw = sum(f.text in _raw_zxing(f.image) for f in frames)
    ours = [_texts(f.image) for f in frames]
    assert all(texts in ([], [f.text]) for texts, f in zip(ours, frames))
    assert raw <= 2 and sum(texts == [f.text] for texts, f in zip(ours, frames)) >= 4, (raw, ours)


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


def test_frames_without_a_code_return_nothing(empty_frames):
    # How fast is the bench's business (bench/scan_bench.py: no-code p95), not a timed test's.
    for f in empty_frames:
        assert scanning.decode(f.image) == []


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
    two = [readers.Read("K1S-AAA-0-X", square), readers.Read("K1S-BBB-0-Y", square + 2)]
    monkeypatch.setattr(decoder.readers, "zxing_scan", lambda g, **kw: (two, []))
    monkeypatch.setattr(decoder.finders, "find", lambda g: [])
    assert scanning.decode(np.zeros((300, 300), np.uint8)) == []
    one = [readers.Read("K1S-AAA-0-X", square)]
    monkeypatch.setattr(decoder.readers, "zxing_scan", lambda g, **kw: (one, []))
    assert [d.text for d in scanning.decode(np.zeros((300, 300), np.uint8))] == ["K1S-AAA-0-X"]


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


@pytest.mark.parametrize("shape", [(1, 1), (1, 1, 3), (7, 1), (1, 300), (20, 20, 3)])
def test_frames_too_small_for_any_code_read_nothing(shape):
    # The API fuzzer sent a 1x1 PNG to /decode: the halving passes asked OpenCV for an empty picture.
    assert scanning.decode(np.full(shape, 255, np.uint8)) == []
