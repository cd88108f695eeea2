"""The dashboard's drawers card in a real headless chromium: open sessions with their live expected cash,
closed ones with their printable Z, the day-close status; every figure equal to the JSON API's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from selenium.webdriver.common.by import By

from tests.dashboard.page import Dashboard, shown_money


@pytest.fixture
def dash(browser, live_server):
    live_server.faults.unavailable = None
    browser.set_window_size(1280, 900)
    browser.get_log("browser")
    return Dashboard(browser, live_server.url)


def post(client, factory, user, path, body=None, status=201, **headers):
    resp = client.post(f"/api/v1{path}", json=body, headers=factory.headers(user, **headers))
    assert resp.status_code == status, resp.get_data(as_text=True)
    return resp.json


def test_drawers_card_shows_live_x_the_z_and_the_day(dash, client, factory):
    manager = factory.make_user("manager", name="Marta Manager", email="marta@example.com")
    luis = factory.make_user("waiter", name="Luis", email="luis@example.com")
    taco = factory.make_product("Taco al pastor", "25.00")
    loc = client.get("/api/v1/locations", headers=factory.headers(manager)).json["data"][0]["id"]
    caja1 = post(client, factory, manager, f"/locations/{loc}/drawers", {"name": "Caja 1"})
    caja2 = post(client, factory, manager, f"/locations/{loc}/drawers", {"name": "Caja 2"})
    open_s = post(client, factory, luis, f"/drawers/{caja1['id']}/sessions", {"opening_float": "1500.00"})
    done = post(client, factory, manager, f"/drawers/{caja2['id']}/sessions", {"opening_float": "200.00"})
    order = post(client, factory, luis, "/orders", {"customer_name": "A", "items": [
        {"product_id": taco.id, "quantity": 3}]})
    post(client, factory, luis, f"/orders/{order['id']}/close", {"payment_method": "cash", "tip": "5.00"}, 200)
    post(client, factory, manager, f"/drawer-sessions/{open_s['id']}/movements",
         {"type": "safe_drop", "amount": "1000.00", "reason": "retiro"})
    closed = post(client, factory, manager, f"/drawer-sessions/{done['id']}/close",
                  {"counted_cash": "190.00", "reason": "short"}, 200, **{"If-Match": '"1"'})

    dash.open().login_as_staff("marta@example.com")
    dash.wait(lambda d: dash.shown("drawers-section") and len(dash.table("drawers-table")) == 2,
              "the drawers card never showed two sessions")
    x = client.get(f"/api/v1/drawer-sessions/{open_s['id']}/x", headers=factory.headers(manager)).json
    rows = {tr.get_attribute("data-session"): [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in dash.driver.find_elements(By.CSS_SELECTOR, "#drawers-table tbody tr")}
    live = rows[str(open_s["id"])]
    assert live[1:5] == ["Caja 1", "open", "Luis", shown_money("1500.00")]
    assert live[5] == shown_money(x["figures"]["expected_cash"]) == shown_money("580.00")
    z_row = rows[str(done["id"])]
    assert z_row[1:3] == ["Caja 2", "closed"]
    assert z_row[5:] == [shown_money(closed["figures"]["expected_cash"]), shown_money("190.00"),
                         shown_money(closed["variance"]), "Z #1"]
    day = datetime.now(UTC).date().isoformat()
    status = dash.element("day-status").text
    assert f"business day {day}: open" in status

    # the printable Z is the API's text slip
    dash.driver.find_element(By.CSS_SELECTOR, f'#drawers-table tr[data-session="{done["id"]}"] button').click()
    dash.wait(lambda d: dash.shown("z-print") and "Z #1" in dash.element("z-slip").text, "the Z slip never showed")
    slip = client.get(f"/api/v1/drawer-sessions/{done['id']}/z?format=text", headers=factory.headers(manager))
    assert dash.element("z-slip").text.split() == slip.get_data(as_text=True).split()
    assert dash.csp_violations() == []

    # close the rest and the day: the card says who closed it and which Zs
    post(client, factory, manager, f"/drawer-sessions/{open_s['id']}/close", {"counted_cash": "580.00"}, 200,
         **{"If-Match": f'"{x["version"]}"'})
    post(client, factory, manager, f"/locations/{loc}/days/{day}/close")
    dash.element("refresh").click()
    dash.wait(lambda d: "closed by Marta Manager (Z 1, 2)" in dash.element("day-status").text,
              "the day-close status never showed")
