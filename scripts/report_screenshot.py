"""Makes docs/report.png, the README's picture of the HTML report of the bundled example.

    python scripts/report_screenshot.py [OUT.png]

Profiles examples/customers.csv as `th profile examples/customers.csv -o report.html` does,
opens the report in Debian's headless Chromium (tests/test_report_browser.py starts it) at
1280 pixels wide and saves the top of the page.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_report_browser import start_chromium  # noqa: E402

from truthound.profiler import profile  # noqa: E402


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "report.png"
    prof = profile("examples/customers.csv") if (Path.cwd() / "examples").is_dir() else \
        profile(ROOT / "examples" / "customers.csv")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        prof.to_html(page)
        driver = start_chromium(1280, 1040)
        try:
            driver.get(page.as_uri())
            driver.save_screenshot(str(out))
        finally:
            driver.quit()
    print(f"{out}: {out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
