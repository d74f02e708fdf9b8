"""Partials as workers ship them (compacted, packed: issue 12): a column in the sketch regime
takes at most 48 KiB, on a wide table and on long columns of every kind, and the packed bytes
load back to the same profile (references: the engine's own state before serialization, and
exact counts from numpy)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from truthound import _core
from truthound.profiler import profile
from truthound.profiler.distributed.worker import shipped_bytes

BOUND = 48 * 1024


def _shipped_sizes(table: pa.Table) -> dict[str, dict[str, int]]:
    state = profile(table, num_workers=1)._state
    state.compact()
    sizes: dict[str, dict[str, int]] = state.serialized_sizes()
    # the sizes are those of the bytes that ship: their sum is the payload's column sections
    blob = shipped_bytes(state)
    assert sum(s["total"] for s in sizes.values()) < len(blob)
    assert _core.PartialProfile.from_bytes(blob).finalize() == state.finalize()
    return sizes


@pytest.mark.slow
def test_wide_table_columns_ship_within_the_bound() -> None:
    rng = np.random.default_rng(5)
    rows = 50_000
    cols: dict[str, pa.Array] = {f"f{j}": pa.array(rng.normal(100, 15, rows)) for j in range(150)}
    for j in range(50):
        card = 40 * (j + 1)  # 40 .. 2,000 distinct values: exact top values
        cols[f"s{j}"] = pa.array(np.char.add("v", rng.integers(0, card, rows).astype(str)))
    sizes = _shipped_sizes(pa.table(cols))
    worst = max(sizes, key=lambda c: sizes[c]["total"])
    assert sizes[worst]["total"] <= BOUND, (worst, sizes[worst])
    # a float column of 50,000 distinct values: far below the bound (its registers pack)
    assert sizes["f0"]["distinct"] < 20 * 1024


@pytest.mark.slow
def test_long_columns_of_every_kind_ship_within_the_bound() -> None:
    rng = np.random.default_rng(6)
    n = 1_000_000
    words = np.array("alpha beta gamma delta epsilon zeta data quality profile engine".split())
    comment = [" ".join(rng.choice(words, 12)) + f" #{i}" for i in range(n)]
    table = pa.table({
        "id": pa.array(np.arange(1, n + 1)),
        "amount": pa.array(rng.normal(100, 15, n)),
        "score": pa.array(rng.lognormal(3, 1, n)),
        "event_us": pa.array(1_600_000_000_000_000 + rng.integers(0, 10**14, n)).cast(
            pa.timestamp("us", tz="UTC")),
        "uuid": pa.array([f"{x:032x}" for x in rng.integers(0, 2**63, n)]),
        "comment": pa.array(comment),
    })
    sizes = _shipped_sizes(table)
    for name, s in sizes.items():
        assert s["total"] <= BOUND, (name, s)
