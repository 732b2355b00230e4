"""`genjin import customers` of a large file on SQLite (target: ≥ 5,000 rows/s for 100,000 rows).

Run: python benchmarks/bench_import.py [--rows 100000]
Writes a CSV of new customers (legal names, owners, stages, amounts, dates), runs the real command as a
process, and prints rows per second; a second run of the same file (nothing changes) is timed too.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.namegen import names  # noqa: E402

STAGES = ("意向初探", "需求确认", "方案演示", "报价谈判")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GENJIN_")}
        env |= {"GENJIN_DATABASE_URL": f"sqlite:///{folder / 'i.db'}", "PYTHONPATH": str(ROOT)}
        (folder / "e.csv").write_text("工号,姓名\n" + "".join(f"E{n:03d},销售{n}\n" for n in range(200)), "utf-8")
        with (folder / "c.csv").open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["客户名称", "负责人工号", "阶段", "金额", "预计签约日期", "进入阶段日期"])
            for n, name in enumerate(names(args.rows)):
                writer.writerow([name.canonical, f"E{n % 200:03d}", STAGES[n % 4], f"{n % 90 + 10}万",
                                 "2027-01-15", "2026-11-01"])  # fmt: skip
        genjin = [sys.executable, "-m", "bot.cli", "import"]
        subprocess.run([*genjin, "employees", "e.csv"], cwd=folder, env=env, check=True, capture_output=True)
        for label in ("new customers", "the same file again"):
            started = time.perf_counter()
            done = subprocess.run([*genjin, "customers", "c.csv", "--json"], cwd=folder, env=env, check=True,
                                  capture_output=True, text=True)  # fmt: skip
            spent = time.perf_counter() - started
            print(
                f"{label}: {args.rows:,} rows in {spent:.1f} s, {args.rows / spent:,.0f} rows/s — {done.stdout.strip()}"
            )


if __name__ == "__main__":
    main()
