"""Golden reports of the bundled example (examples/customers.csv) in every text format.

`th profile examples/customers.csv --workers 1 -f FORMAT` runs as a subprocess from the root of
the repository and its output, with the run-dependent fields normalized (see
tests/golden/README.md), must equal tests/golden/customers.<format>. Nothing is regenerated
unless TRUTHOUND_UPDATE_GOLDEN=1 asks for it:

    TRUTHOUND_UPDATE_GOLDEN=1 python -m pytest -q tests/test_golden_reports.py
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
EXAMPLE = "examples/customers.csv"  # relative: the reports name the source as given
UPDATE = os.environ.get("TRUTHOUND_UPDATE_GOLDEN") == "1"

# golden file -> the options that write it
CASES = {
    "customers.console.txt": ["-f", "console"],
    "customers.table.txt": ["--summary"],
    "customers.md": ["-f", "markdown"],
    "customers.csv": ["-f", "csv"],
    "customers.json": ["-f", "json"],
    "customers.yaml": ["-f", "yaml"],
}

DURATION = "<duration>"
PROFILED_AT = "<profiled_at>"
_CONSOLE_RUN = re.compile(r"^  profiled in [0-9,.]+ ms at \S+$", re.MULTILINE)
_YAML_RUN = re.compile(r"^(profiled_at|profile_duration_ms): .+$", re.MULTILINE)


def th_env() -> dict[str, str]:
    """The environment of a reproducible run: no TRUTHOUND_* settings, no colors asked for."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUTHOUND_")}
    env["COLUMNS"] = "100"
    env.pop("NO_COLOR", None)
    return env


def run_th(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "truthound", *args], capture_output=True,
                            text=True, cwd=ROOT, env=th_env(), timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def normalize(name: str, text: str) -> str:
    """The report with its run-dependent fields replaced by placeholders: the duration and the
    time of the run (console header; JSON and YAML profiled_at and profile_duration_ms). The source is
    the relative path given on the command line and the run is pinned to one worker thread
    (--workers 1), so the header's `ran on` line and the JSON `execution` are stable."""
    if name.endswith(".json"):
        data = json.loads(text)
        assert isinstance(data["profile_duration_ms"], float) and data["profiled_at"]
        data["profile_duration_ms"] = DURATION
        data["profiled_at"] = PROFILED_AT
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if name.endswith(".yaml"):
        text, n = _YAML_RUN.subn(
            lambda m: f"{m[1]}: {PROFILED_AT if m[1] == 'profiled_at' else DURATION}", text)
        assert n == 2, text[:400]
    if name.endswith(".console.txt"):
        text, n = _CONSOLE_RUN.subn(f"  profiled in {DURATION} at {PROFILED_AT}", text)
        assert n == 1, text[:400]
    return text


@pytest.mark.parametrize("name", list(CASES))
def test_golden_report(name: str) -> None:
    got = normalize(name, run_th("profile", EXAMPLE, "--workers", "1", *CASES[name]))
    path = GOLDEN / name
    if UPDATE:
        path.write_text(got, encoding="utf-8", newline="")
        return
    assert path.is_file(), f"{path} is missing; run with TRUTHOUND_UPDATE_GOLDEN=1 to write it"
    want = path.read_text(encoding="utf-8")
    if got != want:
        diff = "".join(difflib.unified_diff(want.splitlines(keepends=True),
                                            got.splitlines(keepends=True), str(path), "th"))
        pytest.fail(f"{name} differs from the golden file (TRUTHOUND_UPDATE_GOLDEN=1 rewrites "
                    f"it after a deliberate change):\n{diff[:6000]}")


def test_show_prints_what_profile_printed(tmp_path: Path) -> None:
    # a saved profile keeps the run's source, time, duration and execution: `th show` prints
    # byte for byte what `th profile` printed, in every format
    saved = tmp_path / "customers.thp"
    for name, args in CASES.items():
        printed = run_th("profile", EXAMPLE, "--workers", "1", "--save-profile", str(saved), *args)
        shown = run_th("show", str(saved), *args)
        assert shown == printed, name
        written = tmp_path / ("shown" + Path(name).suffix)
        run_th("show", str(saved), "-o", str(written), *args)
        assert written.read_text(encoding="utf-8") == printed, name
