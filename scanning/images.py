"""Uploaded image bytes (a tablet's camera frame, a phone photo of a stub) to a frame."""
from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps

from .errors import ImageInvalid, ImageTooLarge

FORMATS = ("JPEG", "PNG", "WEBP", "BMP")
# A 48-megapixel phone photo; beyond that it is not a photo of a stub.
MAX_PIXELS = 48_000_000


def load_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode ``data`` fully into a BGR uint8 frame, upright as the phone saw it.

    The size is checked from the header before any pixel is decoded, so a small
    file that claims a huge picture costs nothing; a truncated file is refused
    instead of yielding a half-grey frame.
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
            if width * height > max_pixels:
                raise ImageTooLarge(f"{width}x{height} is more than {max_pixels} pixels")
            image.load()
            image = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge("the image is larger than any photo of a stub") from None
    except (ImageInvalid, ImageTooLarge):
        raise
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageInvalid(f"not a readable image: {error}") from None
    rgb = np.asarray(image.convert("RGB"))
    return np.ascontiguousarray(rgb[:, :, ::-1])
