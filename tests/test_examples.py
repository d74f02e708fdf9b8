"""The bundled example is what its committed generator writes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from conftest import ROOT


def test_customers_csv_is_reproducible(tmp_path: Path, customers_csv: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_customers", ROOT / "examples" / "make_customers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "customers.csv"
    module.main(out)
    assert out.read_bytes() == customers_csv.read_bytes()
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2001
