"""Each reader on payloads that are not plain UTF-8 text: Shift_JIS, Kanji mode, control codes."""
from __future__ import annotations

import numpy as np
import pytest
import qrcode
import qrcode.util

import scanning
from scanning import readers


class _Kanji(qrcode.util.QRData):
    """Kanji-mode data (13 bits a Shift_JIS character), which the qrcode package cannot write."""

    def __init__(self, text: str):
        super().__init__(text.encode("shift_jis"), mode=qrcode.util.MODE_8BIT_BYTE)
        self.mode = qrcode.util.MODE_KANJI

    def __len__(self):
        return len(self.data) // 2

    def write(self, buffer):
        for i in range(0, len(self.data), 2):
            c = (self.data[i] << 8) | self.data[i + 1]
            c -= 0x8140 if c <= 0x9FFC else 0xC140
            buffer.put((c >> 8) * 0xC0 + (c & 0xFF), 13)


def _code(data) -> np.ndarray:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(data)
    qr.make(fit=True)
    modules = np.array(qr.get_matrix(), dtype=bool)
    return np.kron(np.where(modules, 0, 255), np.ones((6, 6))).astype(np.uint8)


ALL = ["zxing", "zbar", "opencv"]

# payload, the text a reader may give for it (None: no reader may answer)
NOT_UTF8 = {
    "kanji mode": (_Kanji("受付番号"), "受付番号"),
    "Shift_JIS bytes": ("受付カード 番号".encode("shift_jis"), "受付カード 番号"),
    "half-width kana": ("ｱｲｳｴｵ".encode("shift_jis"), "ｱｲｳｴｵ"),
}


@pytest.mark.parametrize("payload", NOT_UTF8)
@pytest.mark.parametrize("reader", ALL)
def test_each_reader_survives_non_utf8_payloads_and_never_guesses(reader, payload):
    data, text = NOT_UTF8[payload]
    # OpenCV reads the Kanji code's bytes as UTF-8 text and raised UnicodeDecodeError;
    # on Shift_JIS bytes it answered Latin-1 mojibake ("\x8eó\x95t..." or "±²³´µ").
    reads = getattr(readers, reader)(_code(data))
    assert [r.text for r in reads] in ([], [text])


@pytest.mark.parametrize("payload", NOT_UTF8)
def test_the_chain_reads_shift_jis_codes_with_every_stage_running(payload):
    data, text = NOT_UTF8[payload]
    assert [d.text for d in scanning.decode(_code(data), exhaustive=True)] == [text]


def test_control_codes_come_back_byte_for_byte():
    # zxing-cpp's default text mode would answer "K1S<GS>A1<EOT>..." for these.
    payload = "K1S\x1dA1\x04-\x00-X"
    image = _code(payload.encode())
    for reader in ALL:
        assert [r.text for r in getattr(readers, reader)(image)] == [payload], reader
    assert [d.text for d in scanning.decode(image, exhaustive=True)] == [payload]


def test_zxing_reports_found_but_unreadable_symbols_with_their_corners():
    image = _code(b"K1S-ABC-0-0123456789ABCDEFGHJK")
    # Scratch out most of the data region: the finder patterns and format stay.
    damaged = image.copy()
    damaged[24 + 6 * 9: 24 + 6 * 19, 24 + 6 * 9: 24 + 6 * 19] = 255
    assert readers.zxing(damaged) == []
    reads, unread = readers.zxing_scan(damaged)
    assert reads == [] and len(unread) == 1
    symbol = unread[0]
    assert symbol.modules == 25
    side = 6 * 25
    expected = np.float32([[24, 24], [24 + side, 24], [24 + side, 24 + side], [24, 24 + side]])
    assert np.abs(symbol.points - expected).max() < 3
