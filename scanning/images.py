"""Uploaded image bytes (a tablet's camera frame, a phone photo of a stub) to a frame.

What an upload may cost is decided from the file's header, before any pixel is
decoded: a 13 KB PNG can claim 6900x6900 pixels and 140 MB once decoded.
"""
from __future__ import annotations

import io
import math
import warnings

import numpy as np
from PIL import Image, ImageOps

from .errors import ImageInvalid, ImageTooLarge

FORMATS = ("JPEG", "PNG", "WEBP", "BMP")
# What a camera frame or a phone photo of a stub needs. Larger PNG, WEBP and BMP files are
# refused; larger JPEGs (48 MP phone photos) are decoded reduced by the JPEG decoder itself.
MAX_PIXELS = 12_000_000
# Beyond this even a reduced JPEG is not a photo of a stub (1/8 of it would still be 3 MP).
MAX_JPEG_PIXELS = 200_000_000
# The frame handed to the decoder: about 2300x1700. A stub's QR in a phone photo is hundreds
# of pixels wide at this size, and the decoder's work and memory stay bounded.
WORK_PIXELS = 4_000_000


def _reduction(pixels: int, target: int) -> int:
    """The smallest whole factor that brings ``pixels`` to ``target`` or below."""
    return max(1, math.ceil(math.sqrt(pixels / target)))


def load_image(data: bytes, *, max_pixels: int = MAX_PIXELS, work_pixels: int = WORK_PIXELS) -> np.ndarray:
    """Decode ``data`` into a BGR uint8 frame of at most ``work_pixels``, upright as the phone saw it.

    The size is checked from the header before any pixel is decoded, so a small file that
    claims a huge picture costs nothing; a JPEG over ``max_pixels`` is decoded at 1/2, 1/4
    or 1/8 scale by the codec (never in full); a truncated file is refused instead of
    yielding a half-grey frame.
    """
    if not data:
        raise ImageInvalid("no image data")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                raise ImageInvalid(f"images must be {', '.join(FORMATS)}, not {image.format}")
            width, height = image.size
            pixels = width * height
            if image.format == "JPEG":
                if pixels > MAX_JPEG_PIXELS:
                    raise ImageTooLarge(f"{width}x{height} is more than {MAX_JPEG_PIXELS} pixels")
                if pixels > work_pixels:
                    # Asks the decoder for a size at least this big; it picks the nearest DCT scale.
                    factor = _reduction(pixels, work_pixels)
                    image.draft("RGB", (width // factor, height // factor))
            elif pixels > max_pixels:
                raise ImageTooLarge(f"{width}x{height} is more than {max_pixels} pixels")
            image.load()
            if image.width * image.height > work_pixels:
                if image.mode not in ("L", "RGB", "RGBA"):
                    image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
                image = image.reduce(_reduction(image.width * image.height, work_pixels))
            image = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge("the image is larger than any photo of a stub") from None
    except (ImageInvalid, ImageTooLarge):
        raise
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageInvalid(f"not a readable image: {error}") from None
    rgb = np.asarray(image.convert("RGB"))
    return np.ascontiguousarray(rgb[:, :, ::-1])


def read_upload(data: bytes, budget_ms: float = 800.0) -> dict:
    """What a separate decoding process hands back for uploaded picture bytes, as plain values
    (nothing the caller must import this package to read): ``{"codes": [(text, points,
    decoder), …]}``, or ``{"error": code}`` for a picture that is not readable or too large."""
    from .decoder import decode
    from .errors import ScanError

    try:
        frame = load_image(data)
    except ScanError as error:
        return {"error": error.code}
    found = decode(frame, budget_ms=budget_ms)
    return {"codes": [(code.text, code.points.round(1).tolist(), code.decoder) for code in found]}
