"""Fixtures for the scanning tests: synthetic stub frames, generated once per session.

These tests touch no database, so they run in the SQLite pass only: CI runs the
whole suite twice (SQLite, then PostgreSQL via KIOSK_TEST_DATABASE_URL), and a
second run of pure image work would only spend its time budget again.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from scanning import synth

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    if not os.environ.get("KIOSK_TEST_DATABASE_URL"):
        return
    skip = pytest.mark.skip(reason="pure scanning, no database: runs in the SQLite pass only")
    for item in items:
        if _HERE in Path(item.fspath).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def degraded_frames() -> list[synth.Frame]:
    return list(synth.frames(4, seed=2024))


@pytest.fixture(scope="session")
def empty_frames() -> list[synth.Frame]:
    rng = np.random.default_rng(99)
    return [synth.empty(rng) for _ in range(30)]
