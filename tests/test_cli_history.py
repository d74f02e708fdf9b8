"""`th profile --save-profile`, `th merge` and `th show` as subprocesses, against the Python API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from truthound.profiler import TableProfile, profile


def th(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "truthound", *map(str, args)],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, COLUMNS="100"))


def _stable(p: TableProfile) -> dict[str, object]:
    d = p.to_dict()
    for key in ("source", "profiled_at", "profile_duration_ms", "execution", "sources"):
        d.pop(key)
    return d


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("days")
    paths = []
    for day in range(3):
        t = pa.table({"id": list(range(day * 100, day * 100 + 100)),
                      "city": [["Oslo", "Rome", None][i % 3] for i in range(100)],
                      "amount": [float(i * (day + 1)) for i in range(100)]})
        path = root / f"day{day}.parquet"
        pq.write_table(t, path)
        paths.append(path)
    return paths


def test_save_merge_show(days: list[Path], tmp_path: Path) -> None:
    saved = []
    for i, day in enumerate(days):
        out = tmp_path / f"day{i}.thp"
        r = th("profile", day, "--save-profile", out, "-f", "json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["row_count"] == 100
        assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
        saved.append(out)
    r = th("merge", *saved, "-o", tmp_path / "all.thp")
    assert r.returncode == 0, r.stderr
    assert "merged 3 profiles (300 rows" in r.stderr
    merged = TableProfile.from_bytes((tmp_path / "all.thp").read_bytes())
    assert _stable(merged) == _stable(profile([str(d) for d in days]))

    shown = th("show", tmp_path / "all.thp", "-f", "json")
    assert shown.returncode == 0, shown.stderr
    assert _stable(TableProfile.from_json(shown.stdout)) == _stable(merged)
    console = th("show", tmp_path / "all.thp")
    assert console.returncode == 0 and "rows 300" in console.stdout
    th("show", tmp_path / "all.thp", "-o", tmp_path / "all.yaml")
    assert "row_count: 300" in (tmp_path / "all.yaml").read_text()


def test_merge_by_columns(days: list[Path], tmp_path: Path) -> None:
    a, b = tmp_path / "a.thp", tmp_path / "b.thp"
    assert th("profile", days[0], "--columns", "id", "--save-profile", a).returncode == 0
    assert th("profile", days[0], "--columns", "city,amount", "--save-profile", b).returncode == 0
    r = th("merge", a, b, "--by", "columns", "-o", tmp_path / "ab.thp")
    assert r.returncode == 0, r.stderr
    merged = TableProfile.from_bytes((tmp_path / "ab.thp").read_bytes())
    assert merged.column_names == ["id", "city", "amount"] and merged.row_count == 100
    bad = th("merge", a, a, "--by", "columns", "-o", tmp_path / "x.thp")
    assert bad.returncode == 1 and "disjoint columns" in bad.stderr
    assert not (tmp_path / "x.thp").exists()


def test_errors_name_the_file(days: list[Path], tmp_path: Path) -> None:
    missing = th("show", tmp_path / "nope.thp")
    assert missing.returncode == 1 and "nope.thp" in missing.stderr
    garbage = tmp_path / "garbage.thp"
    garbage.write_bytes(b"not a profile at all")
    bad = th("merge", garbage, "-o", tmp_path / "m.thp")
    assert bad.returncode == 1 and "garbage.thp" in bad.stderr and "not a truthound profile" in bad.stderr
    nodir = th("profile", days[0], "--save-profile", tmp_path / "no" / "x.thp")
    assert nodir.returncode == 2 and "--save-profile" in nodir.stderr


def test_cache_reuses_unchanged_files(days: list[Path], tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "data"
    folder.mkdir()
    for d in days[:2]:
        shutil.copy(d, folder / d.name)
    cache = tmp_path / "cache"

    def run(*extra: object) -> tuple[dict[str, object], str]:
        r = th("profile", folder, "-f", "json", *extra)
        assert r.returncode == 0, r.stderr
        return _stable(TableProfile.from_json(r.stdout)), r.stderr

    plain, _ = run()
    first, err = run("--cache", cache)
    assert "reused 0 of 2 files" in err and first == plain
    second, err = run("--cache", cache)
    assert "reused 2 of 2 files" in err and second == plain

    shutil.copy(days[2], folder / days[2].name)  # a new file
    t = pa.table({"id": [7, 8], "city": ["Oslo", "Paris"], "amount": [1.5, -2.0]})
    pq.write_table(t, folder / days[0].name)  # a changed file
    os.utime(folder / days[0].name, ns=(1, 1))
    third, err = run("--cache", cache)
    assert "reused 1 of 3 files, profiled 2" in err
    assert third == run()[0]
    assert len(list(cache.iterdir())) == 3  # the changed file's old entry is gone
    other_options, err = run("--cache", cache, "--top-n", "3")
    assert "reused 0 of 3 files" in err

    workers, err = run("--cache", cache, "--workers", "2")
    assert "reused 3 of 3 files" in err and workers == third
    both = th("profile", folder, "--cache", cache, "--distributed", "--backend", "dask")
    assert both.returncode == 2 and "--cache" in both.stderr
