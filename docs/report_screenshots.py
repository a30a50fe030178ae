"""Screenshots of report pages in headless Chromium, full page at 1280 px width.

    python docs/report_screenshots.py RESULTS/report.html docs/images/report_run.png [...]

Pairs of (page, image). Needs Debian's chromium and chromium-driver, and selenium
(the test extras). The README's screenshots come from an example run and an
example comparison (see the README's Report section for the commands).
"""
from __future__ import annotations

import base64
import sys
import tempfile
from pathlib import Path

WIDTH = 1280
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars")


def chromium(profile: str, logging: bool = False):
    """A headless Chromium driven by chromium-driver, its profile in ``profile``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={WIDTH},900")
    if logging:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def full_page_png(driver, page: Path) -> bytes:
    """``page`` as a PNG of its whole height at :data:`WIDTH` CSS pixels."""
    driver.get(page.resolve().as_uri())
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False})
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    return base64.b64decode(shot["data"])


def main(arguments: list[str]) -> int:
    if len(arguments) < 2 or len(arguments) % 2:
        print(__doc__, file=sys.stderr)
        return 2
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
