"""The HTML report in a real browser: Debian's headless Chromium driven by Selenium through
Debian's chromedriver (scripts/test.sh installs both; Selenium is in the [test] extra).

The reports of the bundled example and of a 200-column table are loaded from file:// URLs; the
test checks the DOM (every column section, every histogram drawn with a nonzero size), that the
page fetched nothing and logged no console error, and saves a screenshot under tmp_path."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from truthound.profiler import TableProfile, profile

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = pytest.mark.slow


def start_chromium(width: int = 1280, height: int = 900) -> Any:
    """A headless Chromium (no network, no sandbox: the tests run as root in a container)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--hide-scrollbars",
                "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=opts, service=Service(executable_path=CHROMEDRIVER))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = start_chromium()
    try:
        yield driver
    finally:
        driver.quit()


def wide_table(n_columns: int, n_rows: int = 2_000) -> pa.Table:
    """Integers, floats, text, dates and booleans in turn: every kind of column section."""
    cols: dict[str, pa.Array] = {}
    day = dt.date(2020, 1, 1)
    for i in range(n_columns):
        kind = i % 5
        if kind == 0:
            arr = pa.array([(r * (i + 3)) % 997 for r in range(n_rows)], pa.int64())
        elif kind == 1:
            arr = pa.array([None if r % 11 == 0 else (r % 89) * 1.25 - i for r in range(n_rows)])
        elif kind == 2:
            arr = pa.array([f"user{(r * 7 + i) % 300}@example.com" for r in range(n_rows)])
        elif kind == 3:
            arr = pa.array([day + dt.timedelta(days=(r * 13 + i) % 1500) for r in range(n_rows)])
        else:
            arr = pa.array([(r + i) % 3 == 0 for r in range(n_rows)])
        cols[f"col_{i:03d}_{['int', 'float', 'email', 'date', 'flag'][kind]}"] = arr
    return pa.table(cols)


def load(driver: Any, path: Path) -> dict[str, Any]:
    """Open ``path`` and read back what the test checks, in one script run in the page."""
    driver.get(path.as_uri())
    return driver.execute_script("""
        const sections = [...document.querySelectorAll('section.col')];
        const charts = [...document.querySelectorAll('section.col svg.hist')].map(s => {
            s.scrollIntoView();
            const r = s.getBoundingClientRect();
            const bars = [...s.querySelectorAll('.bars rect')];
            return {w: r.width, h: r.height,
                    tallest: Math.max(...bars.map(b => b.getBoundingClientRect().height))};
        });
        window.scrollTo(0, 0);
        return {names: sections.map(s => s.dataset.name),
                heights: sections.map(s => s.getBoundingClientRect().height),
                charts: charts,
                resources: performance.getEntriesByType('resource').length};
    """)


def paint_times(driver: Any, timeout: float = 10.0) -> dict[str, float]:
    """The page's Paint Timing entries (ms from navigation), waiting for them to land."""
    deadline = time.monotonic() + timeout
    while True:
        entries = driver.execute_script(
            "return performance.getEntriesByType('paint').map(e => [e.name, e.startTime])")
        if entries or time.monotonic() > deadline:
            return dict(entries)
        time.sleep(0.1)


def check_report(driver: Any, prof: TableProfile, path: Path, shot: Path) -> dict[str, Any]:
    path.write_text(prof.to_html(), encoding="utf-8")
    got = load(driver, path)
    assert got["names"] == prof.column_names
    assert all(h > 0 for h in got["heights"])
    with_hist = [c for c in prof.columns if c.histogram is not None]
    assert len(got["charts"]) == len(with_hist) > 0
    for c, chart in zip(with_hist, got["charts"]):
        assert chart["w"] > 100 and chart["h"] > 50, (c.name, chart)
        assert chart["tallest"] > 20, (c.name, chart)
    assert got["resources"] == 0, "the report loads nothing"
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    assert "first-contentful-paint" in paint_times(driver)
    driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    return got


def test_the_example_report_in_chromium(browser: Any, customers_csv: Path,
                                        tmp_path: Path) -> None:
    prof = profile(customers_csv, correlations=True)
    check_report(browser, prof, tmp_path / "customers.html", tmp_path / "customers.png")
    # the column filter: typing hides the other sections and index entries
    box = browser.find_element("id", "q")
    box.send_keys("spent")
    shown = browser.execute_script(
        "return [...document.querySelectorAll('[data-name]')].filter(e => !e.hidden)"
        ".map(e => e.dataset.name)")
    assert shown == ["total_spent", "total_spent"], "its index entry and its section"
    assert browser.execute_script(
        "return document.querySelector('svg.heat').getBoundingClientRect().width") > 100


def test_a_200_column_report_in_chromium(browser: Any, tmp_path: Path) -> None:
    prof = profile(wide_table(200), num_workers=1)
    got = check_report(browser, prof, tmp_path / "wide.html", tmp_path / "wide.png")
    assert len(got["names"]) == 200
    browser.execute_script("document.getElementById('c199').scrollIntoView()")
    last = browser.execute_script(
        "return document.getElementById('c199').getBoundingClientRect().top")
    assert 0 <= last < 900, "the last column's section is reachable"
