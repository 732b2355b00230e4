"""Points come from events: whoever says what happened, the points listener awards it once, and undo
takes it back. No chat handler writes to the ledger to award anything."""

from __future__ import annotations

import ast

from sales.events import ChangeUndone, StageReached, StandupAnswered
from sales.stages import Stage
from store.memory import MemoryStore
from tests.conftest import NOW, ROOT
from usecases.events import publish
from usecases.services import Services


async def test_a_stage_reached_earns_once_and_a_win_is_not_also_an_advance() -> None:
    store, services = MemoryStore(), Services()
    rules = services.points
    async with store() as uow:
        moved = StageReached("E01", 7, "天成建材", Stage.QUALIFIED, Stage.DEMO, NOW, brief_id=1, change_id=11)
        assert await publish(uow, services, moved) == rules.advance
        assert await publish(uow, services, moved) == 0  # the same event told twice counts once
        won = StageReached("E01", 7, "天成建材", Stage.DEMO, Stage.WON, NOW, brief_id=2, change_id=12)
        assert await publish(uow, services, won) == rules.won
        assert await publish(uow, services, StandupAnswered("E01", 3, NOW)) == rules.standup
        assert await uow.points.balance("E01") == rules.advance + rules.won + rules.standup
        await publish(uow, services, ChangeUndone(12, NOW))  # undo takes the win's points away
        assert await uow.points.balance("E01") == rules.advance + rules.standup


def test_no_handler_awards_points_itself() -> None:
    """What the chat and the scheduler do earns points through events; the one ledger entry a handler writes
    is a redemption's deduction, which is not an earning."""
    writers = []
    for path in sorted((ROOT / "handlers").rglob("*.py")) + sorted((ROOT / "scheduler").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = ast.unparse(node.func)
            if name.endswith(("points.award", "points.delete_for_change", "points.delete_for_brief")):
                if not (name.endswith("points.award") and "'redeem'" in ast.unparse(node)):
                    writers.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert writers == []
