import pytest

from printing import (
    PrinterBackendMissing,
    PrinterOffline,
    PrinterUrlInvalid,
    paper_status,
    parse_printer_url,
    print_label,
    print_test_label,
    render,
    send,
)
from printing._escpos import escpos_printer
from printing.escpos_reader import parse, qr_payloads

from .conftest import STUB, TAG, LoopbackPrinter
from .escpos_helpers import all_payloads, decode_image, part_text, split_parts


@pytest.mark.parametrize(
    ("url", "scheme", "target", "width"),
    [
        ("tcp://192.168.1.50:9100", "tcp", "192.168.1.50", 576),
        ("tcp://printer.lan?paper=58mm", "tcp", "printer.lan", 384),
        ("usb://04B8:0202", "usb", "04b8:0202", 576),
        ("serial:///dev/ttyUSB0?baudrate=19200&qr=raster", "serial", "/dev/ttyUSB0", 576),
        ("file:///dev/usb/lp0", "file", "/dev/usb/lp0", 576),
        ("cups://Front_Desk-1", "cups", "Front_Desk-1", 576),
        ("preview:///var/tmp/labels?text=raster&paper=58mm", "preview", "/var/tmp/labels", 384),
        ("preview://labels", "preview", "labels", 576),
    ],
)
def test_good_printer_urls_parse(url, scheme, target, width):
    parsed = parse_printer_url(url)
    assert (parsed.scheme, parsed.target, parsed.profile.width_dots) == (scheme, target, width)


def test_url_options_choose_the_profile():
    parsed = parse_printer_url("tcp://p:9101?paper=58mm&qr=raster&text=raster&timeout=2.5")
    assert parsed.port == 9101 and parsed.timeout == 2.5
    assert (parsed.profile.native_qr, parsed.profile.cjk_font) == (False, False)
    assert parse_printer_url("tcp://p").port == 9100


@pytest.mark.parametrize(
    "url",
    [
        "", "printer", "http://p:9100", "tcp://", "tcp://p:99999", "tcp://p:abc", "tcp://p:9100/x",
        "tcp://p:9100#frag", "tcp://p?paper=A4", "tcp://p?qr=maybe", "tcp://p?colour=red",
        "tcp://p?paper=58mm&paper=80mm", "tcp://p?timeout=0", "tcp://p?timeout=soon", "tcp://p x",
        "usb://04b8", "usb://04b8:02020", "usb://zzzz:0202", "serial://dev/ttyUSB0",
        "serial:///dev/ttyUSB0?baudrate=12345", "file://relative/path", "cups://bad queue",
        "cups://q/extra", "preview://", "tcp://p\n",
    ],
)
def test_bad_printer_urls_are_rejected_with_a_code(url):
    with pytest.raises(PrinterUrlInvalid) as caught:
        parse_printer_url(url)
    assert caught.value.code == "printer_url_invalid"


def test_label_sent_over_tcp_arrives_whole_and_scans_back(label, loopback_printer):
    delivery = print_label(label, loopback_printer.url)
    received = loopback_printer.wait_for_job()
    assert received == render(label, parse_printer_url(loopback_printer.url).profile)
    assert delivery.bytes_sent == len(received)
    tag, stub = split_parts(received)
    assert qr_payloads(tag) == [TAG] and qr_payloads(stub) == [STUB]
    assert "A-0042" in part_text(tag) and "A-0042" in part_text(stub)


def test_raster_label_sent_over_tcp_scans_back(label, loopback_printer):
    print_label(label, loopback_printer.url + "?paper=58mm&qr=raster&text=raster")
    tag, stub = split_parts(loopback_printer.wait_for_job())
    assert all_payloads(tag) == [TAG] and all_payloads(stub) == [STUB]
    assert "A-0042" in part_text(tag, kanji=False) and "A-0042" in part_text(stub, kanji=False)


def test_nothing_listening_means_printer_offline(label, dead_port):
    with pytest.raises(PrinterOffline) as caught:
        print_label(label, f"tcp://127.0.0.1:{dead_port}?timeout=1")
    assert caught.value.code == "printer_offline"


def test_unwritable_device_file_means_printer_offline(tmp_path):
    with pytest.raises(PrinterOffline):
        send(f"file://{tmp_path}/no/such/dir/lp0", b"\x1b@")


def test_missing_backend_library_is_reported_not_crashed(monkeypatch):
    # pycups is not a dependency; where it is absent, cups:// must say so rather than crash.
    monkeypatch.setattr(escpos_printer.CupsPrinter, "is_usable", staticmethod(lambda: False))
    with pytest.raises(PrinterBackendMissing) as caught:
        send("cups://frontdesk", b"\x1b@")
    assert caught.value.code == "printer_backend_missing"


def test_missing_pyusb_is_reported(monkeypatch):
    monkeypatch.setattr(escpos_printer.Usb, "is_usable", staticmethod(lambda: False))
    with pytest.raises(PrinterBackendMissing):
        send("usb://04b8:0202", b"\x1b@")


def test_absent_serial_device_means_offline():
    with pytest.raises(PrinterOffline):
        send("serial:///dev/ttyKIOSK-NONE?baudrate=19200", b"\x1b@")


def test_preview_printer_writes_the_bytes_and_a_scannable_png(label, tmp_path):
    delivery = print_label(label, f"preview://{tmp_path}/out?paper=58mm")
    raw, png = delivery.files
    assert raw.suffix == ".bin" and png.suffix == ".png"
    assert raw.read_bytes() == render(label, parse_printer_url(f"preview://{tmp_path}?paper=58mm").profile)
    from PIL import Image

    with Image.open(png) as image:
        assert image.width == 384
        assert sorted(decode_image(image)) == sorted([TAG, STUB])


def test_test_label_prints_over_tcp(loopback_printer):
    delivery = print_test_label(loopback_printer.url + "?paper=58mm")
    ops = parse(loopback_printer.wait_for_job())
    assert qr_payloads(ops) == ["TEST-TAG-0000", "TEST-STUB-0000"]
    assert delivery.bytes_sent > 0


@pytest.mark.parametrize(("reply", "expected"), [(b"\x12", "ok"), (b"\x1e", "near_end"), (b"\x72", "out")])
def test_paper_status_reads_the_sensor_byte(reply, expected):
    printer = LoopbackPrinter(status_reply=reply)
    try:
        assert paper_status(printer.url) == expected
    finally:
        printer.close()


def test_a_silent_printer_has_unknown_paper_not_plenty(loopback_printer):
    assert paper_status(loopback_printer.url, timeout=0.3) == "unknown"


def test_paper_status_of_an_absent_printer_is_offline(dead_port):
    with pytest.raises(PrinterOffline):
        paper_status(f"tcp://127.0.0.1:{dead_port}", timeout=0.5)
