"""The benchmark harness: truthound side by side with DuckDB, Polars, the Truthound package (PyPI),
whylogs, ydata-profiling and the pyarrow decode floor.

    python bench/run.py                       # sizes 1m,10m, 3 runs, every tool, Parquet and CSV
    python bench/run.py --sizes 1m --runs 5 --tools truthound-2w,duckdb,floor --formats parquet
    python bench/run.py --smoke               # CI: tiny dataset, 1 run, truthound + DuckDB, < 1 min

Every run of every tool is a fresh child process; the parent measures its wall time and its peak
resident memory (the larger of os.wait4's ru_maxrss and the peak of the summed RSS of the child's
process tree, sampled every 20 ms with psutil when installed). Failures and time-outs are recorded
with their reason and the run goes on. Results: bench/results/latest/<size>.json (raw),
<size>.png (chart) and BENCHMARKS.md (re-rendered from every results JSON, see bench/report.py).
The smoke mode writes to bench/.cache/smoke/ and exits non-zero if any runner failed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402

CACHE = BENCH / ".cache"
VENVS = CACHE / "venvs"
RESULTS = BENCH / "results" / "latest"

# Tools that would collide with our own `truthound`, or whose pins clash with ours, get a venv each.
VENV_SPECS = {
    "truthound-pypi": ["truthound==3.2.0", "pyarrow"],
    # whylogs 1.6 uses np.unicode_ (removed in NumPy 2) -> numpy<2, and the pyarrow/pandas built for it
    "whylogs": ["whylogs==1.6.4", "numpy<2", "pandas<2.3", "pyarrow<21"],
    "ydata": ["ydata-profiling", "pyarrow", "setuptools"],
}

TRUTHOUND_COMPUTES = ("count, nulls, distinct (HLL or exact), min/max, mean/std/var/skew/kurt, 9 quantiles "
                      "(KLL), histogram, top/bottom-10, zeros/negatives/NaN/inf, string lengths, patterns, "
                      "date range, duplicate rows")


@dataclass
class Tool:
    key: str
    label: str
    computes: str
    venv: str | None = None          # None: the harness's own interpreter
    formats: tuple = ("parquet", "csv")
    max_rows: int | None = None      # larger datasets: one run only, with the time-out
    note: str = ""
    cli_workers: int | None = None   # for the `th profile` tools
    runs_override: int | None = None


TOOLS = {
    "truthound-1w": Tool("truthound-1w", "truthound `th profile`, 1 worker", TRUTHOUND_COMPUTES, cli_workers=1),
    "truthound-2w": Tool("truthound-2w", "truthound `th profile`, 2 workers", TRUTHOUND_COMPUTES, cli_workers=2),
    "truthound-engine": Tool("truthound-engine", "truthound engine alone (table in memory)", TRUTHOUND_COMPUTES,
                             note="times only truthound.profiler.profile(table) after reading the file"),
    "duckdb": Tool("duckdb", "DuckDB SUMMARIZE, 2 threads",
                   "count, null %, approx distinct (HLL), min/max, avg, std, approx q25/q50/q75"),
    "polars": Tool("polars", "Polars describe()",
                   "count, null count, mean, std, min/max, q25/q50/q75 (exact); no distinct"),
    "truthound-pypi": Tool("truthound-pypi", "Truthound 3.2.0 (PyPI) DataProfiler", venv="truthound-pypi",
                           computes="count, nulls, exact distinct, mean/std/min/max/median/q1/q3/skew/kurt, "
                                    "top/bottom-10, string lengths, patterns (on a sample), date range, "
                                    "duplicate rows, memory"),
    "whylogs": Tool("whylogs", "whylogs why.log(df)", venv="whylogs",
                    computes="count, nulls, types, HLL distinct (not dates), KLL 9 quantiles, mean/std/min/max, "
                             "frequent strings; includes read into pandas"),
    "ydata": Tool("ydata", "ydata-profiling minimal=True", venv="ydata", max_rows=1_000_000,
                  computes="exact distinct, 5 quantiles, mean/std/var/min/max/skew/kurt/MAD, histograms, zeros, "
                           "string lengths, duplicate rows; includes read into pandas"),
    "floor": Tool("floor", "floor: pyarrow read only", computes="decode only (read_table / csv.read_csv)"),
    "floor-stream": Tool("floor-stream", "floor: pyarrow streamed read, 2 threads",
                         computes="decode only, batch by batch as th reads (Parquet: iter_batches, "
                                  "row groups over 2 threads; CSV: open_csv)"),
}
DEFAULT_TOOLS = list(TOOLS)
SMOKE_TOOLS = ["truthound-1w", "truthound-2w", "truthound-engine", "duckdb"]


# ---------------------------------------------------------------- child processes


def measure(cmd: list[str], timeout: float, cwd: Path | None = None, env: dict | None = None,
            mem_cap: float | None = None) -> dict:
    """Run cmd as a fresh child: wall seconds, peak RSS (bytes) of its process tree, rc, stderr tail."""
    try:
        import psutil
    except ImportError:
        psutil = None
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        busy0 = _busy_seconds()
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd, env=env, start_new_session=True)
        peak_tree = 0
        timed_out = False
        over_cap = False
        proc = psutil.Process(p.pid) if psutil else None
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if proc is not None:
                try:
                    tree = [proc] + proc.children(recursive=True)
                    rss = 0
                    for q in tree:
                        try:
                            rss += q.memory_info().rss
                        except psutil.Error:
                            pass
                    peak_tree = max(peak_tree, rss)
                except psutil.Error:
                    pass
            if mem_cap and peak_tree > mem_cap:
                over_cap = True
            if over_cap or time.perf_counter() - t0 > timeout:
                timed_out = not over_cap
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.02)
        wall = time.perf_counter() - t0
        busy1 = _busy_seconds()
        child_cpu = ru.ru_utime + ru.ru_stime
        other = None if busy0 is None or busy1 is None else max(0.0, (busy1 - busy0 - child_cpu) / wall)
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read().decode(errors="replace")[-1500:]
        out.seek(0)
        stdout = out.read().decode(errors="replace")[-1500:]
    return {"rc": p.returncode, "wall": wall, "peak_rss": max(ru.ru_maxrss * 1024, peak_tree),
            "timed_out": timed_out, "over_cap": over_cap,
            "other_cores": other, "child_cpu": child_cpu, "stderr": tail, "stdout": stdout}


def _busy_seconds() -> float | None:
    """CPU seconds all processes on the machine have used (busy, not idle/iowait), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    busy = sum(v[:8]) - v[3] - v[4]  # user nice system idle iowait irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(max_wait: float, log, threshold: float = 0.3) -> float | None:
    """Wait (up to max_wait s) until the other processes use < threshold cores; return the last reading."""
    t0 = time.perf_counter()
    while True:
        b0 = _busy_seconds()
        time.sleep(1.0)
        b1 = _busy_seconds()
        if b0 is None or b1 is None:
            return None
        used = b1 - b0
        if used < threshold or time.perf_counter() - t0 > max_wait:
            if used >= threshold:
                log(f"    machine still busy ({used:.1f} cores used by others) after {max_wait:.0f}s: running anyway")
            return used
        log(f"    machine busy ({used:.1f} cores used by others): waiting")
        time.sleep(4.0)


def python_for(tool: Tool) -> str:
    if tool.venv is None:
        return sys.executable
    return str(VENVS / tool.venv / "bin" / "python")


def ensure_venv(name: str, log) -> str | None:
    """Create bench/.cache/venvs/NAME with its packages unless it is there; return an error or None."""
    d = VENVS / name
    stamp = d / ".bench-reqs.json"
    reqs = VENV_SPECS[name]
    if stamp.exists() and json.loads(stamp.read_text()) == reqs:
        return None
    log(f"creating venv {d} with {' '.join(reqs)} ...")
    VENVS.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([sys.executable, "-m", "venv", str(d)], capture_output=True, text=True)
    if r.returncode:
        return f"venv creation failed: {r.stderr[-500:]}"
    r = subprocess.run([str(d / "bin" / "python"), "-m", "pip", "install", "-q", *reqs, "psutil"],
                       capture_output=True, text=True)
    if r.returncode:
        return f"pip install {' '.join(reqs)} failed: {r.stderr[-800:]}"
    stamp.write_text(json.dumps(reqs))
    return None


def th_executable() -> str | None:
    cand = Path(sys.executable).parent / "th"
    if cand.exists():
        return str(cand)
    return shutil.which("th")


_TH_HELP: str | None = None


def th_help() -> str:
    global _TH_HELP
    if _TH_HELP is None:
        th = th_executable()
        if th is None:
            _TH_HELP = ""
        else:
            r = subprocess.run([th, "profile", "--help"], capture_output=True, text=True, timeout=60)
            _TH_HELP = r.stdout + r.stderr
    return _TH_HELP


def th_supports_workers() -> bool:
    h = th_help()
    return "--distributed" in h and "--workers" in h


def build_command(tool: Tool, file: Path, fmt: str, out: Path) -> tuple[list[str] | None, str]:
    """The child's command, or (None, reason) when the tool cannot run here."""
    if tool.cli_workers is not None:
        th = th_executable()
        if th is None:
            return None, "`th` not found (is truthound installed in this interpreter's venv?)"
        cmd = [th, "profile", str(file), "-f", "json", "-o", str(out)]
        if th_supports_workers():
            cmd += ["--distributed", "--backend", "local", "--workers", str(tool.cli_workers)]
        elif tool.cli_workers > 1:
            return None, "`th profile --help` offers no --distributed/--workers yet: 2-worker run skipped"
        return cmd, ""
    py = python_for(tool)
    if not Path(py).exists():
        return None, f"interpreter {py} missing"
    cmd = [py, str(BENCH / "runner.py"), tool.key.replace("truthound-engine", "truthound-engine"),
           "--file", str(file), "--format", fmt, "--out", str(out)]
    return cmd, ""


def tool_version(tool: Tool) -> str:
    """Version text for the report, from the tool's own interpreter."""
    mods = {"truthound-1w": "truthound", "truthound-2w": "truthound", "truthound-engine": "truthound",
            "duckdb": "duckdb", "polars": "polars", "truthound-pypi": "truthound", "whylogs": "whylogs",
            "ydata": "ydata-profiling", "floor": "pyarrow", "floor-stream": "pyarrow"}
    dist = mods[tool.key]
    py = python_for(tool)
    if not Path(py).exists():
        return "not installed"
    code = (f"from importlib.metadata import version\ntry:\n print(version('{dist}'))\n"
            f"except Exception as e:\n print('not installed')")
    r = subprocess.run([py, "-c", code], capture_output=True, text=True)
    return f"{dist} {r.stdout.strip() or 'unknown'}"


# ---------------------------------------------------------------- parse outputs


def parse_output(tool: Tool, out: Path) -> dict:
    from runner import _truthound_json_columns

    doc = json.loads(out.read_text())
    if tool.cli_workers is not None:
        return {"rows": doc.get("row_count"), "columns": _truthound_json_columns(doc), "work_seconds": None}
    return doc


# ---------------------------------------------------------------- main loop


@dataclass
class Record:
    tool: str
    format: str
    status: str = "ok"               # ok | failed | timeout | skipped
    reason: str = ""
    runs: list = field(default_factory=list)   # wall seconds
    work: list = field(default_factory=list)   # in-process seconds, where the runner reports them
    rss: list = field(default_factory=list)
    other: list = field(default_factory=list)  # cores used by other processes during each run
    cpu: list = field(default_factory=list)    # user+sys CPU seconds of the child's process tree
    rows: int | None = None
    columns: dict | None = None


def warm(file: Path) -> None:
    with open(file, "rb") as f:
        while f.read(1 << 24):
            pass


def bench_size(size: str, tools: list[str], formats: list[str], runs: int, timeout: float, log,
               tmpdir: Path, mem_cap: float | None = None, quiet_wait: float = 0) -> dict:
    files = generate.generate(size)
    nrows = generate.SIZES[size]
    records: list[Record] = []
    for fmt in formats:
        warm(files[fmt])
        for key in tools:
            tool = TOOLS[key]
            rec = Record(key, fmt)
            records.append(rec)
            if fmt not in tool.formats:
                rec.status, rec.reason = "skipped", f"no {fmt} runner"
                continue
            if tool.venv:
                e = ensure_venv(tool.venv, log)
                if e:
                    rec.status, rec.reason = "failed", e
                    log(f"  {key}/{fmt}: {e}")
                    continue
            n_runs, t_out = runs, timeout
            if tool.max_rows is not None and nrows > tool.max_rows:
                n_runs = 1
                rec.reason = f"above {tool.max_rows:,} rows: one try with a {timeout:.0f}s time-out"
            out = tmpdir / f"{size}-{key}-{fmt}.json"
            for i in range(n_runs):
                if out.exists():
                    out.unlink()
                cmd, why = build_command(tool, files[fmt], fmt, out)
                if cmd is None:
                    rec.status, rec.reason = "skipped" if "skipped" in why else "failed", why
                    break
                if quiet_wait:
                    wait_for_quiet(quiet_wait, log)
                m = measure(cmd, t_out, cwd=ROOT, mem_cap=mem_cap)
                rec.other.append(m["other_cores"])
                rec.cpu.append(m["child_cpu"])
                if m["over_cap"]:
                    rec.status = "failed"
                    rec.reason = (rec.reason + "; " if rec.reason else "") + \
                        f"killed at the memory cap: its RSS passed {mem_cap / 2**30:.0f} GiB after {m['wall']:.0f}s"
                    log(f"  {key}/{fmt} run {i + 1}: {rec.reason}")
                    break
                if m["timed_out"]:
                    rec.status = "timeout"
                    rec.reason = (rec.reason + "; " if rec.reason else "") + f"did not finish in {t_out:.0f}s"
                    log(f"  {key}/{fmt} run {i + 1}: TIMEOUT after {t_out:.0f}s")
                    break
                if m["rc"] != 0 or not out.exists():
                    rec.status = "failed"
                    last = (m["stderr"] or m["stdout"]).strip().splitlines()[-3:]
                    rec.reason = f"exit {m['rc']}: " + " | ".join(last)
                    log(f"  {key}/{fmt} run {i + 1}: FAILED {rec.reason}")
                    break
                rec.runs.append(m["wall"])
                rec.rss.append(m["peak_rss"])
                try:
                    parsed = parse_output(tool, out)
                except Exception as e:  # noqa: BLE001
                    rec.status, rec.reason = "failed", f"output not parseable: {e}"
                    break
                if parsed.get("work_seconds") is not None:
                    rec.work.append(parsed["work_seconds"])
                rec.rows, rec.columns = parsed.get("rows"), parsed.get("columns")
                oc = m["other_cores"]
                log(f"  {key}/{fmt} run {i + 1}: {m['wall']:.2f}s, peak RSS {m['peak_rss'] / 2**20:.0f} MiB"
                    + (f", others used {oc:.2f} cores" if oc is not None else ""))
            if rec.status == "ok" and rec.rows is not None and rec.rows != nrows:
                rec.status, rec.reason = "failed", f"reported {rec.rows} rows, expected {nrows}"
    # accuracy on the Parquet runs
    import accuracy

    acc = {}
    if "parquet" in formats:
        ref = accuracy.exact_reference(files["parquet"], generate.DATA_DIR / f"{size}.exact.json")
        reported = {r.tool: r.columns for r in records if r.format == "parquet" and r.status == "ok" and r.columns}
        acc = accuracy.evaluate(files["parquet"], ref, reported)
    result = {"size": size, "rows": nrows, "runs": runs, "timeout": timeout,
              "files": {k: {"path": str(v.relative_to(ROOT)), "bytes": v.stat().st_size} for k, v in files.items()},
              "records": [r.__dict__ for r in records], "accuracy": acc}
    return result


def merge_previous(path: Path, res: dict) -> dict:
    """Keep the earlier records (and their accuracy) of the tools/formats this run did not measure."""
    if not path.exists():
        return res
    try:
        old = json.loads(path.read_text())
    except ValueError:
        return res
    done = {(r["tool"], r["format"]) for r in res["records"]}
    kept = [r for r in old.get("records", []) if (r["tool"], r["format"]) not in done]
    if not kept:
        return res
    order = {k: i for i, k in enumerate(TOOLS)}
    res["records"] = sorted(res["records"] + kept,
                            key=lambda r: (0 if r["format"] == "parquet" else 1, order.get(r["tool"], 99)))
    new_acc_tools = {r["tool"] for r in res["records"] if r["format"] == "parquet" and (r["tool"], "parquet") in done}
    for t, v in old.get("accuracy", {}).items():
        if t not in new_acc_tools:
            res["accuracy"].setdefault(t, v)
    vers = dict(old.get("versions", {}))
    vers.update(res.get("versions", {}))
    res["versions"] = vers
    cmds = old.get("commands", [old.get("command")])
    res["commands"] = [c for c in cmds if c] + [res["command"]]
    res["runs"] = max(res["runs"], old.get("runs", 0))
    return res


def machine_info() -> dict:
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory_gib": round(mem / 2**30, 1), "cpu": cpu,
            "os": platform.platform(), "python": platform.python_version()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1m,10m", help="comma list of " + ",".join(generate.SIZES))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", default=",".join(DEFAULT_TOOLS), help="comma list of " + ",".join(TOOLS))
    ap.add_argument("--formats", default="parquet,csv")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per run (default 600)")
    ap.add_argument("--mem-cap", type=float, default=16.0,
                    help="GiB: a child whose process tree passes this RSS is killed and recorded (default 16)")
    ap.add_argument("--quiet-wait", type=float, default=120.0,
                    help="before each run, wait up to this many seconds for other processes to go idle "
                         "(default 120; 0 = never wait)")
    ap.add_argument("--smoke", action="store_true", help="CI mode: tiny, 1 run, truthound + DuckDB only")
    ap.add_argument("--out-dir", default=None, help="results folder (default bench/results/latest)")
    ap.add_argument("--no-report", action="store_true", help="do not re-render BENCHMARKS.md")
    a = ap.parse_args()

    if a.smoke:
        sizes, runs, tools, formats = ["tiny"], 1, SMOKE_TOOLS, ["parquet", "csv"]
        out_dir = Path(a.out_dir) if a.out_dir else CACHE / "smoke"
        timeout = 120.0
    else:
        sizes = [s.strip() for s in a.sizes.split(",") if s.strip()]
        runs, formats, timeout = a.runs, [f.strip() for f in a.formats.split(",")], a.timeout
        tools = [t.strip() for t in a.tools.split(",") if t.strip()]
        out_dir = Path(a.out_dir) if a.out_dir else RESULTS
    for t in tools:
        if t not in TOOLS:
            ap.error(f"unknown tool {t!r}; known: {', '.join(TOOLS)}")
    for s in sizes:
        if s not in generate.SIZES:
            ap.error(f"unknown size {s!r}; known: {', '.join(generate.SIZES)}")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    out_dir.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    log(f"load average at start: {os.getloadavg()}")
    failed = []
    with tempfile.TemporaryDirectory(prefix="th-bench-") as td:
        for size in sizes:
            log(f"== {size}")
            load0 = os.getloadavg()
            res = bench_size(size, tools, formats, runs, timeout, log, Path(td), a.mem_cap * 2**30,
                             0 if a.smoke else a.quiet_wait)
            res["loadavg_before"] = load0
            res["machine"] = machine_info()
            res["versions"] = {t: tool_version(TOOLS[t]) for t in tools}
            res["th_workers_supported"] = th_supports_workers()
            res["command"] = "python bench/run.py " + " ".join(sys.argv[1:])
            res["finished_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
            res["loadavg_after"] = os.getloadavg()
            if not a.smoke:
                res = merge_previous(out_dir / f"{size}.json", res)
            (out_dir / f"{size}.json").write_text(json.dumps(res, indent=1, default=str))
            failed += [f"{size}/{r['tool']}/{r['format']}: {r['reason']}" for r in res["records"]
                       if r["status"] in ("failed", "timeout")]
            import report

            md = report.size_section(res)
            (out_dir / f"{size}.md").write_text(md)
            print(md)
            report.chart(res, out_dir / f"{size}.png", log)
    if not a.smoke and not a.no_report and out_dir.resolve() == RESULTS.resolve():
        import report

        report.write_benchmarks(out_dir, ROOT / "BENCHMARKS.md")
        log(f"wrote {ROOT / 'BENCHMARKS.md'}")
    log(f"done in {time.perf_counter() - t_start:.1f}s")
    if failed:
        log("failed runners:\n  " + "\n  ".join(failed))
        if a.smoke:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
