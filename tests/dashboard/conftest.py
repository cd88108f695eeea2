"""Browser fixtures: a real HTTP server for the app, and Debian's chromium driven headless by Selenium.

Nothing downloads a browser: the chromium and chromedriver paths are given explicitly (so
selenium-manager has nothing to look up) and SE_OFFLINE forbids it to try. The server is werkzeug's
threaded server on a free port, serving the same app (and database) the test's factories write to,
behind a small switch that can make the API answer 503 for a moment.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("DASHBOARD_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DASHBOARD_CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--disable-default-apps", "--disable-extensions", "--lang=en-GB",
)


class Faults:
    """WSGI wrapper: while `unavailable` is set, API paths starting with it answer 503 problem+json."""

    def __init__(self, wsgi) -> None:
        self.wsgi = wsgi
        self.unavailable: str | None = None
        self.hits = 0

    def __call__(self, environ, start_response):
        prefix = self.unavailable
        if prefix and environ.get("PATH_INFO", "").startswith(prefix):
            self.hits += 1
            body = json.dumps({"type": "about:blank", "title": "Service Unavailable", "status": 503,
                               "code": "service_unavailable", "detail": "The database is unreachable."}).encode()
            start_response("503 SERVICE UNAVAILABLE", [("Content-Type", "application/problem+json"),
                                                       ("Retry-After", "1"), ("Content-Length", str(len(body)))])
            return [body]
        return self.wsgi(environ, start_response)


class LiveServer:
    def __init__(self, app) -> None:
        self.faults = Faults(app)  # the Flask app's whole stack behind the fault switch
        self._server = make_server("127.0.0.1", 0, self.faults, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


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
    server = LiveServer(app).start()
    try:
        yield server
    finally:
        server.stop()


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
