"""Which drawer session takes a payment or refund (API.md v1.2 "The cash drawer"), and taking it.

The orders package calls `session_for()` before a payment or refund and `take()` once it exists, in
the same transaction. The session row is locked (FOR UPDATE) for the rest of the transaction, so a
close racing a cash payment either sees the payment in its figures (it waited for it) or makes the
payment refuse (409 drawer_session_closed): never lost from both."""

from __future__ import annotations

from sqlalchemy import exists, select

from app.errors import Conflict, ErrorCode, ValidationFailed
from app.extensions import db
from app.models import Drawer, DrawerSession, Payment, Refund, User


class NoOpenDrawerSession(Conflict):
    code, detail = ErrorCode.NO_OPEN_DRAWER_SESSION, "Cash needs an open drawer session at this location; open one."


class DrawerSessionClosed(Conflict):
    code, detail = ErrorCode.DRAWER_SESSION_CLOSED, "The drawer session is closed and takes nothing more."


def _bad_session(message: str) -> ValidationFailed:
    return ValidationFailed(errors={"drawer_session_id": [message]})


def lock_session(session_id: int) -> DrawerSession | None:
    """The session, row-locked until the transaction ends, read afresh."""
    stmt = (select(DrawerSession).where(DrawerSession.id == session_id).with_for_update(of=DrawerSession)
            .execution_options(populate_existing=True))
    return db.session.scalar(stmt)


def _open_ids(location_id: int, user: User | None = None) -> list[int]:
    stmt = select(DrawerSession.id).where(DrawerSession.location_id == location_id, DrawerSession.status == "open")
    if user is not None:
        stmt = stmt.where(DrawerSession.opened_by_id == user.id)
    return list(db.session.scalars(stmt.order_by(DrawerSession.id)))


def session_for(user: User, location_id: int, method: str, named_id: int | None) -> DrawerSession | None:
    """The session a payment or refund of `method` at the location goes into (locked), or None.

    Cash: the named session, else the caller's own open one, else the location's only open one;
    none: 409 no_open_drawer_session; several: 422 on drawer_session_id. A location without drawers
    needs none (v1.1). Card and other: the named session, else the caller's own open one, else none."""
    if named_id is not None:
        session = lock_session(named_id)
        if session is None or session.location_id != location_id:
            raise _bad_session("Unknown drawer session, or one of another location.")
        if session.status != "open":
            raise DrawerSessionClosed()
        return session
    own = _open_ids(location_id, user)
    if method != "cash":
        return _locked_open(own[0]) if own else None
    if own:
        return _locked_open(own[0])
    if not db.session.scalar(select(exists().where(Drawer.location_id == location_id))):
        return None
    found = _open_ids(location_id)
    if not found:
        raise NoOpenDrawerSession()
    if len(found) > 1:
        raise _bad_session("Several drawer sessions are open at this location: name the session.")
    return _locked_open(found[0])


def _locked_open(session_id: int) -> DrawerSession:
    session = lock_session(session_id)
    if session is None or session.status != "open":  # closed between the look-up and the lock
        raise DrawerSessionClosed()
    return session


def take_payment(session: DrawerSession | None, payment: Payment) -> None:
    """Record the payment on the session: cash raises its running figures; every one raises its version."""
    if session is None:
        return
    payment.drawer_session_id = session.id
    if payment.method == "cash":
        session.cash_sales_cents += payment.amount_cents
        session.cash_tips_cents += payment.tip_cents
    session.version += 1


def take_refund(session: DrawerSession | None, refund: Refund) -> None:
    """Record the refund on the session: a cash one raises cash_refunds by what it gave back (tip too)."""
    if session is None:
        return
    refund.drawer_session_id = session.id
    if refund.method == "cash":
        session.cash_refunds_cents += refund.amount_cents + refund.tip_cents
    session.version += 1
