"""Scan benchmark: our decoder chain against each raw decoder, on the same frames.

    .venv/bin/python bench/scan_bench.py [--per-category 30] [--no-code 200] [--seed 31415]

Frames are 1280x720 synthetic stub photographs from scanning.synth, one set per
degradation category plus frames without a code. Each decoder is called the way
a user would call it: pyzbar on the BGR frame (it then reads only the blue
channel) and on a grey conversion, cv2.QRCodeDetector().detectAndDecode on the
BGR frame, zxingcpp.read_barcodes on the BGR frame (all formats, its default,
and QR only). "union" counts a frame as read when any single decoder read it.
The process is pinned to one core so the numbers compare with a kiosk's single
decode thread. Times are the CPU time of each decode call (process_time), so
other work on a shared machine does not count against a decoder; on an idle
core that is its wall time. ``--wall`` times with the wall clock instead.

``--stub printed`` photographs the label the kiosk's own printer code lays out
(printing.preview, its QR encoder and module size, real text) instead of
synth's stand-in stub: the same degradations on a stub the chain was not
developed on.

Held-out seeds: the chain was developed and its stages ordered on frames of
seeds 1-16 (and the test seeds). Seed 1010 was then run once (98.9% read); its
one miss that a raw decoder read (a frame at 4% exposure) led to the dark-frame
locator, so 1010 is no longer held out. Seed 2026 was then held out until that
chain was frozen; its misses (glare, blur near 0.9 module) were then worked on
(issue 10), on seeds 101-152 only, so 2026 is no longer held out either. The
default seed, 31415, was not run until the chain was frozen again. Report figures
from a seed the chain was not tuned on, or they measure the tuning.

Categories in synth.BEYOND_ISSUE (defocus past 0.9 module) lie outside the
ranges issue 10 sets its target for: the report gives the rate with and without
them.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scanning  # noqa: E402
from printing import LabelData  # noqa: E402
from printing.preview import preview_png  # noqa: E402
from scanning import synth  # noqa: E402

try:
    from pyzbar import pyzbar
except (ImportError, OSError):  # the bench still runs, without the pyzbar columns
    pyzbar = None
import zxingcpp  # noqa: E402

HELD_OUT_SEED = 31415
_SHANGHAI = timezone(timedelta(hours=8))


def printed_stub(code: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The claim-stub part of the label printing.preview draws for ``code``, and its code's
    corners: cut at the tear line as the e2e tests do."""
    label = LabelData(
        ticket_no=f"A-{rng.integers(1, 9999):04d}", kind="luggage", unit="12-0301",
        owner_name_masked="张*", owner_phone_masked="138****5678",
        deposited_at=datetime(2025, 11, 22, 9, int(rng.integers(0, 60)), tzinfo=_SHANGHAI),
        staff="李小红", location="前台 Front desk", claim_code=code,
        tag_code=code[:2] + ("S" if code[2] == "T" else "T") + code[3:],  # any other code
        description="黑色拉杆箱 black trolley case")
    return synth.cut_stub(np.asarray(Image.open(io.BytesIO(preview_png(label))).convert("L")), code)


def printed_frames(per_category: int, seed: int, categories, no_code: int):
    """As synth.frames, on printed stubs."""
    rng = np.random.default_rng(seed)
    for category in categories:
        for _ in range(per_category):
            code = synth.claim_code(rng)
            yield synth.photograph(code, category, rng, source=printed_stub(code, rng))
    for _ in range(no_code):
        yield synth.empty(rng)


def _ours(frame):
    # The time budget in CPU time too: on a loaded machine a wall-clock budget would end
    # the search early and make the figures depend on the neighbours' work.
    return [d.text for d in scanning.decode(frame, clock=time.thread_time)]


def _pyzbar_bgr(frame):
    return [r.data.decode("utf-8", "replace") for r in pyzbar.decode(frame)]


def _pyzbar_grey(frame):
    return [r.data.decode("utf-8", "replace")
            for r in pyzbar.decode(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))]


_detector = cv2.QRCodeDetector()


def _opencv(frame):
    text, _, _ = _detector.detectAndDecode(frame)
    return [text] if text else []


def _zxing(frame):
    return [r.text for r in zxingcpp.read_barcodes(frame)]


def _zxing_qr(frame):
    # What a user who knows the labels are QR codes would write: the fastest raw alternative.
    return [r.text for r in zxingcpp.read_barcodes(frame, formats=zxingcpp.BarcodeFormat.QRCode)]


DECODERS = {"ours": _ours, "zxing": _zxing, "zxing-qr": _zxing_qr, "pyzbar-bgr": _pyzbar_bgr,
            "pyzbar-grey": _pyzbar_grey, "opencv": _opencv}
SINGLE = [n for n in DECODERS if n != "ours"]


def _pct(values, q):
    return float(np.percentile(values, q)) if values else float("nan")


def run(frames: list[synth.Frame], names: list[str], clock=time.process_time) -> list[dict]:
    """One record per frame: per decoder, whether it read the frame's text, wrong texts, ms."""
    for name in names:  # warm up: first calls allocate and load
        DECODERS[name](frames[0].image)
    records = []
    for f in frames:
        rec = {"frame": f, "ok": {}, "wrong": {}, "ms": {}}
        for name in names:
            t = clock()
            texts = DECODERS[name](f.image)
            rec["ms"][name] = (clock() - t) * 1000
            rec["ok"][name] = (not texts) if f.text is None else (f.text in texts)
            rec["wrong"][name] = sum(t != f.text for t in texts)
        singles = [n for n in names if n in SINGLE]
        if singles:
            rec["ok"]["union"] = any(rec["ok"][n] for n in singles) if f.text else all(rec["ok"][n] for n in singles)
            rec["wrong"]["union"] = sum(rec["wrong"][n] for n in singles)
        records.append(rec)
    return records


def _rate(records, name):
    return 100.0 * sum(r["ok"][name] for r in records) / len(records)


def report(records: list[dict]) -> str:
    names = list(records[0]["ok"])
    timed = [n for n in names if n != "union"]
    with_code = [r for r in records if r["frame"].text is not None]
    no_code = [r for r in records if r["frame"].text is None]
    lines = []
    if with_code:
        lines += ["| frames with a code | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        cells = [f"**{_rate(with_code, n):.1f}%**" for n in names]
        lines.append(f"| read, all {len(with_code)} | " + " | ".join(cells) + " |")
        within = [r for r in with_code if r["frame"].category not in synth.BEYOND_ISSUE]
        if 0 < len(within) < len(with_code):
            lines.append(f"| read, the {len(within)} in issue 10's ranges (without "
                         f"{', '.join(synth.BEYOND_ISSUE)}) | "
                         + " | ".join(f"**{_rate(within, n):.1f}%**" for n in names) + " |")
        lines.append("| wrong texts | " + " | ".join(str(sum(r["wrong"][n] for r in with_code)) for n in names) + " |")
        for q in (50, 95):
            lines.append(f"| p{q} ms | " + " | ".join(
                f"{_pct([r['ms'][n] for r in with_code], q):.1f}" if n in timed else "" for n in names) + " |")
        for category in dict.fromkeys(r["frame"].category for r in with_code):
            rows = [r for r in with_code if r["frame"].category == category]
            lines.append(f"| {category} | " + " | ".join(f"{_rate(rows, n):.0f}%" for n in names) + " |")
        blurred = [r for r in with_code if "blur_modules" in r["frame"].params]
        for lo, hi in ((0.3, 0.5), (0.5, 0.7), (0.7, 0.91)):
            rows = [r for r in blurred if lo <= r["frame"].params["blur_modules"] < hi]
            if rows:
                lines.append(f"| blur {lo:.1f}-{min(hi, 0.9):.1f} module ({len(rows)}) | "
                             + " | ".join(f"{_rate(rows, n):.0f}%" for n in names) + " |")
    if no_code:
        lines.append(f"| no code ({len(no_code)}): right / p50 / p95 ms | " + " | ".join(
            f"{_rate(no_code, n):.0f}% / {_pct([r['ms'][n] for r in no_code], 50):.1f} / "
            f"{_pct([r['ms'][n] for r in no_code], 95):.1f}" if n in timed else "" for n in names) + " |")
    return "\n".join(lines)


def misses(records: list[dict], name: str = "ours") -> str:
    out = []
    for r in records:
        f = r["frame"]
        if f.text is not None and not r["ok"][name]:
            params = {k: round(v, 2) if isinstance(v, float) else v for k, v in f.params.items()}
            others = [n for n in SINGLE if r["ok"].get(n)]
            out.append(f"missed {f.category}: {params} (read by {', '.join(others) or 'none'})")
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-category", type=int, default=30)
    parser.add_argument("--no-code", type=int, default=200)
    parser.add_argument("--seed", type=int, default=HELD_OUT_SEED)
    parser.add_argument("--categories", default=",".join(synth.CATEGORIES),
                        help="comma-separated subset of: " + ", ".join(synth.CATEGORIES))
    parser.add_argument("--decoders", default=",".join(DECODERS), help="comma-separated subset")
    parser.add_argument("--misses", action="store_true", help="list the frames our chain missed")
    parser.add_argument("--wall", action="store_true", help="time with the wall clock, not CPU time")
    parser.add_argument("--stub", choices=("synth", "printed"), default="synth",
                        help="photograph synth's stand-in stub, or the label printing.preview draws")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cv2.setNumThreads(1)  # OpenCV's own pool would otherwise use the other cores
    names = [n for n in args.decoders.split(",") if pyzbar is not None or not n.startswith("pyzbar")]
    start = time.perf_counter()
    make = synth.frames if args.stub == "synth" else printed_frames
    frames = list(make(args.per_category, seed=args.seed, categories=args.categories.split(","),
                       no_code=args.no_code))
    records = run(frames, names, time.perf_counter if args.wall else time.process_time)
    print(report(records))
    print(f"\n{args.per_category} frames per category ({args.stub} stubs), {args.no_code} without a code, seed {args.seed}, "
          f"1280x720, one core, {'wall' if args.wall else 'CPU'} ms; decoders available: "
          f"{scanning.available_decoders()}; {time.perf_counter() - start:.0f} s; load average "
          f"{os.getloadavg()[0]:.1f}")
    if args.misses and "ours" in names:
        print(misses(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
