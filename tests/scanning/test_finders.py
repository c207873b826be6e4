"""Finder-pattern evidence: outlines guessed from the finders a frame still shows."""
from __future__ import annotations

import numpy as np

from scanning import finders


def _outline_error(symbol, corners) -> float:
    return min(float(np.linalg.norm(np.roll(symbol.points, k, axis=0) - corners, axis=1).max())
               for k in range(4))


def test_two_finders_across_the_diagonal_give_the_code_first():
    # A version-2 code at 8 px a module turned 30 degrees; glare took its top-left finder.
    module, n = 8.0, 25
    a = np.deg2rad(30)
    right, down = np.float32([np.cos(a), np.sin(a)]) * module, np.float32([-np.sin(a), np.cos(a)]) * module
    origin = np.float32([400, 200])
    corners = np.float32([origin, origin + n * right, origin + n * (right + down), origin + n * down])
    top_right = origin + (n - 3.5) * right + 3.5 * down
    bottom_left = origin + 3.5 * right + (n - 3.5) * down
    size = 7 * module  # measured along the finder's own sides, however it is turned
    region = finders.Region(0, 0, 1280, 720, 2, True,
                            ((*top_right, size), (*bottom_left, size)))
    guesses = finders.pair_symbols(region)
    assert guesses[0].modules == n
    assert _outline_error(guesses[0], corners) < module
