"""A whole evening at the till, run against a fresh SQLite database; prints every request and answer
as Markdown (the outputs quoted in docs/drawer.md come from this script).

    .venv/bin/python docs/examples/drawer_evening.py > /tmp/evening.md
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from flask_jwt_extended import create_access_token  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.locations.services import ensure_default_location  # noqa: E402
from app.models import Product  # noqa: E402
from app.users.services import UserInput, create_user  # noqa: E402
from config import TestingConfig  # noqa: E402

HIDE = ("created_at", "updated_at", "opened_at", "closed_at", "at", "request_id")


def trim(value):
    """Drop timestamps (they change every run) and shorten orders to what the evening is about."""
    if isinstance(value, dict):
        if "items" in value and "payments" in value:  # an order
            keep = ("id", "status", "total", "paid_total", "tip_total", "payment_method", "folio", "version")
            out = {k: value[k] for k in keep}
            out["payments"] = [{k: p[k] for k in ("method", "amount", "tip", "tendered", "change",
                                                  "drawer_session_id")} for p in value["payments"]]
            if value["refunds"]:
                out["refunds"] = [{k: r[k] for k in ("method", "amount", "tip", "drawer_session_id")}
                                  for r in value["refunds"]]
            return out
        return {k: trim(v) for k, v in value.items() if k not in HIDE}
    if isinstance(value, list):
        return [trim(v) for v in value]
    return value


def main() -> None:
    cfg = TestingConfig()
    cfg.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tempfile.mkdtemp()}/evening.db"
    cfg.RATELIMIT_ENABLED = False
    app = create_app(cfg)
    with app.app_context():
        upgrade()
        ensure_default_location()
        people = {role: create_user(UserInput(email=f"{role}@example.com", name=name, password="a-long-password",  # noqa: S106
                                              role=role))
                  for role, name in (("admin", "Root"), ("manager", "Marta"), ("waiter", "Luis"))}
        db.session.add_all([Product(name="Tacos al pastor (orden)", price_cents=9500),
                            Product(name="Agua de horchata", price_cents=3500)])
        db.session.commit()
        tokens = {role: create_access_token(identity=user) for role, user in people.items()}
    client = app.test_client()

    def show(who: str, method: str, path: str, body=None, note: str = "", **headers):
        headers = {"Authorization": f"Bearer {tokens[who]}", **headers}
        resp = client.open("/api/v1" + path, method=method, json=body, headers=headers)
        print(f"\n{note}\n" if note else "")
        extra = "".join(f" -H '{k}: {v}'" for k, v in headers.items() if k != "Authorization")
        print(f"```\n# {who}\n{method} {path}{extra}" + (f"\n{json.dumps(body)}" if body is not None else ""))
        if resp.mimetype == "application/json" or resp.mimetype == "application/problem+json":
            print(f"-> {resp.status_code}\n{json.dumps(trim(resp.json), indent=1)}\n```")
            return resp.json
        print(f"-> {resp.status_code} {resp.mimetype}\n{resp.get_data(as_text=True)}```")
        return resp.get_data(as_text=True)

    with app.app_context():
        loc = 1
        show("admin", "PATCH", f"/locations/{loc}", {"variance_tolerance": "20.00"},
             "**18:00** The admin sets how far a count may be off without a reason.")
        drawer = show("manager", "POST", f"/locations/{loc}/drawers", {"name": "Caja 1"},
                      "The manager adds the restaurant's drawer. From now on cash needs an open session here.")
        session = show("waiter", "POST", f"/drawers/{drawer['id']}/sessions", {"opening_float": "1500.00"},
                       "**Apertura de caja**: Luis opens the drawer with a float of 1,500.00. He counts blind: "
                       "`figures` and `variance` are null for him while it is open.")
        sid = session["id"]
        o1 = show("waiter", "POST", "/orders", {"customer_name": "Mesa 4", "items": [
            {"product_id": 1, "quantity": 2}, {"product_id": 2, "quantity": 2}]}, "**20:10** Table 4 orders.")
        show("waiter", "POST", f"/orders/{o1['id']}/payments",
             {"method": "cash", "amount": "260.00", "tip": "30.00", "tendered": "300.00"},
             "They pay cash with a tip; the payment goes into Luis's session (his own open one).")
        show("waiter", "POST", f"/orders/{o1['id']}/close", {}, "The close gives the order its folio.")
        o2 = show("waiter", "POST", "/orders", {"customer_name": "Mesa 7", "items": [
            {"product_id": 1, "quantity": 3}]}, "Table 7 pays by card.")
        show("waiter", "POST", f"/orders/{o2['id']}/close", {"payment_method": "card", "tip": "40.00"},
             "A card payment records the caller's open session too (it raises the session's version).")
        show("waiter", "POST", f"/drawer-sessions/{sid}/movements",
             {"type": "pay_out", "amount": "150.00", "reason": "Hielo"},
             "**21:00** The ice man wants 150.00 cash. A waiter's pay-out needs a manager's approval "
             "(`X-Approval-Token` for `pay_out`, made by `POST /auth/approvals` with the manager's PIN):")
        show("manager", "POST", f"/drawer-sessions/{sid}/movements",
             {"type": "pay_out", "amount": "150.00", "reason": "Hielo"},
             "Marta approves at the tablet. (With the PIN token from `POST /auth/approvals` Luis's own request "
             "succeeds with `approved_by: Marta`; here Marta, a manager, records it directly and needs no token.)")
        show("manager", "POST", f"/drawer-sessions/{sid}/movements",
             {"type": "safe_drop", "amount": "1000.00", "reason": "Retiro parcial 21:30"},
             "**21:30** A safe drop (retiro) takes cash out of the drawer into the safe.")
        show("manager", "GET", f"/drawer-sessions/{sid}/x", None, "**22:00** Marta reads the live X (corte X). "
             "It changes nothing.")
        show("waiter", "GET", f"/drawer-sessions/{sid}", None, "Luis sees no expected cash: he counts blind.")
        version = client.get(f"/api/v1/drawer-sessions/{sid}",
                             headers={"Authorization": f"Bearer {tokens['waiter']}"}).json["version"]
        show("waiter", "POST", f"/drawer-sessions/{sid}/close", {"counted_cash": "590.00"},
             "**23:00** Luis counts 590.00 (the drawer should hold 640.00). 50.00 short is over the "
             "20.00 tolerance: a reason is required...", **{"If-Match": f'"{version}"'})
        show("waiter", "POST", f"/drawer-sessions/{sid}/close", {"counted_cash": "590.00", "reason": "Cambio mal dado"},
             "...and, for a waiter, a manager's `drawer_variance` approval:", **{"If-Match": f'"{version}"'})
        show("waiter", "POST", f"/drawer-sessions/{sid}/close", {"counted_cash": "627.50", "reason": "Recount"},
             "He counts again and finds the 50.00 note: 627.50, 12.50 short, within the tolerance. "
             "He closes alone; the Z is numbered.", **{"If-Match": f'"{version}"'})
        show("waiter", "GET", f"/drawer-sessions/{sid}/z?format=text", None, "**The Z slip** (42 columns):")
        show("manager", "GET", f"/drawer-sessions/{sid}/z?format=csv", None, "The same Z as CSV:")
        from app.business_time import business_date
        from app.columns import utcnow
        day = business_date(utcnow(), "UTC", "00:00").isoformat()
        show("manager", "POST", f"/locations/{loc}/days/{day}/close", None,
             "**Cierre de día**: every session of the date is closed and no order is open.")
        show("waiter", "POST", "/orders", {"customer_name": "Tarde", "items": [{"product_id": 1, "quantity": 1}]},
             "A late order into the closed date is refused:")


if __name__ == "__main__":
    main()
