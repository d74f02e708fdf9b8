"""Markdown tables, PNG charts and BENCHMARKS.md from the results JSON files of bench/run.py.

    python bench/report.py            # re-render BENCHMARKS.md from bench/results/latest/*.json
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

SIZE_ORDER = ["tiny", "1m", "10m", "50m"]


def _tools():
    import run

    return run.TOOLS


def _med(xs):
    return statistics.median(xs) if xs else None


def _pct(x):
    if x is None:
        return "—"
    return f"{x * 100:.3f} %" if x < 0.001 else f"{x * 100:.2f} %"


def _baseline(res: dict, fmt: str):
    recs = {r["tool"]: r for r in res["records"] if r["format"] == fmt}
    for key in ("truthound-2w", "truthound-1w"):
        r = recs.get(key)
        if r and r["status"] == "ok" and r["runs"]:
            return key, _med(r["runs"])
    return None, None


def size_section(res: dict) -> str:
    tools = _tools()
    acc = res.get("accuracy", {})
    lines = [f"### {res['size']} rows ({res['rows']:,})", "",
             "n = timed runs (each a fresh process).", ""]
    files = res.get("files", {})
    if files:
        lines.append("Files: " + ", ".join(f"{k} {v['bytes'] / 2**20:,.0f} MiB" for k, v in files.items()) + ".")
        lines.append("")
    for fmt in ("parquet", "csv"):
        recs = [r for r in res["records"] if r["format"] == fmt]
        if not recs:
            continue
        bkey, bsec = _baseline(res, fmt)
        bname = {"truthound-2w": "truthound-2w", "truthound-1w": "truthound-1w (no 2-worker run)"}.get(bkey, "—")
        lines += [f"**{fmt}** (ratio = tool time / {bname} time; > 1 means truthound is faster)", "",
                  "| tool | what it computes | n | median s | min–max s | CPU s | in-process s | ratio | peak RSS | "
                  "max distinct err | max quantile rank err | others' load | status |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for r in recs:
            t = tools[r["tool"]]
            med = _med(r["runs"])
            work = _med(r["work"])
            a = acc.get(r["tool"], {}) if fmt == "parquet" else {}
            dist = _pct(a.get("max_distinct_error")) if a else "—"
            rank = _pct(a.get("max_rank_error")) if a else "—"
            status = r["status"] + (f": {r['reason']}" if r["reason"] else "")
            status = status.replace("|", "/").replace("\n", " ")[:220]
            oth = [x for x in r.get("other", []) if x is not None]
            cpu = _med(r.get("cpu", [])) if r["runs"] else None
            lines.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                t.label, t.computes, len(r["runs"]),
                f"{med:.2f}" if med is not None else "—",
                f"{min(r['runs']):.2f}–{max(r['runs']):.2f}" if r["runs"] else "—",
                f"{cpu:.2f}" if cpu is not None else "—",
                f"{work:.2f}" if work is not None else "—",
                f"{med / bsec:.2f}×" if med is not None and bsec else "—",
                f"{max(r['rss']) / 2**20:,.0f} MiB" if r["rss"] else "—",
                dist, rank, f"{max(oth):.2f}" if oth else "—", status))
        lines.append("")
    return "\n".join(lines)


def accuracy_detail(res: dict, tool: str) -> str:
    a = res.get("accuracy", {}).get(tool)
    if not a:
        return ""
    cols = list(dict.fromkeys(list(a["distinct"]) + list(a["quantile"])))
    lines = [f"Per-column accuracy of {tool} on {res['size']} (Parquet):", "",
             "| column | distinct err | max quantile rank err |", "|---|---:|---:|"]
    for c in cols:
        lines.append(f"| {c} | {_pct(a['distinct'].get(c))} | {_pct(a['quantile'].get(c))} |")
    if a.get("unparsed"):
        lines.append(f"\nValues DuckDB could not cast (not scored): {', '.join(a['unparsed'][:10])}")
    return "\n".join(lines) + "\n"


def chart(res: dict, path: Path, log=print) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib not installed: no chart")
        return
    fmts = [f for f in ("parquet", "csv") if any(r["format"] == f for r in res["records"])]
    fig, axes = plt.subplots(1, len(fmts), figsize=(6 * len(fmts), 4.2), squeeze=False)
    for ax, fmt in zip(axes[0], fmts):
        recs = [r for r in res["records"] if r["format"] == fmt]
        names, meds, lo, hi, colors = [], [], [], [], []
        for r in recs:
            names.append(r["tool"])
            if r["status"] == "ok" and r["runs"]:
                m = _med(r["runs"])
                meds.append(m)
                lo.append(m - min(r["runs"]))
                hi.append(max(r["runs"]) - m)
                colors.append("#d62728" if r["tool"].startswith("truthound-") and r["tool"] != "truthound-pypi"
                              else ("#7f7f7f" if r["tool"].startswith("floor") else "#1f77b4"))
            else:
                meds.append(0)
                lo.append(0)
                hi.append(0)
                colors.append("#cccccc")
        y = range(len(names))
        ax.barh(y, meds, xerr=[lo, hi], color=colors)
        ax.set_yticks(list(y), names, fontsize=8)
        ax.invert_yaxis()
        ok = [m for m in meds if m]
        left = min(ok) / 3 if ok else 0.01
        if ok:
            ax.set_xscale("log")
            ax.set_xlim(left, max(m + h for m, h in zip(meds, hi)) * 3)
        for i, (m, r) in enumerate(zip(meds, recs)):
            ax.text(m + hi[i] if m else left, i, f" {m:.2f}s" if m else f" {r['status']}", va="center", fontsize=8)
        ax.set_xlabel("median wall seconds (log scale), whiskers min–max")
        ax.set_title(f"{res['size']} rows, {fmt}")
    fig.suptitle(f"Full-table profiling, {res['machine']['cores']} cores — lower is better", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    log(f"wrote {path}")


def _targets(res: dict) -> list[str]:
    """The issue's targets, as measured on this size (Parquet)."""
    recs = {(r["tool"], r["format"]): r for r in res["records"]}

    def med(tool, fmt="parquet"):
        r = recs.get((tool, fmt))
        return _med(r["runs"]) if r and r["status"] == "ok" and r["runs"] else None

    def load(*keys):
        xs = [x for k in keys for x in (recs.get(k) or {}).get("other", []) if x is not None]
        m = max(xs) if xs else 0.0
        return f" (disturbed: other processes used up to {m:.1f} cores)" if m > 0.3 else ""

    th = med("truthound-2w")
    th_label, th_key = "truthound-2w", "truthound-2w"
    if th is None and med("truthound-1w") is not None:
        th, th_label, th_key = med("truthound-1w"), "truthound-1w (no 2-worker run)", "truthound-1w"
    out = []

    def line(target, value, ok):
        mark = "—" if ok is None else ("met" if ok else "**missed**")
        out.append(f"| {target} | {value} | {mark} |")

    d = med("duckdb")
    if th and d:
        line("2× faster than DuckDB SUMMARIZE (2 threads), Parquet", f"{th_label} {th:.2f}s vs DuckDB {d:.2f}s "
             f"= {d / th:.2f}×" + load((th_key, "parquet"), ("duckdb", "parquet")), d / th >= 2)
    else:
        line("2× faster than DuckDB SUMMARIZE (2 threads), Parquet", "not measured", None)
    p = med("truthound-pypi")
    if th and p:
        line("20× faster than Truthound 3.2.0 (PyPI) full profiler, Parquet",
             f"{p:.2f}s / {th:.2f}s = {p / th:.1f}×" + load((th_key, "parquet"), ("truthound-pypi", "parquet")),
             p / th >= 20)
    else:
        line("20× faster than Truthound 3.2.0 (PyPI) full profiler, Parquet", "not measured", None)
    for fmt in ("parquet", "csv"):
        f = med("floor", fmt)
        k2 = "truthound-2w" if med("truthound-2w", fmt) else "truthound-1w"
        t2 = med(k2, fmt)
        if f and t2:
            line(f"at most 2.5× the decode-only floor ({fmt})", f"{k2} {t2:.2f}s / floor {f:.2f}s = {t2 / f:.2f}×"
                 + load((k2, fmt), ("floor", fmt)), t2 / f <= 2.5)
        else:
            line(f"at most 2.5× the decode-only floor ({fmt})", "not measured", None)
        fs = med("floor-stream", fmt)
        if fs and t2:
            line(f"(same, against the streamed decode floor, {fmt})",
                 f"{k2} {t2:.2f}s / streamed floor {fs:.2f}s = {t2 / fs:.2f}×"
                 + load((k2, fmt), ("floor-stream", fmt)), t2 / fs <= 2.5)
    a = None
    for k in ("truthound-2w", "truthound-1w", "truthound-engine"):
        a = res.get("accuracy", {}).get(k)
        if a:
            break
    if a:
        de, qe = a.get("max_distinct_error"), a.get("max_rank_error")
        line("distinct-count error ≤ 1 % on every column", _pct(de), None if de is None else de <= 0.01)
        line("quantile rank error ≤ 0.5 %", _pct(qe), None if qe is None else qe <= 0.005)
    else:
        line("distinct-count error ≤ 1 % on every column", "not measured", None)
        line("quantile rank error ≤ 0.5 %", "not measured", None)
    return out


def write_benchmarks(results_dir: Path, path: Path) -> None:
    results = []
    for f in results_dir.glob("*.json"):
        try:
            doc = json.loads(f.read_text())
        except ValueError:
            continue
        if isinstance(doc, dict) and "size" in doc and "records" in doc:
            results.append(doc)
    results.sort(key=lambda r: SIZE_ORDER.index(r["size"]) if r["size"] in SIZE_ORDER else 99)
    results = [r for r in results if r["size"] != "tiny"] or results
    md = ["# Benchmarks", "",
          "Generated by `bench/run.py` (do not edit by hand; `python bench/report.py` re-renders it from "
          "`bench/results/latest/*.json`).", ""]
    if not results:
        md.append("No results yet.")
        path.write_text("\n".join(md) + "\n")
        return
    m = results[-1]["machine"]
    md += ["## Reproduce", "", "```sh",
           "python -m venv /tmp/venv-bench && . /tmp/venv-bench/bin/activate",
           "pip install -r bench/requirements.txt && pip install .   # our truthound, provides `th`",
           "python bench/run.py --sizes 1m,10m --runs 3             # generates the data once into bench/.cache/",
           "python bench/run.py --sizes 50m --runs 3                # the 50M-row size (about 18 GB of files)",
           "python bench/engine_speed.py                            # engine alone, one thread, per type",
           "```", "",
           "The commands that produced the tables below: " +
           "; ".join(f"{r['size']}: " + ", ".join(f"`{c}`" for c in r.get("commands", [r["command"]]))
                     + f" (last {r['finished_at']}, load average {_load(r)})" for r in results) + ".", "",
           "## Machine", "",
           f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB memory, {m['os']}, Python {m['python']}.", "",
           "## Versions", ""]
    vers = {}
    for r in results:
        vers.update(r.get("versions", {}))
    for k, v in vers.items():
        md.append(f"- {k}: {v}")
    md += ["", "## Where truthound stands against the targets of issue 4", ""]
    for r in results:
        if r["size"] in ("10m", "50m", "1m"):
            md += [f"On {r['size']} rows:", "", "| target | measured | |", "|---|---|---|", *_targets(r), ""]
    md += ["## Results", "",
           "Median wall seconds of a fresh process per run (interpreter start-up and imports included, "
           "the page cache warm); *in-process s* is the time the runner measured around read + profile "
           "(for truthound-engine only `profile(table)` on a table already in memory). Peak RSS is the "
           "child process tree's. *CPU s*: median user+sys CPU seconds of the child and its waited-for "
           "children (less disturbed by other load than wall time; equals wall time × threads used). "
           "*Others' load*: the most CPU cores that other processes on the machine "
           "used during any run of that row (from /proc/stat minus the child's own CPU time; above ~0.2 the "
           "timing is disturbed). Accuracy columns: see *Method* below.", ""]
    for r in results:
        md.append(size_section(r))
        png = Path("bench/results/latest") / f"{r['size']}.png"
        if (ROOT / png).exists():
            md += [f"![{r['size']}]({png.as_posix()})", ""]
        for k in ("truthound-2w", "truthound-1w", "truthound-engine"):
            d = accuracy_detail(r, k)
            if d:
                md += [d]
                break
    eng = results_dir / "engine_speed.json"
    if eng.exists():
        md += ["## Engine speed (one thread, data in memory)", "", _engine_table(json.loads(eng.read_text())), ""]
    notes = results_dir / "notes.md"
    if notes.exists():
        md += ["## Notes on these results (written by hand after the run)", "", notes.read_text().strip(), ""]
    md += ["## Not yet measured", ""]
    missing = []
    have = {r["size"] for r in results}
    for size in ("1m", "10m", "50m"):
        if size not in have:
            missing.append(f"- {size}: not run (`python bench/run.py --sizes {size} --runs 3`).")
    for r in results:
        for rec in r["records"]:
            if rec["status"] != "ok":
                missing.append(f"- {r['size']} {rec['format']} {rec['tool']}: {rec['status']}"
                               + (f" ({rec['reason'][:200]})" if rec["reason"] else ""))
    if not eng.exists():
        missing.append("- engine speed per type: not run (`python bench/engine_speed.py`).")
    md += (missing or ["Nothing: every runner of every size above finished."]) + [""]
    md += ["## Method", "",
           "- Data: `bench/generate.py`, 12 columns (unique int64 id, int32 with ~1000 values, float64 normal, "
           "float64 with 5 % nulls, bool, 50-value string, emails, uuids, date32, timestamp[us, tz=UTC], "
           "numeric strings, free text), fixed seeds, Parquet (snappy, 1M-row row groups) and CSV.",
           "- Each tool runs as a separate child process per run; peak RSS is max(os.wait4 ru_maxrss, "
           "sampled sum of the process tree's RSS).",
           "- Distinct-count error: |reported − exact| / exact, exact = DuckDB `count(DISTINCT col)`. "
           "Quantile rank error of a reported value v for p: distance from p to [F(v−), F(v)], counted "
           "exactly by DuckDB over the column (0 for any exact p-quantile, also with ties). Quantiles are "
           "scored on numeric and temporal columns; accuracy is measured on the Parquet runs.",
           "- Unequal work: see *what it computes*. Polars describe reports no distinct count; DuckDB's "
           "distinct and quantiles are approximate; the Truthound package, ydata-profiling and Polars "
           "compute exact distincts/quantiles; whylogs and ydata include the conversion to pandas.",
           ""]
    path.write_text("\n".join(md) + "\n")


def _load(r: dict) -> str:
    b, a = r.get("loadavg_before"), r.get("loadavg_after")
    if not b or not a:
        return "?"
    return f"{b[0]:.1f} before, {a[0]:.1f} after"


def _engine_table(e: dict) -> str:
    lines = [f"`{e.get('command', 'python bench/engine_speed.py')}` — {e.get('rows', 0):,} values per type, "
             f"median of {e.get('runs', '?')} runs.", "",
             "| type | truthound profile() s | CPU s | values/s | ns/value | pyarrow.compute min_max+sum+count s | ratio |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for t in e.get("types", []):
        th, fl = t.get("truthound_s"), t.get("floor_s")
        cpu = t.get("truthound_cpu_s")
        lines.append("| {} | {} | {} | {} | {} | {} | {} |".format(
            t["type"], f"{th:.3f}" if th else t.get("error", "—"), f"{cpu:.3f}" if cpu else "—",
            f"{e['rows'] / th / 1e6:,.1f} M" if th else "—", f"{th / e['rows'] * 1e9:.1f}" if th else "—",
            f"{fl:.3f}" if fl else "—", f"{th / fl:.1f}×" if th and fl else "—"))
    return "\n".join(lines)


if __name__ == "__main__":
    write_benchmarks(BENCH / "results" / "latest", ROOT / "BENCHMARKS.md")
    print(f"wrote {ROOT / 'BENCHMARKS.md'}")
