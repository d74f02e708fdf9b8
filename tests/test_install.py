"""The package runs with exactly its declared dependencies: numpy is not one of them.

The slow test makes a fresh virtual environment, installs the dependencies the installed
distribution declares (its wheel's metadata), puts a copy of the installed package (with its
built extension) on that environment's path, and runs every partition strategy through `th`.
The fast test blocks numpy in this environment and runs the same commands.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import truthound
from truthound.profiler.distributed import PartitionStrategy

# Runs `th` with numpy unimportable, as in an environment without it.
_NO_NUMPY = """
import sys
class _NoNumpy:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy" or name.startswith("numpy."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, _NoNumpy())
from truthound.cli import main
main()
"""


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("install")
    parquet = folder / "data.parquet"
    pq.write_table(
        pa.table({"id": list(range(3000)), "city": [["Oslo", "Rome", None][i % 3] for i in range(3000)]}),
        parquet, row_group_size=700,
    )
    # Quoted fields with commas and newlines: the CSV range splitter counts quotes.
    csv = folder / "quoted.csv"
    csv.write_text("id,note\n" + "".join(f'{i},"a, ""b""\nc {i}"\n' for i in range(3000)))
    return [parquet, csv]


def _run_every_strategy(python: str, prelude: list[str], sources: list[Path], env: dict[str, str]) -> None:
    for source in sources:
        for strategy in PartitionStrategy:
            result = subprocess.run(
                [python, *prelude, "profile", str(source), "--distributed", "--workers", "2",
                 "--partition-strategy", strategy.value, "-f", "json"],
                capture_output=True, text=True, env=env, timeout=300,
            )
            assert result.returncode == 0, f"{source.name} {strategy.value}: {result.stderr}"
            profile = json.loads(result.stdout)
            assert profile["row_count"] == 3000, (source.name, strategy.value)
            assert profile["columns"][0]["name"] == "id"
            assert profile["columns"][0]["max"] == 2999, (source.name, strategy.value)


def test_every_strategy_runs_without_numpy(sources: list[Path]) -> None:
    _run_every_strategy(sys.executable, ["-c", _NO_NUMPY], sources, dict(os.environ))


def _declared_dependencies() -> list[str]:
    requires = importlib.metadata.requires("truthound") or []
    return [r for r in requires if "extra ==" not in r]


@pytest.mark.slow
def test_fresh_environment_with_declared_dependencies_runs_every_strategy(
    tmp_path: Path, sources: list[Path]
) -> None:
    deps = _declared_dependencies()
    assert deps and not any(d.startswith("numpy") for d in deps)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    python = str(env_dir / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", *deps], check=True, timeout=600)
    # The built package as installed here (the extension included), and nothing else of this
    # environment.
    packages = tmp_path / "packages"
    shutil.copytree(Path(truthound.__file__).parent, packages / "truthound",
                    ignore=shutil.ignore_patterns("__pycache__"))
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    Path(site, "truthound-under-test.pth").write_text(f"{packages}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    check = subprocess.run(
        [python, "-c", "import importlib.util, truthound; "
                       "print(truthound.__file__, importlib.util.find_spec('numpy') is None)"],
        capture_output=True, text=True, env=env, check=True,
    )
    where, no_numpy = check.stdout.split()
    assert where.startswith(str(packages)), where
    assert no_numpy == "True", "a declared dependency now pulls numpy in: the test proves less"
    _run_every_strategy(python, ["-m", "truthound.cli"], sources, env)
