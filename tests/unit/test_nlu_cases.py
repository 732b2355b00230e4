"""The parser on our own briefs (tests/data), not the dev set's: every field of every case."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from nlu import BriefParser

DATA = Path(__file__).parents[1] / "data"
CASES = [json.loads(line) for line in (DATA / "nlu_cases.jsonl").read_text(encoding="utf-8").splitlines() if line]
FIELDS = ("stage", "amount", "expected_close", "next_action_date", "confidence", "is_new")


@pytest.fixture(scope="module")
def parser() -> BriefParser:
    names = (DATA / "customers_cases.txt").read_text(encoding="utf-8").split()
    return BriefParser(names)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(parser: BriefParser, case: dict) -> None:  # type: ignore[type-arg]
    got = parser.parse(case["text"], datetime.fromisoformat(case["now"])).to_dict(case["id"])
    expect = case["expect"]
    assert got["intent"] == expect["intent"]
    if expect["intent"] != "brief":
        assert got["query"] == expect["query"]
        if expect.get("customer"):
            assert got["customer"] == expect["customer"]
        return
    assert [u["customer"] for u in got["updates"]] == [u["customer"] for u in expect["updates"]]
    for want, have in zip(expect["updates"], got["updates"], strict=True):
        assert {f: have[f] for f in FIELDS} == {f: want[f] for f in FIELDS}, want["customer"]
