"""Bytes and build time of one two-part label, for every printer profile.

    .venv/bin/python bench/label_bench.py [-n BUILDS] [--kind luggage]

Targets: native QR under 4 KiB and under 10 ms to build; raster QR
fallback under 40 KiB. The label is a realistic worst case: reprint
marker, site name, designated collector, pickup time and a description.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from printing import KINDS, LabelData, PrinterProfile, render  # noqa: E402

NATIVE_BYTES, NATIVE_MS, RASTER_BYTES = 4 * 1024, 10.0, 40 * 1024


def bench_label(kind: str) -> LabelData:
    tz = timezone(timedelta(hours=8))
    return LabelData(
        ticket_no="A-0042",
        kind=kind,
        unit="12-0301",
        owner_name_masked="张*",
        owner_phone_masked="138****5678",
        deposited_at=datetime(2025, 11, 22, 9, 39, tzinfo=tz),
        staff="李小红",
        location="前台 Front desk, shelf B",
        tag_code="K1T-2BX-0-7Q2MABCDEFGHJKMNPQRS",
        claim_code="K1S-2BX-0-7Q2MABCDEFGHJKMNPQRS",
        expected_pickup_at=datetime(2025, 11, 23, 18, 0, tzinfo=tz),
        designated_collector_masked="王*",
        description="黑色拉杆箱，左轮松动 black trolley case, loose left wheel",
        reprint=True,
        site_name="滨江大厦 Riverside Tower",
    )


def measure(label: LabelData, profile: PrinterProfile, builds: int) -> tuple[int, float, float]:
    size = len(render(label, profile))  # also warms font and profile caches
    times = []
    for _ in range(builds):
        start = time.perf_counter()
        render(label, profile)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return size, statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def verdict(profile: PrinterProfile, size: int, p95: float) -> str:
    if profile.native_qr and profile.cjk_font:
        return "ok" if size < NATIVE_BYTES and p95 < NATIVE_MS else "MISSED (<4 KiB, <10 ms)"
    if not profile.native_qr and profile.cjk_font:
        return "ok" if size < RASTER_BYTES else "MISSED (<40 KiB)"
    return "ok (<40 KiB)" if size < RASTER_BYTES else "over 40 KiB (no target)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--builds", type=int, default=100, help="builds per profile (default 100)")
    parser.add_argument("--kind", choices=KINDS, default="luggage")
    args = parser.parse_args(argv)
    label = bench_label(args.kind)
    if args.kind in ("parcel", "mail"):
        label = LabelData(**{**{f: getattr(label, f) for f in label.__dataclass_fields__},
                             "claim_code": "K1P-2BX-0-7Q2MABCDEFGHJKMNPQRS"})
    header = f"{'paper':>5}  {'QR':<6}  {'text':<7}  {'bytes':>6}  {'KiB':>5}  {'median ms':>9}  {'p95 ms':>6}  target"
    print(f"two-part {args.kind} label, {args.builds} builds each")
    print(header)
    print("-" * len(header))
    missed = False
    for paper, width in (("58mm", 384), ("80mm", 576)):
        for native_qr in (True, False):
            for cjk_font in (True, False):
                profile = PrinterProfile(paper, width, native_qr=native_qr, cjk_font=cjk_font)
                size, median, p95 = measure(label, profile, args.builds)
                result = verdict(profile, size, p95)
                missed |= result.startswith("MISSED")
                print(
                    f"{paper:>5}  {'native' if native_qr else 'raster':<6}  "
                    f"{'gb18030' if cjk_font else 'raster':<7}  {size:>6}  {size / 1024:>5.1f}  "
                    f"{median:>9.2f}  {p95:>6.2f}  {result}"
                )
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
