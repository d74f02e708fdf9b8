"""Hypothesis strategies: random Arrow columns and tables of many types."""

from __future__ import annotations

import decimal

import pyarrow as pa
from hypothesis import strategies as st

INT_TYPES = {
    "int8": (pa.int8(), -(2**7), 2**7 - 1),
    "int16": (pa.int16(), -(2**15), 2**15 - 1),
    "int32": (pa.int32(), -(2**31), 2**31 - 1),
    "int64": (pa.int64(), -(2**63), 2**63 - 1),
    "uint8": (pa.uint8(), 0, 2**8 - 1),
    "uint16": (pa.uint16(), 0, 2**16 - 1),
    "uint32": (pa.uint32(), 0, 2**32 - 1),
    "uint64": (pa.uint64(), 0, 2**64 - 1),
}

SPECIAL_FLOATS = [float("nan"), float("inf"), float("-inf"), -0.0, 0.0]


def _maybe_null(values: st.SearchStrategy, null_share: float) -> st.SearchStrategy:
    if null_share <= 0:
        return values
    return st.one_of(st.none(), values) if null_share >= 0.5 else st.one_of(values, values, st.none())


@st.composite
def values_of(draw, elements: st.SearchStrategy, max_size: int = 40) -> list:
    """A list of values, sometimes from a small pool so values repeat (top values, distinct)."""
    nulls = draw(st.sampled_from([0.0, 0.25, 0.5]))
    if draw(st.booleans()):
        pool = draw(st.lists(elements, min_size=1, max_size=6))
        elements = st.sampled_from(pool)
    return draw(st.lists(_maybe_null(elements, nulls), min_size=0, max_size=max_size))


def _ints(name: str) -> st.SearchStrategy:
    t, lo, hi = INT_TYPES[name]
    edge = st.sampled_from([lo, hi, 0, -1 if lo < 0 else 1])
    return st.one_of(st.integers(lo, hi), st.integers(max(lo, -100), min(hi, 100)), edge)


def _floats(width: int) -> st.SearchStrategy:
    finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False,
                       width=width)
    return st.one_of(finite, finite, st.sampled_from(SPECIAL_FLOATS))


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x1F64F), max_size=12
)
_ascii = st.text(alphabet="abcxyz019@._- ", max_size=8)


@st.composite
def arrow_array(draw, max_size: int = 40) -> pa.Array:
    """A random Arrow array of many types (possibly sliced, possibly all null)."""
    kind = draw(
        st.sampled_from(
            list(INT_TYPES)
            + ["float32", "float64", "bool", "string", "large_string", "string_view", "binary",
               "large_binary", "fixed_size_binary", "date32", "date64", "timestamp", "duration",
               "decimal128", "decimal256", "dictionary", "list", "large_list", "struct",
               "all_null", "null"]
        )
    )
    arr = _array_of_kind(draw, kind, max_size)
    if len(arr) > 2 and draw(st.booleans()):  # a slice: non-zero offset
        start = draw(st.integers(0, len(arr) - 1))
        stop = draw(st.integers(start, len(arr)))
        arr = arr.slice(start, stop - start)
    return arr


def _array_of_kind(draw, kind: str, max_size: int) -> pa.Array:
    if kind in INT_TYPES:
        return pa.array(draw(values_of(_ints(kind), max_size)), type=INT_TYPES[kind][0])
    if kind == "float32":
        return pa.array(draw(values_of(_floats(32), max_size)), type=pa.float32())
    if kind == "float64":
        return pa.array(draw(values_of(_floats(64), max_size)), type=pa.float64())
    if kind == "bool":
        return pa.array(draw(values_of(st.booleans(), max_size)), type=pa.bool_())
    if kind in ("string", "large_string", "string_view"):
        t = {"string": pa.string(), "large_string": pa.large_string(),
             "string_view": pa.string_view()}[kind]
        return pa.array(draw(values_of(st.one_of(_text, _ascii), max_size)), type=t)
    if kind in ("binary", "large_binary"):
        t = pa.binary() if kind == "binary" else pa.large_binary()
        return pa.array(draw(values_of(st.binary(max_size=8), max_size)), type=t)
    if kind == "fixed_size_binary":
        return pa.array(draw(values_of(st.binary(min_size=3, max_size=3), max_size)),
                        type=pa.binary(3))
    if kind == "date64":
        days = draw(values_of(st.integers(-20000, 40000), max_size))
        return pa.array([None if d is None else d * 86_400_000 for d in days],
                        type=pa.int64()).cast(pa.date64())
    if kind == "duration":
        unit = draw(st.sampled_from(["s", "ms", "us", "ns"]))
        vals = draw(values_of(st.integers(-(10**12), 10**12), max_size))
        return pa.array(vals, type=pa.int64()).cast(pa.duration(unit))
    if kind == "date32":
        days = draw(values_of(st.integers(-20000, 40000), max_size))
        return pa.array(days, type=pa.int32()).cast(pa.date32())
    if kind == "timestamp":
        unit = draw(st.sampled_from(["s", "ms", "us", "ns"]))
        tz = draw(st.sampled_from([None, "UTC", "Europe/Paris", "Asia/Seoul"]))
        scale = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
        # whole microseconds, so Python datetimes represent every value exactly
        step = 1000 if unit == "ns" else 1
        seconds = st.integers(-(2**31), 2**33)
        sub = st.integers(0, max(scale // step - 1, 0))
        raw = draw(values_of(st.tuples(seconds, sub), max_size))
        ints = [None if v is None else v[0] * scale + v[1] * step for v in raw]
        return pa.array(ints, type=pa.int64()).cast(pa.timestamp(unit, tz=tz))
    if kind in ("decimal128", "decimal256"):
        nums = st.decimals(min_value=-(10**7), max_value=10**7, places=2, allow_nan=False,
                           allow_infinity=False)
        vals = draw(values_of(nums, max_size))
        vals = [None if v is None else v.quantize(decimal.Decimal("0.01")) for v in vals]
        t = pa.decimal128(12, 2) if kind == "decimal128" else pa.decimal256(40, 2)
        return pa.array(vals, type=t)
    if kind == "dictionary":
        vals = draw(values_of(st.sampled_from(["red", "green", "blue", "", "ünï"]), max_size))
        index_type = draw(st.sampled_from([pa.int8(), pa.int16(), pa.int32(), pa.int64()]))
        arr = pa.array(vals, type=pa.string()).dictionary_encode()
        return arr.cast(pa.dictionary(index_type, pa.string()))
    if kind in ("list", "large_list"):
        item = st.lists(_maybe_null(st.integers(-5, 5), 0.25), max_size=4)
        t = pa.list_(pa.int64()) if kind == "list" else pa.large_list(pa.int64())
        return pa.array(draw(values_of(item, max_size)), type=t)
    if kind == "struct":
        rows = draw(values_of(st.fixed_dictionaries(
            {"a": _maybe_null(st.integers(-50, 50), 0.25), "b": _maybe_null(_ascii, 0.25)}
        ), max_size))
        return pa.array(rows, type=pa.struct([("a", pa.int32()), ("b", pa.string())]))
    if kind == "all_null":
        t = draw(st.sampled_from([pa.int64(), pa.float64(), pa.string(), pa.bool_()]))
        return pa.nulls(draw(st.integers(0, max_size)), type=t)
    if kind == "null":
        return pa.nulls(draw(st.integers(0, max_size)))
    raise AssertionError(kind)


@st.composite
def arrow_table(draw, max_columns: int = 4, max_size: int = 40) -> pa.Table:
    """A table of random columns of one length."""
    n_cols = draw(st.integers(1, max_columns))
    cols = [draw(arrow_array(max_size)) for _ in range(n_cols)]
    n = min(len(c) for c in cols)
    cols = [c.slice(0, n) for c in cols]
    return pa.table(cols, names=[f"c{i}" for i in range(n_cols)])


@st.composite
def numeric_table(draw, max_size: int = 200) -> pa.Table:
    """Two or three numeric columns of one length (moments, correlations)."""
    n = draw(st.integers(0, max_size))
    a = draw(st.lists(_maybe_null(st.integers(-1000, 1000), 0.25), min_size=n, max_size=n))
    b = draw(st.lists(_maybe_null(
        st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, allow_subnormal=False), 0.25
    ), min_size=n, max_size=n))
    s = draw(st.lists(_maybe_null(st.sampled_from(["x", "y", "z", "w"]), 0.25), min_size=n, max_size=n))
    return pa.table({"a": pa.array(a, pa.int64()), "b": pa.array(b, pa.float64()),
                     "s": pa.array(s, pa.string())})
