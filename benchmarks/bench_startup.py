"""How long `genjin serve` takes to answer /healthz, and what it holds in memory; `genjin parse` to its
first answer. Targets (issue 18): 100,000 customers ≤ 5 s and ≤ 350 MiB; 100,000 legal names ≤ 5 s and
≤ 600 MiB; parse with those names ≤ 5 s to the first answer; the demo ≤ 1.5 s.

Run: python benchmarks/bench_startup.py [--customers 100000] [--rounds 3]
Each round is a fresh process on a database seeded once (a SQLite file); medians are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.namegen import names  # noqa: E402

GENJIN = [sys.executable, "-m", "bot.cli"]


def _env(db: Path, cache: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENJIN_")}
    env |= {"GENJIN_INDEX_CACHE": str(cache) if cache else "off"}
    return env | {"GENJIN_DATABASE_URL": f"sqlite:///{db}", "PYTHONPATH": str(ROOT), "GENJIN_LOG_LEVEL": "WARNING"}


def seed(db: Path, customers: list[str]) -> None:
    """The schema by the real migrations, then customers inserted directly (fast)."""
    subprocess.run([*GENJIN, "db", "upgrade"], env=_env(db), check=True, capture_output=True)
    conn = sqlite3.connect(db)
    conn.execute("insert into employees (id, name, role, active) values ('E0', '张伟', 'rep', 1)")
    at = datetime(2026, 11, 26, 2, tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    conn.executemany(
        "insert into customers (name, aliases, owner_id, stage, stage_entered_at, created_at) "
        "values (?, '[]', 'E0', 'qualified', ?, ?)",
        [(name, at, at) for name in customers],
    )
    conn.commit()
    conn.close()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _health(port: int) -> dict[str, str] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
            return dict(json.load(resp)) if resp.status == 200 else None
    except OSError:
        return None


def serve_once(db: Path, cache: Path | None, *, stop_at_once: bool = False) -> dict[str, float]:
    """Seconds from the process start to /healthz 200 and to the customer index built, the RSS (MiB) at
    both, and seconds from SIGTERM to exit (sent once the index is built, or at once with ``stop_at_once``)."""
    port = _port()
    started = time.perf_counter()
    proc = subprocess.Popen([*GENJIN, "serve"], env=_env(db, cache) | {"GENJIN_PORT": str(port)}, cwd=db.parent,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    out: dict[str, float] = {}
    try:
        while (health := _health(port)) is None:
            if proc.poll() is not None:
                raise RuntimeError("serve exited")
            time.sleep(0.02)
        out |= {"up": time.perf_counter() - started, "rss_up": _rss_mib(proc.pid)}
        while not stop_at_once and health.get("customer_index") != "ready":
            time.sleep(0.05)
            health = _health(port) or health
        if not stop_at_once:
            out |= {"ready": time.perf_counter() - started, "rss_ready": _rss_mib(proc.pid)}
        stopping = time.perf_counter()
        proc.terminate()
        proc.wait(60)
        return out | {"stop": time.perf_counter() - stopping}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def parse_once(customers: Path, cache: Path | None) -> float:
    """Seconds from the process start to the first answer line of `genjin parse`."""
    line = json.dumps({"id": "1", "text": "今天拜访了恒瑞达的王总,确认了需求", "now": "2026-11-26T18:30:00+08:00"})
    started = time.perf_counter()
    env = _env(customers.with_suffix(".db"), cache)
    proc = subprocess.Popen([*GENJIN, "parse", "--customers", str(customers)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    proc.stdout.readline()
    elapsed = time.perf_counter() - started
    proc.stdin.close()
    proc.wait(30)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        demo = folder / "demo.db"
        subprocess.run([*GENJIN, "demo", "--database", f"sqlite:///{demo}", "--yes", "--no-chat"], env=_env(demo),
                       check=True, capture_output=True)  # fmt: skip
        plain, legal = folder / "plain.db", folder / "legal.db"
        seed(plain, [f"客户{n:06d}" for n in range(args.customers)])
        legal_names = [g.canonical for g in names(args.customers)]
        seed(legal, legal_names)
        listing = folder / "legal.txt"
        listing.write_text("\n".join(legal_names) + "\n", encoding="utf-8")
        for label, db in (
            ("demo", demo),
            (f"{args.customers:,} customers", plain),
            (f"{args.customers:,} legal names", legal),
        ):
            cache = folder / f"cache-{db.stem}"  # the first round builds the index and keeps it, the rest read it
            runs = [serve_once(db, cache) for _ in range(args.rounds)]
            for name, chosen in (("first start", runs[:1]), ("later starts", runs[1:] or runs[:1])):
                up, rss_up, ready, rss_ready, stop = (
                    statistics.median(r[k] for r in chosen) for k in ("up", "rss_up", "ready", "rss_ready", "stop")
                )
                print(
                    f"serve, {label}, {name}: /healthz 200 after {up:.2f} s (RSS {rss_up:.0f} MiB), customer "
                    f"index built after {ready:.2f} s (RSS {rss_ready:.0f} MiB), SIGTERM -> exit {stop:.1f} s"
                )
            if db is not demo:
                busy = serve_once(db, None, stop_at_once=True)  # no kept index: stopped while it is being built
                print(f"serve, {label}, SIGTERM while the index is being built: exit after {busy['stop']:.1f} s")
        cache = folder / "cache-parse"
        parse_runs = [parse_once(listing, cache) for _ in range(args.rounds)]
        print(
            f"genjin parse, first answer with {args.customers:,} legal names: first run {parse_runs[0]:.2f} s, "
            f"later runs {statistics.median(parse_runs[1:] or parse_runs):.2f} s (index read back)"
        )


if __name__ == "__main__":
    main()
