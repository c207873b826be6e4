"""Reading our own ESC/POS streams back, for assertions."""

from __future__ import annotations

import zxingcpp
from PIL import Image, ImageOps

from printing.escpos_reader import Op, parse, qr_payloads, text_of
from printing.preview import raster_image


def split_parts(stream: bytes) -> list[list[Op]]:
    """The ops of each piece of paper, split at the cuts (the cut ends its part)."""
    parts: list[list[Op]] = [[]]
    for op in parse(stream):
        parts[-1].append(op)
        if op.name == "cut":
            parts.append([])
    assert parts[-1] == [] or all(op.name != "text" for op in parts[-1]), "text after the last cut"
    return parts[:-1]


def decode_image(image: Image.Image) -> list[str]:
    padded = ImageOps.expand(image.convert("L"), border=40, fill=255)
    return [result.text for result in zxingcpp.read_barcodes(padded)]


def raster_payloads(ops: list[Op]) -> list[str]:
    """QR payloads found in the raster images of ``ops`` (text lines decode to nothing)."""
    found: list[str] = []
    for op in ops:
        if op.name == "raster":
            found += decode_image(raster_image(op))
    return found


def all_payloads(ops: list[Op]) -> list[str]:
    return qr_payloads(ops) + raster_payloads(ops)


def part_text(ops: list[Op], kanji: bool = True) -> str:
    return text_of(ops, "gb18030" if kanji else "ascii")
