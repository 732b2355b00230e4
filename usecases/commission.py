"""Commission statements for a month, and the report the admin exports (`genjin commission`)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sales.commission import Statement, ranks, statement, won_deals
from sales.model import Employee, Role
from sales.months import month_bounds
from sales.values import percent, yuan
from store.repositories import UnitOfWork
from usecases.services import Services
from usecases.stalls import start_of


async def build_statements(
    uow: UnitOfWork, services: Services, month: str, people: Sequence[Employee]
) -> dict[str, Statement]:
    """Every listed person's statement for ``month`` (YYYY-MM), from the customers won in it."""
    tz = services.timezone
    start, end = month_bounds(month)
    ids = sorted({e.id for e in people})
    closed = await uow.customers.closed_between(start_of(start, tz), start_of(end, tz), ids)
    deals = won_deals(closed, tz)
    return {i: statement(i, month, deals, services.commission) for i in ids}


def report_rows(
    statements: dict[str, Statement], staff: Sequence[Employee], services: Services
) -> list[dict[str, object]]:
    """Every rep's statement as plain values (amounts as strings, exact to the fen) for ``genjin commission``."""
    rows: list[dict[str, object]] = []
    people = {e.id: e for e in staff}
    for owner, s in sorted(statements.items()):
        person = people[owner]
        group = [statements[p.id] for p in peers(person, staff) if p.id in statements]
        rows.append({
            "employee_id": owner, "name": person.name, "team": person.team, "month": s.month,
            "total": str(s.total), "team_rank": ranks(group)[owner], "team_size": len(group),
            "deals": [{
                "customer": line.deal.customer, "amount": str(line.deal.amount),
                "signed_on": line.deal.signed_on.isoformat(),
                "margin": str(line.margin), "margin_is_default": line.margin_is_default, "band": line.band + 1,
                "rate": str(line.rate), "commission": str(line.base),
                "bonuses": {name: str(amount) for name, amount in line.bonuses}, "total": str(line.total),
                "to_next_band": None if line.to_next_band is None else str(line.to_next_band),
            } for line in s.lines],
        })  # fmt: skip
    return rows


def report_text(rows: list[dict[str, object]], month: str) -> str:
    out = [f"{month} 提成报表({len(rows)} 人)"]
    for row in rows:
        place = f"团队第 {row['team_rank']}/{row['team_size']} 名"
        out.append(f"\n{row['name']}({row['employee_id']},{row['team'] or '未分组'})"
                   f" 合计 {yuan(Decimal(str(row['total'])))},{place}")  # fmt: skip
        for deal in row["deals"]:  # type: ignore[attr-defined]
            bonus = "".join(f";{k} {yuan(Decimal(v))}" for k, v in deal["bonuses"].items())
            default = "(默认)" if deal["margin_is_default"] else ""
            out.append(f"  {deal['signed_on']} {deal['customer']} {yuan(Decimal(deal['amount']))}"
                       f" 毛利 {percent(Decimal(deal['margin']))}{default} 第{deal['band']}档"
                       f" {percent(Decimal(deal['rate']))} → {yuan(Decimal(deal['commission']))}{bonus}")  # fmt: skip
    return "\n".join(out)


def peers(employee: Employee, staff: Sequence[Employee]) -> list[Employee]:
    """Whom a rep is ranked against: the reps of the same team (or under the same supervisor)."""

    def same(e: Employee) -> bool:
        if employee.team:
            return e.team == employee.team
        return employee.supervisor_id is not None and e.supervisor_id == employee.supervisor_id

    group = [e for e in staff if e.active and e.role is Role.REP and same(e)]
    return group if any(e.id == employee.id for e in group) else [*group, employee]
