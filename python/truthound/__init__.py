"""truthound: a one-pass data profiler with a C++ engine and mergeable partial profiles.

>>> import truthound
>>> p = truthound.profile("examples/customers.csv")  # doctest: +SKIP
>>> p["email"].detected_patterns[0].name  # doctest: +SKIP
'email'
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from truthound import errors
from truthound.errors import TruthoundError
from truthound.profiler import ColumnProfile, TableProfile, profile

try:
    __version__ = version("truthound")
except PackageNotFoundError:  # running from a source tree without an installed distribution
    __version__ = "0+unknown"

__all__ = ["ColumnProfile", "TableProfile", "TruthoundError", "errors", "profile", "__version__"]
