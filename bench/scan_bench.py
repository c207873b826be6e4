"""Scan benchmark: our decoder chain against each raw decoder, on the same frames.

    .venv/bin/python bench/scan_bench.py [--per-category 30] [--no-code 200] [--seed 7]

Frames are 1280x720 synthetic stub photographs from scanning.synth, one set per
degradation category plus frames without a code. Each decoder is called the way
a user would call it: pyzbar on the BGR frame (it then reads only the blue
channel) and on a grey conversion, cv2.QRCodeDetector().detectAndDecode on the
BGR frame, zxingcpp.read_barcodes on the BGR frame (all formats, its default,
and QR only). Timing is pinned to one core
so the numbers compare with a kiosk's single decode thread.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scanning  # noqa: E402
from scanning import synth  # noqa: E402

try:
    from pyzbar import pyzbar
except (ImportError, OSError):  # the bench still runs, without the pyzbar columns
    pyzbar = None
import zxingcpp  # noqa: E402


def _ours(frame):
    return [d.text for d in scanning.decode(frame)]


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


def _pct(values, q):
    return float(np.percentile(values, q)) if values else float("nan")


def run(per_category: int, no_code: int, seed: int) -> dict:
    names = [n for n in DECODERS if pyzbar is not None or not n.startswith("pyzbar")]
    frames = list(synth.frames(per_category, seed=seed, no_code=no_code))
    for name in names:  # warm up: first calls allocate and load
        DECODERS[name](frames[0].image)
    results: dict = {}
    for f in frames:
        for name in names:
            t = time.perf_counter()
            texts = DECODERS[name](f.image)
            ms = (time.perf_counter() - t) * 1000
            row = results.setdefault(f.category, {}).setdefault(name, {"ok": 0, "wrong": 0, "n": 0, "ms": []})
            row["n"] += 1
            row["ms"].append(ms)
            if f.text is None:
                row["ok"] += not texts
                row["wrong"] += len(texts)
            else:
                row["ok"] += f.text in texts
                row["wrong"] += sum(t != f.text for t in texts)
    return results


def report(results: dict) -> str:
    names = list(next(iter(results.values())))
    lines = ["| category | " + " | ".join(names) + " |",
             "|---|" + "---|" * len(names)]
    lines.append("| (read % / wrong / p50 ms / p95 ms) |" + " |" * len(names))
    total = {n: {"ok": 0, "wrong": 0, "n": 0, "ms": []} for n in names}
    for category, rows in results.items():
        cells = []
        for n in names:
            r = rows[n]
            if category != "no_code":
                for k in ("ok", "wrong", "n"):
                    total[n][k] += r[k]
                total[n]["ms"] += r["ms"]
            cells.append(f"{100 * r['ok'] / r['n']:.0f}% / {r['wrong']} / "
                         f"{_pct(r['ms'], 50):.1f} / {_pct(r['ms'], 95):.1f}")
        lines.append(f"| {category} | " + " | ".join(cells) + " |")
    cells = [f"**{100 * t['ok'] / t['n']:.1f}%** / {t['wrong']} / {_pct(t['ms'], 50):.1f} / "
             f"{_pct(t['ms'], 95):.1f}" for t in total.values()]
    lines.append("| all frames with a code | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-category", type=int, default=30)
    parser.add_argument("--no-code", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cv2.setNumThreads(1)  # OpenCV's own pool would otherwise use the other cores
    start = time.perf_counter()
    results = run(args.per_category, args.no_code, args.seed)
    print(report(results))
    print(f"\n{args.per_category} frames per category, {args.no_code} without a code, seed "
          f"{args.seed}, 1280x720, one core; decoders available: {scanning.available_decoders()}; "
          f"{time.perf_counter() - start:.0f} s")
    ours = results["no_code"]["ours"]["ms"]
    print(f"no-code frames, ours: p50 {statistics.median(ours):.1f} ms, p95 {_pct(ours, 95):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
