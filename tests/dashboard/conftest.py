"""Browser fixtures: a real HTTP server for the app, and Debian's chromium driven headless by Selenium.

Nothing downloads a browser: the chromium and chromedriver paths are given explicitly (so
selenium-manager has nothing to look up) and SE_OFFLINE forbids it to try. The server is werkzeug's
threaded server on a free port, serving the same app (and database) the test's factories write to,
behind a small switch that can make the API answer 503 for a moment.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.helpers import serving

CHROMIUM = os.environ.get("DASHBOARD_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DASHBOARD_CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--disable-default-apps", "--disable-extensions", "--lang=en-GB",
)


def browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} is missing: apt-get install chromium chromium-driver (.ci/run does)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (requirements-dev.txt)"
    return None


@pytest.fixture(scope="module")
def live_server(app):
    """The app over real HTTP on a free port, for as long as the module's tests run."""
    with serving(app) as server:
        yield server


@pytest.fixture(scope="module")
def downloads():
    path = Path(tempfile.mkdtemp(prefix="comanda-downloads-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(downloads):
    """One headless chromium per module, with a new empty profile; always quit at the end."""
    reason = browser_missing()
    if reason:
        if os.environ.get("DASHBOARD_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium-manager must never fetch a browser or driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="comanda-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1280,800")
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
        "safebrowsing.enabled": False,
    })
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        driver.set_script_timeout(10)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
