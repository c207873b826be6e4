"""The CJK font used for raster text and for previews.

Noto Sans Mono CJK SC draws Latin at 12 px and Han at 24 px wide for a
24 px size: the same cells as a printer's own fonts, so raster text and
native text wrap identically and the preview looks like the paper.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from printing.errors import FontMissing

FONT_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),
)
# Face order inside NotoSansCJK-Regular.ttc; checked by name below.
_MONO_SC_INDEX = 7


@lru_cache(maxsize=8)
def cjk_font(size: int) -> ImageFont.FreeTypeFont:
    """The monospaced Simplified Chinese face at ``size`` px; FontMissing if not installed."""
    for path in FONT_FILES:
        if path.exists():
            font = ImageFont.truetype(str(path), size, index=_MONO_SC_INDEX)
            if font.getname()[0] != "Noto Sans Mono CJK SC":
                raise FontMissing(f"{path} face {_MONO_SC_INDEX} is {font.getname()[0]}, not Noto Sans Mono CJK SC")
            return font
    raise FontMissing("no Noto Sans CJK font found; install fonts-noto-cjk")


@lru_cache(maxsize=4096)
def char_width(ch: str, size: int) -> int:
    """Advance width in dots of one character at ``size`` px."""
    return int(-(-cjk_font(size).getlength(ch) // 1))


def text_width(text: str, size: int) -> int:
    """Width in dots of ``text`` drawn at ``size`` px (the face is monospaced, no kerning)."""
    return sum(char_width(ch, size) for ch in text)


def render_text(text: str, size: int, *, bold: bool = False, height: int | None = None) -> Image.Image:
    """Draw one line black on white, cropped to its advance width (rounded up to 8 dots)."""
    font = cjk_font(size)
    width = max(8, -(-(text_width(text, size) + (1 if bold else 0)) // 8) * 8)
    height = height or size
    image = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(image)
    # Anchor on the baseline, about 7/8 down the cell, as printer fonts do.
    baseline = size * 7 // 8 + (height - size) // 2
    draw.text((0, baseline), text, font=font, fill=0, anchor="ls")
    if bold:
        draw.text((1, baseline), text, font=font, fill=0, anchor="ls")
    return image
