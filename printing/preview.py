"""Draw an ESC/POS byte stream as the paper would come out, as a PNG.

The preview is made from the bytes, not from the layout: if the bytes are
wrong, the preview is wrong in the same way. Native QR commands are drawn
with the same error correction and module size the printer was told to use;
raster images are copied bit for bit; printer-font text is drawn in cells of
12x24 (single byte) and 24x24 (GB18030 double byte) dots.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import qrcode
from PIL import Image, ImageDraw

from printing.escpos_output import render
from printing.escpos_reader import Op, parse
from printing.fonts import cjk_font
from printing.labels import LabelData
from printing.profiles import CELL_HEIGHT, CELL_WIDTH, DEFAULT_PROFILE, LINE_HEIGHT, PrinterProfile

_QR_EC = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
_MARGIN = 16  # white paper shown above and below the print


@dataclass(frozen=True)
class Page:
    """The drawn paper, and how many text lines ran past the paper edge (the printer would wrap them)."""

    image: Image.Image
    overflows: int

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()


@lru_cache(maxsize=2048)
def _glyph(ch: str, wide: bool, bold: bool) -> Image.Image:
    cell = Image.new("L", (CELL_WIDTH * (2 if wide else 1), CELL_HEIGHT), 255)
    draw = ImageDraw.Draw(cell)
    font = cjk_font(CELL_HEIGHT)
    draw.text((0, CELL_HEIGHT * 7 // 8), ch, font=font, fill=0, anchor="ls")
    if bold:
        draw.text((1, CELL_HEIGHT * 7 // 8), ch, font=font, fill=0, anchor="ls")
    return cell


class _Paper:
    def __init__(self, width: int) -> None:
        self.width = width
        self.y = _MARGIN
        self.pastes: list[tuple[Image.Image, int, int]] = []
        self.cuts: list[tuple[int, str]] = []
        self.line: list[tuple[Image.Image, int]] = []  # glyph image, its cell height
        self.x = 0
        self.overflows = 0
        self.reset()

    def reset(self) -> None:
        self.align, self.bold, self.size = 0, False, (1, 1)
        self.qr_module, self.qr_ec, self.qr_data = 3, "L", b""

    def _left(self, width: int) -> int:
        return {0: 0, 1: (self.width - width) // 2, 2: self.width - width}[self.align]

    def put_char(self, ch: str, wide: bool) -> None:
        glyph = _glyph(ch, wide, self.bold)
        w, h = self.size
        if (w, h) != (1, 1):
            glyph = glyph.resize((glyph.width * w, glyph.height * h), Image.Resampling.NEAREST)
        if self.x + glyph.width > self.width:
            self.overflows += 1
            self.end_line()
        self.line.append((glyph, glyph.height))
        self.x += glyph.width

    def end_line(self, *, blank_advance: bool = True) -> None:
        if not self.line:
            if blank_advance:
                self.y += LINE_HEIGHT
            return
        tallest = max(height for _, height in self.line)
        x = self._left(self.x)
        for glyph, height in self.line:
            # Characters of different sizes share a baseline at the bottom of the line.
            self.pastes.append((glyph, x, self.y + tallest - height))
            x += glyph.width
        self.y += tallest + LINE_HEIGHT - CELL_HEIGHT
        self.line, self.x = [], 0

    def block(self, image: Image.Image) -> None:
        self.end_line(blank_advance=False)
        self.pastes.append((image, self._left(image.width), self.y))
        self.y += image.height

    def cut(self, kind: str) -> None:
        self.end_line(blank_advance=False)
        self.cuts.append((self.y, kind))
        self.y += 12

    def finish(self) -> Image.Image:
        self.end_line(blank_advance=False)
        canvas = Image.new("L", (self.width, self.y + _MARGIN), 255)
        for image, x, y in self.pastes:
            canvas.paste(image.convert("L"), (x, y))
        draw = ImageDraw.Draw(canvas)
        for y, kind in self.cuts:
            # Grey so the mark can never be mistaken for printed dots.
            dash = 12 if kind == "partial" else self.width
            for x in range(0, self.width, 2 * dash if kind == "partial" else self.width):
                draw.line([(x, y + 5), (x + dash - 1, y + 5)], fill=160, width=2)
        return canvas


def raster_image(op: Op) -> Image.Image:
    """The picture a GS v 0 raster op carries, black on white."""
    width_bytes, height = op.args
    bits = np.unpackbits(np.frombuffer(op.data, dtype=np.uint8)).reshape(height, width_bytes * 8)
    return Image.fromarray(np.where(bits == 1, 0, 255).astype(np.uint8), mode="L")


def _qr_symbol(paper: _Paper) -> Image.Image:
    code = qrcode.QRCode(version=None, error_correction=_QR_EC[paper.qr_ec], box_size=paper.qr_module, border=0)
    code.add_data(paper.qr_data.decode("ascii"))
    code.make(fit=True)
    return code.make_image().get_image().convert("L")


def render_stream(stream: bytes, width_dots: int) -> Page:
    """Draw ``stream`` on paper ``width_dots`` wide. Raises UnknownCommand on bytes we never emit."""
    paper = _Paper(width_dots)
    kanji = False
    for op in parse(stream):
        if op.name == "text":
            text = op.data.decode("gb18030" if kanji else "ascii")
            for ch in text:
                paper.put_char(ch, wide=len(ch.encode("gb18030")) > 1)
        elif op.name == "lf":
            paper.end_line()
        elif op.name == "init":
            paper.end_line(blank_advance=False)
            paper.reset()
            kanji = False
        elif op.name == "kanji_on":
            kanji = True
        elif op.name == "align":
            paper.align = op.args[0] % 48
        elif op.name == "bold":
            paper.bold = bool(op.args[0] & 1)
        elif op.name == "size":
            paper.size = op.args
        elif op.name == "feed":
            # Our streams end every line with LF first, so the buffer is empty here.
            paper.end_line(blank_advance=False)
            paper.y += LINE_HEIGHT * op.args[0]
        elif op.name == "qr_module":
            paper.qr_module = op.args[0]
        elif op.name == "qr_ec":
            paper.qr_ec = op.args[0]
        elif op.name == "qr_store":
            paper.qr_data = op.data
        elif op.name == "qr_print":
            paper.block(_qr_symbol(paper))
        elif op.name == "raster":
            paper.block(raster_image(op))
        elif op.name == "cut":
            paper.cut(op.args[0])
    return Page(paper.finish(), paper.overflows)


def preview_png(label: LabelData, profile: PrinterProfile = DEFAULT_PROFILE, *, redact_claim: bool = False) -> bytes:
    """PNG of exactly what ``render(label, profile)`` would print; with ``redact_claim``, of the
    same label with its claim code left out (what a screen may show after the deposit)."""
    return render_stream(render(label, profile, redact_claim=redact_claim), profile.width_dots).png()
