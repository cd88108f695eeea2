"""Drawers, sessions, movements, the X and the close (API.md v1.2 "The cash drawer").

Every figure of a session is a running total on its row: app/cash/binding.py raises them with each
payment and refund (cash figures, the per-method rows, the order count, the folio range) and
`add_movement` with each movement, all under the session's row lock. The X reads one row; nothing
scans a day's payments (bench/drawer_x.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import counters
from app.auth.approvals import authorize
from app.auth.permissions import is_staff, visible_location
from app.business_time import business_date
from app.cash import figures as pure
from app.cash.binding import DrawerSessionClosed, lock_session
from app.columns import utcnow
from app.errors import Conflict, ErrorCode, NotFound, PreconditionFailed, ValidationFailed
from app.extensions import db
from app.models import Drawer, DrawerMovement, DrawerSession, Location, User
from app.money import cents_to_str
from app.outbox import publish
from app.web.pagination import paginate


class DrawerSessionOpen(Conflict):
    code, detail = ErrorCode.DRAWER_SESSION_OPEN, "A drawer session is already open (one per drawer, one per user)."


def _ref(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.id, "name": user.name}


# Drawers ------------------------------------------------------------------------------------------


def create_drawer(user: User, location_id: int, data: dict[str, Any]) -> Drawer:
    """A new drawer at a location the caller belongs to (another location's: 404)."""
    location = visible_location(user, location_id)
    drawer = Drawer(location_id=location.id, name=data["name"], active=True, created_at=utcnow())
    db.session.add(drawer)
    db.session.flush()
    return drawer


def list_drawers(user: User, location_id: int, args: dict[str, Any]) -> tuple[list[dict], str | None]:
    """The location's drawers by id, each with its open session (as `user` may see it), if any."""
    location = visible_location(user, location_id)
    stmt = select(Drawer).where(Drawer.location_id == location.id)
    rows, next_cursor = paginate(stmt, (Drawer.id,), limit=args["limit"], cursor=args["cursor"], descending=False)
    ids = [drawer.id for drawer in rows]
    open_sessions = {s.drawer_id: s for s in db.session.scalars(
        select(DrawerSession).where(DrawerSession.drawer_id.in_(ids), DrawerSession.status == "open"))} if ids else {}
    return [drawer_view(drawer, open_sessions.get(drawer.id), user) for drawer in rows], next_cursor


def drawer_view(drawer: Drawer, session: DrawerSession | None, user: User) -> dict[str, Any]:
    return {"id": drawer.id, "location_id": drawer.location_id, "name": drawer.name, "active": drawer.active,
            "open_session": None if session is None else session_view(session, user)}


# Sessions -----------------------------------------------------------------------------------------


def visible_session(user: User, session_id: int, *, lock: bool = False) -> DrawerSession:
    """The session if `user` belongs to its location (another location's or unknown: 404)."""
    session = lock_session(session_id) if lock else db.session.get(DrawerSession, session_id)
    if session is None:
        raise NotFound("No such drawer session.")
    try:
        visible_location(user, session.location_id)
    except NotFound:
        raise NotFound("No such drawer session.") from None
    return session


def open_session(user: User, drawer_id: int, data: dict[str, Any]) -> DrawerSession:
    """Open a session on a drawer with its opening float: one open per drawer and per user (409)."""
    drawer = db.session.get(Drawer, drawer_id)
    if drawer is None:
        raise NotFound("No such drawer.")
    try:
        location = visible_location(user, drawer.location_id)
    except NotFound:
        raise NotFound("No such drawer.") from None
    now = utcnow()
    session = DrawerSession(
        drawer_id=drawer.id, drawer=drawer, location_id=location.id, status="open", opened_by_id=user.id,
        opened_by=user, opened_at=now, business_date=business_date(now, location.timezone, location.day_starts_at),
        opening_float_cents=data["opening_float"], version=1,
        **{f"{name}_cents": 0 for name in pure.CASH_NAMES}, methods={}, orders_count=0,
    )
    try:  # the partial unique indexes decide a race between twins
        with db.session.begin_nested():
            db.session.add(session)
            db.session.flush()
    except IntegrityError:
        raise DrawerSessionOpen() from None
    publish(location_id=location.id, type="drawer_session.opened", subject=("drawer_session", session.id, 1),
            actor=user, data={"drawer_id": drawer.id, "opening_float": cents_to_str(session.opening_float_cents)},
            occurred_at=now)
    return session


def running(session: DrawerSession) -> dict[str, int]:
    return {name: getattr(session, f"{name}_cents") for name in pure.CASH_NAMES}


def by_method(session: DrawerSession) -> list[dict[str, Any]]:
    """The running per-method rows, by method name."""
    return [{"method": method, **{n: int(row[n]) for n in pure.METHOD_NAMES}}
            for method, row in sorted((session.methods or {}).items())]


def live_figures(session: DrawerSession) -> dict[str, Any]:
    """The session's figures now (cents); a closed session's frozen ones."""
    if session.frozen is not None:
        return session.frozen
    return pure.session_figures(session.opening_float_cents, running(session), by_method(session),
                                session.orders_count, session.first_folio, session.last_folio)


def session_view(session: DrawerSession, user: User, *, force_figures: bool = False) -> dict[str, Any]:
    """The Session answer (money in cents). Waiters count blind: figures and variance null while open."""
    blind = session.status == "open" and not is_staff(user) and not force_figures
    return {
        "id": session.id, "drawer_id": session.drawer_id, "location_id": session.location_id,
        "status": session.status, "opened_by": _ref(session.opened_by), "opened_at": session.opened_at,
        "opening_float": session.opening_float_cents, "closed_by": _ref(session.closed_by),
        "closed_at": session.closed_at, "version": session.version,
        "figures": None if blind else live_figures(session),
        "counted_cash": session.counted_cash_cents, "variance": None if blind else session.variance_cents,
        "variance_reason": session.variance_reason, "approved_by": _ref(session.approved_by),
        "z_number": session.z_number,
    }


def list_sessions(user: User, location_id: int, args: dict[str, Any]) -> tuple[list[dict], str | None]:
    """A location's sessions, newest first, optionally by status and business date (members)."""
    location = visible_location(user, location_id)
    stmt = select(DrawerSession).where(DrawerSession.location_id == location.id)
    if args.get("status"):
        stmt = stmt.where(DrawerSession.status == args["status"])
    if args.get("business_date"):
        stmt = stmt.where(DrawerSession.business_date == args["business_date"])
    rows, next_cursor = paginate(stmt, (DrawerSession.id,), limit=args["limit"], cursor=args["cursor"])
    return [session_view(session, user) for session in rows], next_cursor


def get_session(user: User, session_id: int) -> dict[str, Any]:
    return session_view(visible_session(user, session_id), user)


def x_read(user: User, session_id: int) -> dict[str, Any]:
    """The live X (managers and admins; the route checks the role): the session with its figures."""
    return session_view(visible_session(user, session_id), user, force_figures=True)


# Movements ----------------------------------------------------------------------------------------


def add_movement(user: User, session_id: int, data: dict[str, Any]) -> DrawerMovement:
    """Append a movement to an open session; a waiter's pay_out needs a pay_out approval."""
    session = visible_session(user, session_id, lock=True)
    if session.status != "open":
        raise DrawerSessionClosed()
    approver = None
    if data["type"] == "pay_out":
        approver = authorize(user, "pay_out", location_id=session.location_id, drawer_session_id=session.id,
                             amount_cents=data["amount"])
    now = utcnow()
    movement = DrawerMovement(session_id=session.id, type=data["type"], amount_cents=data["amount"],
                              reason=data["reason"], created_by_id=user.id, created_by=user,
                              approved_by_id=approver.id if approver else None, approved_by=approver, created_at=now)
    db.session.add(movement)
    column = f"{data['type']}_cents"
    setattr(session, column, getattr(session, column) + data["amount"])
    session.version += 1
    db.session.flush()
    publish(location_id=session.location_id, type="drawer_movement.created",
            subject=("drawer_session", session.id, session.version), actor=user, approved_by=approver,
            data={"movement_id": movement.id, "type": movement.type, "amount": cents_to_str(movement.amount_cents),
                  "reason": movement.reason}, occurred_at=now)
    return movement


# The close and the Z ------------------------------------------------------------------------------


def close_session(user: User, session_id: int, data: dict[str, Any], expected: int | None) -> DrawerSession:
    """Count and close: variance = counted - expected; above the location's tolerance a reason is required
    and a waiter needs a drawer_variance approval. Freezes the figures and takes the next z_number."""
    session = visible_session(user, session_id, lock=True)
    if session.status != "open":
        raise DrawerSessionClosed()
    if expected is not None and expected != session.version:
        raise PreconditionFailed(current_version=session.version)
    location = db.session.get(Location, session.location_id)
    assert location is not None  # the foreign key guarantees it
    figures = live_figures(session)
    variance = data["counted_cash"] - figures["expected_cash"]
    approver = None
    if abs(variance) > location.variance_tolerance_cents:
        if not data.get("reason"):
            # A waiter counts blind: the message never tells them by how much.
            detail = (f"the variance {cents_to_str(variance)} exceeds the location's tolerance "
                      f"{cents_to_str(location.variance_tolerance_cents)}" if is_staff(user)
                      else "the count is off by more than the location's tolerance")
            raise ValidationFailed(errors={"reason": [f"Required: {detail}."]})
        approver = authorize(user, "drawer_variance", location_id=location.id, drawer_session_id=session.id,
                             amount_cents=abs(variance))
    now = utcnow()
    session.status = "closed"
    session.closed_by_id, session.closed_by, session.closed_at = user.id, user, now
    session.counted_cash_cents = data["counted_cash"]
    session.variance_cents = variance
    session.variance_reason = data.get("reason")
    session.approved_by_id, session.approved_by = (approver.id, approver) if approver else (None, None)
    session.frozen = figures
    session.version += 1
    db.session.flush()
    session.z_number = counters.take(location.id, "z_number")  # late: the counter row is locked until commit
    db.session.flush()
    publish(location_id=location.id, type="drawer_session.closed", subject=("drawer_session", session.id,
            session.version), actor=user, approved_by=approver, occurred_at=now,
            data={"z_number": session.z_number, "counted_cash": cents_to_str(data["counted_cash"]),
                  "expected_cash": cents_to_str(figures["expected_cash"]), "variance": cents_to_str(variance)})
    return session


def z_report(user: User, session_id: int) -> dict[str, Any]:
    """The frozen Z: the closed session with location_name and drawer_name (an open one: 409)."""
    session = visible_session(user, session_id)
    if session.status == "open":
        raise DrawerSessionOpen("The session is still open: its Z exists once it is closed.")
    location = db.session.get(Location, session.location_id)
    return {**session_view(session, user), "location_name": location.name if location else "",
            "drawer_name": session.drawer.name}


def slip_values(z: dict[str, Any]) -> dict[str, Any]:
    """The Z flattened for the text slip: names of people instead of references."""
    def name(ref: dict | None) -> str:
        return (ref or {}).get("name", "")

    return {**z, "opened_by": name(z["opened_by"]), "closed_by": name(z["closed_by"]),
            "approved_by": name(z["approved_by"]) or None}
