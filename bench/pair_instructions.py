"""Instructions a scan -> release pair costs its process: the project and its floor, counted by callgrind.

    .venv/bin/python bench/pair_instructions.py [--db postgres|sqlite] [--pairs N] [--pg-url URL]

Timing a request's CPU on this small shared machine moves by a fifth from run to run; counting
its instructions does not (the same count to 0.4 % run after run). Each server runs in a
process of its own under `valgrind --tool=callgrind` with counting off while it starts, makes
its app (Flask's test client: no HTTP server) and deposits --pairs items; counting is switched
on (`callgrind_control -i on`) for the pairs only, each a kiosk's POST /scans and a staff
POST /items/{id}/release, and off again. Every thread of the process counts. The live pages'
events are not this process's work on PostgreSQL (the sealer, in `kiosk serve`'s own process,
describes and sends them) and no sealer runs here; bench/ledger_bench.py counts the whole
machine's CPU, the sealer's included. What the two share (Flask's test client, Flask,
pydantic's request models, the claim codes, the audit hash) is in both.

The project's token cache is kept warm through the count (see ``child``): the floor looks its
token up in every request, as it always does.

The ledger is made as bench/ledger_bench.py makes it (`kiosk init`, users, tokens), in a schema
of its own on PostgreSQL, dropped afterwards.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ledger_bench  # noqa: E402

SCHEMA = "pair_instructions"
WARM = 20   # pairs before counting starts: first-time work (compiling statements, caches) left out


def child(server: str, pairs: int, tokens: dict, signals: Path) -> None:
    """Make the app, deposit, warm up; then the counted pairs between two signal files."""
    if server == "floor":
        import floor
        app = floor.create_app()
    else:
        from web import create_app
        app = create_app()
        # Under callgrind a pair takes tens of times as long as served, so a token cache of 1 s
        # would look its two tokens up again every few pairs; served at hundreds of pairs a second
        # it does so once in several hundred (~0.2 million instructions a pair of difference). The
        # counted pairs meet the cache as served pairs do: warm.
        app.config["TOKEN_CACHE_SECONDS"] = 3600.0
    client = app.test_client()
    headers = {role: {"Authorization": f"Bearer {tokens[role]}"} for role in ("staff", "kiosk")}
    items = [client.post("/api/v1/items", json=ledger_bench.deposit_body(i), headers=headers["staff"]).get_json()
             for i in range(WARM + pairs)]

    def pair(item):
        client.post("/api/v1/scans", json={"code": item["stub_code"]}, headers=headers["kiosk"])
        done = client.post(f"/api/v1/items/{item['id']}/release", headers=headers["staff"],
                           json={"stub_code": item["stub_code"], "tag_code": item["tag_code"]})
        if done.status_code != 200:
            raise SystemExit(f"{server}: release answered {done.status_code}: {done.get_data(as_text=True)}")

    for item in items[:WARM]:
        pair(item)
    (signals / "ready").touch()
    while not (signals / "go").exists():
        time.sleep(0.05)
    for item in items[WARM:]:
        pair(item)
    (signals / "done").touch()
    while (signals / "go").exists():
        time.sleep(0.05)


def counted(ledger_: ledger_bench.Ledger, server: str, pairs: int) -> int:
    """Instructions of ``pairs`` pairs in one callgrind run of ``child``."""
    signals = ledger_.workdir / f"signals-{server}"
    signals.mkdir()
    out, log_path = ledger_.workdir / f"callgrind-{server}.out", ledger_.workdir / f"callgrind-{server}.log"
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
               sys.executable, __file__, "--child", server, "--pairs", str(pairs), "--signals", str(signals),
               "--tokens", json.dumps(ledger_.tokens)]
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(command, cwd=ROOT, env=ledger_.env, stdout=log_file, stderr=subprocess.STDOUT)

    def wait_for(name: str) -> None:
        while not (signals / name).exists():
            if process.poll() is not None:
                raise RuntimeError(f"{server} ended early: {log_path.read_text()[-2000:]}")
            time.sleep(0.2)

    try:
        wait_for("ready")
        subprocess.run(["callgrind_control", "-i", "on", str(process.pid)], check=True, capture_output=True)
        (signals / "go").touch()
        wait_for("done")
        subprocess.run(["callgrind_control", "-i", "off", str(process.pid)], check=True, capture_output=True)
        (signals / "go").unlink()
        if process.wait(timeout=120) != 0:
            raise RuntimeError(f"{server} failed: {log_path.read_text()[-2000:]}")
    finally:
        if process.poll() is None:
            process.kill()
    return int(re.search(r"^totals: (\d+)", out.read_text(), re.M).group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--pg-url", default=os.environ.get("KIOSK_BENCH_DATABASE_URL", ledger_bench.PG_URL))
    parser.add_argument("--child", choices=ledger_bench.SERVERS, help=argparse.SUPPRESS)
    parser.add_argument("--signals", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--tokens", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.pairs, json.loads(args.tokens), args.signals)
        return 0

    started = time.monotonic()
    with ledger_bench.fresh_ledger(args.db, args.pg_url, schema=SCHEMA) as ledger_:
        ledger_.set_up()
        figures = {server: counted(ledger_, server, args.pairs) / args.pairs for server in ledger_bench.SERVERS}
    print(f"\n### Instructions per scan -> release pair ({ledger_bench.NAMES[args.db]}, {args.pairs} pairs, "
          f"Flask's test client, callgrind)\n")
    print("| | project | floor | ratio |\n|---|---|---|---|")
    print(f"| millions of instructions | {figures['project'] / 1e6:.2f} | {figures['floor'] / 1e6:.2f} | "
          f"{figures['project'] / figures['floor']:.2f}× |")
    print(f"\ncommand: {' '.join([Path(sys.executable).name, *sys.argv])}\ntotal time: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
