"""The dashboard's floor view in a real headless chromium (issue 23): every table by area with its
status, guests, open checks and their total, equal to what GET /locations/{id}/tables answers, and
refreshed live; usable at a phone's 390x844 and a desktop's 1280x800."""

from __future__ import annotations

from decimal import Decimal

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from app.extensions import db
from app.models import Location
from tests.dashboard.page import Dashboard, shown_money

API = "/api/v1"


@pytest.fixture
def dash(browser, live_server):
    live_server.faults.unavailable = None
    browser.set_window_size(1280, 800)
    browser.get_log("browser")
    return Dashboard(browser, live_server.url)


@pytest.fixture
def floor(client, factory):
    """Two areas and a table without one; two parties at T1 (one split), one at Terraza 2, T3 free."""
    manager = factory.make_user("manager", name="Marta Manager", email="marta@example.com")
    luis = factory.make_user("waiter", name="Luis", email="luis@example.com")
    home = db.session.scalar(select(Location).where(Location.is_default))
    taco = factory.make_product("Taco al pastor", "25.00")
    mole = factory.make_product("Mole poblano", "140.00")
    boss = factory.headers(manager)
    tables = {}
    for name, area in (("T1", "Salón"), ("T3", "Salón"), ("Terraza 2", "Terraza"), ("Barra", None)):
        resp = client.post(f"{API}/locations/{home.id}/tables", json={"name": name, "area": area}, headers=boss)
        tables[name] = resp.json["id"]

    def order(user, table, lines, guests=None):
        resp = client.post(f"{API}/orders", json={"customer_name": "Mesa", "table_id": tables[table],
                                                  "guest_count": guests, "items": lines},
                           headers=factory.headers(user))
        assert resp.status_code == 201, resp.json
        return resp.json

    first = order(luis, "T1", [{"product_id": taco.id, "quantity": 3, "seat": 1},
                               {"product_id": mole.id, "quantity": 1, "seat": 2}], guests=2)
    resp = client.post(f"{API}/orders/{first['id']}/split", json={"by": "seat"},
                       headers={**factory.headers(luis), "If-Match": '"1"'})
    assert resp.status_code == 201
    order(manager, "T1", [{"product_id": mole.id, "quantity": 2}], guests=4)
    order(luis, "Terraza 2", [{"product_id": taco.id, "quantity": 1}])
    return {"manager": manager, "luis": luis, "home": home, "tables": tables, "taco": taco}


READ_TILES = """
const found = {};
for (const tile of document.querySelectorAll("#floor .table-tile")) {
  const text = (sel) => tile.querySelector(sel).textContent;
  found[text(".tile-name")] = {
    area: tile.closest(".floor-area").dataset.area, status: tile.dataset.status,
    shown_status: text(".tile-status").toUpperCase(), guests: text('dd[data-fact="guests"]'),
    checks: text('dd[data-fact="checks"]'), total: text('dd[data-fact="total"]'),
    orders: [...tile.querySelectorAll("ul.checks li")].map((li) => li.dataset.orderId),
  };
}
return found;
"""


def tiles(dash) -> dict[str, dict]:
    """What the floor shows, read in one script run (the view redraws on every refresh)."""
    return dash.driver.execute_script(READ_TILES)


def expected(client, factory, manager, home) -> dict[str, dict]:
    data = client.get(f"{API}/locations/{home.id}/tables", headers=factory.headers(manager)).json["data"]
    out = {}
    for table in data:
        guests = [o["guest_count"] for o in table["open_orders"] if o["guest_count"] is not None]
        total = sum(Decimal(o["total"]) for o in table["open_orders"])
        out[table["name"]] = {
            "area": table["area"] or "", "status": table["status"],
            "shown_status": "OCCUPIED" if table["status"] == "occupied" else "FREE",
            "guests": str(sum(guests)) if guests else "—", "checks": str(len(table["open_orders"])),
            "total": shown_money(f"{total:.2f}"), "orders": [str(o["id"]) for o in table["open_orders"]],
        }
    return out


def test_the_floor_equals_the_tables_api_and_follows_it_live(dash, client, factory, floor):
    dash.open("?refresh=1").login_as_staff("marta@example.com")
    want = expected(client, factory, floor["manager"], floor["home"])
    assert want["T1"]["status"] == "occupied" and len(want["T1"]["orders"]) == 3 and want["T3"]["status"] == "free"
    dash.wait(lambda d: tiles(dash) == want, f"the floor differs from the API's {want}")
    areas = [a.get_attribute("data-area") for a in dash.driver.find_elements(By.CSS_SELECTOR, "#floor .floor-area")]
    assert areas == ["", "Salón", "Terraza"]  # the API's order: no area first
    # a new party at T3 shows up without a reload
    dash.mark_window()
    resp = client.post(f"{API}/orders", json={"customer_name": "Nueva", "table_id": floor["tables"]["T3"],
                                              "guest_count": 5, "items": [{"product_id": floor["taco"].id,
                                                                           "quantity": 2}]},
                       headers=factory.headers(floor["luis"]))
    assert resp.status_code == 201
    want = expected(client, factory, floor["manager"], floor["home"])
    assert want["T3"]["status"] == "occupied"
    dash.wait(lambda d: tiles(dash) == want, f"the floor did not follow the API's {want}")
    assert dash.not_reloaded()
    assert dash.csp_violations() == []


@pytest.mark.parametrize("size", [(390, 844), (1280, 800)], ids=["390x844", "1280x800"])
def test_the_floor_is_usable_at_phone_and_desktop_sizes(dash, client, factory, floor, artifacts, backend, size):
    width, height = size
    dash.driver.set_window_size(width, height)
    dash.open().login_as_staff("marta@example.com")
    want = expected(client, factory, floor["manager"], floor["home"])
    dash.wait(lambda d: tiles(dash) == want, "the floor is not drawn")
    inner = dash.driver.execute_script("return [window.innerWidth, document.documentElement.scrollWidth]")
    assert inner[1] <= inner[0], f"horizontal scrolling at {width}x{height}: {inner}"
    for tile in dash.driver.find_elements(By.CSS_SELECTOR, "#floor .table-tile"):
        dash.driver.execute_script("arguments[0].scrollIntoView()", tile)
        assert tile.is_displayed()
        box = tile.rect
        assert box["x"] >= 0 and box["x"] + box["width"] <= inner[0] + 1, box
    floor_section = dash.element("floor-section")
    dash.driver.execute_script("arguments[0].scrollIntoView()", floor_section)
    dash.driver.save_screenshot(str(artifacts / f"dashboard-floor-{width}x{height}-{backend}.png"))
