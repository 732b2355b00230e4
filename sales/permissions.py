"""Who may see and change whose customers."""

from __future__ import annotations

from collections.abc import Sequence

from sales.model import Employee, Role


def may_update(actor: Employee, owner: Employee | None) -> bool:
    """Reps change their own customers, supervisors their team's, admins everyone's."""
    if actor.role is Role.ADMIN:
        return True
    if owner is None:
        return False
    if actor.id == owner.id:
        return True
    if actor.role is Role.SUPERVISOR:
        return owner.supervisor_id == actor.id or (actor.team is not None and owner.team == actor.team)
    return False


def may_see(actor: Employee, owner: Employee | None) -> bool:
    """Seeing follows the same lines as changing: own, team, company."""
    return may_update(actor, owner)


def named_colleague(text: str, staff: Sequence[Employee], asker: Employee) -> Employee | None:
    """Someone other than the asker named in a question (「李娜的提成」), the longest name first so that
    王小明 is not read as 王小."""
    named = [e for e in staff if e.id != asker.id and len(e.name) >= 2 and e.name in text]
    return max(named, key=lambda e: len(e.name)) if named else None


def team_supervisors(employee: Employee, staff: Sequence[Employee]) -> list[Employee]:
    """The rep's supervisor while they are still here, else the team's current supervisors: the one rule for
    escalations, objections and approvals (a supervisor who has left hears nothing)."""
    direct = [e for e in staff if e.id == employee.supervisor_id and e.active]
    if direct:
        return direct
    return [e for e in staff if e.role is Role.SUPERVISOR and e.active and employee.team and e.team == employee.team]


def supervisors_of(employee: Employee, staff: Sequence[Employee]) -> list[Employee]:
    """Who hears a rep's objection or approves their redemption: the supervisors, else the admins."""
    return team_supervisors(employee, staff) or [e for e in staff if e.role is Role.ADMIN and e.active]


def may_manage_team(actor: Employee, team: str) -> bool:
    """A team's settings (its group chat) are its supervisor's and the admins'."""
    return actor.role is Role.ADMIN or (actor.role is Role.SUPERVISOR and actor.team == team)
