"""Frames in, decoded QR texts out: the lobby camera's side of the claim stub.

Public API
----------
decode(image, *, budget_ms=250.0, accept=None, exhaustive=False, clock=time.perf_counter)
    -> list[Decoded]
    QR codes in a grey (HxW) or BGR (HxWx3) uint8 frame. Cheap when the frame
    holds no code; when it seems to, locates symbols it cannot yet read and
    restores them (cut out at a sane module size, deconvolved, unrolled off a
    curved surface), and escalates through pyzbar, zxing-cpp and OpenCV with
    contrast, sharpening, denoising and scale preparations. The one entry point
    for every camera path: the kiosk's browser frames, /decode, ``kiosk scan``.
decode_file(path, **decode_kwargs) -> list[Decoded]
    The codes in one image file; raises SourceError if it cannot be read.
scan_source(source, on_code, *, stop=None, max_frames=None, forget_frames=15,
            forget_s=1.0, budget_ms=250.0, accept=None, show=False) -> int
    Camera loop over a device index (int or "0"), stream URL, video file or an
    open cv2.VideoCapture. Calls on_code(Sighting) once per newly seen code;
    returns the number of frames read.
open_source(source) -> cv2.VideoCapture
Decoded(text, points, decoder, stage, votes)
    points: 4x2 float32 corners in the input image's pixel coordinates.
Sighting(code, frame_index, at)
Dedupe(forget_frames=15, forget_s=1.0, clock=time.monotonic)
ScanError, SourceError (in scanning.errors; each has a ``code``).
load_image(data, *, max_pixels=12_000_000, work_pixels=4_000_000) -> ndarray
    Uploaded bytes (JPEG, PNG, WEBP, BMP) to an upright BGR frame of at most
    work_pixels (larger pictures reduced; JPEGs over max_pixels decoded reduced
    by the codec); raises ImageInvalid (truncated, not an image) or ImageTooLarge
    (over max_pixels, read from the header before any pixel is decoded).
read_upload(data, budget_ms=800.0) -> {"codes": [(text, points, decoder)]} | {"error": code}
    load_image + decode, with plain values out: for a separate decoding process.
available_decoders() -> dict[str, bool]
    Which of zxing, zbar and opencv loaded (zbar needs the system libzbar).

scanning.synth renders synthetic stub frames for tests and bench/scan_bench.py.
This package imports neither Flask, a database, nor the kiosk, web or printing
packages: a claim-code check is passed in as ``accept``.

Only the errors import eagerly: everything else loads OpenCV, numpy, zxing-cpp,
pyzbar and Pillow (~50 MB), on first use of the name, so a server process that
never decodes a frame never pays for them.
"""

import importlib
from typing import TYPE_CHECKING

from .errors import ImageInvalid, ImageTooLarge, ScanError, SourceError

# Loaded on first use: each name, and the module and attribute that hold it.
_HEAVY = {
    **{name: (".camera", name) for name in ("Dedupe", "Sighting", "decode_file", "open_source", "scan_source")},
    "Decoded": (".decoder", "Decoded"),
    "decode": (".decoder", "decode"),
    "load_image": (".images", "load_image"),
    "read_upload": (".images", "read_upload"),
    "available_decoders": (".readers", "available"),
}

if TYPE_CHECKING:
    from .camera import Dedupe, Sighting, decode_file, open_source, scan_source
    from .decoder import Decoded, decode
    from .images import load_image, read_upload
    from .readers import available as available_decoders


def __getattr__(name: str):
    if name not in _HEAVY:
        raise AttributeError(f"module 'scanning' has no attribute {name!r}")
    module, attribute = _HEAVY[name]
    value = getattr(importlib.import_module(module, __name__), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Decoded", "Dedupe", "ImageInvalid", "ImageTooLarge", "ScanError", "Sighting", "SourceError", "available_decoders",
    "decode", "decode_file", "load_image", "open_source", "read_upload", "scan_source",
]
