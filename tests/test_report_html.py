"""The HTML report (issue 16), without a browser: its structure, the figures it shows against
pyarrow's exact answers, escaping, approximate marks, alerts, and the CLI and API that write it.
The real-browser test is tests/test_report_browser.py."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from test_cli import th
from truthound.profiler import TableProfile, profile
from truthound.report_html import render_html


class Page(HTMLParser):
    """The parts of a report the tests look at: column sections, their charts and texts."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.sections: dict[str, dict[str, list[str] | int]] = {}
        self.nav: list[str] = []
        self.scripts: list[str] = []
        self._section: str | None = None
        self._depth = 0
        self._in_hist_title = False
        self._in_script = False
        self._text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "section" and a.get("class") == "col":
            name = a["data-name"]
            assert name is not None and name not in self.sections, name
            self._section, self._depth = name, 0
            self.sections[name] = {"hist": 0, "bars": [], "text": []}
        elif tag == "section" and self._section is not None:
            self._depth += 1
        if tag == "li" and a.get("data-name") is not None:
            self.nav.append(a["data-name"] or "")
        sec = self.sections.get(self._section or "")
        if sec is not None and tag == "svg" and a.get("class") == "hist":
            sec["hist"] = int(sec["hist"]) + 1  # type: ignore[call-overload]
        if sec is not None and tag == "title":
            self._in_hist_title = True
            self._text = []
        if tag == "script":
            self._in_script, self._text = True, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self._section is not None:
            if self._depth == 0:
                self._section = None
            else:
                self._depth -= 1
        if tag == "title" and self._in_hist_title and self._section is not None:
            self._in_hist_title = False
            bars = self.sections[self._section]["bars"]
            assert isinstance(bars, list)
            bars.append("".join(self._text))
        if tag == "script":
            self._in_script = False
            self.scripts.append("".join(self._text))

    def handle_data(self, data: str) -> None:
        if self._in_hist_title or self._in_script:
            self._text.append(data)
        if self._section is not None:
            texts = self.sections[self._section]["text"]
            assert isinstance(texts, list)
            texts.append(data)

    def section_text(self, name: str) -> str:
        texts = self.sections[name]["text"]
        assert isinstance(texts, list)
        return " ".join(texts)


@pytest.fixture(scope="module")
def customers(customers_csv: Path) -> TableProfile:
    return profile(customers_csv, correlations=True)


@pytest.fixture(scope="module")
def customers_page(customers: TableProfile) -> str:
    return render_html(customers)


def _bar_counts(titles: list[str]) -> list[int]:
    """The count of each histogram bar, from its tooltip ``lo – hi: 1,234``."""
    return [int(t.rsplit(": ", 1)[1].replace(",", "")) for t in titles if " – " in t]


def test_every_column_has_a_section_and_an_index_entry(customers: TableProfile,
                                                       customers_page: str) -> None:
    page = Page(customers_page)
    assert list(page.sections) == customers.column_names
    assert page.nav == customers.column_names
    ids = [a.get("id") for tag, a in page.tags if tag == "section" and a.get("class") == "col"]
    links = {a.get("href") for tag, a in page.tags if tag == "a"}
    assert all(f"#{i}" in links for i in ids), "every section is linked from the index"
    assert customers_page.startswith("<!DOCTYPE html>")


def test_one_svg_per_histogram_with_the_engines_counts(customers: TableProfile,
                                                       customers_page: str) -> None:
    page = Page(customers_page)
    with_hist = [c for c in customers.columns if c.histogram is not None]
    assert {c.name for c in with_hist} >= {"orders", "total_spent", "customer_id"}
    for c in customers.columns:
        sec = page.sections[c.name]
        if c.histogram is None:
            assert sec["hist"] == 0, c.name
            continue
        assert sec["hist"] == 1, c.name
        assert isinstance(sec["bars"], list)
        assert _bar_counts(sec["bars"]) == c.histogram.counts, c.name


def test_shown_figures_are_the_exact_answers(customers_csv: Path, customers_page: str) -> None:
    table = pacsv.read_csv(customers_csv,
                           convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    page = Page(customers_page)
    assert f"{table.num_rows:,}" in customers_page
    for name in table.column_names:
        col = table[name]
        text = page.section_text(name)
        nulls = col.null_count
        assert re.search(rf"Nulls\s+{nulls:,} \(", text), (name, nulls)
        if pa.types.is_integer(col.type):
            mm = pc.min_max(col)
            assert re.search(rf"Min\s+{mm['min'].as_py()}\b", text), name
            assert re.search(rf"Max\s+{mm['max'].as_py()}\b", text), name
    # total_spent's quantiles are exact (2,000 values): numpy's linear interpolation
    q = pc.quantile(table["total_spent"], q=[0.5], interpolation="linear")[0].as_py()
    assert f"{round(q, 4):g}".rstrip("0") in page.section_text("total_spent")


def test_correlation_heat_map(customers: TableProfile, customers_page: str) -> None:
    assert customers.correlations, "the fixture asks for correlations"
    page = Page(customers_page)
    heat = [a for tag, a in page.tags if tag == "svg" and a.get("class") == "heat"]
    assert len(heat) == 1
    cells = customers_page.split('class="heat"', 1)[1].split("</svg>", 1)[0].count("<rect ")
    assert cells == 2 * len(customers.correlations), "each pair twice, the diagonal empty"
    r = customers.correlations[0]
    assert f"{r.column_a} ~ {r.column_b}: r = " in customers_page


def test_no_external_resources(customers_page: str) -> None:
    page = Page(customers_page)
    assert "http://" not in customers_page and "https://" not in customers_page
    for tag, attrs in page.tags:
        assert "src" not in attrs, tag
        assert tag not in ("link", "iframe", "img", "object", "embed"), tag
        href = attrs.get("href")
        assert href is None or href.startswith("#"), href
    assert "url(" not in customers_page and "@import" not in customers_page
    assert len(page.scripts) == 1 and "fetch" not in page.scripts[0]


HOSTILE = "<script>alert('x')</script>"


def test_hostile_values_are_escaped() -> None:
    values = [HOSTILE, '"><img src=x onerror=alert(1)>', "</style><b>", "a\nb\x00c", "&amp;"]
    t = pa.table({
        HOSTILE: values * 4,
        '" onmouseover="alert(1)': list(range(20)),
        "ok": [f"{v}{i}" for i, v in enumerate(values * 4)],
    })
    p = profile(t, top_n=5)
    text = render_html(p)
    page = Page(text)
    assert list(page.sections) == p.column_names, "names survive escaping exactly"
    assert text.count("<script>") == 1, "only the report's own script"
    assert "<img" not in text and "</style><b>" not in text
    assert "onmouseover=\"alert" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    assert "a\\nb\\x00c" in text, "control characters shown as escapes"
    assert "&amp;amp;" in text


def test_approximate_figures_are_marked_with_their_bounds() -> None:
    n = 20_000
    t = pa.table({"x": pa.array([(i * 7919) % 15_000 for i in range(n)], pa.int64()),
                  "s": ["hot" if i % 3 == 0 else f"v{i}" for i in range(n)]})
    p = profile(t, frequent_items_capacity=1024, num_workers=1)
    x, s = p["x"], p["s"]  # x: 15,000 values seen 1-2 times each; s: "hot" a third of the rows
    assert x.distinct_approximate and x.quantiles_approximate and s.top_values_approximate
    text = render_html(p)
    page = Page(text)
    html_x = text.split('<section class="col" id="c0"', 1)[1].split("</section>", 1)[0]
    assert f"between {x.distinct_count_lower:,} and {x.distinct_count_upper:,}" in html_x
    assert html_x.count('class="ap"') >= 1 + 9, "distinct and each of p01..p99"
    assert "of rank" in html_x and "counts (edge ranks ±" in html_x
    html_s = text.split('<section class="col" id="c1"', 1)[1].split("</section>", 1)[0]
    assert s.top_values and s.top_values[0].value == "hot"
    for v in s.top_values:
        assert v.count_lower != v.count_upper
        assert f"{v.count_lower:,}–{v.count_upper:,}" in html_s
        assert f"between {v.count_lower:,} and {v.count_upper:,}" in html_s
    assert html_s.count("the share is of the midpoint") == len(s.top_values)
    assert x.top_values_note is not None and x.top_values_note in page.section_text("x")


def test_every_kind_of_column_renders() -> None:
    n = 50
    t = pa.table({
        "list": pa.array([[i, i + 1] if i % 4 else None for i in range(n)],
                         pa.list_(pa.int32())),
        "struct": pa.array([{"a": i, "b": str(i)} for i in range(n)]),
        "bin": pa.array([bytes([i % 7, 255]) for i in range(n)], pa.binary()),
        "dec": pa.array([Decimal(f"{i}.25") for i in range(n)], pa.decimal128(10, 2)),
        "ts": pa.array([dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
                        + dt.timedelta(hours=i) for i in range(n)], pa.timestamp("us", "UTC")),
        "dur": pa.array([dt.timedelta(seconds=i) for i in range(n)], pa.duration("s")),
        "nulls": pa.nulls(n, pa.float64()),
        "nan": pa.array([float("nan"), float("inf"), -1.0, 0.0, 2.5] * (n // 5)),
        "flag": pa.array([i % 3 == 0 for i in range(n)]),
    })
    for table in (t, t.slice(0, 0)):
        p = profile(table, num_workers=1)
        page = Page(render_html(p))
        assert list(page.sections) == p.column_names
        for c in p.columns:
            hist = page.sections[c.name]["hist"]
            assert hist == (1 if c.histogram is not None and c.histogram.counts else 0), c.name
    p = profile(t, num_workers=1)
    assert "NaN 10" in " ".join(Page(render_html(p)).section_text("nan").split())
    assert "True 17" in " ".join(Page(render_html(p)).section_text("flag").split())


def test_many_correlated_columns_list_the_strongest_pairs() -> None:
    t = pa.table({f"n{i:02d}": [float((r * (i + 1)) % 17 + r * (i % 3)) for r in range(60)]
                  for i in range(70)})
    p = profile(t, correlations=True, num_workers=1)
    assert len(p.correlations) == 70 * 69 // 2
    text = render_html(p)
    heat = text.split('class="heat"', 1)[1].split("</svg>", 1)[0]
    assert heat.count("<rect ") == 2 * 60 * 59 // 2, "the map holds the first 60 columns"
    listed = text.split("strongest pairs", 1)[1].split("</table>", 1)[0]
    strongest = max(p.correlations, key=lambda r: abs(r.pearson or 0.0))
    assert listed.count("<tr>") == 1 + 50
    assert f'href="#c{p.column_names.index(strongest.column_a)}"' in listed


def _alerting_profile() -> TableProfile:
    return TableProfile.from_dict({
        "source": "t.csv", "row_count": 10, "column_count": 2,
        "alerts": [
            {"kind": "duplicate_rows", "column": None, "value": 0.3, "threshold": 0.1,
             "message": "30.0% of rows are duplicates (threshold 10.0%)"},
            {"kind": "high_null_ratio", "column": "a<b>", "value": 0.6, "threshold": 0.5,
             "message": "a<b>: null ratio 60.0% above 50.0%"},
            {"kind": "high_correlation", "column": "a<b>", "other_column": "c", "value": 0.97,
             "threshold": 0.9, "message": "a<b> ~ c: |r| 0.97 above 0.9"},
        ],
        "columns": [{"name": "a<b>", "physical_type": "int64", "inferred_type": "integer",
                     "row_count": 10, "null_count": 6, "null_ratio": 0.6},
                    {"name": "c", "physical_type": "double", "inferred_type": "float",
                     "row_count": 10, "null_count": 0, "null_ratio": 0.0},
                    {"name": "quiet", "physical_type": "double", "inferred_type": "float",
                     "row_count": 10, "null_count": 0, "null_ratio": 0.0}],
    })


def test_alerts_are_listed_and_shown_in_their_columns() -> None:
    p = _alerting_profile()
    text = render_html(p)
    page = Page(text)
    alerts = text.split('id="alerts"', 1)[1].split("</section>", 1)[0]
    assert "Alerts (3)" in alerts
    for kind in ("duplicate_rows", "high_null_ratio", "high_correlation"):
        assert kind in alerts
    assert "30.0% of rows are duplicates (threshold 10.0%)" in alerts
    assert '<a href="#c0">a&lt;b&gt;</a> ~ <a href="#c1">c</a>' in alerts
    a_text = page.section_text("a<b>")
    assert "null ratio 60.0% above 50.0%" in a_text and "|r| 0.97" in a_text
    assert "|r| 0.97" in page.section_text("c")
    assert "high_" not in page.section_text("quiet")
    nav = text.split("<nav>", 1)[1].split("</nav>", 1)[0]
    assert nav.count('class="dot"') == 2


def test_no_alerts_says_so() -> None:
    quiet = profile(pa.table({"x": [1.5, 2.5, 1.5, 3.5], "y": ["a", "b", "c", "a"]}))
    assert quiet.alerts == []
    assert "No alerts." in render_html(quiet)


def test_the_examples_alerts_are_listed(customers: TableProfile, customers_page: str) -> None:
    kinds = [a.kind for a in customers.alerts]
    # profiled with correlations: the strongly correlated pairs come last
    assert kinds[:4] == ["unique", "zeros", "zeros", "high_null_ratio"]
    pairs = {(r.column_a, r.column_b) for r in customers.correlations
             if r.pearson is not None and abs(r.pearson) > 0.9}
    assert {(a.column, a.other_column) for a in customers.alerts[4:]} == pairs
    assert kinds[4:] == ["high_correlation"] * len(pairs)
    assert "No alerts." not in customers_page
    assert f"Alerts ({len(kinds)})" in customers_page
    for alert in customers.alerts:
        assert html.escape(alert.message or "") in customers_page


def test_to_html_returns_and_writes_the_page(customers: TableProfile, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    text = customers.to_html(out)
    assert out.read_text(encoding="utf-8") == text == customers.to_html()
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"], "no temporary file left"


def test_a_profile_read_from_json_renders_the_same(customers: TableProfile) -> None:
    again = TableProfile.from_json(customers.to_json())
    assert render_html(again) == render_html(customers)


def test_cli_profile_writes_html_by_extension_and_format(customers_csv: Path,
                                                         tmp_path: Path) -> None:
    for name, extra in (("report.html", []), ("REPORT.HTM", []), ("out.txt", ["-f", "html"])):
        result = th("profile", customers_csv, "-o", tmp_path / name, *extra)
        assert result.returncode == 0, result.stderr
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
        assert list(Page(text).sections)[0] == "customer_id"
    result = th("profile", customers_csv, "-f", "html", "--columns", "email")
    assert result.returncode == 0, result.stderr
    assert list(Page(result.stdout).sections) == ["email"]


def test_cli_show_renders_a_saved_profile_as_html(customers_csv: Path, tmp_path: Path) -> None:
    saved = tmp_path / "c.thp"
    assert th("profile", customers_csv, "--save-profile", saved, "-o",
              tmp_path / "c.json").returncode == 0
    result = th("show", saved, "-o", tmp_path / "c.html")
    assert result.returncode == 0, result.stderr
    shown = (tmp_path / "c.html").read_text(encoding="utf-8")
    result = th("show", saved, "-f", "html")
    assert result.returncode == 0, result.stderr
    assert result.stdout == shown
    assert "rows 2,000" not in shown and "2,000" in shown
