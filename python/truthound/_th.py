"""The ``th`` executable: process settings that must come before pyarrow loads, then the CLI."""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import NoReturn

# Any of these set by the user says how many threads OpenBLAS may use.
_BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def limit_blas_threads(environ: MutableMapping[str, str]) -> None:
    """One OpenBLAS thread unless the user chose a number.

    th calls no BLAS routine, but pyarrow imports numpy, whose OpenBLAS starts a thread per core
    that busy-waits for work (about 0.1 s of CPU each) beside the profile's own threads.
    """
    if not any(v in environ for v in _BLAS_THREAD_VARIABLES):
        environ["OPENBLAS_NUM_THREADS"] = "1"


def main() -> NoReturn:
    """Entry point of ``th`` and ``python -m truthound``."""
    limit_blas_threads(os.environ)
    from truthound.cli import main as cli_main

    cli_main()
