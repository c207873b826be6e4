"""Fixtures for the scanning tests: synthetic stub frames, generated once per session."""
from __future__ import annotations

import numpy as np
import pytest

from scanning import synth


@pytest.fixture(scope="session")
def degraded_frames() -> list[synth.Frame]:
    return list(synth.frames(4, seed=2024))


@pytest.fixture(scope="session")
def empty_frames() -> list[synth.Frame]:
    rng = np.random.default_rng(99)
    return [synth.empty(rng) for _ in range(30)]
