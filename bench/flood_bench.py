"""What a flood of pictures at /decode costs the server, and the desk meanwhile.

    .venv/bin/python bench/flood_bench.py [--db sqlite|postgres] [--rounds 3]

Sets up a ledger with the real CLI, runs `kiosk serve` (its defaults: gunicorn, the print and
notify worker process, the sealer) as a separate process, warms it up, and then for each kind
of picture sends eight at once from eight kiosk devices (one each, so the per-device rate
limit does not step in: this measures the decoder's bounds, not the limiter):

- ``6900x6900 blank PNG``: ~14 KB that claims 47.6 MP (issue 8: 1.7 s and +500 MB each
  before, 3.96 GB peak for eight, 1.9 GB left afterwards);
- ``12 MP PNG photo``: just under the cap, a stub in it: decoded (reduced to 4 MP);
- ``48 MP JPEG photo``: a phone's full-size photo of a stub: decoded reduced by the codec.

While each flood runs, one staff client deposits items back to back; a first row measures
deposits alone. Reported: resident memory of the server and its decoding processes
together (summed, so shared pages count twice: an upper bound), idle, peak during the
flood (sampled every 10 ms, and the kernel's high-water marks, reset before each flood),
2 s after; the answers; deposit latency. Targets (issue 8): peak under 600 MB, deposits
under 300 ms.

PostgreSQL: a database ``trust_flood_bench`` on 127.0.0.1:5432, dropped at the end.
"""
from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qrcode  # noqa: E402
import requests  # noqa: E402
from PIL import Image  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402

SECRET = "flood-bench-secret-key-not-for-production"
DEVICES = 8
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
PG_DB = "trust_flood_bench"
STUB = "K1S-2BX-0-7Q2MABCDEFGHJKMNPQRS"


def picture(kind: str) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    if kind == "blank":
        Image.new("L", (6900, 6900), 255).save(buffer, format="PNG", optimize=True)
        return buffer.getvalue(), "image/png"
    width, height = (3460, 3460) if kind == "png12" else (8000, 6000)
    page = Image.new("L", (width, height), 235)
    code = qrcode.make(STUB, border=4, box_size=width // 160).get_image().convert("L")
    page.paste(code, ((width - code.width) // 2, (height - code.height) // 2))
    if kind == "png12":
        page.save(buffer, format="PNG")
        return buffer.getvalue(), "image/png"
    page.convert("RGB").save(buffer, format="JPEG", quality=85)
    return buffer.getvalue(), "image/jpeg"


KINDS = {"blank": "6900x6900 blank PNG", "png12": "12 MP PNG photo", "jpeg48": "48 MP JPEG photo"}


def family(pid: int) -> list[int]:
    """The server and every process it started (the decoding fork server and its workers)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, ()))
    return found


def memory_mb(pid: int, field: str = "Pss", source: str = "smaps_rollup", everyone: bool = True) -> float:
    """Memory of the server (and, with ``everyone``, of the processes it started), in MB: by
    default the proportional set size, which counts a page shared by n processes 1/n in each,
    so the sum is what the family really holds."""
    total = 0
    for member in family(pid) if everyone else [pid]:
        try:
            for line in Path(f"/proc/{member}/{source}").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def request_process(pid: int) -> int:
    """The process that answers requests: gunicorn's newest worker (the server itself under waitress)."""
    workers = []
    for member in family(pid):
        try:
            if member != pid and b"gunicorn" in Path(f"/proc/{member}/cmdline").read_bytes():
                workers.append(member)
        except OSError:
            continue
    return max(workers) if workers else pid


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """The request process's own resident set."""
    return memory_mb(request_process(pid), field, "status", everyone=False)


def reset_peak(pid: int) -> None:
    for member in family(pid):
        try:
            Path(f"/proc/{member}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        except OSError:
            continue


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cli(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    if done.returncode:
        raise RuntimeError(done.stderr or done.stdout)
    return done.stdout.strip().splitlines()[-1]


def pct(values, q):
    ordered = sorted(values)
    return ordered[max(0, int(round(q * len(ordered))) - 1)] if ordered else float("nan")


def deposit_body() -> dict:
    return {"kind": "luggage", "owner": {"unit": "12-0301", "name": "张伟", "phone": "13812345678"},
            "size": "large", "expected_pickup_at": "2099-01-01T09:00:00+00:00"}


def flood(base: str, pid: int, kiosks: list[str], staff: str, data: bytes | None, media: str) -> dict:
    """Eight pictures at once (or, with ``data`` None, none: the baseline) while a staff client deposits."""
    reset_peak(pid)
    peak, stop = [0.0], threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], memory_mb(pid))
            time.sleep(0.01)

    latencies: list[float] = []

    def deposit_meanwhile():
        with requests.Session() as http:
            while not stop.is_set():
                started = time.perf_counter()
                answer = http.post(f"{base}/api/v1/items", json=deposit_body(), timeout=30,
                                   headers={"Authorization": f"Bearer {staff}"})
                latencies.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 201, answer.text

    statuses: list[int] = []
    barrier = threading.Barrier(len(kiosks))

    def send(token):
        with requests.Session() as http:
            http.get(f"{base}/api/v1/health/live", timeout=10)
            barrier.wait()
            statuses.append(http.post(f"{base}/api/v1/decode", data=data, timeout=60,
                                      headers={"Authorization": f"Bearer {token}", "Content-Type": media})
                            .status_code)

    sampler = threading.Thread(target=sample)
    depositor = threading.Thread(target=deposit_meanwhile)
    sampler.start()
    depositor.start()
    time.sleep(0.3)
    started = time.perf_counter()
    senders = [threading.Thread(target=send, args=(token,)) for token in kiosks] if data else []
    if not data:
        time.sleep(1.5)
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    elapsed = time.perf_counter() - started
    time.sleep(0.3)
    stop.set()
    sampler.join()
    depositor.join()
    time.sleep(2.0)
    return {"peak": peak[0], "after": memory_mb(pid), "server": rss_mb(pid), "server_peak": rss_mb(pid, "VmHWM"),
            "statuses": Counter(statuses),
            "seconds": elapsed, "deposits": len(latencies), "p50": pct(latencies, 0.5),
            "max": max(latencies) if latencies else float("nan")}


def row(name: str, round_no: int, answers: str, result: dict) -> str:
    return (f"| {name} | {round_no} | {answers} | {result['seconds']:.2f} | {result['peak']:.0f} | "
            f"{result['after']:.0f} | {result['server_peak']:.0f} / {result['server']:.0f} | {result['deposits']} | "
            f"{result['p50']:.0f} / {result['max']:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flood-bench-") as tmp:
        if args.db == "postgres":
            admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
                connection.exec_driver_sql(f"CREATE DATABASE {PG_DB}")
            url = f"postgresql://postgres@127.0.0.1:5432/{PG_DB}"
        else:
            url = f"sqlite:///{tmp}/kiosk.sqlite3"
        env = {**os.environ, "KIOSK_DATABASE_URL": url, "KIOSK_SECRET_KEY": SECRET,
               "KIOSK_INSTANCE_PATH": f"{tmp}/instance"}
        cli(env, "init")
        cli(env, "user", "add", "lin", "--role", "staff")
        staff = cli(env, "token", "create", "lin")
        kiosks = [cli(env, "token", "create", "--kiosk", f"lobby-{n}") for n in range(DEVICES)]
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port)], cwd=ROOT,
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    requests.get(f"{base}/api/v1/health", timeout=1)
                    break
                except requests.RequestException:  # not listening yet, or gunicorn not answering yet
                    time.sleep(0.1)
            # Warm up: the decoder's libraries loaded, a few deposits and labels done.
            small, _ = picture("png12")
            requests.post(f"{base}/api/v1/decode", data=small, timeout=60,
                          headers={"Authorization": f"Bearer {kiosks[0]}", "Content-Type": "image/png"})
            for _ in range(20):
                requests.post(f"{base}/api/v1/items", json=deposit_body(), timeout=30,
                              headers={"Authorization": f"Bearer {staff}"})
            time.sleep(3)
            print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            print(f"`kiosk serve` on {args.db} after warm-up: {memory_mb(server.pid):.0f} MB (PSS of all its "
                  f"processes), request process RSS {rss_mb(server.pid):.0f} MB; {DEVICES} devices at once; "
                  "one staff client depositing meanwhile\n")
            print("| picture | round | answers | wall s | peak MB (all) | 2 s after MB (all) | request process RSS "
                  "peak / after MB | deposits | deposit p50 / max ms |")
            print("|---|---|---|---|---|---|---|---|---|")
            for round_no in range(1, args.rounds + 1):
                result = flood(base, server.pid, kiosks, staff, None, "")
                print(row("none (deposits alone)", round_no, "-", result))
            for kind, name in KINDS.items():
                data, media = picture(kind)
                for round_no in range(1, args.rounds + 1):
                    result = flood(base, server.pid, kiosks, staff, data, media)
                    answers = ", ".join(f"{n}×{status}" for status, n in sorted(result["statuses"].items()))
                    print(row(f"{name} ({len(data) // 1024:,} KB)", round_no, answers, result), flush=True)
                    time.sleep(1)
            print(f"\nload average after: {os.getloadavg()[0]:.1f}")
        finally:
            server.terminate()
            server.wait(timeout=15)
            if args.db == "postgres":
                with admin.connect() as connection:
                    connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
                admin.dispose()


if __name__ == "__main__":
    main()
