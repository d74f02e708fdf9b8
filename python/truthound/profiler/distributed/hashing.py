"""Hash partitioning: the bucket of each row from the engine's hash of its key columns."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from truthound import _core

__all__ = ["row_hashes", "row_buckets", "hashable_columns"]


def row_hashes(batch: pa.RecordBatch, key_columns: Sequence[str]) -> pa.UInt64Array:
    """The engine's 64-bit hash of each row of ``batch`` over ``key_columns`` (the value hash of
    distinct counts and duplicate rows: every process and machine agrees, and 3, 3.0 and an
    int32 3 hash alike)."""
    data = _core.row_hashes(batch, _leaf_keys(batch.schema, key_columns))
    return pa.Array.from_buffers(pa.uint64(), batch.num_rows, [None, pa.py_buffer(data)])


def _leaf_keys(schema: pa.Schema, key_columns: Sequence[str]) -> list[str]:
    """The engine's column names for ``key_columns``: a struct column stands for its leaves
    (``parent.child``), as the engine names them."""
    out: list[str] = []

    def leaves(name: str, t: pa.DataType) -> None:
        if pa.types.is_struct(t):
            for f in t:
                leaves(f"{name}.{f.name}", f.type)
        else:
            out.append(name)

    for key in key_columns:
        i = schema.get_field_index(key)
        if i < 0:
            out.append(key)  # the engine names what is missing
        else:
            leaves(key, schema.field(i).type)
    return out


def _hashable(t: pa.DataType) -> bool:
    if pa.types.is_struct(t):
        return all(_hashable(f.type) for f in t)
    if pa.types.is_dictionary(t):
        return _hashable(t.value_type)
    return not (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
                or pa.types.is_map(t) or pa.types.is_union(t) or pa.types.is_interval(t)
                or pa.types.is_run_end_encoded(t) or getattr(pa.types, "is_list_view",
                                                              lambda _: False)(t)
                or getattr(pa.types, "is_large_list_view", lambda _: False)(t))


def hashable_columns(schema: pa.Schema, columns: Sequence[str]) -> tuple[str, ...]:
    """The ``columns`` whose values the engine hashes (lists, maps and unions have no value hash,
    as in the duplicate-row hash): the keys of a whole-row hash partitioning."""
    return tuple(c for c in columns if _hashable(schema.field(c).type))


def row_buckets(batch: pa.RecordBatch, key_columns: Sequence[str], num_buckets: int) -> pa.Array:
    """The bucket (0..num_buckets-1) of each row of ``batch`` (an int64 array): its hash modulo
    ``num_buckets``."""
    if not key_columns:  # nothing to hash: one bucket holds every row
        return pa.array([0] * batch.num_rows, pa.int64())
    h = row_hashes(batch, key_columns)
    n = pa.scalar(num_buckets, pa.uint64())
    return pc.subtract(h, pc.multiply(pc.divide(h, n), n)).cast(pa.int64())  # h % n
