"""The recommender on small fixed histories: similarity, strategies, lead scores, the chat answer."""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta

import pytest

from recommender.embeddings import SentenceTransformerEmbedder, TfidfEmbedder, packaged_minilm
from recommender.history import History, build
from recommender.leadscore import LeadScorer
from recommender.similarity import SimilarityIndex
from recommender.strategy import plan
from sales.calendar import WorkCalendar
from sales.model import Customer, Employee, StageChange
from sales.people import display_names
from sales.stages import OPEN_STAGES, Stage
from tests.conftest import TZ
from usecases.format import win_line

T0 = datetime(2026, 9, 1, 10, tzinfo=TZ)
TODAY = date(2026, 11, 26)


Rows = tuple[Customer, list[StageChange], list[tuple[int, datetime, str]]]


def history(
    n: int, industry: str, outcome: str, *, source: str = "官网", move: str | None = None,
    reached: Stage = Stage.NEGOTIATION,
) -> Rows:  # fmt: skip
    stage = {"won": Stage.WON, "lost": Stage.LOST}.get(outcome, reached)
    customer = Customer(name=f"{industry}{n:02d}", owner_id="E01", stage=stage, stage_entered_at=T0, created_at=T0,
                        id=n, industry=industry, region="上海", size="中型", source=source)  # fmt: skip
    at, changes, texts = T0, [], [(n, T0, "初次拜访,有意向")]
    for s in OPEN_STAGES:
        if s.rank > reached.rank:
            break
        changes.append(StageChange(n, None, s, at))
        texts.append((n, at + timedelta(days=1), "电话沟通了进度"))
        if move and s is Stage.DEMO:
            texts.append((n, at + timedelta(days=2), move))
        at += timedelta(days=7)
    if outcome in ("won", "lost"):
        changes.append(StageChange(n, None, stage, at))
        texts.append((n, at, "签约了" if outcome == "won" else "客户选了竞品,价格没谈下来"))
    return customer, changes, texts


def histories(rows: list[tuple]) -> list[History]:  # type: ignore[type-arg]
    customers, changes, texts = [], [], []
    for c, ch, t in (history(*r[:3], **(r[3] if len(r) > 3 else {})) for r in rows):
        customers.append(c)
        changes += ch
        texts += t
    return build(customers, changes, texts, [Employee(id="E01", name="张伟", team="一组")])


FIXED = [
    *[(n, "制造", "won", {"move": "做了POC验证,产线跑通", "source": "转介绍"}) for n in range(1, 7)],
    *[(n, "制造", "lost", {"source": "展会"}) for n in range(7, 10)],
    *[(n, "物流", "won", {"move": "安排了高层拜访", "source": "转介绍"}) for n in range(10, 13)],
    *[(n, "物流", "lost", {"source": "展会"}) for n in range(13, 18)],
    (20, "制造", "open", {"reached": Stage.QUALIFIED}),
    (21, "物流", "open", {"reached": Stage.QUALIFIED, "source": "展会"}),
]


def test_similar_customers_share_industry_and_say_why() -> None:
    h = histories(FIXED)
    index = SimilarityIndex(h, TfidfEmbedder(), WorkCalendar(), TZ, TODAY)
    top = index.similar(20, 5)
    assert all(n.history.customer.industry == "制造" for n in top)
    assert "同行业「制造」" in top[0].reasons
    assert 20 not in {n.history.id for n in top}


def test_strategy_from_won_and_lost_neighbours_with_evidence() -> None:
    h = {x.id: x for x in histories(FIXED)}
    won = [h[n] for n in range(1, 7)]
    lost = [h[n] for n in range(7, 10)]
    strategy = plan(won, lost, WorkCalendar(), TZ, TODAY)
    texts = [s.text for s in strategy.suggestions]
    assert strategy.enough and 3 <= len(strategy.suggestions) <= 5
    poc = next(s for s in strategy.suggestions if s.text.startswith("安排POC验证"))  # known, and found in the notes
    assert poc.move is not None and "做了POC验证" in poc.text  # with the reps' words and the move's evidence
    assert poc.evidence.startswith("6 个可比的已成交客户中有 6 个")
    assert "到过这一阶段的流失客户 3 个中 0 个" in poc.evidence
    assert any("价格" in t or "竞品" in t for t in texts)
    assert strategy.interval is not None


def test_too_little_history_is_said_plainly() -> None:
    h = {x.id: x for x in histories(FIXED)}
    strategy = plan([h[1], h[2]], [h[7]], WorkCalendar(), TZ, TODAY)
    assert not strategy.enough and strategy.suggestions == []


def test_lead_score_counts_like_odoo_and_ranks_sources() -> None:
    h = histories(FIXED)
    scorer = LeadScorer.fit(h)
    assert scorer.totals == {"won": 9, "lost": 8}
    # a won deal counts toward every open stage, a lost one up to where it was lost
    assert scorer.counts["stage"][("initial", "won")] == 9 and scorer.counts["stage"][("negotiation", "lost")] == 8
    by_id = {x.id: x for x in h}
    good, bad = scorer.score(by_id[20]), scorer.score(by_id[21])
    assert good.probability is not None and bad.probability is not None and good.probability > bad.probability
    assert any("来源「展会」的已结束客户 0 胜 8 负,成交率偏低" in r for r in bad.reasons)
    assert good.comparable == bad.comparable == 17  # all closed ones share 上海 and 中型
    assert not any("E01" in r for r in good.reasons + bad.reasons)  # people by name


def test_no_probability_without_comparable_closed_customers() -> None:
    h = histories(FIXED)
    scorer = LeadScorer.fit(h, display_names([Employee(id="E01", name="张伟")]))
    fresh = Customer(name="新来的", owner_id="E09", stage=Stage.INITIAL, stage_entered_at=T0, created_at=T0, id=99)
    score = scorer.score(History(fresh, None))
    assert score.probability is None and score.comparable == 0
    assert "历史太少" in win_line(score) and "%" not in win_line(score)
    # a value no closed customer had (a new industry, a new rep) is no evidence, in the number or the reasons
    known = Customer(name="新行业", owner_id="E09", stage=Stage.QUALIFIED, stage_entered_at=T0, created_at=T0, id=98,
                     industry="医药", region="上海", size="中型", source="官网")  # fmt: skip
    scored = scorer.score(History(known, None))
    assert scored.probability is not None and scored.comparable == 17
    assert not any("医药" in r or "E09" in r or " 0 胜 0 负" in r for r in scored.reasons)
    assert win_line(scored).startswith("赢单概率:") and "依据 17 个可比的已结束客户" in win_line(scored)
    twins = display_names(
        [Employee(id="E01", name="张伟"), Employee(id="E07", name="张伟"), Employee(id="E02", name="李娜")]
    )
    assert twins == {"E01": "张伟(E01)", "E07": "张伟(E07)", "E02": "李娜"}


def test_sentence_transformers_backend_with_the_packaged_model() -> None:
    path = packaged_minilm()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI installs the embeddings extra")
        pytest.skip("the embeddings extra is not installed")
    os.environ["HF_HUB_OFFLINE"] = "1"
    embedder = SentenceTransformerEmbedder(path)
    vectors = embedder.encode(["the customer signed the contract", "contract signed", "budget frozen"])
    assert vectors.shape[0] == 3 and abs(float(vectors[0] @ vectors[0]) - 1) < 1e-5
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
    index = SimilarityIndex(histories(FIXED), embedder, WorkCalendar(), TZ, TODAY)
    assert index.similar(20, 3)


def test_recommend_in_chat_and_on_the_command_line(genjin) -> None:  # type: ignore[no-untyped-def]
    assert genjin("demo", "--no-chat").returncode == 0
    db = genjin.env["GENJIN_DATABASE_URL"]
    import sqlite3

    conn = sqlite3.connect(db.removeprefix("sqlite:///"))
    mine = conn.execute("select name from customers where owner_id='E01' and stage not in ('won','lost')").fetchone()[0]
    other = conn.execute("select name from customers where owner_id='E05'").fetchone()[0]
    chat = genjin(
        "chat", "--user", "E01", input=f"{mine}这类客户怎么推进\n{other}这类客户怎么推进\n{mine}现在到哪一步了\n"
    )
    replies = [b for b in chat.stdout.split("\n\n") if b.strip()]
    assert "推进建议" in replies[0] and "个相似的已成交客户" in replies[0] and "赢单概率" in replies[0]  # with evidence
    assert "不是你能查看" in replies[1]
    assert "赢单概率" in replies[2]
    result = genjin("recommend", "--customer", mine, "--json")
    data = json.loads(result.stdout)
    assert data["customer"] == mine and len(data["similar"]) == 5 and 0 < data["win_probability"] < 1
    listed = json.loads(genjin("customers", "list", "--owner", "E01", "--json").stdout)
    assert not any("win_probability" in c for c in listed if c["stage"] in ("won", "lost"))
    assert any("win_probability" in c for c in listed)


def test_an_org_without_any_brief_still_gets_scores_and_neighbours() -> None:
    customers = [Customer(name=f"C{n}", owner_id="E01", stage=Stage.INITIAL, stage_entered_at=T0, created_at=T0,
                          id=n, industry="制造") for n in range(1, 4)]  # fmt: skip
    h = build(customers, [], [], [Employee(id="E01", name="张伟")])
    index = SimilarityIndex(h, TfidfEmbedder(), WorkCalendar(), TZ, TODAY)
    assert len(index.similar(1, 5)) == 2 and LeadScorer.fit(h).score(h[0]).probability is None
