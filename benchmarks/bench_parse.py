"""Parse throughput against 5,000 customers, and its cost relative to plain jieba.lcut.

Run: python benchmarks/bench_parse.py [--customers 5000] [--briefs 2000] [--rounds 5]
Prints medians over rounds (this machine is noisy) and the ratio to jieba.lcut on the same
texts, plus how long `genjin parse` takes to answer its first line.
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
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlu import BriefParser  # noqa: E402
from nlu.tokenizer import base  # noqa: E402

REGIONS = "上海 北京 广州 深圳 杭州 南京 苏州 成都 武汉 重庆 天津 西安 长沙 青岛 宁波 厦门 合肥 福州 济南 郑州".split()
SYLLABLES = list(
    "瑞达星辰海蓝天成博远华信恒通金桥新视界远航鼎盛长青宏图嘉禾中联明德永泰佳利安泰和凯升光启锦程北辰立信盛康宁同创卓越"
)
INDUSTRIES = "机电 物流 科技 建材 医药 食品 纺织 电子 汽配 化工 传媒 软件 贸易 咨询 装备".split()
TEMPLATES = [
    "今天上午拜访了{a}的王总和技术部李工,确认了需求,对方想先上仓储和运输两个模块,下周三做方案演示,"
    "预计月底签约,金额大概{n}万,预算已经报上去了,王总说年底前一定要上线",
    "{a}:方案演示完成,对方很感兴趣,尤其是报表和移动端审批功能,下周三给正式报价,预计12月中旬签约;"
    "{b} 电话未接通,明天再打一次,争取本周内见面聊聊需求",
    "今日汇报\n1、{a}:已确认需求,预算{n}万,下周五安排演示,对方信息部三个人参加,重点看数据对接\n"
    "2、{b}:报价已发出,客户反馈积极,成单可能性高,预计月底签\n3、明天整理投标材料",
    "{a} 合同签了 {n}万 下周二启动实施,客户很满意,后续还有二期项目,预计明年一季度再谈,"
    "需要提前准备方案和人员,另外{b}约了后天见面,第一次沟通,对方有意向",
    "{a}在谈价格,我们报价{n}万,对方希望控制在更低的范围内,把握一般,下周四再谈一轮,"
    "另外{b}那边暂时没有新进展,客户还在内部评估我们的方案,继续跟进,争取下个月初有结果",
]


def customers(count: int, rng: random.Random) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        core = "".join(rng.sample(SYLLABLES, rng.choice((2, 2, 3))))
        names.add(rng.choice(REGIONS) + core + rng.choice(INDUSTRIES))
    return sorted(names)


def briefs(names: list[str], count: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(count):
        a, b = rng.sample(names, 2)
        a = a[2:] if rng.random() < 0.5 else a
        out.append(rng.choice(TEMPLATES).format(a=a, b=b[2:], n=rng.randint(10, 300)))
    return out


def timed(fn, rounds: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def first_answer_seconds(names: list[str], rounds: int = 3) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customers.txt"
        path.write_text("\n".join(names), encoding="utf-8")
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
    names = customers(args.customers, rng)
    texts = briefs(names, args.briefs, rng)
    now = datetime(2026, 11, 26, 18, 30, tzinfo=ZoneInfo("Asia/Shanghai"))

    start = time.perf_counter()
    jieba = base()
    load = time.perf_counter() - start
    start = time.perf_counter()
    parser = BriefParser(names)
    build = time.perf_counter() - start
    for text in texts[:50]:  # warm caches on both sides
        parser.parse(text, now)
        jieba.lcut(text)

    parse_times = timed(lambda: [parser.parse(t, now) for t in texts], args.rounds)
    lcut_times = timed(lambda: [jieba.lcut(t) for t in texts], args.rounds)
    parse_median, lcut_median = statistics.median(parse_times), statistics.median(lcut_times)
    found = sum(len(parser.parse(t, now).updates) for t in texts)
    print(f"customers {len(names)}, briefs {len(texts)}, mean length {statistics.mean(map(len, texts)):.0f} chars")
    print(f"jieba dictionary load {load:.2f} s; customer index build {build:.2f} s")
    per = parse_median * 1000 / len(texts)
    print(f"parse:      median {per:.3f} ms/brief, {len(texts) / parse_median:.0f} briefs/s")
    print(f"jieba.lcut: median {lcut_median * 1000 / len(texts):.3f} ms/brief, {len(texts) / lcut_median:.0f} texts/s")
    print(f"ratio parse / jieba.lcut: {parse_median / lcut_median:.2f}x (target <= 4x); updates found {found}")
    print(f"genjin parse first answer: median {first_answer_seconds(names):.2f} s (target < 2 s)")


if __name__ == "__main__":
    main()
