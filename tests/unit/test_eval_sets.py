"""Labelled sets written from the contract alone by people who never saw the parser (tests/data/eval).

Sets B, C, E and (after its first score, 0.924) G were worked on, their misses read by class; A, D and F
were kept back and only ever scored. Each is a regression guard: a change that loses ground on text
nobody tuned on shows here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.evalscore import score

SETS = Path(__file__).parents[1] / "data" / "eval"
# The scores when #14 closed, less a little room; raise them when the parser gets better.
FLOOR = {"setA": 0.95, "setB": 0.98, "setC": 0.97, "setD": 0.92, "setE": 0.97, "setF": 0.95, "setG": 0.97}


@pytest.mark.parametrize("name", sorted(FLOOR))
def test_score_stays_above_its_floor(name: str) -> None:
    scores = score(SETS / name / "gold.jsonl", SETS / name / "customers.txt")
    assert scores["score"] >= FLOOR[name], scores
