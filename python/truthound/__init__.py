"""truthound: a one-pass data profiler with a C++ engine and mergeable partial profiles.

>>> import truthound
>>> p = truthound.profile("examples/customers.csv")  # doctest: +SKIP
>>> p["email"].detected_patterns[0].name  # doctest: +SKIP
'email'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from truthound import errors
from truthound.errors import TruthoundError

if TYPE_CHECKING:
    from truthound import profiler
    from truthound.profiler import ColumnProfile, TableProfile, profile

    __version__: str

__all__ = ["ColumnProfile", "TableProfile", "TruthoundError", "errors", "profile", "__version__"]

_PROFILER_NAMES = frozenset({"ColumnProfile", "TableProfile", "profile"})


def __getattr__(name: str) -> Any:
    # The profiler (and with it pyarrow and numpy) loads on first use, so `th` can configure the
    # process before they load (see truthound._th).
    value: Any
    if name == "profiler":
        value = importlib.import_module("truthound.profiler")
    elif name in _PROFILER_NAMES:
        value = getattr(importlib.import_module("truthound.profiler"), name)
    elif name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("truthound")
        except PackageNotFoundError:  # a source tree without an installed distribution
            value = "0+unknown"
    else:
        raise AttributeError(f"module 'truthound' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
