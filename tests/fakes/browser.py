"""Headless Chromium for end-to-end tests of the web console (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium 4 — no browser or driver is downloaded).

``chromium(tmp_path)`` starts a browser with a fresh profile and the flags that keep it off the
network; ``Browser`` adds waiting on conditions with a deadline (never sleeps) and screenshots
saved under the test's tmp dir (``browser.screenshot("queue")`` → ``<tmp>/screens/queue.png``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = os.environ.get("QADESK_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("QADESK_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--lang=zh-CN",
)
WAIT_S = 20.0
PHONE = (390, 844)
DESKTOP = (1280, 900)


class Browser:
    """One Chromium window."""

    def __init__(self, driver: webdriver.Chrome, shots: Path) -> None:
        self.driver = driver
        self.shots = shots

    # --- navigation and reading ---------------------------------------------------------
    def open(self, url: str) -> None:
        self.driver.get(url)

    @property
    def url(self) -> str:
        return str(self.driver.current_url)

    @property
    def source(self) -> str:
        return str(self.driver.page_source)

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def text(self, css: str = "body") -> str:
        return str(self.find(css).text)

    # --- waiting ------------------------------------------------------------------------
    def wait(self, condition: Callable[[], Any], timeout: float = WAIT_S, what: str = "") -> Any:
        """Poll ``condition`` until it returns something truthy (stale or missing elements
        count as not yet); fails with ``what`` after ``timeout`` seconds."""

        def check(_: Any) -> Any:
            try:
                return condition()
            except (StaleElementReferenceException, WebDriverException):
                return False

        message = what or getattr(condition, "__name__", "condition")
        return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(check, message)

    def wait_for(self, css: str, timeout: float = WAIT_S) -> WebElement:
        element: WebElement = self.wait(
            lambda: self.find(css) if self.find(css).is_displayed() else None,
            timeout,
            f"element {css}",
        )
        return element

    def wait_text(self, text: str, css: str = "body", timeout: float = WAIT_S) -> str:
        found: str = self.wait(
            lambda: self.text(css) if text in self.text(css) else None,
            timeout,
            f"text {text!r} in {css}",
        )
        return found

    def wait_url(self, part: str, timeout: float = WAIT_S) -> str:
        found: str = self.wait(lambda: self.url if part in self.url else None, timeout, part)
        return found

    # --- acting -------------------------------------------------------------------------
    def click(self, css: str) -> None:
        """Click ``css`` once it is shown; found again if a refresh (an htmx swap) replaced it
        between finding and clicking."""

        def clicked() -> bool:
            element = self.find(css)
            if not element.is_displayed():
                return False
            element.click()
            return True

        self.wait(clicked, what=f"click on {css}")

    def fill(self, css: str, text: str) -> None:
        element = self.wait_for(css)
        element.clear()
        element.send_keys(text)

    def script(self, code: str, *args: Any) -> Any:
        return self.driver.execute_script(code, *args)

    def fetch(
        self, method: str, url: str, body: str = "", headers: dict[str, str] | None = None
    ) -> int:
        """The status of a request made from the page (with its cookies)."""
        status: int = self.driver.execute_async_script(
            """
            const [method, url, body, headers, done] = arguments;
            fetch(url, {method, body: method === "GET" ? undefined : body, headers,
                        credentials: "same-origin", redirect: "manual"})
              .then(r => done(r.status)).catch(() => done(-1));
            """,
            method,
            url,
            body,
            headers or {"Content-Type": "application/x-www-form-urlencoded"},
        )
        return status

    def resize(self, size: tuple[int, int]) -> None:
        self.driver.set_window_size(*size)

    def screenshot(self, name: str) -> Path:
        """Save the whole page as ``<tmp>/screens/<name>.png``."""
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{name}.png"
        self.script("window.scrollTo(0, 0)")
        height = int(self.script("return document.documentElement.scrollHeight") or 900)
        width, old_height = self.driver.get_window_size().values()
        self.driver.set_window_size(width, min(max(height, 600), 4000))
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(width, old_height)
        return path


def require_chromium() -> None:
    """Fail (not skip) with the way to install the browser when it is missing."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        raise RuntimeError(
            f"{', '.join(missing)} not found: apt-get install -y chromium chromium-driver"
        )


@contextmanager
def chromium(
    tmp_path: Path, *, size: tuple[int, int] = DESKTOP, name: str = "browser"
) -> Iterator[Browser]:
    """A headless Chromium with a fresh profile under ``tmp_path``; closed afterwards."""
    require_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tmp_path / f"{name}-profile"
    profile.mkdir(parents=True, exist_ok=True)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={size[0]},{size[1]}")
    service = Service(executable_path=CHROMEDRIVER, log_output=str(tmp_path / f"{name}-driver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(WAIT_S)
    driver.set_script_timeout(WAIT_S)
    try:
        yield Browser(driver, tmp_path / "screens")
    finally:
        driver.quit()
