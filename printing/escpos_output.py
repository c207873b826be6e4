"""Turn a layout into the ESC/POS bytes for one printer profile.

Printer commands come from python-escpos (its ``Dummy`` records them; we
read its public ``output`` and ``clear`` it after each command). Label text
never goes through a command builder: it is cleaned, encoded (ASCII, or
GB18030 for printers with a Chinese font) and appended as data, or drawn as
a raster image when the printer has no font for it. Either way no byte of
label text can be read by the printer as a command.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import qrcode
from qrcode.constants import ERROR_CORRECT_M

from printing import fonts
from printing._escpos import QR_ECLEVEL_M, Dummy, escpos_profile
from printing.errors import LabelInvalid
from printing.labels import LabelData, clean_text
from printing.layout import Block, Code, Gap, Layout, Rule, Text, layout_label
from printing.profiles import CELL_HEIGHT, CELL_WIDTH, DEFAULT_PROFILE, PrinterProfile

# FS & selects the Chinese (Kanji) character mode in which GB18030 double-byte
# text prints; python-escpos has no method for it.
FS_KANJI_ON = b"\x1c\x26"

# Rows per raster text line: the 24-dot cell plus two. Four rows fewer than a
# text line keeps a raster-text label with native QR under 40 KiB (about 38 KiB
# in bench/label_bench.py; with raster QR as well it is 43-48 KiB);
# Noto's ascender and descender (0.88 + 0.12 em) still fit inside.
RASTER_LINE_DOTS = CELL_HEIGHT + 2


def render(label: LabelData, profile: PrinterProfile = DEFAULT_PROFILE, roles: tuple[str, ...] | None = None, *,
           redact_claim: bool = False) -> bytes:
    """The complete print job for ``label``: every part (or only those whose role is in ``roles``,
    e.g. ``("notice",)`` for a pickup notice for the mailbox), the cuts between them and the final cut.
    ``redact_claim`` leaves the claim code out (for screen previews only)."""
    layout = layout_label(label, redact_claim=redact_claim)
    if roles is not None:
        layout = Layout(tuple(part for part in layout.parts if part.role in roles))
        if not layout.parts:
            raise LabelInvalid(f"a {label.kind} label has no part {', '.join(roles)}")
    return render_layout(layout, profile)


def render_layout(layout: Layout, profile: PrinterProfile = DEFAULT_PROFILE) -> bytes:
    writer = _Writer(profile)
    writer.start()
    for index, part in enumerate(layout.parts):
        for block in part.blocks:
            writer.block(block)
        # A partial cut keeps the parts hanging together until staff tear
        # them; the last cut frees the label from the roll.
        writer.cut(final=index == len(layout.parts) - 1)
    return writer.output()


def needs_raster(text: str, profile: PrinterProfile) -> bool:
    """True when the printer has no font for some character of ``text``."""
    if text.isascii():
        return False
    if not profile.cjk_font:
        return True
    # Printer fonts carry GBK; the four-byte part of GB18030 (rare Han,
    # emoji, other scripts) would print as blanks or garbage.
    try:
        text.encode("gbk")
    except UnicodeEncodeError:
        return True
    return False


def wrap(line: str, max_width: int, char_width: Callable[[str], int]) -> list[str]:
    """Split one line into pieces no wider than ``max_width`` dots; prefer breaking at spaces.

    Widths add up char by char: both the printer fonts and the monospaced
    raster font have no kerning.
    """
    pieces: list[str] = []
    start, used, last_space = 0, 0, -1
    for index, ch in enumerate(line):
        width = char_width(ch)
        if used + width > max_width and index > start:
            cut = last_space if last_space > start + (index - start) // 2 else index
            pieces.append(line[start:cut].rstrip())
            start = cut + 1 if cut == last_space else cut
            while start < len(line) and line[start] == " ":
                start += 1
            used = sum(char_width(c) for c in line[start : index + 1])
            last_space = -1
            continue
        used += width
        if ch == " ":
            last_space = index
    if start < len(line) or not pieces:
        pieces.append(line[start:])
    return pieces


@lru_cache(maxsize=4)
def _escpos_profile(width_dots: int):
    return escpos_profile(width_dots)


def qr_image(payload: str, module_dots: int):
    """The QR symbol as a 1-bit image without quiet zone; the layout leaves white around it."""
    code = qrcode.QRCode(version=None, error_correction=ERROR_CORRECT_M, box_size=module_dots, border=0)
    code.add_data(payload)
    code.make(fit=True)
    return code.make_image().get_image()


class _Writer:
    def __init__(self, profile: PrinterProfile) -> None:
        self.profile = profile
        self._out = bytearray()
        self._escpos = Dummy(profile=_escpos_profile(profile.width_dots))
        self._align = "left"
        self._bold = False
        self._scale = 1

    def output(self) -> bytes:
        return bytes(self._out)

    def _command(self, name: str, *args, **kwargs) -> None:
        getattr(self._escpos, name)(*args, **kwargs)
        self._out += self._escpos.output
        self._escpos.clear()

    def _style(self, align: str, bold: bool, scale: int) -> None:
        # Only changes are sent: each label repeats the same few styles.
        changes: dict = {}
        if align != self._align:
            changes["align"] = align
        if bold != self._bold:
            changes["bold"] = bold
        if scale != self._scale:
            changes.update(custom_size=True, width=scale, height=scale)
        if changes:
            self._command("set", **changes)
        self._align, self._bold, self._scale = align, bold, scale

    def start(self) -> None:
        self._command("hw", "INIT")
        if self.profile.cjk_font:
            self._out += FS_KANJI_ON

    def block(self, block: Block) -> None:
        if isinstance(block, Text):
            self.text(block)
        elif isinstance(block, Code):
            self.code(block.payload)
        elif isinstance(block, Rule):
            self._style("left", False, 1)
            self._out += b"-" * self.profile.columns + b"\n"
        elif isinstance(block, Gap):
            self._out += b"\n" * block.lines
        else:  # pragma: no cover - the Block union is closed
            raise TypeError(f"unknown block {block!r}")

    def text(self, block: Text) -> None:
        text = clean_text(block.text, multiline=True)
        raster = needs_raster(text, self.profile)
        size = CELL_HEIGHT * block.scale
        if raster:
            def char_width(ch: str) -> int:
                return fonts.char_width(ch, size)
        else:
            def char_width(ch: str) -> int:
                return (CELL_WIDTH if ch.isascii() else 2 * CELL_WIDTH) * block.scale
        # A dot spare for the bold overstrike of raster text.
        limit = self.profile.width_dots - (1 if raster and block.bold else 0)
        for line in text.split("\n"):
            for piece in wrap(line, limit, char_width):
                if raster:
                    self._raster_line(piece, block)
                else:
                    self._style(block.align, block.bold, block.scale)
                    self._out += piece.encode("gb18030" if self.profile.cjk_font else "ascii") + b"\n"

    def _raster_line(self, piece: str, block: Text) -> None:
        image = fonts.render_text(
            piece, CELL_HEIGHT * block.scale, bold=block.bold, height=RASTER_LINE_DOTS * block.scale
        )
        # Bold and size commands do not touch images; only alignment does.
        self._style(block.align, self._bold, self._scale)
        self._command("image", image, impl="bitImageRaster", center=False)

    def code(self, payload: str) -> None:
        self._style("center", self._bold, self._scale)
        module = self.profile.qr_module_dots
        if self.profile.native_qr:
            # python-escpos raises on center=True in native mode; ESC a centres it.
            self._command("qr", payload, ec=QR_ECLEVEL_M, size=module, native=True)
            self._out += b"\n"
        else:
            self._command("image", qr_image(payload, module), impl="bitImageRaster", center=False)

    def cut(self, *, final: bool) -> None:
        self._style("left", False, 1)
        self._command("cut", mode="FULL" if final else "PART")
