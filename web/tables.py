"""A page's tables as typed cells: shown one way on the page, exported as plain values (CSV) or typed cells (XLSX),
so that an export holds exactly what the page shows."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from sales.values import wan


@dataclass(frozen=True)
class Link:
    text: str
    href: str


@dataclass(frozen=True)
class Money:
    """An amount in yuan, exact in exports; shown in 万 as reps say it, or to the fen where pay is concerned."""

    value: Decimal
    exact: bool = False


@dataclass(frozen=True)
class Percent:
    value: float


@dataclass(frozen=True)
class Heat:
    """A count shown as a shade (the activity heatmap)."""

    value: int

    @property
    def level(self) -> int:
        """0 for none, then 1-2, 3-5, 6-9 and 10 or more briefs a day."""
        return next((i for i, top in enumerate((0, 2, 5, 9)) if self.value <= top), 4)


Cell = str | int | float | Decimal | date | Link | Money | Percent | Heat | None


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""
    shown: int | None = None  # rows shown on the page when fewer than all (the export has them all)

    @property
    def visible(self) -> list[list[Cell]]:
        return self.rows if self.shown is None else self.rows[: self.shown]


def shown(cell: Cell) -> str:
    """The cell as the page shows it."""
    if cell is None:
        return "—"
    if isinstance(cell, Link):
        return cell.text
    if isinstance(cell, Money):
        return f"¥{cell.value:,.2f}" if cell.exact or abs(cell.value) < 10_000 else wan(cell.value)
    if isinstance(cell, Percent):
        return f"{cell.value:.0%}"
    if isinstance(cell, Heat):
        return str(cell.value)
    if isinstance(cell, float):
        return f"{cell:.2f}"
    return str(cell)


def plain(cell: Cell) -> str:
    """The cell as CSV holds it (and the page's ``data-value``): exact numbers, ISO dates."""
    if cell is None:
        return ""
    if isinstance(cell, Link):
        return cell.text
    if isinstance(cell, Money):
        return f"{cell.value.quantize(Decimal('0.01'))}"
    if isinstance(cell, Percent):
        return f"{cell.value:.4f}"
    if isinstance(cell, Heat):
        return str(cell.value)
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


def typed(cell: Cell) -> Any:
    """The cell as XLSX holds it: numbers as numbers, dates as dates."""
    if cell is None:
        return None
    if isinstance(cell, Link):
        return cell.text
    if isinstance(cell, Money):
        return float(cell.value.quantize(Decimal("0.01")))
    if isinstance(cell, Percent):
        return round(cell.value, 4)
    if isinstance(cell, Heat):
        return cell.value
    if isinstance(cell, Decimal):
        return float(cell)
    return cell


FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet would run as a formula at the start of a text


def _text(cell: Cell) -> bool:
    """Text a person wrote (a customer's name, a brief, a standup answer), not a figure."""
    return isinstance(cell, (str, Link))


def _defused(value: str) -> str:
    """A text that would start a formula, quoted the way spreadsheets show text (a leading apostrophe)."""
    return "'" + value if value.startswith(FORMULA) else value


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark: Excel on a Chinese Windows opens it as UTF-8 only so. Texts that would start a
    formula are quoted (briefs and names come from chat messages)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    writer.writerows([_defused(plain(c)) if _text(c) else plain(c) for c in row] for row in table.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    """Texts are written as text cells, never formulas, and without the control characters XLSX cannot hold."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_sheet_title(table.title))
    sheet.append(table.columns)
    for row in table.rows:
        sheet.append([_text_cell(sheet, c) if _text(c) else typed(c) for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text_cell(sheet: Any, cell: Cell) -> WriteOnlyCell:
    written = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", plain(cell)))
    written.data_type = "s"  # a text, even when it starts with "="
    return written


def _sheet_title(title: str) -> str:
    bad = set("[]:*?/\\")
    return "".join(ch for ch in title if ch not in bad)[:31] or "Sheet1"


def find(tables: Sequence[Table], key: str) -> Table | None:
    return next((t for t in tables if t.key == key), None)
