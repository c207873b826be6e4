"""Restoring located symbols: cut-out, deconvolution, unrolling a curved code."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from scanning import readers, restoration, synth

TEXT = "K1S-7QX-0-ABCDEFGHJKMNPQRSTVWX"


def _code(ppm: int) -> tuple[np.ndarray, np.ndarray]:
    """The code at ``ppm`` px a module with a 6-module quiet zone, and its corners."""
    modules = synth.qr_modules(TEXT, mask=2)
    n = modules.shape[0]
    img = np.full(((n + 12) * ppm, (n + 12) * ppm), 245, np.uint8)
    img[6 * ppm:(6 + n) * ppm, 6 * ppm:(6 + n) * ppm] = np.kron(np.where(modules, 20, 245), np.ones((ppm, ppm)))
    lo, hi = 6 * ppm, (6 + n) * ppm
    return img, np.float32([[lo, lo], [hi, lo], [hi, hi], [lo, hi]])


def _texts(image):
    return [r.text for r in readers.zxing(image)]


def test_rectify_cuts_the_symbol_out_square_and_maps_points_back():
    img, corners = _code(12)
    seen = np.float32([[40, 60], [330, 30], [350, 370], [20, 330]])
    photo = cv2.warpPerspective(img, cv2.getPerspectiveTransform(corners, seen), (400, 400),
                                borderValue=245)
    flat, to_frame = restoration.rectify(photo, seen, 25)
    side = int((25 + 2 * restoration.MARGIN) * restoration.PPM)
    assert flat.shape == (side, side)
    assert _texts(flat) == [TEXT]
    lo, hi = restoration.MARGIN * restoration.PPM, (restoration.MARGIN + 25) * restoration.PPM
    square = np.float32([[lo, lo], [hi, lo], [hi, hi], [lo, hi]])
    assert np.abs(to_frame(square) - seen).max() < 0.5


def test_deconvolution_reads_a_code_blurred_by_most_of_a_module():
    img, _ = _code(5)
    rng = np.random.default_rng(1)
    blurred = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 0.8 * 5)
    blurred = np.clip(blurred + rng.normal(0, 1.0, img.shape), 0, 255).astype(np.uint8)
    assert _texts(blurred) == []
    assert _texts(restoration.deconvolve(blurred, restoration._gaussian_otf, 0.8 * 5, 5e-4)) == [TEXT]


@pytest.mark.parametrize("axis, arc, turn", [("vertical", 95, 12), ("horizontal", 70, -15)])
def test_curvature_is_measured_from_the_module_edges(axis, arc, turn):
    stub, corners = synth.label(TEXT, np.random.default_rng(0))
    params = {"axis": axis, "arc_deg": arc, "turn_deg": turn, "elevation_deg": 0, "light_deg": 0}
    curved, _, seen = synth._curve(stub, corners, np.random.default_rng(0), params)
    flat, _ = restoration.rectify(curved, seen, 25)
    assert _texts(flat) == []  # too curved to read as it is
    fits = restoration.curvature(flat, 25)
    wrapped, other = ("x", "y") if axis == "vertical" else ("y", "x")
    gain, found_arc, found_turn = fits[wrapped]
    assert gain > fits[other][0]
    assert abs(found_arc - arc) <= 15 and abs(found_turn - turn) <= 7.5


def test_restore_unrolls_a_curved_code_and_maps_its_corners_to_the_frame():
    stub, corners = synth.label(TEXT, np.random.default_rng(0))
    params = {"axis": "vertical", "arc_deg": 100, "turn_deg": -10, "elevation_deg": 12, "light_deg": 20}
    curved, _, seen = synth._curve(stub, corners, np.random.default_rng(0), params)
    _, unread = readers.zxing_scan(curved)
    assert _texts(curved) == [] and unread  # found, not read
    tried, read = [], []

    def reader(name, image, to_frame):
        tried.append(name)
        reads, symbols = readers.zxing_scan(image)
        read.extend((r.text, to_frame(r.points)) for r in reads)
        return bool(reads), symbols

    assert restoration.restore(curved, unread[0], reader)
    assert tried[-1].startswith("unroll-x")
    (text, points), = read
    assert text == TEXT
    module = float(np.linalg.norm(seen[1] - seen[0])) / 25
    for p in seen:  # the same corners, whichever one the decoder starts from
        assert np.linalg.norm(points - p, axis=1).min() < 1.5 * module


def test_a_code_with_a_finder_lost_to_glare_is_read_from_a_rough_guess_in_any_orientation():
    img, corners = _code(8)
    # Glare blows out the top-left finder: no decoder finds the code any more.
    img[6 * 8:13 * 8, 6 * 8:13 * 8] = 255
    assert _texts(img) == [] and readers.zxing_scan(img)[1] == []
    # A guess from the two finders left: 4% too large, turned 2 degrees, shifted; 1.6
    # modules off at its worst corner.
    a, centre = np.deg2rad(2.0), corners.mean(axis=0)
    turned = 1.04 * np.float32([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    rough = (corners - centre) @ turned.T + centre + np.float32([0.6, -0.3]) * 8
    for start in range(4):  # which corner of the guess the restoration takes for the top left
        guess = np.roll(rough, start, axis=0)
        read = []

        def reader(name, image, to_frame):
            reads, symbols = readers.zxing_scan(image)
            read.extend(r.text for r in reads)
            return bool(reads), symbols

        assert restoration.restore(img, readers.Symbol(guess, 25), reader, oriented=False), start
        assert read == [TEXT]


def test_repair_turns_the_fixed_patterns_with_the_symbol():
    img, corners = _code(5)
    flat, _ = restoration.rectify(img, corners, 25)
    for turn in range(4):
        turned = np.ascontiguousarray(np.rot90(flat, -turn))  # a quarter turn clockwise per turn
        changed = [np.mean(np.abs(restoration.repair(turned, 25, t).astype(int) - turned)) for t in range(4)]
        # Drawn where the turned symbol's own patterns are, they change next to nothing.
        assert int(np.argmin(changed)) == turn and changed[turn] < 1, (turn, changed)
