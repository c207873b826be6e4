import io
import subprocess
import sys

import pytest
from PIL import Image

from printing import PrinterProfile, preview_png, render, render_stream

from .conftest import PICKUP, STUB, TAG, base_label
from .escpos_helpers import decode_image


@pytest.mark.parametrize(
    ("kind", "claim", "profile"),
    [
        ("luggage", STUB, PrinterProfile("80", 576)),
        ("short_term", STUB, PrinterProfile("58r", 384, native_qr=False, cjk_font=False)),
        ("key", STUB, PrinterProfile("58", 384)),
        ("parcel", PICKUP, PrinterProfile("80r", 576, native_qr=False, cjk_font=True)),
    ],
    ids=lambda value: getattr(value, "name", value),
)
def test_preview_png_shows_both_codes_on_paper_of_the_right_width(kind, claim, profile):
    png = preview_png(base_label(kind=kind, claim_code=claim, reprint=True), profile)
    assert png.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(png)) as image:
        assert image.width == profile.width_dots
        assert sorted(decode_image(image)) == sorted([TAG, claim])


@pytest.mark.parametrize("kind, claim", [("luggage", STUB), ("key", STUB), ("parcel", PICKUP)])
def test_a_redacted_preview_shows_the_tag_but_no_trace_of_the_claim_code(kind, claim):
    label = base_label(kind=kind, claim_code=claim)
    stream = render(label, redact_claim=True)
    assert claim.encode() not in stream and TAG.encode() in stream
    with Image.open(io.BytesIO(preview_png(label, redact_claim=True))) as image:
        assert decode_image(image) == [TAG]
    assert claim.encode() in render(label)  # the printer still gets it


def test_preview_is_drawn_from_the_bytes(label):
    stream = render(label)
    tampered = stream.replace(TAG.encode(), TAG.replace("K1T", "K1X").encode())
    image = render_stream(tampered, 576).image
    assert sorted(decode_image(image)) == sorted([TAG.replace("K1T", "K1X"), STUB])


def test_importing_printing_leaves_the_root_logger_alone():
    code = (
        "import logging, printing\n"
        "root = logging.getLogger()\n"
        "assert root.handlers == [], root.handlers\n"
        "assert root.level == logging.WARNING\n"
    )
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
