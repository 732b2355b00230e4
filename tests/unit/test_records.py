"""sales.records.maker: the same record as the dataclass's own constructor, still frozen; the constructor itself
where a shortcut would skip work it does."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from sales.records import maker
from sales.stages import Stage
from sales.stall import ScanRow


def test_a_made_record_equals_the_constructed_one_and_stays_frozen() -> None:
    entered = datetime(2026, 11, 2, 3, tzinfo=UTC)
    values = (7, "华东物流", "E1", Stage.DEMO, entered, "方案演示", date(2026, 11, 5), None)
    made, built = maker(ScanRow)(*values), ScanRow(*values)
    assert made == built and hash(made) == hash(built) and repr(made) == repr(built)
    assert type(made) is ScanRow and dataclasses.asdict(made) == dataclasses.asdict(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.name = "别的"  # type: ignore[misc]
    with pytest.raises(TypeError):
        maker(ScanRow)(*values[:-1])  # every field, in order
    assert maker(ScanRow) is maker(ScanRow)
    assert maker(ScanRow) is not ScanRow  # the shortcut is taken for a plain record


@dataclasses.dataclass(frozen=True)
class _Checked:
    amount: int

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError(self.amount)


@dataclasses.dataclass(frozen=True, slots=True)
class _Slotted:
    a: int


@dataclasses.dataclass(frozen=True)
class _Derived:
    a: int
    b: int = dataclasses.field(init=False, default=0)


@dataclasses.dataclass(frozen=True)
class _OwnInit:
    a: int

    def __init__(self, a: int) -> None:
        object.__setattr__(self, "a", a * 2)


class _Sub(_Slotted):
    """Not a dataclass itself: its __init__ is the base's, and the base's slot hides any __dict__."""


@dataclasses.dataclass(frozen=True)
class _SlottedBase:
    __slots__ = ("a",)
    a: int


@dataclasses.dataclass(frozen=True)
class _OnSlots(_SlottedBase):
    b: int


@pytest.mark.parametrize("cls", [_Checked, _Slotted, _Derived, _OwnInit, _Sub, _OnSlots])
def test_classes_whose_init_does_more_keep_their_constructor(cls: type) -> None:
    assert maker(cls) is cls


def test_a_kept_constructor_still_checks() -> None:
    with pytest.raises(ValueError):
        maker(_Checked)(-1)
    assert maker(_OwnInit)(2).a == 4
