"""How big and how fast the HTML report is at many columns (issue 16).

    python bench/html_report.py [--columns 500] [--rows 2000] [--runs 5] [--out report.html]

Builds the browser test's wide table (integers, floats, e-mail text, dates and booleans in
turn; tests/test_report_browser.py), profiles it with correlations off, renders the report and
loads it in headless Chromium (Debian's chromium and chromedriver, through Selenium) ``--runs``
times in a fresh tab each. Reports the file size, the time to render it in Python, and the
browser's own timings from the Navigation and Paint Timing APIs: first paint, first contentful
paint, DOMContentLoaded and the load event (median and range over the runs, ms from the start
of navigation). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_report_browser import paint_times, start_chromium, wide_table  # noqa: E402

from truthound.profiler import profile  # noqa: E402

_NAVIGATION = """
    const nav = performance.getEntriesByType('navigation')[0];
    return {dom_content_loaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd};
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--columns", type=int, default=500)
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default="/tmp/truthound_report_bench.html")
    args = ap.parse_args()

    prof = profile(wide_table(args.columns, args.rows), num_workers=1)
    t0 = time.perf_counter()
    report = prof.to_html()
    render_ms = (time.perf_counter() - t0) * 1000
    out = Path(args.out)
    out.write_text(report, encoding="utf-8")

    runs: list[dict[str, float]] = []
    driver = start_chromium()
    try:
        for _ in range(args.runs):
            driver.switch_to.new_window("tab")
            driver.get(out.resolve().as_uri())
            paint = paint_times(driver)
            runs.append({"first_paint": paint.get("first-paint"),
                         "first_contentful_paint": paint.get("first-contentful-paint"),
                         **driver.execute_script(_NAVIGATION)})
    finally:
        driver.quit()

    def summary(key: str) -> dict[str, float]:
        values = [r[key] for r in runs if r.get(key) is not None]
        return {"median": round(statistics.median(values), 1), "min": round(min(values), 1),
                "max": round(max(values), 1)}

    print(json.dumps({
        "columns": args.columns, "rows": args.rows, "runs": args.runs,
        "file_bytes": out.stat().st_size,
        "render_ms": round(render_ms, 1),
        **{k: summary(k) for k in ("first_paint", "first_contentful_paint",
                                   "dom_content_loaded", "load")},
    }, indent=2))


if __name__ == "__main__":
    main()
