"""A phone on a slow link: sign-in, and a 12 MP photo with and without JavaScript.

Run from the repository root: `.venv/bin/python bench/phone.py` (about 3 minutes).
It starts the real `locker serve` on a free 127.0.0.1 port over a fresh embedded data dir,
and drives Debian's Chromium (Playwright) as a 360 x 640 phone whose network DevTools
throttle (`Network.emulateNetworkConditions`) to a slow 3G link, its CPU slowed down 4
times (`Emulation.setCPUThrottlingRate`) like a cheap phone's. It measures:
- sign-in: the sign-in page opened with an empty cache, then the form sent, until the
  list of papers has loaded (goal <= 5 s);
- a ~4.4 MB, 12 MP photo from the tap on "Enregistrer" to the "enregistré" notice, with
  JavaScript (web/static/upload.js shrinks it on the phone; goal <= 20 s) and without it
  (the same form sends the photo whole: the baseline), and their ratio.
Figures go to bench/README.md "## phone".
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, Request, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from served import LOCKER, fresh_locker, locker_serving  # noqa: E402

from tests.photos import make_phone_photo  # noqa: E402

CHROMIUM = os.environ.get("LOCKER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
CHROMIUM_ARGS += ["--disable-background-networking", "--disable-component-update"]
PHONE = {"width": 360, "height": 640}
PASSWORD = "correct horse battery staple"
USERNAME = "awa"
# Slow 3G as a street phone gets it: 400 kbit/s up, 1.6 Mbit/s down, 300 ms round trip.
SLOW_3G = {
    "offline": False,
    "latency": 300,
    "downloadThroughput": 1_600_000 / 8,
    "uploadThroughput": 400_000 / 8,
}
# A cheap phone's CPU, as Lighthouse's mobile profile has it: 4 times slower than this one.
CPU_SLOWDOWN = 4
SIGN_IN_GOAL = 5.0
PHOTO_GOAL = 20.0
UPLOAD_TIMEOUT_MS = 240_000


@contextmanager
def locker_server(folder: str) -> Iterator[str]:
    """`locker serve` on a fresh data dir with one person; yields its base URL."""
    env = fresh_locker(folder)
    subprocess.run(
        [
            *LOCKER,
            "create-person",
            "--username",
            USERNAME,
            "--display-name",
            "Awa",
            "--password-stdin",
        ],
        input=PASSWORD.encode(),
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with locker_serving(env) as port:
        yield f"http://127.0.0.1:{port}"


def slow_phone(browser: Browser, url: str, *, javascript: bool) -> tuple[BrowserContext, Page]:
    """A fresh phone (empty cache, no cookies) on the slow link."""
    context = browser.new_context(
        base_url=url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale="fr-FR",
        java_script_enabled=javascript,
    )
    context.set_default_timeout(UPLOAD_TIMEOUT_MS)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    return context, page


def signed_in(page: Page) -> tuple[float, float]:
    """Seconds to open the sign-in page, then from sending it to the list of papers loaded
    (typing aside)."""
    started = time.perf_counter()
    page.goto("/sign-in")
    opened = time.perf_counter() - started
    page.fill("#identifier", USERNAME)
    page.fill("#password", PASSWORD)
    sent = time.perf_counter()
    with page.expect_navigation(url="**/papers"):
        page.click("main form button[type=submit]")
    page.locator("h1").wait_for()
    return opened, time.perf_counter() - sent


def photo_saved(page: Page, photo: Path) -> tuple[float, float, int]:
    """Seconds from the tap on "Enregistrer" to the notice, seconds before the request
    left (the photo shrunk on the phone), and the bytes sent."""
    page.goto("/papers/new")
    page.set_input_files("#camera", photo)
    page.fill("#title", "Titre de séjour")
    sent: list[tuple[float, Request]] = []

    def record(request: Request) -> None:
        if request.method == "POST":
            sent.append((time.perf_counter(), request))

    page.on("request", record)
    started = time.perf_counter()
    page.click("#save")
    page.locator(".notice", has_text="enregistré").wait_for()
    seconds = time.perf_counter() - started
    assert page.url.endswith("/papers"), page.url
    assert len(sent) == 1, sent
    left, request = sent[0]
    return seconds, left - started, int(request.all_headers()["content-length"])


def main() -> None:
    """Start the server and the phone, measure, print the figures and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, locker_server(folder) as url:
        photo = make_phone_photo(Path(folder) / "IMG_20241205_101500.jpg")
        print(f"photo: 4032 x 3024, {photo.stat().st_size / 1e6:.2f} MB; link: {SLOW_3G}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # Warm-up, unthrottled: the first page a fresh browser shows starts its processes.
            warm = browser.new_context(base_url=url)
            warm.new_page().goto("/sign-in")
            warm.close()
            photos: dict[bool, float] = {}
            for javascript in (True, False):
                context, page = slow_phone(browser, url, javascript=javascript)
                how = "with JavaScript" if javascript else "without JavaScript"
                opened, listed = signed_in(page)
                _print(f"sign-in {how}", opened + listed, SIGN_IN_GOAL)
                print(f"{'':>30}{opened:.1f} s to open the page, {listed:.1f} s to the list")
                seconds, before_sending, size = photo_saved(page, photo)
                photos[javascript] = seconds
                _print(f"photo {how}", seconds, PHOTO_GOAL if javascript else None)
                print(f"{'':>30}{before_sending:.1f} s before sending, {size / 1e6:.2f} MB sent")
                context.close()
            browser.close()
    print(f"{'photo, JavaScript / without':>28}: {photos[True] / photos[False]:6.2f}")


def _print(name: str, seconds: float, goal: float | None) -> None:
    verdict = f"  (goal <= {goal:.0f} s: {'met' if seconds <= goal else 'NOT met'})" if goal else ""
    print(f"{name:>28}: {seconds:6.1f} s{verdict}")


if __name__ == "__main__":
    main()
