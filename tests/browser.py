"""Headless Chromium for the report tests, and the README's screenshots of report pages.

Debian's ``chromium`` and ``chromium-driver`` driven by Selenium (the test
extras); ``.ci/run`` installs them. As a script it writes full-page screenshots
at 1280 px width::

    python tests/browser.py RESULTS/report.html docs/images/report_run.png [PAGE IMAGE ...]
"""
from __future__ import annotations

import base64
import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

WIDTH = 1280
# Debian's paths, found on PATH elsewhere; POOLSIM_CHROMIUM and POOLSIM_CHROMEDRIVER choose others.
CHROMIUM = os.environ.get("POOLSIM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("POOLSIM_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
# Headless, as root in a container (no sandbox; /tmp rather than a small /dev/shm), and quiet:
# no first-run page, no background or component updates, no sync, no QUIC, so that the only
# requests are the page's own.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars")


def missing() -> str | None:
    """Why no browser can be started here, or None when it can."""
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install -e '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).is_file():
            return f"{path} is missing (apt-get install -y chromium chromium-driver; .ci/run does)"
    return None


def chromium(profile: str | Path, logging: bool = False):
    """A headless Chromium with a fresh profile in ``profile``; ``logging`` keeps its console and
    network (performance) logs for :func:`console_errors` and :func:`requested_urls`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={WIDTH},900")
    if logging:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def console_errors(driver) -> list[str]:
    """The console's errors since the last call (the browser log's SEVERE entries)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def requested_urls(driver) -> list[str]:
    """Every URL the page asked for since the last call: the requests of the performance log's
    network events (one served from a cache is sent first too), and the resource-timing entries."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    urls += driver.execute_script("return performance.getEntriesByType('resource').map(entry => entry.name)")
    return urls


def full_page_png(driver, page: Path) -> bytes:
    """``page`` as a PNG of its whole height at :data:`WIDTH` CSS pixels."""
    driver.get(page.resolve().as_uri())
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False})
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return base64.b64decode(shot["data"])


def main(arguments: list[str]) -> int:
    import tempfile

    if len(arguments) < 2 or len(arguments) % 2:
        print(__doc__, file=sys.stderr)
        return 2
    reason = missing()
    if reason:
        print(f"no browser: {reason}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="poolsim-chromium-") as profile:
        driver = chromium(profile)
        try:
            for page, image in zip(arguments[::2], arguments[1::2]):
                Path(image).write_bytes(full_page_png(driver, Path(page)))
                print(f"{image}: {page}")
        finally:
            driver.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
