"""Parse cost against 5,000 legal names, relative to plain jieba.lcut, and where the time goes.

Run: python benchmarks/bench_parse.py [--customers 5000] [--briefs 2000] [--rounds 5]

Customers are legal names as a CRM holds them (tests/namegen.py: 江苏省无锡市惠山区…有限公司,
…（苏州）有限公司, …); briefs (~95 characters) name them the way reps do (brand, brand + short
trade, city + brand). Prints medians over rounds (this machine is noisy), the ratio to
jieba.lcut on the same texts, the share of each step of the parse, and how long `genjin parse`
takes to answer its first line with that customer file.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlu import BriefParser  # noqa: E402
from nlu.customers import find_marked_new, find_org_like  # noqa: E402
from nlu.dates import find_dates  # noqa: E402
from nlu.numbers import find_amounts  # noqa: E402
from nlu.tokenizer import base  # noqa: E402
from tests.namegen import GenName, names  # noqa: E402

TEMPLATES = [
    "今天上午拜访了{a}的王总和技术部李工,确认了需求,对方想先上仓储和运输两个模块,下周三做方案演示,"
    "预计月底签约,金额大概{n}万,预算已经报上去了,王总说年底前一定要上线,财务那边也同意了",
    "{a}:方案演示完成,对方很感兴趣,尤其是报表和移动端审批功能,下周三给正式报价,预计12月中旬签约;"
    "{b} 电话未接通,明天再打一次,争取本周内见面聊聊需求,顺便把案例资料带过去",
    "今日汇报\n1、{a}:已确认需求,预算{n}万,下周五安排演示,对方信息部三个人参加,重点看数据对接和报表\n"
    "2、{b}:报价已发出,客户反馈积极,成单可能性高,预计月底签,需要法务先看一下合同条款",
    "{a} 合同签了 {n}万 下周二启动实施,客户很满意,后续还有二期项目,预计明年一季度再谈,"
    "另外{b}约了后天见面,第一次沟通,对方有意向,需要提前准备一份行业案例",
    "{a}在谈价格,我们报价{n}万,对方希望压到更低,把握一般,下周四再谈一轮,"
    "另外{b}那边暂时没有新进展,客户还在内部评估我们的方案,争取下个月初有结果",
]


def written(n: GenName, rng: random.Random) -> str:
    """How a rep names the company: brand, brand + a short trade, or city + brand."""
    form = rng.randrange(3)
    if form == 0:
        return n.brand
    if form == 1:
        return n.brand + rng.choice(n.written)
    return (n.city if n.city in n.canonical else "") + n.brand


def briefs(known: list[GenName], count: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(count):
        a, b = rng.sample(known, 2)
        out.append(rng.choice(TEMPLATES).format(a=written(a, rng), b=written(b, rng), n=rng.randint(10, 300)))
    return out


def timed(fn: Callable[[], object], rounds: int) -> float:
    """The median of ``rounds`` runs, in seconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def first_answer_seconds(canonical: list[str], rounds: int = 5) -> float:
    """A fresh `genjin parse` process: start, read the customer file, answer one line."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customers.txt"
        path.write_text("\n".join(canonical), encoding="utf-8")
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "parse", "--customers", str(path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            assert proc.stdin and proc.stdout
            proc.stdin.write(json.dumps({"id": 1, "text": "瑞达 签约了"}).encode() + b"\n")
            proc.stdin.flush()
            proc.stdout.readline()
            samples.append(time.perf_counter() - start)
            proc.stdin.close()
            proc.wait()
        return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=5000)
    ap.add_argument("--briefs", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    rng = random.Random(1)
    known = names(args.customers)
    canonical = [n.canonical for n in known]
    texts = briefs(known, args.briefs, rng)
    now = datetime(2026, 11, 26, 18, 30, tzinfo=ZoneInfo("Asia/Shanghai"))

    import jieba

    start = time.perf_counter()
    base()
    table = time.perf_counter() - start
    start = time.perf_counter()
    parser = BriefParser(canonical)
    build = time.perf_counter() - start
    jieba.initialize()
    for text in texts[:50]:  # warm caches on both sides
        parser.parse(text, now)
        jieba.lcut(text)

    parse_median = timed(lambda: [parser.parse(t, now) for t in texts], args.rounds)
    lcut_median = timed(lambda: [jieba.lcut(t) for t in texts], args.rounds)
    found = [parser.parse(t, now) for t in texts]
    named = sum(1 for r in found for u in r.updates if not u.is_new)
    index = parser.index
    edges = [index.tokenizer.edges(t) for t in texts]
    steps = {
        "word edges": lambda: [index.tokenizer.edges(t) for t in texts],
        "known names": lambda: [index.find(t, e) for t, e in zip(texts, edges, strict=True)],
        "typos": lambda: [index.find_typos(t, e, []) for t, e in zip(texts, edges, strict=True)],
        "new names": lambda: [(find_marked_new(t, []), find_org_like(t, [])) for t in texts],
        "dates": lambda: [find_dates(t, now.date()) for t in texts],
        "amounts": lambda: [find_amounts(t) for t in texts],
    }
    shares = {name: timed(fn, args.rounds) for name, fn in steps.items()}
    shares["clauses, stages, the rest"] = max(0.0, parse_median - sum(shares.values()))

    per = parse_median * 1000 / len(texts)
    print(f"customers {len(canonical)} legal names, e.g. {canonical[0]}")
    mean = statistics.mean(map(len, texts))
    print(f"briefs {len(texts)}, mean length {mean:.0f} chars; known customers found {named}")
    print(f"word table load {table:.2f} s; customer index build {build:.2f} s")
    print(f"parse:      median {per:.3f} ms/brief, {len(texts) / parse_median:.0f} briefs/s")
    print(f"jieba.lcut: median {lcut_median * 1000 / len(texts):.3f} ms/brief, {len(texts) / lcut_median:.0f} texts/s")
    print(f"ratio parse / jieba.lcut: {parse_median / lcut_median:.2f}x (target <= 4x)")
    print("where the time goes (median per step, share of the parse):")
    for name, seconds in shares.items():
        print(f"  {name:28s} {seconds * 1000 / len(texts):.3f} ms/brief  {seconds / parse_median:5.1%}")
    first = first_answer_seconds(canonical)
    print(f"genjin parse first answer with {len(canonical)} legal names: median {first:.2f} s (target <= 2 s)")


if __name__ == "__main__":
    main()
