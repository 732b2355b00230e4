"""The dev-set score of ../shared/eval/score_nlu.py, computed in process on our parser.

Fields and their mean as that script counts them: intent, query (with its customer), customer
recall and precision, stage, amount, dates, confidence, is_new, next_action words.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from nlu import BriefParser

FIELDS = ("stage", "amount", "expected_close", "next_action_date", "confidence", "is_new")


def _key(update: dict[str, Any]) -> str:
    if update.get("customer"):
        return str(update["customer"])
    return "?" + "|".join(sorted(update.get("candidates") or []))


def _same(field: str, got: Any, want: Any) -> bool:
    if field == "amount":
        got = None if got is None else round(float(got))
        want = None if want is None else round(float(want))
    if field == "is_new":
        got, want = bool(got), bool(want)
    return bool(got == want)


def score(gold_path: Path, customers_path: Path) -> dict[str, float]:
    """Per-field accuracy and, under "score", their mean."""
    names = [n.strip() for n in customers_path.read_text(encoding="utf-8").splitlines() if n.strip()]
    parser = BriefParser(names)
    hits: dict[str, int] = {}
    totals: dict[str, int] = {}

    def count(field: str, ok: bool) -> None:
        totals[field] = totals.get(field, 0) + 1
        hits[field] = hits.get(field, 0) + int(ok)

    for line in gold_path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        expect = item["expect"]
        out = parser.parse(item["text"], datetime.fromisoformat(item["now"])).to_dict(item["id"])
        count("intent", out["intent"] == expect["intent"])
        if expect["intent"] != "brief":
            ok = out["intent"] == expect["intent"] and out["query"] == expect.get("query")
            count("query", ok and (not expect.get("customer") or out["customer"] == expect["customer"]))
            continue
        got = {_key(u): u for u in out["updates"]}
        want = {_key(u): u for u in expect["updates"]}
        for k in got:
            count("customer_precision", k in want)
        for k, w in want.items():
            count("customer_recall", k in got)
            for field in FIELDS:
                count(field, k in got and _same(field, got[k].get(field), w.get(field)))
            if w.get("next_action_has"):
                step = (got[k].get("next_action") or "") if k in got else ""
                count("next_action", all(word in step for word in w["next_action_has"]))
    scores = {f: hits[f] / totals[f] for f in totals}
    scores["score"] = sum(scores.values()) / len(scores)
    return scores
