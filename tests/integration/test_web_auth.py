"""The dashboard's sign-in on every store: a link works once and for minutes, a session ends with its employee."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sales.model import Employee, Role
from store.repositories import UnitOfWorkFactory
from tests.conftest import NOW
from usecases.web_auth import digest, issue_link, redeem_link, sign_out, signed_in

TTL, SESSION = timedelta(minutes=10), timedelta(hours=12)


async def _staff(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.employees.add(Employee(id="S01", name="陈静", role=Role.SUPERVISOR, team=None))
        await uow.employees.add(Employee(id="E01", name="张伟"))
        await uow.commit()


async def _link(uow_factory: UnitOfWorkFactory, employee_id: str = "E01", minutes: int = 0) -> str:
    async with uow_factory() as uow:
        employee = await uow.employees.get(employee_id)
        assert employee is not None
        url = await issue_link(uow, employee, "https://g.example.com/", NOW + timedelta(minutes=minutes), TTL)
        await uow.commit()
    assert url.startswith("https://g.example.com/web/login?t=")
    return url.split("t=", 1)[1]


async def test_a_link_opens_one_session_once(uow_factory: UnitOfWorkFactory) -> None:
    await _staff(uow_factory)
    token = await _link(uow_factory)
    async with uow_factory() as uow:
        opened = await redeem_link(uow, token, NOW + timedelta(minutes=9), SESSION)
        again = await redeem_link(uow, token, NOW + timedelta(minutes=9), SESSION)
        await uow.commit()
    assert opened is not None and opened.employee.id == "E01" and again is None
    async with uow_factory() as uow:
        assert await redeem_link(uow, token, NOW + timedelta(minutes=9), SESSION) is None  # after the commit too
        found = await signed_in(uow, opened.token, NOW + timedelta(hours=1))
        assert found is not None and found.employee.id == "E01" and found.csrf == opened.csrf
        assert await signed_in(uow, opened.token, NOW + timedelta(hours=13)) is None  # the session expired
        assert await signed_in(uow, "forged", NOW) is None
        # only hashes are kept: the cookie's value is not a key of the store
        assert await uow.web.find_session(opened.token, NOW) is None
        assert await uow.web.find_session(digest(opened.token), NOW) is not None


async def test_an_expired_or_unknown_link_opens_nothing(uow_factory: UnitOfWorkFactory) -> None:
    await _staff(uow_factory)
    token = await _link(uow_factory)
    async with uow_factory() as uow:
        assert await redeem_link(uow, token, NOW + timedelta(minutes=10), SESSION) is None
        assert await redeem_link(uow, token + "x", NOW, SESSION) is None
        assert await redeem_link(uow, "", NOW, SESSION) is None


async def test_two_redemptions_at_once_open_one_session(uow_factory: UnitOfWorkFactory) -> None:
    await _staff(uow_factory)
    token = await _link(uow_factory)

    async def redeem() -> bool:
        async with uow_factory() as uow:
            opened = await redeem_link(uow, token, NOW, SESSION)
            await uow.commit()
            return opened is not None

    assert sorted(await asyncio.gather(redeem(), redeem(), redeem())) == [False, False, True]


async def test_a_deactivated_employee_loses_every_session(uow_factory: UnitOfWorkFactory) -> None:
    await _staff(uow_factory)
    first, second = await _link(uow_factory), await _link(uow_factory)
    async with uow_factory() as uow:
        a = await redeem_link(uow, first, NOW, SESSION)
        b = await redeem_link(uow, second, NOW, SESSION)
        await uow.commit()
    assert a is not None and b is not None
    async with uow_factory() as uow:
        employee = await uow.employees.get("E01")
        assert employee is not None
        employee.active = False
        await uow.employees.update(employee)
        await uow.commit()
    async with uow_factory() as uow:
        assert await signed_in(uow, a.token, NOW) is None
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.web.find_session(digest(b.token), NOW) is None  # closed, not only refused
    # a link of a deactivated employee opens nothing either
    token = await _link(uow_factory)
    async with uow_factory() as uow:
        assert await redeem_link(uow, token, NOW, SESSION) is None


async def test_sign_out_and_purge(uow_factory: UnitOfWorkFactory) -> None:
    await _staff(uow_factory)
    token, stale = await _link(uow_factory), await _link(uow_factory, minutes=-60)
    async with uow_factory() as uow:
        opened = await redeem_link(uow, token, NOW, SESSION)
        assert opened is not None
        await sign_out(uow, opened.token)
        assert await signed_in(uow, opened.token, NOW) is None
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.web.purge(NOW) == 1  # the stale link; the other link has minutes left
        assert await uow.web.purge(NOW + timedelta(hours=13)) == 1
        await uow.commit()
    assert stale
