"""Clients generated from the live /openapi.json work, typed.

- Python: openapi-python-client generates `comanda_client` (money inputs also take `Decimal`, through
  tools/contract/client-templates); tools/contract/usage_client.py passes
  `mypy --strict` against it, then logs in, creates a product, creates an order with a catalogue line
  and an ad-hoc line, appends, closes, and reads a report and its CSV from a real HTTP server.
- TypeScript: openapi-typescript generates the types; tools/contract/usage.ts passes `tsc --noEmit`
  (strict), including `@ts-expect-error` lines that only type-check when the types are precise.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Order
from tests.constants import PASSWORD
from tests.contract.conftest import CONTRACT, NODE_BIN, TOOLS_BIN, need, run


@pytest.fixture(scope="session")
def spec_path(tmp_path_factory) -> Path:
    """The live document, dumped by the app factory (it does not depend on the database)."""
    path = tmp_path_factory.mktemp("contract") / "openapi.json"
    run([sys.executable, str(CONTRACT / "dump_openapi.py"), str(path)])
    return path


@pytest.fixture(scope="session")
def python_client(spec_path) -> Path:
    """A directory holding the generated `comanda_client` package."""
    need(TOOLS_BIN / "openapi-python-client")
    out = spec_path.parent / "python-client"
    run([str(TOOLS_BIN / "openapi-python-client"), "generate", "--path", str(spec_path),
         "--output-path", str(out / "comanda_client"), "--meta", "none",
         "--config", str(CONTRACT / "openapi-python-client.yaml"),
         "--custom-template-path", str(CONTRACT / "client-templates")], cwd=spec_path.parent)
    return out


def test_python_client_is_typed(python_client):
    """The usage file type-checks strictly against the generated models (no Any for lines or money)."""
    env = {**os.environ, "MYPYPATH": str(python_client)}
    # Run from outside the repository so the app's mypy settings (pyproject.toml) do not apply.
    run([sys.executable, "-m", "mypy", "--strict", "--python-executable", str(TOOLS_BIN / "python"),
         "--cache-dir", str(python_client.parent / "mypy-cache"), str(CONTRACT / "usage_client.py")],
        cwd=python_client.parent, env=env)
    line_types = (python_client / "comanda_client" / "models" / "order_in.py").read_text()
    assert "items: list[AdHocLineIn | ProductLineIn]" in line_types
    payment = (python_client / "comanda_client" / "models" / "payment_in.py").read_text()
    assert "amount: Decimal | float | str" in payment and 'amount = format(self.amount, "f")' in payment


def test_python_client_against_a_real_server(python_client, live_server, factory):
    admin = factory.make_user("admin")
    env = {**os.environ, "PYTHONPATH": str(python_client)}
    done = run([str(TOOLS_BIN / "python"), str(CONTRACT / "usage_client.py"), live_server.url, admin.email, PASSWORD],
               env=env, timeout=120)
    summary = json.loads(done.stdout.strip().splitlines()[-1])

    assert summary["status"] == "closed"
    assert summary["item_count"] == 4
    assert summary["total"] == "94.50"  # 2 x 25.50 + 18.00 (ad hoc) + 1 x 25.50 (appended)
    assert [line[1:] for line in summary["lines"]] == [[2, "25.50"], [1, "18.00"], [1, "25.50"]]
    assert summary["report_total_revenue"] == "94.50"
    rows = {name: (quantity, revenue) for name, quantity, revenue in summary["report_rows"]}
    assert rows["Agua de horchata"] == (1, "18.00")
    assert sorted(rows.values()) == [(1, "18.00"), (3, "76.50")]
    assert summary["csv_content_type"].startswith("text/csv")
    csv_lines = summary["csv"].splitlines()
    assert csv_lines[0].startswith("product_id,") and len(csv_lines) == 3
    assert any("Agua de horchata" in line and "18.00" in line for line in csv_lines)

    db.session.rollback()  # end the snapshot that reading admin.email began: see what the server committed
    order = db.session.scalars(select(Order).where(Order.id == summary["order_id"])).one()
    assert (order.status, order.total_cents, order.payment_method) == ("closed", 9450, "cash")


def test_typescript_types_check(spec_path):
    need(NODE_BIN / "openapi-typescript", NODE_BIN / "tsc")
    generated = CONTRACT / "build" / "comanda.ts"
    generated.parent.mkdir(exist_ok=True)
    # --default-non-nullable false: a member with a default (e.g. `notes`, default null) stays optional in
    # request bodies; response members are required by the document itself.
    run([str(NODE_BIN / "openapi-typescript"), str(spec_path), "-o", str(generated),
         "--default-non-nullable", "false"], cwd=CONTRACT)
    run([str(NODE_BIN / "tsc"), "-p", "tsconfig.json"], cwd=CONTRACT)
    types = generated.read_text()
    assert "createOrder:" in types and "getProductsReport:" in types  # `operations` is keyed by operationId


def test_python_client_on_the_floor(python_client, live_server, factory):
    """v1.2 through the generated client: a transfer, a split by seat and a discount approved with a PIN."""
    admin = factory.make_user("admin")
    env = {**os.environ, "PYTHONPATH": str(python_client)}
    mypy_env = {**os.environ, "MYPYPATH": str(python_client)}
    run([sys.executable, "-m", "mypy", "--strict", "--python-executable", str(TOOLS_BIN / "python"),
         "--cache-dir", str(python_client.parent / "mypy-cache"), str(CONTRACT / "usage_floor_client.py")],
        cwd=python_client.parent, env=mypy_env)
    done = run([str(TOOLS_BIN / "python"), str(CONTRACT / "usage_floor_client.py"), live_server.url, admin.email,
                PASSWORD], env=env, timeout=120)
    summary = json.loads(done.stdout.strip().splitlines()[-1])

    assert summary["table"].startswith("B")  # moved to the second table, whose name the order answers
    assert summary["source_subtotal"] == "280.00"
    ((new_id, split_from, subtotal, table_id),) = summary["new_orders"]
    assert (split_from, subtotal) == (summary["source_id"], "140.00")
    assert summary["discount_total"] == "28.00"
    assert (summary["last_event"], summary["approved_by"]) == ("discount_added", summary["admin_id"])
    assert summary["second_table"] == ["occupied", sorted([summary["source_id"], new_id])]
    db.session.rollback()
    assert db.session.get(Order, new_id).table_id == table_id
