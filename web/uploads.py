"""Pictures uploaded for decoding: read in decoding processes of their own, a few at a time.

Decoding a picture is CPU and memory work. Done in the request threads it held the GIL
and the memory of the process that serves the desk: eight big pictures at once peaked at
3.96 GB, left 1.9 GB behind, and deposits took up to 1.8 s meanwhile. So:

- the header decides what a picture may cost before any pixel is decoded
  (scanning.load_image: over 12 MP refused, big JPEGs decoded reduced);
- pictures are decoded in ``MAX_DECODES`` worker processes (forked from a server that
  has the scanning libraries loaded), so the request process neither waits on their GIL
  nor keeps their buffers; glibc there gives big buffers back as soon as they are freed;
  they run at a lower CPU priority (nice ``NICE``), so a deposit at the desk goes first;
- at most ``MAX_DECODES`` pictures are in flight per app process; more are told ``503 busy``
  with Retry-After at once: a request thread waiting for a decoder is a thread a deposit
  cannot have (waiting 0.5 s held deposits up to 0.5 s in bench/flood_bench.py), and a
  camera sends its next frame soon anyway.
"""
from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from flask import Flask, current_app

from .errors import ApiError

log = logging.getLogger(__name__)

BUSY_RETRY = 1      # Retry-After for busy
RESULT_TIMEOUT = 30.0
NICE = 10
# Buffers from 1 MiB up get a mapping of their own, returned to the system when freed (glibc
# would otherwise raise this threshold after the first big free and keep later buffers).
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(1 << 20), "MALLOC_TRIM_THRESHOLD_": str(4 << 20)}
_EXTENSION = "kiosk.decoders"

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


class _Imported:
    """``module.name``, pickled by name and imported only in the process that calls it: the
    request process never loads the scanning libraries (OpenCV, zxing, zbar) itself."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, *args):
        return getattr(importlib.import_module(self.module), self.name)(*args)

    def __reduce__(self):
        return getattr, (_Module(self.module), self.name)


class _Module:
    def __init__(self, module: str):
        self.module = module

    def __reduce__(self):
        return importlib.import_module, (self.module,)


READ_UPLOAD = _Imported("scanning.images", "read_upload")


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = threading.BoundedSemaphore(app.config["MAX_DECODES"])


def _decoders(size: int) -> ProcessPoolExecutor:
    """The process's decoding pool, started on its first picture."""
    global _pool
    with _pool_lock:
        if _pool is None:
            # The fork server starts from a fresh interpreter with this environment; its workers inherit it.
            os.environ.update(MALLOC_ENV)
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["scanning"])
            _pool = ProcessPoolExecutor(max_workers=size, mp_context=context,
                                        initializer=_Imported("os", "nice"), initargs=(NICE,))
        return _pool


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


@contextmanager
def _slot():
    slots: threading.BoundedSemaphore = current_app.extensions[_EXTENSION]
    if not slots.acquire(blocking=False):
        raise ApiError(503, "busy", retry_after=BUSY_RETRY)
    try:
        yield
    finally:
        slots.release()


def read(data: bytes, budget_ms: float = 800.0) -> dict:
    """The codes in an uploaded picture, decoded in a decoding process (scanning.read_upload's
    answer: ``{"codes": [(text, points, decoder)]}`` or ``{"error": code}``), or 503 busy."""
    with _slot():
        pool = _decoders(current_app.config["MAX_DECODES"])
        try:
            return pool.submit(READ_UPLOAD, data, budget_ms).result(timeout=RESULT_TIMEOUT)
        except BrokenProcessPool:
            log.error("a decoding process died (out of memory?); starting new ones")
            _discard(pool)
            raise ApiError(503, "busy", retry_after=BUSY_RETRY) from None
        except FutureTimeout:
            raise ApiError(503, "busy", retry_after=BUSY_RETRY) from None
