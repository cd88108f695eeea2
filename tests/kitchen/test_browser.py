"""The kitchen screen in a real headless chromium, against a real server and database: a ticket shows
within 2 s of the order, a tap marks it ready, a voided line shows as a void ticket, the screen says
when it is offline and comes back, and a phone and a tablet render without horizontal scrolling."""

from __future__ import annotations

import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.constants import ORDERS, PASSWORD
from tests.dashboard.conftest import artifacts, browser, downloads, live_server  # noqa: F401  (fixtures)
from tests.kitchen.conftest import line

# The screenshots go to tests/artifacts/ (like the dashboard's); docs/kitchen-*.png are copies of them.


class Screen:
    def __init__(self, driver, url: str) -> None:
        self.driver, self.url = driver, url

    def open(self) -> Screen:
        self.driver.get(f"{self.url}/kitchen/assets/none")
        self.driver.execute_script("sessionStorage.clear(); localStorage.clear()")
        self.driver.get(f"{self.url}/kitchen?poll=250")
        return self

    def wait(self, condition, message: str, timeout: float = 10):
        def safe(driver):
            try:
                return condition(driver)
            except StaleElementReferenceException:
                return False
        return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(safe, message)

    def login(self, email: str) -> None:
        self.wait(lambda d: d.find_element(By.ID, "login").is_displayed(), "no login form")
        self.driver.find_element(By.ID, "login-email").send_keys(email)
        self.driver.find_element(By.ID, "login-password").send_keys(PASSWORD)
        self.driver.find_element(By.ID, "login-submit").click()
        self.wait(lambda d: d.find_element(By.ID, "board").get_attribute("data-state") == "live", "never live")

    def cards(self) -> list:
        return self.driver.find_elements(By.CSS_SELECTOR, "#tickets .ticket")

    def numbers(self) -> list[str]:
        return [c.find_element(By.CSS_SELECTOR, ".number").text for c in self.cards()]

    def link(self) -> str:
        return self.driver.find_element(By.ID, "link").get_attribute("data-state")

    def no_horizontal_scroll(self) -> None:
        inner, scroll = self.driver.execute_script("return [window.innerWidth, document.documentElement.scrollWidth]")
        assert scroll <= inner, f"horizontal scrolling: {scroll} > {inner}"


@pytest.fixture
def screen(browser, live_server):  # noqa: F811
    live_server.faults.unavailable = None
    browser.set_window_size(1280, 800)
    yield Screen(browser, live_server.url)
    browser.get("about:blank")  # stop polling before the next test writes its fixtures


@pytest.fixture
def cook(kit):
    kit.waiter.email  # noqa: B018  (loaded while the session is open)
    return kit


def test_tickets_appear_bump_and_void(screen, cook, artifacts):  # noqa: F811
    kit = cook
    screen.open().login(kit.waiter.email)  # the grill is the first station: chosen by default
    started = time.monotonic()
    order = kit.order([line(kit.taco, 2, notes="sin cebolla", modifiers=[{"name": "Extra salsa"}]),
                       line(kit.taco, 1, course=2)])
    screen.wait(lambda d: len(screen.cards()) == 1, "the ticket never appeared", timeout=2)
    assert time.monotonic() - started < 2
    card = screen.cards()[0]
    assert "Table 12" in card.text and "Luis" in card.text and "Taco al pastor" in card.text
    assert "sin cebolla" in card.text and "Extra salsa" in card.text and "Course 1" in card.text
    card.click()
    screen.wait(lambda d: screen.cards() == [], "marking ready did not remove the ticket", timeout=3)
    kit.client.post(f"{ORDERS}/{order['id']}/fire", json={"course": 2}, headers=kit.h())
    screen.wait(lambda d: len(screen.cards()) == 1, "the fired course never appeared", timeout=2)
    kit.client.delete(f"{ORDERS}/{order['id']}/items/{order['items'][0]['id']}", headers=kit.h(kit.manager))
    screen.wait(lambda d: len(screen.cards()) == 2, "the void ticket never appeared", timeout=2)
    void = screen.cards()[1]
    assert void.get_attribute("data-kind") == "void" and "void" in void.get_attribute("class")
    assert "VOID" in void.text and "−2×" in void.text
    screen.driver.set_window_size(1280, 800)
    screen.driver.save_screenshot(str(artifacts / "kitchen-1280x800.png"))
    # Recall brings back the ticket made ready last.
    screen.driver.find_element(By.ID, "recall").click()
    screen.wait(lambda d: len(screen.cards()) == 3, "the recalled ticket never came back", timeout=3)


def test_offline_and_back(screen, cook, live_server):  # noqa: F811
    kit = cook
    screen.open().login(kit.waiter.email)
    live_server.faults.unavailable = "/api/v1/kitchen"
    screen.wait(lambda d: screen.link() == "offline", "never showed offline", timeout=5)
    kit.order([line(kit.taco)])
    live_server.faults.unavailable = None
    screen.wait(lambda d: screen.link() == "online" and len(screen.cards()) == 1, "never reconnected", timeout=8)


@pytest.mark.parametrize("size", [(390, 844), (1280, 800)], ids=["phone-390x844", "tablet-1280x800"])
def test_no_horizontal_scrolling(screen, cook, size, artifacts):  # noqa: F811
    kit = cook
    width, height = size
    screen.driver.set_window_size(width, height)
    screen.open().login(kit.waiter.email)
    kit.order([line(kit.taco, 2, notes="una nota muy larga " * 8), line(kit.taco, course=1)])
    long_word = "Supercalifragilisticoespialidosoooooooooooooooooooooo"
    kit.order([line(kit.taco, 12, modifiers=[{"name": long_word}])], table="Terraza 14")
    screen.wait(lambda d: len(screen.cards()) == 2, "tickets never appeared", timeout=3)
    screen.no_horizontal_scroll()
    if width == 390:
        screen.driver.save_screenshot(str(artifacts / "kitchen-390x844.png"))
