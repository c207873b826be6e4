"""The project's own printed labels, photographed virtually, read back and scanned into the ledger.

Every path a code can take into the ledger ends in the same scan operation:
the decode endpoint (tablet camera, phone photo), and `kiosk scan` over a video
file or images, locally or through a server.
"""
import io

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import printing
import scanning
from kiosk.models import Item
from scanning import synth
from tests.conftest import TEST_SECRET, luggage
from web.auth import desk
from web.cli import main
from web.labels import label_for

CATEGORIES = synth.CATEGORIES


def printed_part(png: bytes, code: str) -> tuple[np.ndarray, np.ndarray]:
    """Cut the part carrying ``code`` (tag or stub) out of the label preview, as torn off at the cut."""
    return synth.cut_stub(np.asarray(Image.open(io.BytesIO(png)).convert("L")), code)


def printed_label(app, item_id: int) -> bytes:
    """The label as the printer gets it, drawn (label.png, the screen preview, leaves the stub's code out)."""
    with app.extensions["kiosk.sessions"]() as session:
        label = label_for(session.get(Item, item_id), desk(app), reprint=False, timezone=app.config["TIMEZONE"])
    return printing.preview_png(label)


@pytest.fixture
def printed(api, app):
    body = api.post("/items", json=luggage()).get_json()
    png = printed_label(app, body["id"])
    return body, printed_part(png, body["stub_code"]), printed_part(png, body["tag_code"])


def test_photographed_printed_stubs_read_back_exactly(printed):
    body, stub, _ = printed
    rng = np.random.default_rng(2026)
    reads = {}
    for category in CATEGORIES:
        for _ in range(2):
            frame = synth.photograph(body["stub_code"], category, rng, source=stub)
            texts = [d.text for d in scanning.decode(frame.image)]
            assert set(texts) <= {body["stub_code"]}, (category, texts)  # never a wrong text
            reads[category] = reads.get(category, 0) + (texts == [body["stub_code"]])
    total = sum(reads.values())
    assert total >= 0.9 * 2 * len(CATEGORIES), reads


def test_frames_without_a_code_read_nothing():
    rng = np.random.default_rng(7)
    for _ in range(10):
        assert scanning.decode(synth.empty(rng).image) == []


def _jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buffer.tobytes()


def test_a_phone_photo_uploaded_at_the_kiosk_is_scanned(api, printed):
    body, stub, tag = printed
    photo = synth.photograph(body["stub_code"], "phone_photo", np.random.default_rng(3), source=stub)
    response = api.post("/decode?scan=true", role="kiosk",
                        data={"image": (io.BytesIO(_jpeg(photo.image)), "stub.jpg")},
                        content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert [c["text"] for c in answer["codes"]] == [body["stub_code"]]
    assert answer["scans"][0]["next"] == "present_at_desk"
    assert answer["scans"][0]["item"]["owner"] == {"unit": "12-0301", "name": "张*"}

    frame = synth.photograph(body["tag_code"], "perspective", np.random.default_rng(4), source=tag)
    raw = api.post("/decode?scan=true", role="staff", data=_jpeg(frame.image), content_type="image/jpeg")
    assert raw.get_json()["scans"][0]["role"] == "tag"
    events = api.get(f"/items/{body['id']}/events", role="supervisor").get_json()["events"]
    assert [(e["event"], e["actor_role"]) for e in events] == [("deposit", "staff"), ("scan", "kiosk"),
                                                                ("scan", "staff")]


def test_decode_without_scan_only_reads(api, printed, session):
    body, stub, _ = printed
    frame = synth.photograph(body["stub_code"], "clean", np.random.default_rng(5), source=stub)
    answer = api.post("/decode", role="kiosk", data=_jpeg(frame.image), content_type="image/jpeg").get_json()
    assert [c["text"] for c in answer["codes"]] == [body["stub_code"]] and "scans" not in answer
    assert len(answer["codes"][0]["points"]) == 4


def _png_header(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IEND", b""))


def test_bad_uploads_get_clear_errors(api, app):
    frame = synth.photograph("K1S-1-0-" + "A" * 20, "clean", np.random.default_rng(1)).image
    whole = _jpeg(frame)
    cases = [
        (dict(data=whole[: len(whole) // 2], content_type="image/jpeg"), 422, "invalid_image"),
        (dict(data=b"GIF89a not really", content_type="image/gif"), 422, "invalid_image"),
        (dict(data=b"", content_type="image/png"), 422, "invalid_image"),
        (dict(data=_png_header(20000, 20000), content_type="image/png"), 413, "image_too_large"),
        (dict(json={"image": "base64?"}), 415, "unsupported_media_type"),
        (dict(data={"picture": (io.BytesIO(whole), "x.jpg")}, content_type="multipart/form-data"), 400,
         "missing_image"),
    ]
    for kwargs, status, code in cases:
        response = api.post("/decode", role="kiosk", **kwargs)
        assert (response.status_code, response.get_json()["error"]["code"]) == (status, code), code
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    too_big = api.post("/decode", role="kiosk", data=whole + b"\0" * 20_000, content_type="image/jpeg")
    assert (too_big.status_code, too_big.get_json()["error"]["code"]) == (413, "payload_too_large")


def _video(path, frames: list[np.ndarray]) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (synth.FRAME_W, synth.FRAME_H))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()


@pytest.fixture
def cli_env(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_DATABASE_URL", database_url)
    monkeypatch.setenv("KIOSK_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("KIOSK_SECRET_KEY", TEST_SECRET)


def test_kiosk_scan_plays_a_video_and_reports_each_stub_once(printed, cli_env, tmp_path, session):
    body, stub, _ = printed
    rng = np.random.default_rng(11)
    held = [synth.photograph(body["stub_code"], "clean", rng, source=stub).image for _ in range(6)]
    nothing = [synth.empty(rng).image for _ in range(3)]
    video = tmp_path / "lobby.avi"
    _video(video, nothing + held + nothing)
    result = CliRunner().invoke(main, ["scan", "--video", str(video), "--device", "lobby-9"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "A-0001" in line]
    assert lines == ["A-0001 stub: present_at_desk - Please show this stub at the desk; staff will bring your item."]
    from kiosk.models import AuditEvent

    scans = session.query(AuditEvent).filter_by(event="scan").all()
    assert [(s.actor, s.device) for s in scans] == [("kiosk:lobby-9", "lobby-9")]


def test_kiosk_scan_sends_images_to_a_server(printed, live_server, tokens, tmp_path):
    body, stub, _ = printed
    photo = tmp_path / "stub.jpg"
    photo.write_bytes(_jpeg(synth.photograph(body["stub_code"], "glare", np.random.default_rng(8),
                                             source=stub).image))
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not a picture")
    result = CliRunner().invoke(main, ["scan", "--image", str(photo), "--image", str(junk),
                                       "--server", live_server, "--token", tokens["kiosk"]],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "A-0001 stub: present_at_desk" in result.output
    assert "cannot read an image" in result.output
    denied = CliRunner().invoke(main, ["scan", "--image", str(photo), "--server", live_server,
                                       "--token", "kd_wrong"], catch_exceptions=False)
    assert "unauthorized" in denied.output


def test_kiosk_scan_needs_exactly_one_source():
    result = CliRunner().invoke(main, ["scan"])
    assert result.exit_code == 2 and "exactly one" in result.output
