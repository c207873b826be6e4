"""What an upload may cost is decided from its header: huge pictures are refused or decoded
reduced, never decoded in full."""
import io

import numpy as np
import pytest
import qrcode
from PIL import Image

import scanning
from scanning.images import MAX_PIXELS, WORK_PIXELS

CODE = "K1S-2BX-0-7Q2MABCDEFGHJKMNPQRS"


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def photo_of_a_stub(width: int, height: int) -> Image.Image:
    page = Image.new("L", (width, height), 235)
    code = qrcode.make(CODE, border=4, box_size=max(8, width // 200)).get_image().convert("L")
    page.paste(code, ((width - code.width) // 2, (height - code.height) // 2))
    return page


def test_a_small_file_claiming_a_huge_png_is_refused_from_its_header():
    data = encoded(Image.new("L", (6900, 6900), 255), "PNG", optimize=True)
    assert len(data) < 100_000
    with pytest.raises(scanning.ImageTooLarge):
        scanning.load_image(data)


def test_a_phone_photo_over_the_cap_is_decoded_reduced_by_the_jpeg_codec():
    data = encoded(photo_of_a_stub(6000, 4000), "JPEG", quality=85)
    frame = scanning.load_image(data)
    assert frame.shape[0] * frame.shape[1] <= WORK_PIXELS and frame.shape[1] * 4 == frame.shape[0] * 6
    assert [d.text for d in scanning.decode(frame, budget_ms=2000)] == [CODE]


def test_pictures_within_the_cap_are_handed_to_the_decoder_at_most_work_size():
    side = int(MAX_PIXELS ** 0.5) - 10
    frame = scanning.load_image(encoded(photo_of_a_stub(side, side), "PNG"))
    assert frame.shape[0] * frame.shape[1] <= WORK_PIXELS and frame.dtype == np.uint8
    assert [d.text for d in scanning.decode(frame, budget_ms=2000)] == [CODE]
    small = scanning.load_image(encoded(Image.new("P", (640, 480)), "PNG"))
    assert small.shape == (480, 640, 3)
