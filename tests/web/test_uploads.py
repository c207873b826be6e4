"""/decode under a flood: huge pictures refused from their header, a few decoded at once and
the rest told 503 busy with Retry-After."""
import io
import threading

from PIL import Image


def png(width, height) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height), 255).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_huge_blank_png_is_413_without_being_decoded(api):
    answer = api.post("/decode", role="kiosk", data=png(6900, 6900), content_type="image/png")
    assert answer.status_code == 413 and answer.get_json()["error"]["code"] == "image_too_large"


def test_decodes_beyond_the_limit_are_503_busy_at_once(app, api, monkeypatch):
    """One picture in the decoder (held there; KIOSK_MAX_DECODES is 1), a second: 503 busy."""
    from concurrent.futures import Future

    import web.uploads

    inside, release = threading.Event(), threading.Event()

    class HeldDecoders:
        def submit(self, function, data, budget_ms):
            inside.set()
            release.wait(30)
            done = Future()
            done.set_result({"codes": []})
            return done

    monkeypatch.setattr(web.uploads, "_decoders", lambda size: HeldDecoders())
    answers = []
    holder = threading.Thread(target=lambda: answers.append(
        api.post("/decode", role="kiosk", data=png(64, 64), content_type="image/png")))
    holder.start()
    assert inside.wait(10)
    busy = api.post("/decode", role="staff", data=png(64, 64), content_type="image/png")
    release.set()
    holder.join(10)
    assert busy.status_code == 503 and busy.get_json()["error"]["code"] == "busy"
    assert busy.headers["Retry-After"] == "1"
    assert [a.status_code for a in answers] == [200]


def test_the_request_process_never_loads_the_scanning_libraries(tmp_path):
    """Decoding happens in the decoding processes: the app process stays small."""
    import subprocess
    import sys

    code = (
        "import io, sys\n"
        "from PIL import Image\n"
        "from web import create_app\n"
        f"app = create_app({{'TESTING': True, 'DATABASE_URL': 'sqlite:///{tmp_path}/k.sqlite3', "
        "'SECRET_KEY': 'x'})\n"
        "from web import uploads\n"
        "buffer = io.BytesIO(); Image.new('L', (64, 64), 255).save(buffer, format='PNG')\n"
        "with app.app_context():\n"
        "    assert uploads.read(buffer.getvalue()) == {'codes': []}\n"
        "assert 'cv2' not in sys.modules and 'zxingcpp' not in sys.modules, sorted(sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={**__import__("os").environ, "KIOSK_INSTANCE_PATH": str(tmp_path / "i")})
    assert result.returncode == 0, result.stderr[-2000:]
