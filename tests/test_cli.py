"""The `th` command as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from truthound.profiler import TableProfile, profile


def th(*args: str, cwd: Path | None = None,
       env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="100", **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-m", "truthound.cli", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=120,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("th: error: "), lines[0]
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def small_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "small.parquet"
    pq.write_table(pa.table({"id": [1, 2, 3, 4], "email": ["a@example.com", "b@example.com",
                                                         None, "c@example.org"]}), path)
    return path


def test_console_output(customers_csv: Path) -> None:
    result = th("profile", customers_csv)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"Profile of {customers_csv}" in out
    assert "rows 2,000" in out and "columns 13" in out
    for column in ("customer_id", "email", "total_spent", "signup_date", "is_active"):
        assert f"\n{column}  [" in out
    assert "patterns: email" in out
    assert result.stderr == "", "no progress bar when stderr is not a terminal"


def test_json_output_is_the_full_profile(customers_csv: Path) -> None:
    result = th("profile", customers_csv, "-f", "json", "--columns", "email,orders", "--top-n", "3")
    assert result.returncode == 0, result.stderr
    p = TableProfile.from_json(result.stdout)
    assert p.column_names == ["email", "orders"]
    assert len(p["orders"].top_values) == 3
    direct = profile(str(customers_csv), columns=["email", "orders"], top_n=3)
    skip = {"profiled_at", "profile_duration_ms"}
    assert {k: v for k, v in p.to_dict().items() if k not in skip} == {
        k: v for k, v in direct.to_dict().items() if k not in skip
    }


def test_yaml_output_and_flags(small_parquet: Path) -> None:
    result = th("profile", small_parquet, "--format", "yaml", "--no-patterns", "--correlations")
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load(result.stdout)
    assert data["row_count"] == 4
    assert not data["columns"][1]["detected_patterns"]  # null: not computed
    with_patterns = yaml.safe_load(th("profile", small_parquet, "-f", "yaml").stdout)
    assert [d["name"] for d in with_patterns["columns"][1]["detected_patterns"]] == ["email"]


def test_output_file_format_from_extension(tmp_path: Path, small_parquet: Path) -> None:
    out = tmp_path / "report.json"
    result = th("profile", small_parquet, "-o", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert json.loads(out.read_text())["row_count"] == 4
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"], "no temporary file left"
    out_yaml = tmp_path / "report.yml"
    assert th("profile", small_parquet, "-o", out_yaml).returncode == 0
    assert yaml.safe_load(out_yaml.read_text())["column_count"] == 2


def test_output_unchanged_when_the_run_fails(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("previous report")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not parquet")
    result = th("profile", bad, "-o", out)
    assert_one_line_error(result, 1, "bad.parquet")
    assert out.read_text() == "previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.parquet", "report.json"]


def test_output_into_missing_directory(tmp_path: Path) -> None:
    # Checked before the source is read: the source here is malformed, the error is the output's.
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not parquet")
    missing = tmp_path / "no" / "such" / "dir"
    result = th("profile", bad, "-o", missing / "r.json")
    assert_one_line_error(result, 2, f"the directory {missing} does not exist")
    assert ".tmp" not in result.stderr


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    assert_one_line_error(th("profile", missing), 1, f"th: error: {missing}: no such file")


def test_malformed_csv(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,4,5\n")
    assert_one_line_error(th("profile", bad), 1, f"th: error: {bad}: ")


def test_malformed_parquet(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1" + b"\x00" * 64 + b"PAR1")
    assert_one_line_error(th("profile", bad), 1, f"th: error: {bad}: ")


def test_unknown_column(small_parquet: Path) -> None:
    assert_one_line_error(th("profile", small_parquet, "--columns", "id,nope"), 2, "nope",
                          "available columns: id, email")


@pytest.mark.parametrize("value", ["-1", "ten", ""])
def test_bad_top_n(small_parquet: Path, value: str) -> None:
    assert_one_line_error(th("profile", small_parquet, "--top-n", value), 2, "--top-n")


def test_unknown_format(small_parquet: Path) -> None:
    assert_one_line_error(th("profile", small_parquet, "-f", "xml"), 2, "xml")


def test_unknown_option_and_missing_argument(small_parquet: Path) -> None:
    assert_one_line_error(th("profile", small_parquet, "--bogus"), 2, "--bogus")
    assert_one_line_error(th("profile"), 2, "SOURCE")


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = th("profile", tmp_path / "missing.csv", "--debug")
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "SourceNotFoundError" in result.stderr


def test_help_and_version() -> None:
    result = th("profile", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for option in ("--output", "--format", "--columns", "--top-n", "--no-patterns",
                   "--correlations", "--debug", "[default: 10;", "[default: 20;"):
        assert option in text, option
    version = th("--version")
    assert version.returncode == 0 and version.stdout.startswith("th ")


def test_version_without_an_installed_distribution() -> None:
    code = ("import importlib.metadata as m, sys\n"
            "def missing(name): raise m.PackageNotFoundError(name)\n"
            "m.version = missing\n"
            "sys.argv = ['th', '--version']\n"
            "from truthound._th import main\n"
            "main()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "th 0+unknown"


def test_only_th_limits_blas_threads() -> None:
    from truthound._th import limit_blas_threads

    env: dict[str, str] = {}
    limit_blas_threads(env)
    assert env == {"OPENBLAS_NUM_THREADS": "1"}
    for name in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        env = {name: "4"}
        limit_blas_threads(env)
        assert env == {name: "4"}
    # importing the package or its CLI module changes nothing in a user's process
    code = ("import os\nbefore = dict(os.environ)\nimport truthound, truthound.cli\n"
            "truthound.profile\nassert dict(os.environ) == before\n"
            "assert truthound.profiler.profile is truthound.profile\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


def test_console_script_is_installed(small_parquet: Path) -> None:
    script = Path(sys.executable).with_name("th")
    if not script.exists():
        pytest.skip("the th console script is not installed next to this interpreter")
    result = subprocess.run([str(script), "profile", str(small_parquet), "-f", "json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and json.loads(result.stdout)["row_count"] == 4


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    import fcntl
    import pty
    import struct
    import termios
    import threading

    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"x": list(range(300_000))}), path, row_group_size=50_000)
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    chunks: list[bytes] = []

    def read_terminal() -> None:
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO once the terminal has no writer left
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read_terminal)
    reader.start()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "truthound.cli", "profile", str(path), "-f", "json"],
            stdout=subprocess.PIPE, stderr=secondary, text=True, timeout=120,
        )
    finally:
        os.close(secondary)
        reader.join(10)
        os.close(primary)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["row_count"] == 300_000, "the report stays clean on stdout"
    bar = b"".join(chunks).decode(errors="replace")
    assert "profiling" in bar and "300k" in bar and "rows/s" in bar, bar


def test_the_profile_says_how_it_ran(small_parquet: Path) -> None:
    # every core by default, as DuckDB and Polars; the header and the JSON say so
    cores = len(os.sched_getaffinity(0))
    plain = th("profile", str(small_parquet), env_extra={"TRUTHOUND_NUM_WORKERS": ""})
    assert plain.returncode == 0, plain.stderr
    s = "s" if cores != 1 else ""
    assert f"ran on local (threads, {cores} worker{s}) · row_based, " in plain.stdout
    one = th("profile", str(small_parquet), "--workers", "1", "-f", "json")
    assert json.loads(one.stdout)["execution"] == {
        "backend": "local", "executor": "threads", "num_workers": 1,
        "partition_strategy": "row_based", "num_partitions": 1}
    chosen = th("profile", str(small_parquet), "-f", "yaml",
                env_extra={"TRUTHOUND_NUM_WORKERS": "3", "TRUTHOUND_DISTRIBUTED_BACKEND": "local"})
    run = yaml.safe_load(chosen.stdout)["execution"]
    assert run["num_workers"] == 3 and run["backend"] == "local"
    processes = th("profile", str(small_parquet), "--workers", "2", "--processes",
                   "--partition-strategy", "column_based")
    assert "ran on local (processes, 2 workers) · column_based, 2 partitions" in processes.stdout
    # the same profile either way
    skip = ("profiled_at", "profile_duration_ms", "execution", "estimated_memory_bytes")
    a, b = (json.loads(th("profile", str(small_parquet), "--workers", w, "-f", "json").stdout)
            for w in ("1", "3"))
    assert {k: v for k, v in a.items() if k not in skip} == {k: v for k, v in b.items() if k not in skip}


def test_distributed_options_imply_distributed(small_parquet: Path) -> None:
    # `--workers 2` alone runs the local backend with 2 workers (it used to be ignored silently)
    result = th("profile", str(small_parquet), "--workers", "2", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["row_count"] > 0
    assert_one_line_error(th("profile", str(small_parquet), "--backend", "nosuch"), 2,
                          "unknown backend 'nosuch'")
    assert_one_line_error(th("profile", str(small_parquet), "--scheduler", "x"), 2,
                          "--scheduler applies to the dask backend")
