"""The dashboard in a real headless chromium, against a real server and database.

Every figure on the page is compared with what the JSON API answers for the same range. Tests of
v1.1 features (locations, taxes, tips, refunds, discounts, the till) skip, naming the missing
endpoint, while this server answers it with 404.
"""

from __future__ import annotations

import base64
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from flask_jwt_extended import create_access_token
from selenium.webdriver.common.by import By

from app import business_time
from tests.dashboard.page import (
    OPTIONAL_FIGURES,
    Dashboard,
    average_ticket,
    shown_money,
)
from tests.reports.orderkit import HttpDriver, Line, ServiceDriver


@pytest.fixture
def dash(browser, live_server):
    live_server.faults.unavailable = None
    browser.set_window_size(1280, 800)
    browser.get_log("browser")  # start each test with an empty console log
    return Dashboard(browser, live_server.url)


@pytest.fixture
def staff(factory):
    return {"manager": factory.make_user("manager", name="Marta Manager", email="marta@example.com"),
            "luis": factory.make_user("waiter", name="Luis", email="luis@example.com"),
            "ana": factory.make_user("waiter", name="Ana", email="ana@example.com")}


@pytest.fixture
def sales(client, factory, staff):
    """Today: Luis sells two orders (one still open), Ana one; a week ago, at this hour, one order."""
    taco, agua, mole = (factory.make_product("Taco al pastor", "25.00"), factory.make_product("Agua de horchata",
                        "25.50"), factory.make_product("Mole poblano", "140.00"))
    kit = HttpDriver(client, factory)
    first = kit.create(staff["luis"], [Line(taco.id, 3), Line(agua.id, 1)])
    kit.close(first)
    kit.create(staff["luis"], [Line(mole.id, 1)])  # stays open
    second = kit.create(staff["ana"], [Line(taco.id, 2), Line(mole.id, 2)])
    kit.close(second)
    ServiceDriver().batch(staff["ana"], [([Line(agua.id, 4)], datetime.now(UTC) - timedelta(days=7))])
    return {"taco": taco, "agua": agua, "mole": mole, "kit": kit}


def api(client, factory, user, path: str, **params) -> dict:
    resp = client.get(f"/api/v1{path}", query_string=params, headers=factory.headers(user))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.json


def today() -> str:
    return business_time.today().isoformat()


def test_manager_sees_headline_figures_equal_to_the_reports_api(dash, client, factory, staff, sales):
    dash.open().login_as_staff("marta@example.com")
    manager = staff["manager"]
    day = api(client, factory, manager, "/reports/sales")["end_date"]  # the reports' own "today"
    assert day == today()
    assert dash.element("start-date").get_attribute("value") == day
    assert dash.element("end-date").get_attribute("value") == day

    totals = api(client, factory, manager, "/reports/sales", start_date=day, end_date=day)["totals"]
    open_totals = api(client, factory, manager, "/reports/sales", start_date=day, end_date=day,
                      status="open")["totals"]
    assert (totals["orders"], open_totals["orders"]) == (3, 1)
    assert dash.figure("revenue") == (shown_money(totals["revenue"]), totals["revenue"])
    assert dash.figure("orders") == (str(totals["orders"]), str(totals["orders"]))
    assert dash.figure("open_orders") == ("1", "1")
    avg = average_ticket(totals)
    assert dash.figure("average_ticket") == (shown_money(avg), avg)
    for name in OPTIONAL_FIGURES:  # the v1.1 figures: the API's value, or "—" when it does not answer one
        expected = (shown_money(totals[name]), totals[name]) if name in totals else ("—", "")
        assert dash.figure(name) == expected, name

    products = api(client, factory, manager, "/reports/products", start_date=day, end_date=day, limit=10)["data"]
    assert dash.table("products-table") == [
        [str(i + 1), row["product_name"], str(row["quantity"]), shown_money(row["revenue"])]
        for i, row in enumerate(products)]
    quantities = [int(row[2]) for row in dash.table("products-table")]
    assert quantities == sorted(quantities, reverse=True)
    waiters = api(client, factory, manager, "/reports/waiters", start_date=day, end_date=day)["data"]
    shown = dash.table("waiters-table")
    assert [row[0] for row in shown] == [w["waiter_name"] for w in
                                         sorted(waiters, key=lambda w: -float(w["revenue"]))]
    assert {row[0]: row[1:3] for row in shown} == {
        w["waiter_name"]: [str(w["orders"]), shown_money(w["revenue"])] for w in waiters}

    # v1: no GET /locations and no GET /reports/payments -> no picker, no till table.
    has_locations = client.get("/api/v1/locations", headers=factory.headers(manager)).status_code == 200
    has_till = client.get("/api/v1/reports/payments", headers=factory.headers(manager)).status_code == 200
    assert dash.shown("location-field") == has_locations
    assert dash.shown("till-section") == has_till
    assert dash.element("updated").text.startswith("Last updated")
    assert dash.csp_violations() == []


def test_chart_has_a_bar_for_every_hour_with_sales_and_last_week_beside_it(dash, client, factory, staff, sales):
    dash.open().login_as_staff("marta@example.com")
    day = today()
    week_before = (date.fromisoformat(day) - timedelta(days=7)).isoformat()
    now_rows = api(client, factory, staff["manager"], "/reports/sales", granularity="hour",
                   start_date=day, end_date=day)["data"]
    prev_rows = api(client, factory, staff["manager"], "/reports/sales", granularity="hour",
                    start_date=week_before, end_date=week_before)["data"]
    expect_now = [{"period": r["period"], "revenue": r["revenue"]} for r in now_rows if r["revenue"] != "0.00"]
    expect_prev = [{"period": r["period"], "revenue": r["revenue"]} for r in prev_rows if r["revenue"] != "0.00"]
    assert expect_now and expect_prev
    assert [{k: b[k] for k in ("period", "revenue")} for b in dash.bars("now")] == expect_now
    assert [{k: b[k] for k in ("period", "revenue")} for b in dash.bars("prev")] == expect_prev
    assert all(b["height"] > 0 for b in dash.bars("now") + dash.bars("prev"))
    assert week_before in dash.element("legend-prev").text and "hatched" in dash.element("chart").find_element(
        By.TAG_NAME, "svg").get_attribute("aria-label")


def test_csv_download_is_the_apis_own_csv(dash, client, factory, staff, sales, downloads):
    dash.open().login_as_staff("marta@example.com")
    for old in downloads.iterdir():
        old.unlink()
    day = today()
    dash.element("csv-products").click()
    name = f"products_{day}_{day}.csv"
    dash.wait(lambda d: (downloads / name).exists() and not list(downloads.glob("*.crdownload")),
              f"{name} was not downloaded (have {[p.name for p in downloads.iterdir()]})")
    expected = client.get("/api/v1/reports/products", headers=factory.headers(staff["manager"]),
                          query_string={"start_date": day, "end_date": day, "sort": "quantity", "format": "csv"})
    assert (downloads / name).read_bytes() == expected.data
    assert b"Taco al pastor" in expected.data

    dash.element("csv-waiters").click()
    waiters = f"waiters_{day}_{day}.csv"
    dash.wait(lambda d: (downloads / waiters).exists() and not list(downloads.glob("*.crdownload")),
              f"{waiters} was not downloaded")
    assert b"Luis" in (downloads / waiters).read_bytes()


def test_wrong_password_says_so_and_the_form_keeps_working(dash, staff):
    dash.open().login("marta@example.com", "not the password")
    dash.wait(lambda d: dash.shown("login-error"), "no login error shown")
    assert "Wrong email or password" in dash.element("login-error").text
    assert not dash.shown("dash")
    assert dash.stored_auth() is None
    dash.login_as_staff("marta@example.com")
    assert not dash.shown("login-error") and not dash.shown("login")


def test_a_waiter_is_told_the_page_is_for_managers_and_sees_no_figures(dash, staff, sales):
    dash.open().login("luis@example.com")
    dash.wait(lambda d: dash.shown("not-manager"), "the waiter is not told the page is for managers")
    assert "for managers" in dash.element("not-manager").text
    assert not dash.shown("dash") and not dash.shown("figures")
    assert all(dash.figure(name)[1] == "" for name in ("revenue", "orders", "open_orders"))
    assert "Luis (waiter)" in dash.element("who-name").text
    dash.element("logout").click()
    dash.wait(lambda d: dash.shown("login"), "logout did not return to the login form")


def test_a_range_without_sales_says_so(dash, staff, sales):
    dash.open().login_as_staff("marta@example.com")
    dash.set_range("2020-01-01", "2020-01-03")
    dash.wait(lambda d: dash.shown("empty"), "no 'no sales' message")
    dash.wait_state("fresh")
    assert "No sales in this range (2020-01-01 to 2020-01-03)" in dash.element("empty").text
    assert dash.figure("revenue") == ("0.00", "0.00") and dash.figure("orders") == ("0", "0")
    assert dash.bars("now") == [] and "No sales on 2020-01-03" in dash.element("chart").text
    assert dash.table("products-table") == [["No products sold in this range."]]
    dash.element("today").click()  # back to today's business date
    dash.wait(lambda d: not dash.shown("empty"), "'Today' did not bring the sales back")
    assert dash.element("end-date").get_attribute("value") == today()


def test_a_503_marks_the_figures_out_of_date_and_the_page_recovers(dash, live_server, staff, sales):
    dash.open("?refresh=1").login_as_staff("marta@example.com")
    dash.mark_window()
    revenue = dash.figure("revenue")
    live_server.faults.unavailable = "/api/v1/reports"
    dash.wait_state("stale")
    assert "temporarily unavailable (503)" in dash.element("problem").text
    assert "out of date" in dash.element("problem").text
    assert dash.element("updated").text.startswith("Out of date")
    assert "(out of date)" in dash.driver.execute_script(
        "return getComputedStyle(document.getElementById('fig-revenue'), '::after').content")

    dash.set_range("2020-01-01", "2020-01-01")  # another range while the server is down: nothing old is shown
    dash.wait_state("error")
    assert dash.figure("revenue") == ("—", "") and dash.table("products-table") == []

    dash.element("today").click()
    live_server.faults.unavailable = None
    dash.wait_state("fresh")
    assert not dash.shown("problem")
    assert dash.figure("revenue") == revenue
    assert dash.not_reloaded()


def test_a_503_right_after_sign_in_shows_no_figures_until_the_server_answers(dash, live_server, staff, sales):
    live_server.faults.unavailable = "/api/v1/reports"
    dash.open("?refresh=1").login("marta@example.com")
    dash.wait(lambda d: dash.shown("problem"), "no message while the reports answer 503")
    assert "temporarily unavailable (503)" in dash.element("problem").text
    assert dash.state() == "error" and dash.figure("revenue") == ("—", "")
    assert dash.element("updated").text == "Not loaded"
    live_server.faults.unavailable = None
    dash.wait_state("fresh")
    assert dash.figure("orders") == ("3", "3") and not dash.shown("problem")


def test_the_page_refreshes_itself_without_reloading(dash, client, factory, staff, sales):
    dash.open("?refresh=1").login_as_staff("marta@example.com")
    dash.mark_window()
    assert dash.figure("orders")[1] == "3"
    first_update = dash.element("updated").text
    sales["kit"].create(staff["ana"], [Line(sales["taco"].id, 1)])
    dash.wait(lambda d: dash.figure("orders")[1] == "4", "the new order never appeared")
    assert dash.figure("open_orders")[1] == "2"
    assert dash.not_reloaded()
    dash.wait(lambda d: dash.element("updated").text != first_update, "'last updated' never changed")


def test_an_expired_access_token_is_refreshed_and_a_dead_session_asks_to_sign_in(dash, staff, sales):
    dash.open().login_as_staff("marta@example.com")
    expired = create_access_token(identity=staff["manager"], expires_delta=timedelta(seconds=-60))
    dash.store_auth(access=expired)
    dash.open(fresh_session=False)
    dash.wait_state("fresh")
    assert dash.stored_auth()["access"] != expired
    assert dash.figure("orders")[1] == "3"

    dash.store_auth(access=expired, refresh="garbled")
    dash.open(fresh_session=False)
    dash.wait(lambda d: dash.shown("login"), "a dead session did not return to the login form")
    assert "session has expired" in dash.element("notice").text
    assert dash.stored_auth() is None and not dash.shown("dash")


def test_the_access_token_is_refreshed_before_it_expires(dash, staff, sales):
    dash.open().login_as_staff("marta@example.com")
    before = dash.stored_auth()
    # Pretend the token expires within the minute: the page refreshes it now, before any request fails.
    dash.store_auth(expiresAt=dash.driver.execute_script("return Date.now() + 30000"))
    dash.open(fresh_session=False)
    dash.wait_state("fresh")
    dash.wait(lambda d: dash.stored_auth()["refresh"] != before["refresh"], "the tokens were not refreshed")
    after = dash.stored_auth()
    assert after["access"] != before["access"] and after["expiresAt"] > before["expiresAt"]


def test_a_reversed_range_is_refused_plainly_and_nothing_old_is_shown(dash, staff, sales):
    dash.open().login_as_staff("marta@example.com")
    dash.set_range("2026-01-05", "2026-01-01")
    dash.wait_state("error")
    assert "start_date: Must not be after end_date." in dash.element("problem").text
    assert dash.figure("revenue") == ("—", "") and dash.bars("now") == []
    dash.set_range("2026-01-01", "2026-01-05")
    dash.wait_state("fresh")
    assert not dash.shown("problem") and dash.figure("orders") == ("0", "0")


def test_logout_revokes_the_tokens(dash, client, staff):
    dash.open().login_as_staff("marta@example.com")
    refresh_token = dash.stored_auth()["refresh"]
    dash.element("logout").click()
    dash.wait(lambda d: dash.shown("login"), "logout did not return to the login form")
    assert dash.stored_auth() is None and not dash.shown("dash")
    assert "signed out" in dash.element("notice").text
    for _ in range(20):  # the logout request is sent after the screen changed
        resp = client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {refresh_token}"})
        if resp.status_code == 401:
            break
        time.sleep(0.1)
    assert resp.status_code == 401


@pytest.mark.parametrize("size", [(1280, 800), (768, 1024)], ids=["1280x800", "768x1024"])
def test_usable_at_desktop_and_tablet_sizes(dash, staff, sales, artifacts, backend, size):
    width, height = size
    dash.driver.set_window_size(width, height)
    dash.open().login_as_staff("marta@example.com")
    inner = dash.driver.execute_script("return [window.innerWidth, document.documentElement.scrollWidth]")
    assert inner[1] <= inner[0], f"horizontal scrolling at {width}x{height}: {inner}"
    for element_id in ("fig-revenue", "chart", "products-table", "waiters-table", "logout", "end-date"):
        assert dash.shown(element_id), element_id
    dash.driver.save_screenshot(str(artifacts / f"dashboard-{width}x{height}-{backend}.png"))
    size = dash.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    whole = dash.driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    (artifacts / f"dashboard-{width}x{height}-{backend}-full.png").write_bytes(base64.b64decode(whole["data"]))


# ---------------------------------------------------------------- v1.1


def test_switching_location_shows_that_locations_figures(dash, client, factory, staff):
    admin = factory.make_user("admin", name="Ada Admin", email="ada@example.com")
    headers = factory.headers(admin)
    default = next(loc for loc in client.get("/api/v1/locations", headers=headers).json["data"] if loc["default"])
    created = client.post("/api/v1/locations", headers=headers,
                          json={"name": "Centro", "timezone": "America/Mexico_City", "tax_rate": "16"})
    assert created.status_code == 201, created.get_data(as_text=True)
    centro = created.json
    product = factory.make_product("Pozole", "90.00")
    for location, quantity in ((default, 1), (centro, 3)):
        resp = client.post("/api/v1/orders", headers=headers, json={
            "customer_name": "Ana", "location_id": location["id"],
            "items": [{"product_id": product.id, "quantity": quantity}]})
        assert resp.status_code == 201, resp.get_data(as_text=True)

    dash.open().login_as_staff("ada@example.com")
    options = [o.text for o in dash.element("location").find_elements(By.TAG_NAME, "option")]
    assert options[0] == "All my locations" and {"Centro", default["name"]} <= set(options)
    for location in (centro, default):
        dash.driver.execute_script(
            "const s = document.getElementById('location'); s.value = arguments[0];"
            "s.dispatchEvent(new Event('change', {bubbles: true}));", str(location["id"]))
        day = api(client, factory, admin, "/reports/sales", location_id=location["id"])["end_date"]
        totals = api(client, factory, admin, "/reports/sales", location_id=location["id"],
                     start_date=day, end_date=day)["totals"]
        dash.wait(lambda d, t=totals: dash.state() == "fresh" and dash.figure("revenue")[1] == t["revenue"],
                  f"location {location['name']} never showed its revenue {totals['revenue']}")
        assert dash.element("end-date").get_attribute("value") == day
        assert dash.figure("tax")[1] == totals.get("tax", "")  # a figure the API does not answer has no value


def test_tax_tips_refunds_discounts_and_the_till(dash, client, factory, staff):
    manager = staff["manager"]
    headers = factory.headers(manager)
    product = client.post("/api/v1/products", headers=headers,  # taxed, so that tax is not 0.00
                          json={"name": "Enchiladas", "price": "120.00", "tax_rate": "16"})
    assert product.status_code == 201, product.get_data(as_text=True)
    order = client.post("/api/v1/orders", headers=factory.headers(staff["luis"]), json={
        "customer_name": "Ana", "items": [{"product_id": product.json["id"], "quantity": 2}]}).json
    steps = [(f"/api/v1/orders/{order['id']}/discounts", {"percent": 10, "reason": "regular"}),
             (f"/api/v1/orders/{order['id']}/payments", {"method": "card", "amount": None, "tip": "20.00"}),
             (f"/api/v1/orders/{order['id']}/close", {}),
             (f"/api/v1/orders/{order['id']}/refunds",
              {"items": [{"item_id": order["items"][0]["id"], "quantity": 1}], "reason": "cold"})]
    for (path, body), status in zip(steps, (201, 201, 200, 201), strict=True):  # API.md's status for each
        if body.get("amount", 1) is None:
            body["amount"] = client.get(f"/api/v1/orders/{order['id']}", headers=headers).json["balance_due"]
        resp = client.post(path, headers=headers, json=body)
        assert resp.status_code == status, (path, resp.get_data(as_text=True))

    dash.open().login_as_staff("marta@example.com")
    day = today()
    totals = api(client, factory, manager, "/reports/sales", start_date=day, end_date=day)["totals"]
    for name in ("revenue", *OPTIONAL_FIGURES):
        assert dash.figure(name) == (shown_money(totals[name]), totals[name]), name
    assert all(totals[name] != "0.00" for name in OPTIONAL_FIGURES)
    till = api(client, factory, manager, "/reports/payments", start_date=day, end_date=day)["data"]
    assert dash.shown("till-section")
    assert dash.table("till-table") == [
        [r["method"], str(r["payments"]), *(shown_money(r[k]) for k in ("amount", "tips", "refunds", "net"))]
        for r in till]
    waiters = api(client, factory, manager, "/reports/waiters", start_date=day, end_date=day)["data"]
    assert {row[0]: row[3] for row in dash.table("waiters-table")} == {
        w["waiter_name"]: shown_money(w["tips"]) for w in waiters}


# ---------------------------------------------------------------- issue 22: what a manager reads


def test_headline_shows_gross_collected_and_net_with_open_orders_apart_and_refund_methods(dash, client, factory,
                                                                                       staff):
    manager = staff["manager"]
    headers = factory.headers(manager)
    product = client.post("/api/v1/products", headers=headers,
                          json={"name": "Enchiladas", "price": "120.00", "tax_rate": "16"}).json
    order = client.post("/api/v1/orders", headers=factory.headers(staff["luis"]), json={
        "customer_name": "Ana", "items": [{"product_id": product["id"], "quantity": 2}]}).json
    balance = client.get(f"/api/v1/orders/{order['id']}", headers=headers).json["balance_due"]
    for path, body in ((f"/api/v1/orders/{order['id']}/payments", {"method": "card", "amount": balance,
                                                                   "tip": "20.00"}),
                       (f"/api/v1/orders/{order['id']}/close", {}),
                       (f"/api/v1/orders/{order['id']}/refunds",
                        {"items": [{"item_id": order["items"][0]["id"], "quantity": 1}], "reason": "cold"})):
        resp = client.post(path, headers=headers, json=body)
        assert resp.status_code in (200, 201), (path, resp.get_data(as_text=True))
    unpaid = client.post("/api/v1/orders", headers=factory.headers(staff["ana"]), json={
        "customer_name": "Mesa 3", "items": [{"product_id": product["id"], "quantity": 1}]})
    assert unpaid.status_code == 201

    dash.open().login_as_staff("marta@example.com")
    day = today()
    totals = api(client, factory, manager, "/reports/sales", start_date=day, end_date=day)["totals"]
    open_totals = api(client, factory, manager, "/reports/sales", start_date=day, end_date=day, status="open")["totals"]
    till = api(client, factory, manager, "/reports/payments", start_date=day, end_date=day)
    collected = f"{Decimal(till['totals']['amount']) + Decimal(till['totals']['tips']):.2f}"
    assert dash.figure("gross") == (shown_money(totals["gross"]), totals["gross"])
    assert dash.figure("revenue") == (shown_money(totals["revenue"]), totals["revenue"])
    assert dash.figure("collected") == (shown_money(collected), collected)
    assert collected == f"{Decimal(balance) + Decimal('20.00'):.2f}"  # the payment and its tip, not the open order
    # Open (unpaid) orders stand apart from the headline, with what they are worth.
    assert dash.figure("open_orders") == ("1", "1")
    assert dash.figure("open_gross") == (shown_money(open_totals["gross"]), open_totals["gross"])
    apart = dash.element("open-figures").find_elements(By.CSS_SELECTOR, "dd[data-figure]")
    assert {dd.get_attribute("data-figure") for dd in apart} == {"open_orders", "open_gross"}
    assert not dash.element("figures").find_elements(By.CSS_SELECTOR, 'dd[data-figure="open_orders"]')
    # Refunds say which method paid them back.
    [card] = [row for row in till["data"] if row["method"] == "card"]
    assert card["refunds"] != "0.00"
    assert dash.element("refund-methods").text == f"card {shown_money(card['refunds'])}"


def test_at_390_px_nothing_scrolls_sideways_and_hour_labels_stay_readable(dash, staff, sales, artifacts, backend):
    dash.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        dash.open().login_as_staff("marta@example.com")
        dash.wait(lambda d: dash.state() == "fresh", "the figures never loaded")
        page = dash.driver.execute_script("return [window.innerWidth, document.documentElement.scrollWidth]")
        assert page[0] == 390 and page[1] <= page[0], f"horizontal scrolling at 390 px: {page}"
        wider = dash.driver.execute_script(
            "return [...document.querySelectorAll('main *')].filter(e => e.offsetParent !== null &&"
            " e.getBoundingClientRect().right > window.innerWidth + 0.5).map(e => e.id || e.tagName)")
        assert wider == [], wider
        labels = dash.driver.execute_script(
            "return [...document.querySelectorAll('#chart text.axis-label')].filter(t => /h$/.test(t.textContent))"
            ".map(t => { const r = t.getBoundingClientRect();"
            " return [r.left, r.right, r.height, parseFloat(getComputedStyle(t).fontSize)]; })")
        assert len(labels) >= 6, labels
        assert all(font >= 11 and height >= 10 for _, _, height, font in labels), labels
        gaps = [b[0] - a[1] for a, b in zip(labels, labels[1:], strict=False)]
        assert min(gaps) >= 4, f"hour labels touch or overlap: {labels}"
        dash.driver.save_screenshot(str(artifacts / f"dashboard-390-{backend}.png"))
    finally:
        dash.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
