"""Independent reference values for the engine's exact fields (pyarrow.compute, numpy, stdlib).

Nothing here shares code with the engine: values are recomputed from the Arrow data with
pyarrow.compute, numpy and Python's exact integer/fraction arithmetic.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, datetime, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pt

REL = 1e-9


def leaf_columns(table: pa.Table) -> dict[str, pa.Array]:
    """Columns as the engine profiles them: struct fields become ``parent.child`` columns."""
    out: dict[str, pa.Array] = {}

    def visit(name: str, arr: pa.Array) -> None:
        if pt.is_struct(arr.type):
            out[name] = arr
            for field, child in zip(arr.type, arr.flatten()):
                visit(f"{name}.{field.name}", child)
        else:
            out[name] = arr

    for name, col in zip(table.column_names, table.columns):
        visit(name, col.combine_chunks() if col.num_chunks != 1 else col.chunk(0))
    return out


def decoded(arr: pa.Array) -> pa.Array:
    if pt.is_dictionary(arr.type):
        return arr.dictionary_decode()
    return arr


def kind(t: pa.DataType) -> str:
    if pt.is_dictionary(t):
        return kind(t.value_type)
    if pt.is_boolean(t):
        return "bool"
    if pt.is_integer(t):
        return "int"
    if pt.is_floating(t):
        return "float"
    if pt.is_decimal(t):
        return "decimal"
    if pt.is_string(t) or pt.is_large_string(t) or getattr(pt, "is_string_view", lambda _: False)(t):
        return "string"
    if pt.is_binary(t) or pt.is_large_binary(t) or pt.is_fixed_size_binary(t):
        return "binary"
    if pt.is_date(t):
        return "date"
    if pt.is_timestamp(t):
        return "timestamp"
    if pt.is_list(t) or pt.is_large_list(t) or pt.is_fixed_size_list(t):
        return "list"
    if pt.is_struct(t):
        return "struct"
    if pt.is_null(t):
        return "null"
    return "other"


def canonical(value: Any) -> Any:
    """Equal values hash equally in the engine: -0.0 is 0.0 and every NaN is one NaN."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if value == 0.0:
            return 0.0
    return value


def valid_values(arr: pa.Array) -> list[Any]:
    return [v for v in decoded(arr).to_pylist() if v is not None]


def exact_fields(arr: pa.Array) -> dict[str, Any]:
    """The exact fields of a column, computed independently of the engine."""
    arr = decoded(arr)
    k = kind(arr.type)
    n = len(arr)
    nulls = arr.null_count if k != "null" else n
    exp: dict[str, Any] = {"row_count": n, "null_count": nulls}
    exp["null_ratio"] = (nulls / n) if n else None
    values = valid_values(arr) if k not in ("null", "struct") else []
    if k == "int":
        mm = pc.min_max(arr).as_py()
        exp.update(min=mm["min"], max=mm["max"])
        exp["zero_count"] = sum(1 for v in values if v == 0)
        exp["negative_count"] = sum(1 for v in values if v < 0)
    elif k == "float":
        finite = [v for v in values if math.isfinite(v)]
        exp["nan_count"] = sum(1 for v in values if math.isnan(v))
        exp["inf_count"] = sum(1 for v in values if math.isinf(v))
        exp["zero_count"] = sum(1 for v in values if v == 0)
        exp["negative_count"] = sum(1 for v in finite if v < 0)
        exp["min"] = min(finite) if finite else None
        exp["max"] = max(finite) if finite else None
    elif k == "bool":
        exp["true_count"] = sum(1 for v in values if v)
        exp["false_count"] = sum(1 for v in values if not v)
    elif k == "string":
        as_utf8 = arr.cast(pa.large_string())  # utf8_length has no string_view kernel
        lengths = [x for x in pc.utf8_length(as_utf8).to_pylist() if x is not None]
        exp["sum_length"], exp["length_count"] = sum(lengths), len(lengths)
        exp["min_length"] = min(lengths) if lengths else None
        exp["max_length"] = max(lengths) if lengths else None
        exp["empty_string_count"] = sum(1 for v in values if v == "")
        exp["min"] = min(values, key=lambda s: s.encode()) if values else None
        exp["max"] = max(values, key=lambda s: s.encode()) if values else None
    elif k == "binary":
        exp["min"] = min(values).hex() if values else None
        exp["max"] = max(values).hex() if values else None
    elif k == "list":
        lengths = [x for x in pc.list_value_length(arr).to_pylist() if x is not None]
        exp["sum_length"], exp["length_count"] = sum(lengths), len(lengths)
        exp["min_length"] = min(lengths) if lengths else None
        exp["max_length"] = max(lengths) if lengths else None
    elif k == "decimal":
        exp["min"] = min(values) if values else None
        exp["max"] = max(values) if values else None
    elif k in ("date", "timestamp"):
        exp["min"] = min(values) if values else None
        exp["max"] = max(values) if values else None
    if k not in ("list", "struct", "null", "other"):
        exp["distinct_count"] = len({canonical(v) for v in values})
    return exp


def moments(arr: pa.Array) -> dict[str, float | None]:
    """mean, sample variance (n - 1), its std, and the moment skewness g1 and excess kurtosis g2
    (population forms, as scipy.stats' defaults) of the finite values, computed exactly."""
    arr = decoded(arr)
    k = kind(arr.type)
    values = valid_values(arr)
    if k == "float":
        values = [v for v in values if math.isfinite(v)]
    elif k == "decimal":
        values = [Decimal(v) for v in values]
    elif k != "int":
        return {}
    if not values:
        return {"mean": None}
    xs = [Fraction(v) for v in values]
    n = len(xs)
    mean = sum(xs) / n
    m2 = sum((x - mean) ** 2 for x in xs)
    m3 = sum((x - mean) ** 3 for x in xs)
    m4 = sum((x - mean) ** 4 for x in xs)
    out: dict[str, float | None] = {"mean": float(mean)}
    sample_var = m2 / (n - 1) if n >= 2 else None
    out["variance"] = None if sample_var is None else float(sample_var)
    out["std"] = None if sample_var is None else math.sqrt(float(sample_var))
    if m2 > 0:
        g1_squared = n * m3 * m3 / (m2 * m2 * m2)  # exact; only the square root is rounded
        out["skewness"] = math.copysign(math.sqrt(float(g1_squared)), float(m3) if m3 else 1.0)
        out["kurtosis"] = float(n * m4 / (m2 * m2)) - 3.0
    return out


def numeric_values(arr: pa.Array) -> np.ndarray | None:
    """The finite numeric values as float64 (for quantiles), or None for non-numeric columns."""
    arr = decoded(arr)
    k = kind(arr.type)
    if k not in ("int", "float"):
        return None
    xs = np.array([float(v) for v in valid_values(arr)], dtype=np.float64)
    return xs[np.isfinite(xs)]


QUANTILE_KEYS = {"p01": 0.01, "p05": 0.05, "p10": 0.10, "p25": 0.25, "p50": 0.5, "p75": 0.75,
                 "p90": 0.90, "p95": 0.95, "p99": 0.99}


def value_counts(arr: pa.Array) -> Counter:
    """Counts of the values top and bottom values rank: NaN is not among them (the profile
    counts it as nan_count)."""
    return Counter(canonical(v) for v in valid_values(arr)
                   if not (isinstance(v, float) and math.isnan(v)))


def as_reported(value: Any, k: str) -> Any:
    """A Python value as the engine's JSON reports it (for comparing top values and min/max)."""
    if value is None:
        return None
    if k == "binary":
        return value.hex()
    if k == "decimal":
        return Decimal(value)
    if k == "date" and isinstance(value, date):
        return value
    return value


def parse_reported(value: Any, k: str) -> Any:
    """An engine JSON value parsed back to the Python type of the reference."""
    if value is None:
        return None
    if k == "decimal":
        return Decimal(str(value))
    if k == "date":
        return date.fromisoformat(value[:10])
    if k == "timestamp":
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def same_instant(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        if (a.tzinfo is None) != (b.tzinfo is None):
            a = a.replace(tzinfo=a.tzinfo or timezone.utc)
            b = b.replace(tzinfo=b.tzinfo or timezone.utc)
        return a == b
    return a == b


def close(a: Any, b: Any, rel: float = REL, abs_tol: float = 1e-12) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_tol)
