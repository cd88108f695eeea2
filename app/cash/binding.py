"""Which drawer session takes a payment or refund (API.md v1.2 "The cash drawer"), and taking it.

The orders package calls `session_for()` before a payment or refund and `take()` once it exists, in
the same transaction. The session row is locked (FOR UPDATE) for the rest of the transaction, so a
close racing a cash payment either sees the payment in its figures (it waited for it) or makes the
payment refuse (409 drawer_session_closed): never lost from both."""

from __future__ import annotations

from sqlalchemy import exists, select

from app.errors import Conflict, ErrorCode, ValidationFailed
from app.extensions import db
from app.models import Drawer, DrawerSession, Order, Payment, Refund, User


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


def _method_row(session: DrawerSession, method: str) -> tuple[dict, dict]:
    methods = {name: dict(row) for name, row in (session.methods or {}).items()}
    row = methods.setdefault(method, {"payments": 0, "amount": 0, "tips": 0, "refunds": 0})
    return methods, row


def _touch_order(session: DrawerSession, order: Order) -> None:
    """Count the order once per session (is it new here? its other payments and refunds are loaded) and
    widen the folio range with its folio."""
    seen = any(p.drawer_session_id == session.id for p in order.payments) or any(
        r.drawer_session_id == session.id for r in order.refunds)
    if not seen:
        session.orders_count += 1
    note_folio(session, order.folio)


def note_folio(session: DrawerSession, folio: int | None) -> None:
    if folio is None:
        return
    session.first_folio = folio if session.first_folio is None else min(session.first_folio, folio)
    session.last_folio = folio if session.last_folio is None else max(session.last_folio, folio)


def take_payment(session: DrawerSession | None, order: Order, payment: Payment) -> None:
    """Record the payment on the session (before it joins the order's payments): cash raises the running
    cash figures; every one its method's row, the order count, and the version."""
    if session is None:
        return
    _touch_order(session, order)
    payment.drawer_session_id = session.id
    if payment.method == "cash":
        session.cash_sales_cents += payment.amount_cents
        session.cash_tips_cents += payment.tip_cents
    methods, row = _method_row(session, payment.method)
    row["payments"] += 1
    row["amount"] += payment.amount_cents
    row["tips"] += payment.tip_cents
    session.methods = methods
    session.version += 1


def take_refund(session: DrawerSession | None, order: Order, refund: Refund) -> None:
    """Record the refund on the session (before it joins the order's refunds): a cash one raises
    cash_refunds by what it gave back (tip included); every one its method's row and the version."""
    if session is None:
        return
    _touch_order(session, order)
    refund.drawer_session_id = session.id
    given_back = refund.amount_cents + refund.tip_cents
    if refund.method == "cash":
        session.cash_refunds_cents += given_back
    methods, row = _method_row(session, refund.method)
    row["refunds"] += given_back
    session.methods = methods
    session.version += 1


def folio_given(order: Order) -> None:
    """The order just got its folio: widen the range of every session its payments and refunds are on."""
    ids = {p.drawer_session_id for p in order.payments} | {r.drawer_session_id for r in order.refunds}
    for session_id in sorted(i for i in ids if i is not None):
        session = lock_session(session_id)
        if session is not None and session.status == "open":  # a closed one's figures are frozen
            note_folio(session, order.folio)
