"""Image preparations that make hard frames readable, each grey in, grey out.

Each one answers a way lobby frames go wrong; the decoder tries them in order
of how often they rescue a frame per millisecond they cost.
"""
from __future__ import annotations

import cv2
import numpy as np

_clahe = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8))


def grey(image: np.ndarray) -> np.ndarray:
    """Luma of a BGR frame. pyzbar handed a colour array reads only its first
    (blue) channel, which loses a code printed or lit so it shows in green and red."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    raise ValueError(f"expected a grey or BGR image, got shape {image.shape}")


def clahe(img: np.ndarray) -> np.ndarray:
    """Local contrast: a glare halo or a dim frame leaves only a few grey levels of code."""
    return _clahe.apply(img)


def stretch(img: np.ndarray) -> np.ndarray:
    """Global min-max stretch, for uniformly dim or washed-out crops."""
    lo, hi = np.percentile(img, (1, 99))
    if hi - lo < 2:
        return img
    return cv2.convertScaleAbs(img, alpha=255.0 / (hi - lo), beta=-lo * 255.0 / (hi - lo))


def dark(img: np.ndarray) -> bool:
    """Whether nearly all of a frame lies in its darkest quarter: an unlit lobby at night,
    a lens in shadow. Judged on a sample, so it costs next to nothing."""
    return float(np.percentile(img[::4, ::4], 99)) < 64


def sharpen(img: np.ndarray) -> np.ndarray:
    """Unsharp mask: out-of-focus or moving stubs smear module edges."""
    soft = cv2.GaussianBlur(img, (0, 0), 2.0)
    return cv2.addWeighted(img, 2.0, soft, -1.0, 0)


def denoise(img: np.ndarray) -> np.ndarray:
    """Sensor noise and JPEG blocks break binarisation into speckle."""
    return cv2.medianBlur(cv2.GaussianBlur(img, (0, 0), 1.0), 3)


def upscale(img: np.ndarray, factor: float = 2.0) -> np.ndarray:
    """Tiny codes (~2 px a module) fall below what the finders need."""
    return cv2.resize(img, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)


def fill_streaks(img: np.ndarray) -> np.ndarray:
    """A worn thermal head prints pale lines through dark modules; a min filter closes them."""
    return cv2.erode(img, np.ones((1, 3), np.uint8))


def invert(img: np.ndarray) -> np.ndarray:
    """zbar never reads light-on-dark codes (phone dark mode, inverted stubs)."""
    return 255 - img


def best_channel(image: np.ndarray) -> np.ndarray | None:
    """The colour channel with most contrast, when a tinted light blows out the others."""
    if image.ndim != 3 or image.shape[2] < 3:
        return None
    sample = image[::4, ::4, :3].reshape(-1, 3).astype(np.float32)
    spreads = sample.std(axis=0)
    return np.ascontiguousarray(image[..., int(np.argmax(spreads))])


def half(img: np.ndarray) -> np.ndarray:
    """Half size, averaged: a quarter of the pixels to search, and blur in pixels halves too."""
    return cv2.resize(img, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)


def smooth(img: np.ndarray, sigma: float) -> np.ndarray:
    """A light Gaussian blur: sensor noise off, before a filter that would amplify it."""
    return cv2.GaussianBlur(img, (0, 0), sigma)


def unsharp(img: np.ndarray, sigma: float, amount: float = 5.0) -> np.ndarray:
    """A strong unsharp mask: pulls a heavily blurred finder pattern's rings apart again,
    enough for a fixed threshold to show them (it saturates; only finding is asked of it)."""
    size = 2 * int(2 * sigma) + 1  # two sigmas each side: the tails add nothing here but time
    soft = cv2.GaussianBlur(img, (size, size), sigma)
    return cv2.addWeighted(img, 1.0 + amount, soft, -amount, 0)
