"""Chromium for the console's browser tests: Debian's ``chromium`` and ``chromium-driver`` driven by Selenium.

Locally a machine without them skips the browser tests, saying so; with ``CI`` set a missing browser fails them
(``.ci/run`` installs both). Screenshots go to ``OMNIBRIDGE_SCREENSHOTS`` (default: a temporary directory).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def _missing() -> str | None:
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if shutil.which(path) is None:
            return f"{path} is missing: apt-get install -y {package}"
    return None


@pytest.fixture
def screenshots() -> Path:
    """Where the browser tests save their screenshots."""
    path = Path(os.environ.get("OMNIBRIDGE_SCREENSHOTS") or tempfile.mkdtemp(prefix="omnibridge-screens-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def browser() -> Iterator[object]:
    """A headless Chromium (a ``selenium.webdriver.Chrome``), closed afterwards."""
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the console's browser tests need Chromium in CI: {missing}")
        pytest.skip(f"no browser for the console's browser tests: {missing}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1400,1000",
        f"--user-data-dir={tempfile.mkdtemp(prefix='omnibridge-chromium-')}",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()
