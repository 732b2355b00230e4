"""Points earned from what happened: each event is worth points once (the ledger's key says so), by the
admin's rules. Nothing calls this directly; it listens to the events (``usecases.events``)."""

from __future__ import annotations

from collections.abc import Sequence

from sales.events import BriefFiled, BriefUndone, ChangeUndone, CustomerFollowedUp, Event, StageReached, StandupAnswered
from sales.model import BriefStatus, Employee, Role
from sales.points import PointsEntry, brief_counts, cleared_in_time
from sales.stages import Stage
from store.repositories import UnitOfWork
from usecases.services import Services
from usecases.stalls import start_of


async def on_event(uow: UnitOfWork, services: Services, event: Event) -> int:
    """The points ``event`` earned (0 when the rules give none or it was counted before)."""
    if isinstance(event, ChangeUndone):
        await uow.points.delete_for_change(event.change_id)  # what the change earned goes with it
        return 0
    if isinstance(event, BriefUndone):
        await _pass_brief_point(uow, services, event)
        return 0
    entries = await _entries(uow, services, event)
    return sum(e.points for e in await uow.points.award(entries))


async def _entries(uow: UnitOfWork, services: Services, event: Event) -> list[PointsEntry]:
    rules = services.points
    if isinstance(event, BriefFiled):
        # a brief on a working day before the deadline: once a day, with the brief's first applied change
        local = event.at.astimezone(services.timezone)
        if not rules.brief or not brief_counts(local, services.calendar.is_workday(local.date()), rules):
            return []
        key = f"brief:{event.employee_id}:{local.date()}"
        return [PointsEntry(event.employee_id, key, "brief", rules.brief, event.at, brief_id=event.brief_id,
                            change_id=event.change_id)]  # fmt: skip
    if isinstance(event, StageReached):
        # forward once per customer and stage reached; a win is its own event, not also an advance
        who, entries = event.employee_id, []
        before, after = event.before, event.after
        if before is not None and after.rank > before.rank and not after.is_closed and rules.advance:
            entries.append(PointsEntry(who, f"advance:{event.customer_id}:{after.value}", "advance", rules.advance,
                                       event.at, note=f"{event.customer_name} {before.label}→{after.label}",
                                       brief_id=event.brief_id, change_id=event.change_id))  # fmt: skip
        if after is Stage.WON and rules.won:
            entries.append(PointsEntry(who, f"won:{event.customer_id}", "won", rules.won, event.at,
                                       note=event.customer_name, brief_id=event.brief_id,
                                       change_id=event.change_id))  # fmt: skip
        return entries
    if isinstance(event, CustomerFollowedUp):
        # within a day of the stall reminder sent to this person about this customer
        if not rules.reminder_cleared:
            return []
        due = [r for r in await uow.reminders.sent([event.customer_id])
               if r.to_employee == event.employee_id and cleared_in_time(r.sent_at, event.at)]  # fmt: skip
        return [PointsEntry(event.employee_id, f"cleared:{r.key}", "reminder_cleared", rules.reminder_cleared,
                            event.at, note=event.customer_name, brief_id=event.brief_id, change_id=event.change_id)
                for r in due]  # fmt: skip
    if isinstance(event, StandupAnswered):
        if not rules.standup:
            return []
        key = f"standup:{event.standup_id}:{event.employee_id}"
        return [PointsEntry(event.employee_id, key, "standup", rules.standup, event.at)]
    return []


async def _pass_brief_point(uow: UnitOfWork, services: Services, event: BriefUndone) -> None:
    """The undone brief's own points go; the day's brief point passes to the first brief of that day
    that still stands (and was sent in time)."""
    undone, rules, tz = event.brief, services.points, services.timezone
    assert undone.id is not None
    await uow.points.delete_for_brief(undone.id)
    day = undone.received_at.astimezone(tz).date()
    if not rules.brief:
        return
    for other in await uow.briefs.by_sender(undone.sender_id, since=start_of(day, tz)):
        local = other.received_at.astimezone(tz)
        standing = other.status in (BriefStatus.APPLIED, BriefStatus.PENDING) and other.id != undone.id
        if not standing or local.date() != day or not (other.parse_result or {}).get("updates"):
            continue
        if brief_counts(local, services.calendar.is_workday(day), rules):
            await uow.points.award([PointsEntry(undone.sender_id, f"brief:{undone.sender_id}:{day}", "brief",
                                                rules.brief, other.received_at, brief_id=other.id)])  # fmt: skip
            return


def board_people(asker: Employee, staff: Sequence[Employee]) -> list[Employee]:
    """Whom the asker's leaderboard ranks: the team's reps (the whole company's for an admin)."""
    reps = [e for e in staff if e.active and e.role is Role.REP]
    if asker.role is Role.ADMIN or not asker.team:
        return reps if asker.role is Role.ADMIN else [asker]
    return [e for e in reps if e.team == asker.team]
