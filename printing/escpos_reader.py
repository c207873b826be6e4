"""Read an ESC/POS byte stream back into operations.

The preview draws from these operations, so the PNG shows what the bytes
say rather than what we meant. The reader is strict: it knows exactly the
commands this package emits and raises ``UnknownCommand`` on anything
else, which is also what the tests lean on to prove label text cannot
smuggle a command in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS, FS, LF = 0x1B, 0x1D, 0x1C, 0x0A


class UnknownCommand(ValueError):
    """The stream holds a byte sequence this package never emits."""


@dataclass(frozen=True, slots=True)
class Op:
    """One command or one run of text.

    ``name`` is one of: text, lf, init, kanji_on, align, bold, size, feed,
    qr_model, qr_module, qr_ec, qr_store, qr_print, raster, cut.
    """

    name: str
    args: tuple = ()
    data: bytes = b""
    offset: int = field(default=0, compare=False)


def _u16(stream: bytes, at: int) -> int:
    return stream[at] | stream[at + 1] << 8


def _need(stream: bytes, at: int, count: int) -> None:
    if at + count > len(stream):
        raise UnknownCommand(f"truncated command at byte {at}")


def _text_end(stream: bytes, at: int, kanji: bool) -> int:
    """End of the text run starting at ``at``: stops at any control byte.

    In Kanji mode a lead byte 0x81-0xFE takes its trail byte(s) with it;
    GB18030 trail bytes are 0x30 or above, so they never look like controls.
    """
    end = at
    while end < len(stream):
        byte = stream[end]
        if byte < 0x20 or byte == 0x7F:
            break
        if byte >= 0x80:
            if not kanji or byte == 0x80 or byte == 0xFF:
                raise UnknownCommand(f"byte 0x{byte:02x} at {end} outside Chinese mode")
            width = 4 if end + 1 < len(stream) and 0x30 <= stream[end + 1] <= 0x39 else 2
            _need(stream, end, width)
            if any(b < 0x30 for b in stream[end + 1 : end + width]):
                raise UnknownCommand(f"broken GB18030 sequence at {end}")
            end += width
        else:
            end += 1
    return end


def parse(stream: bytes) -> list[Op]:
    """Split ``stream`` into operations; raise UnknownCommand on anything unexpected."""
    ops: list[Op] = []
    at = 0
    kanji = False
    while at < len(stream):
        byte = stream[at]
        start = at
        if byte == LF:
            ops.append(Op("lf", offset=start))
            at += 1
        elif byte == ESC:
            _need(stream, at, 2)
            cmd = stream[at + 1]
            if cmd == ord("@"):
                ops.append(Op("init", offset=start))
                kanji = False
                at += 2
            elif cmd in b"aEd":
                _need(stream, at, 3)
                name = {ord("a"): "align", ord("E"): "bold", ord("d"): "feed"}[cmd]
                ops.append(Op(name, (stream[at + 2],), offset=start))
                at += 3
            else:
                raise UnknownCommand(f"ESC 0x{cmd:02x} at {at}")
        elif byte == GS:
            _need(stream, at, 2)
            cmd = stream[at + 1]
            if cmd == ord("!"):
                _need(stream, at, 3)
                n = stream[at + 2]
                ops.append(Op("size", ((n >> 4) + 1, (n & 0x0F) + 1), offset=start))
                at += 3
            elif cmd == ord("V"):
                _need(stream, at, 3)
                mode = stream[at + 2]
                if mode not in (0, 1):
                    raise UnknownCommand(f"GS V {mode} at {at}")
                ops.append(Op("cut", ("full" if mode == 0 else "partial",), offset=start))
                at += 3
            elif stream[at + 1 : at + 3] == b"(k":
                _need(stream, at, 5)
                length = _u16(stream, at + 3)
                _need(stream, at + 5, length)
                body = stream[at + 5 : at + 5 + length]
                ops.append(_qr_op(body, start))
                at += 5 + length
            elif stream[at + 1 : at + 3] == b"v0":
                _need(stream, at, 8)
                width_bytes, height = _u16(stream, at + 4), _u16(stream, at + 6)
                size = width_bytes * height
                _need(stream, at + 8, size)
                ops.append(Op("raster", (width_bytes, height), stream[at + 8 : at + 8 + size], start))
                at += 8 + size
            else:
                raise UnknownCommand(f"GS 0x{cmd:02x} at {at}")
        elif byte == FS:
            _need(stream, at, 2)
            if stream[at + 1] != 0x26:
                raise UnknownCommand(f"FS 0x{stream[at + 1]:02x} at {at}")
            ops.append(Op("kanji_on", offset=start))
            kanji = True
            at += 2
        elif byte < 0x20 or byte == 0x7F:
            raise UnknownCommand(f"control byte 0x{byte:02x} at {at}")
        else:
            end = _text_end(stream, at, kanji)
            ops.append(Op("text", data=stream[at:end], offset=start))
            at = end
    return ops


def _qr_op(body: bytes, offset: int) -> Op:
    # body = cn fn [m] data; cn 0x31 is the QR symbol family.
    if len(body) < 2 or body[0] != 0x31:
        raise UnknownCommand(f"GS ( k for a symbol other than QR at {offset}")
    fn = body[1]
    if fn == 65 and len(body) == 4:
        return Op("qr_model", (body[2] - 48,), offset=offset)
    if fn == 67 and len(body) == 3:
        return Op("qr_module", (body[2],), offset=offset)
    if fn == 69 and len(body) == 3:
        return Op("qr_ec", ("LMQH"[body[2] - 48],), offset=offset)
    if fn == 80 and len(body) >= 3 and body[2] == 48:
        return Op("qr_store", data=body[3:], offset=offset)
    if fn == 81 and len(body) == 3:
        return Op("qr_print", offset=offset)
    raise UnknownCommand(f"GS ( k function {fn} at {offset}")


def text_of(ops: list[Op], encoding: str = "gb18030") -> str:
    """All printed text, lines joined by newlines: what a reader of the paper would see as text."""
    return "".join(op.data.decode(encoding) if op.name == "text" else "\n" if op.name == "lf" else "" for op in ops)


def qr_payloads(ops: list[Op]) -> list[str]:
    """Payloads of the native QR codes actually printed, in print order."""
    payloads: list[str] = []
    stored: bytes | None = None
    for op in ops:
        if op.name == "qr_store":
            stored = op.data
        elif op.name == "qr_print" and stored is not None:
            payloads.append(stored.decode("ascii"))
    return payloads
