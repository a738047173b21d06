"""The page in a real headless Chromium (Debian's chromium + chromium-driver, Selenium).

Screenshots are taken and checked by pixels: the changed-pixels overlay appears on the live
view and goes when unticked; a zone drawn with the mouse is saved, applied by the daemon
and drawn again after a reload; labels containing HTML are shown as text. Screenshots are
left in the test's tmp folder for a human to look at.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from webkit import TOKEN, WebDaemon, wait_until

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
WAIT_S = 20


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM or not CHROMEDRIVER:
        pytest.skip("chromium and chromium-driver are not installed (setup.sh test installs it)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--force-device-scale-factor=1"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(WAIT_S)
    driver.set_script_timeout(WAIT_S)
    try:
        yield driver
    finally:
        driver.quit()


def until(driver: Any, predicate: Any, what: str) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S, poll_frequency=0.1).until(predicate, what)


def shot(element: Any, path: Path) -> np.ndarray:
    """Screenshot one element to ``path``; return it as BGR pixels."""
    path.write_bytes(element.screenshot_as_png)
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert img is not None
    return img


def count(img: np.ndarray, lo: tuple[int, int, int], hi: tuple[int, int, int]) -> int:
    return int(cv2.inRange(img, np.array(lo), np.array(hi)).astype(bool).sum())


def red(img: np.ndarray) -> int:
    return count(img, (0, 0, 150), (90, 90, 255))


def cyan(img: np.ndarray) -> int:
    return count(img, (150, 130, 0), (255, 255, 110))


def sign_in(driver: Any, web: WebDaemon) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(web.base + "/")
    driver.find_element(By.ID, "token").send_keys(TOKEN)
    driver.find_element(By.ID, "sign-in").click()
    until(driver, lambda d: d.execute_script("return document.body.dataset.ready") == "1",
          "the page to start")


def next_frame(driver: Any) -> None:
    """Wait until the live image shows a newer frame than now."""
    before = driver.execute_script("return document.getElementById('live-img').dataset.frame")
    until(driver, lambda d: d.execute_script(
        "return document.getElementById('live-img').dataset.frame") not in (None, before),
        "a new live frame")


def test_without_a_session_the_page_asks_for_the_token(browser: Any, web: WebDaemon) -> None:
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.get(web.base + "/")
    assert browser.find_element(By.ID, "token").get_attribute("type") == "password"
    browser.find_element(By.ID, "token").send_keys("wrong")
    form = browser.find_element(By.ID, "sign-in")
    form.click()
    # The refused sign-in loads a page again: wait for it, then it is still the sign-in form.
    until(browser, lambda d: d.execute_script("return document.readyState") == "complete"
          and d.find_elements(By.ID, "token"), "the sign-in form after a wrong token")
    assert not browser.find_elements(By.ID, "live-img")


def test_live_view_overlay_appears_and_toggles(browser: Any, web: WebDaemon, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    sign_in(browser, web)
    img = browser.find_element(By.ID, "live-img")

    def moving() -> bool:
        return (web.call("GET", "/api/status", token=TOKEN).json()["changed_pct"] or 0) > 1.5

    best = None
    for _ in range(3):  # a frame with a passage, overlays on
        wait_until(moving, 30, "a passage in front of the camera")
        next_frame(browser)
        on = shot(img, tmp_path / "live-overlay-on.png")
        if best is None or red(on) > red(best):
            best = on
    assert best is not None and red(best) > 100, red(best if best is not None else on)
    chart = shot(browser.find_element(By.ID, "chart"), tmp_path / "chart.png")
    assert count(chart, (0, 0, 0), (60, 60, 60)) > 50, "the changed-% line is drawn"
    facts = browser.find_element(By.ID, "live-facts").text
    assert "gate" in facts and "camera" in facts and "ok" in facts

    for box in browser.find_elements(By.CSS_SELECTOR, "#overlays input"):
        if box.is_selected():
            box.click()
    worst = 0
    for _ in range(3):
        wait_until(moving, 30, "a passage in front of the camera")
        next_frame(browser)
        next_frame(browser)  # the first may have been requested before the untick
        worst = max(worst, red(shot(img, tmp_path / "live-overlay-off.png")))
    assert worst < red(best) / 5, (worst, red(best))


def click_at(driver: Any, element: Any, fx: float, fy: float) -> None:
    """Click ``element`` at the fraction (fx, fy) of its size."""
    from selenium.webdriver.common.action_chains import ActionChains

    w, h = element.size["width"], element.size["height"]
    ActionChains(driver).move_to_element_with_offset(
        element, int((fx - 0.5) * w), int((fy - 0.5) * h)).click().perform()


def test_drawn_zone_and_mask_are_saved_applied_and_reloaded(
    browser: Any, web: WebDaemon, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    sign_in(browser, web)
    browser.find_element(By.ID, "tab-editor").click()
    canvas = browser.find_element(By.ID, "edit-canvas")
    until(browser, lambda d: canvas.size["width"] > 100, "the editor picture")
    reloads = web.daemon.reloads

    Select(browser.find_element(By.ID, "kind")).select_by_value("zone")
    browser.find_element(By.ID, "zone-name").send_keys("porch")
    zone = [(0.55, 0.55), (0.95, 0.55), (0.95, 0.95), (0.55, 0.95)]
    for fx, fy in zone:
        click_at(browser, canvas, fx, fy)
    browser.find_element(By.ID, "finish").click()
    Select(browser.find_element(By.ID, "kind")).select_by_value("mask")
    for fx, fy in [(0.05, 0.05), (0.3, 0.05), (0.3, 0.3)]:
        click_at(browser, canvas, fx, fy)
    browser.find_element(By.ID, "finish").click()
    drawn = shot(canvas, tmp_path / "editor-drawn.png")
    h, w = drawn.shape[:2]
    assert cyan(drawn[int(0.6 * h):int(0.9 * h), int(0.6 * w):int(0.9 * w)]) > 0.5 * (0.3 * h) * (0.3 * w)

    browser.find_element(By.ID, "save").click()
    msg = browser.find_element(By.ID, "save-msg")
    until(browser, lambda d: msg.text.startswith("saved"), "the save confirmation")
    assert msg.text.startswith("saved 1 mask(s), 1 zone(s)")

    # The file holds the drawn polygons; the daemon re-read it (its reload path) and uses them.
    wait_until(lambda: web.daemon.reloads > reloads, 10, "the daemon to reload")
    wait_until(lambda: [z.name for z in web.daemon.config.gate.zones] == ["porch"], 10,
               "the zone in the running config")
    saved = web.daemon.config.gate
    assert np.allclose(saved.zones[0].polygon, zone, atol=0.02)
    assert np.allclose(saved.masks[0], [(0.05, 0.05), (0.3, 0.05), (0.3, 0.3)], atol=0.02)
    assert "porch" in web.config.read_text()

    browser.refresh()
    until(browser, lambda d: d.execute_script("return document.body.dataset.ready") == "1",
          "the page to start again")
    browser.find_element(By.ID, "tab-editor").click()
    until(browser, lambda d: "zone porch" in d.find_element(By.ID, "shapes").text,
          "the saved zone listed after a reload")
    canvas = browser.find_element(By.ID, "edit-canvas")
    until(browser, lambda d: canvas.size["width"] > 100, "the editor picture")
    time.sleep(0.3)  # the canvas is redrawn on the picture's load event
    again = shot(canvas, tmp_path / "editor-reloaded.png")
    h, w = again.shape[:2]
    assert cyan(again[int(0.6 * h):int(0.9 * h), int(0.6 * w):int(0.9 * w)]) > 0.5 * (0.3 * h) * (0.3 * w)

    browser.find_element(By.ID, "zone-name").clear()
    browser.find_element(By.ID, "zone-name").send_keys("<b>x</b>")
    Select(browser.find_element(By.ID, "kind")).select_by_value("zone")
    for fx, fy in [(0.1, 0.6), (0.3, 0.6), (0.3, 0.9)]:
        click_at(browser, canvas, fx, fy)
    browser.find_element(By.ID, "finish").click()
    msg = browser.find_element(By.ID, "save-msg")
    assert "zone name" in msg.text and not browser.find_elements(By.CSS_SELECTOR, "#shapes b")


def test_events_show_snapshots_and_escape_html(browser: Any, web: WebDaemon, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    evil_label = '<img src=x onerror="window.__xss=1">'
    evil_zone = "<b>zone</b>"
    fake = web.recordings / "00000000T000000Z-cam0-0-evil"
    fake.mkdir(parents=True, exist_ok=True)
    (fake / "events.jsonl").write_text(json.dumps({
        "type": "end", "event_id": "e-1", "label": evil_label, "score": 0.9,
        "zones": [evil_zone], "duration_ms": 1500, "peak_changed_pct": 3.0,
    }) + "\n")

    def recorded() -> bool:
        return any(e["snapshot"] for e in web.call("GET", "/api/events", token=TOKEN).json()["events"])

    wait_until(recorded, 40, "a recorded event with a snapshot")
    sign_in(browser, web)
    browser.find_element(By.ID, "tab-events").click()
    until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#event-table tbody tr")) >= 2,
          "the events table")
    cells = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#event-table td")]
    assert evil_label in cells and evil_zone in cells
    assert not browser.find_elements(By.CSS_SELECTOR, "#event-table img[src='x'], #event-table b")
    assert browser.execute_script("return window.__xss") is None
    snaps = browser.find_elements(By.CSS_SELECTOR, "#event-table img")
    assert snaps
    until(browser, lambda d: d.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth", snaps[0]) > 0,
        "a snapshot to load")
    page = shot(browser.find_element(By.ID, "events"), tmp_path / "events.png")
    line = shot(browser.find_elements(By.CSS_SELECTOR, "#event-table canvas.timeline")[0],
                tmp_path / "timeline.png")
    assert count(line, (200, 80, 20), (255, 120, 60)) > 20, "the changed-% timeline is drawn"
    assert page.size

    browser.find_element(By.ID, "f-label").send_keys(evil_label)
    browser.find_element(By.CSS_SELECTOR, "#event-filter button").click()
    until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#event-table tbody tr")) == 1,
          "the label filter")


def test_status_page(browser: Any, web: WebDaemon, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    sign_in(browser, web)
    browser.find_element(By.ID, "tab-status").click()
    status = browser.find_element(By.ID, "status-list")
    until(browser, lambda d: "fps" in status.text, "the status list")
    text = status.text
    for key in ("camera", "dropped frames", "spool depth", "broker", "visionedge", "opencv"):
        assert key in text
    assert "metrics.enabled is false" in browser.find_element(By.ID, "metrics-link").text
    shot(browser.find_element(By.TAG_NAME, "body"), tmp_path / "status.png")


def test_dataset_review_moves_a_crop_by_clicking(browser: Any, web: WebDaemon, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    root = web.config.parent / "dataset"
    sign_in(browser, web)
    browser.find_element(By.ID, "tab-dataset").click()
    classes = browser.find_element(By.ID, "class-list")
    until(browser, lambda d: "person (4)" in classes.text, "the class counts")
    assert "vehicle (3)" in classes.text and "unsure (2)" in classes.text
    assert "_context" not in classes.text
    until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#crops .crop img")) == 4,
          "the person crops")
    until(browser, lambda d: all(d.execute_script("return arguments[0].naturalWidth", i) > 0
                                 for i in d.find_elements(By.CSS_SELECTOR, "#crops .crop img")),
          "the crops to load")
    shot(browser.find_element(By.ID, "dataset"), tmp_path / "dataset-before.png")
    tile = browser.find_elements(By.CSS_SELECTOR, "#crops .crop")[0]
    name = tile.get_attribute("data-name")
    tile.find_element(By.CSS_SELECTOR, "button[data-to='vehicle']").click()
    until(browser, lambda d: "person (3)" in d.find_element(By.ID, "class-list").text,
          "the counts after the move")
    assert "vehicle (4)" in browser.find_element(By.ID, "class-list").text
    assert (root / "vehicle" / name).is_file() and not (root / "person" / name).exists()
    assert len(browser.find_elements(By.CSS_SELECTOR, "#crops .crop")) == 3
    shot(browser.find_element(By.ID, "dataset"), tmp_path / "dataset-after.png")
