"""What the writer needs to know about a printer: paper width and two abilities.

``native_qr``: the printer understands GS ( k; otherwise QR codes go as
raster images. ``cjk_font``: the printer has a GB18030 Chinese font;
otherwise any line with non-ASCII text goes as a raster image rendered here.
"""

from __future__ import annotations

from dataclasses import dataclass

from printing.errors import PrinterUrlInvalid

# Font A on ESC/POS printers is 12x24 dots and the Chinese font 24x24, at
# 203 dpi; everything in this package measures text in those cells.
CELL_WIDTH = 12
CELL_HEIGHT = 24
LINE_HEIGHT = 30  # the cell plus the printer's default line spacing


@dataclass(frozen=True, slots=True)
class PrinterProfile:
    name: str
    width_dots: int
    native_qr: bool = True
    cjk_font: bool = True

    def __post_init__(self) -> None:
        if self.width_dots % 8 or not 256 <= self.width_dots <= 832:
            raise PrinterUrlInvalid(f"width_dots must be a multiple of 8 in 256..832, not {self.width_dots}")

    @property
    def qr_module_dots(self) -> int:
        """Dots per QR module: about 0.75-1 mm, which phone and desk scanners read easily."""
        return 6 if self.width_dots < 512 else 8

    @property
    def columns(self) -> int:
        return self.width_dots // CELL_WIDTH


PAPER_WIDTHS = {"58mm": 384, "80mm": 576}

DEFAULT_PROFILE = PrinterProfile("80mm", 576)


def profile_from_options(options: dict[str, str]) -> PrinterProfile:
    """Build a profile from printer-URL query options.

    ``paper=58mm|80mm`` (default 80mm), ``qr=native|raster`` (default native),
    ``text=gb18030|raster`` (default gb18030).
    """
    paper = options.get("paper", "80mm")
    if paper not in PAPER_WIDTHS:
        raise PrinterUrlInvalid(f"paper must be one of {', '.join(PAPER_WIDTHS)}, not {paper!r}")
    qr = options.get("qr", "native")
    if qr not in ("native", "raster"):
        raise PrinterUrlInvalid(f"qr must be native or raster, not {qr!r}")
    text = options.get("text", "gb18030")
    if text not in ("gb18030", "raster"):
        raise PrinterUrlInvalid(f"text must be gb18030 or raster, not {text!r}")
    return PrinterProfile(
        name=f"{paper}/{qr}-qr/{text}-text",
        width_dots=PAPER_WIDTHS[paper],
        native_qr=qr == "native",
        cjk_font=text == "gb18030",
    )
