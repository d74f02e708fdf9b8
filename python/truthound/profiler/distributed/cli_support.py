"""The ``th profile --distributed`` options and their runner (wired into truthound.cli)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from truthound.errors import ConfigurationError
from truthound.profiler.distributed.config import (
    DaskConfig,
    DistributedBackend,
    PartitionStrategy,
    RayConfig,
    SparkConfig,
)
from truthound.profiler.model import TableProfile

__all__ = ["DISTRIBUTED_OPTIONS", "add_distributed_options", "run_distributed", "distributed_kwargs"]

_STRATEGIES = [s.value for s in PartitionStrategy]

DISTRIBUTED_OPTIONS: list[Callable[[Any], Any]] = [
    click.option(
        "--distributed", is_flag=True, default=False,
        help="Profile in parallel partitions on a distributed backend (see --backend). "
             "Implied by any of the options below.",
    ),
    click.option(
        "--backend", default=None, metavar="NAME",
        help="Backend with --distributed: local, spark, dask, ray, auto, or a registered one. "
             "[default: $TRUTHOUND_DISTRIBUTED_BACKEND, else local]",
    ),
    click.option(
        "--workers", type=click.IntRange(min=1), default=None, metavar="N",
        help="Number of workers. [default: $TRUTHOUND_NUM_WORKERS, else the CPU core count]",
    ),
    click.option(
        "--partition-strategy", type=click.Choice(_STRATEGIES, case_sensitive=False),
        default="row_based", show_default=True,
        help="How the work is split: by rows, columns, both, or by a row hash.",
    ),
    click.option(
        "--processes/--threads", "processes", default=False, show_default=True,
        help="Local backend: run worker processes instead of threads.",
    ),
    click.option("--master", default=None, metavar="URL", help="Spark master URL (spark backend)."),
    click.option(
        "--scheduler", default=None, metavar="NAME",
        help="Dask scheduler: threads, processes, synchronous, distributed or an address "
             "(dask backend; address from $DASK_SCHEDULER_ADDRESS).",
    ),
    click.option(
        "--address", default=None, metavar="ADDR",
        help="Ray cluster address (ray backend). [default: $RAY_ADDRESS, else a local Ray]",
    ),
]


def add_distributed_options(cmd: Any) -> Any:
    """Decorate a click command with the distributed options (in --help order)."""
    for option in reversed(DISTRIBUTED_OPTIONS):
        cmd = option(cmd)
    return cmd


def distributed_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """Pop the distributed options out of click's ``params`` into run_distributed's kwargs.

    Any distributed option given on the command line (``--workers 2``, ``--processes``,
    ``--backend dask``...) implies ``--distributed``: it has no other meaning."""
    names = ("distributed", "backend", "workers", "partition_strategy", "processes", "master",
             "scheduler", "address")
    kwargs = {n: params.pop(n, None) for n in names}
    ctx = click.get_current_context(silent=True)
    if ctx is not None and not kwargs["distributed"]:
        given = [n for n in names[1:]
                 if ctx.get_parameter_source(n) == click.core.ParameterSource.COMMANDLINE]
        kwargs["distributed"] = bool(given)
    return kwargs


def _config_for(backend: str, master: str | None, scheduler: str | None, address: str | None) -> Any:
    given = {"--master": master, "--scheduler": scheduler, "--address": address}
    owner = {"--master": "spark", "--scheduler": "dask", "--address": "ray"}
    for flag, value in given.items():
        if value is not None and owner[flag] != backend:
            raise ConfigurationError(f"option {flag} applies to the {owner[flag]} backend, not {backend}")
    if backend == "spark":
        return SparkConfig(master=master) if master else SparkConfig()
    if backend == "dask":
        return DaskConfig(scheduler=scheduler) if scheduler else DaskConfig()
    if backend == "ray":
        return RayConfig(address=address) if address else RayConfig()
    return None


def run_distributed(
    source: Any,
    *,
    backend: str | None = None,
    workers: int | None = None,
    partition_strategy: str | None = None,
    processes: bool | None = False,
    master: str | None = None,
    scheduler: str | None = None,
    address: str | None = None,
    distributed: bool | None = True,
    **engine_options: Any,
) -> TableProfile:
    """Profile ``source`` as ``th profile --distributed`` does; ``engine_options`` are the
    keyword arguments of truthound.profiler.profile (columns, top_n, format, ...)."""
    from truthound.profiler.distributed.auto import auto_select_backend
    from truthound.profiler.distributed.config import default_backend
    from truthound.profiler.distributed.profiler import DistributedProfiler

    name = (backend or default_backend()).strip().lower()
    if name == DistributedBackend.AUTO.value:
        name = auto_select_backend().value
    config = _config_for(name, master, scheduler, address)
    profiler = DistributedProfiler.create(
        backend=name,
        config=config,
        partition_strategy=partition_strategy or PartitionStrategy.ROW_BASED,
        num_workers=workers,
        use_processes=bool(processes) if name == "local" else None,
    )
    try:
        return profiler.profile(source, **engine_options)
    finally:
        close = getattr(profiler.backend, "close", None)  # a registered backend may have none
        if callable(close):
            close()  # a session, cluster or Ray the backend started, it stops
