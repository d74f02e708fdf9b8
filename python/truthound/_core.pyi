"""The C++ engine (private): see docs/engine-interface.md for the contract."""

from collections.abc import Callable
from typing import Any

FORMAT_VERSION: int

class PartialProfile:
    """Mergeable profile state of a set of columns over a set of rows."""

    def __init__(self, options: str = "{}") -> None:
        """``options``: a JSON object of engine options; ConfigurationError on a bad one."""
    def consume(self, stream: Any) -> None:
        """Every batch of an object with ``__arrow_c_stream__`` (or an ``arrow_array_stream`` capsule)."""
    def consume_batch(self, batch: Any) -> None:
        """One record batch: an object with ``__arrow_c_array__``."""
    def add_source(self, source: str) -> None:
        """Record the name of a source (file, table) this profile covers."""
    def merge(self, other: PartialProfile, columns: bool = False) -> None:
        """Merge ``other`` in place: other rows (default) or, with ``columns=True``, other
        columns; SchemaError on a type conflict."""
    def to_bytes(self) -> bytes:
        """The state as versioned, checksummed bytes."""
    @staticmethod
    def from_bytes(data: bytes) -> PartialProfile:
        """Restore state from :meth:`to_bytes`; CorruptProfileError on bad bytes."""
    def finalize(self) -> str:
        """The result JSON (see docs/engine-interface.md)."""
    @property
    def row_count(self) -> int:
        """Rows consumed so far; while a stream is consumed, the batches profiled so far. Safe to
        read from any thread, and from the stream's own Python code."""
    @property
    def column_names(self) -> list[str]: ...
    @property
    def sources(self) -> list[str]: ...

class ParquetReader:
    """The engine's reader of flat Parquet column chunks (plain and dictionary pages, v1/v2,
    uncompressed or snappy), one Arrow batch at a time."""

    def __init__(
        self,
        path: str,
        schema: Any,
        columns: list[tuple[str, int, int, list[tuple[int, int, int, int, int]]]],
        row_group_rows: list[int],
        batch_rows: int,
        row_ranges: list[tuple[int, int]] = ...,
    ) -> None:
        """``columns``: (name, physical type, max definition level, [(offset, length, values,
        codec, padding)] per row group); ``schema``: the batches' struct schema (``__arrow_c_schema__``);
        ``row_ranges``: optional (first, count) rows to read of each row group."""
    def next(self) -> Any | None:
        """The next batch as an ``arrow_array`` capsule (a struct array of ``schema``), or None."""

class ParquetColumnChunk:
    """A column chunk of a Parquet footer as the engine reads it (cpp/include/truthound/parquet/
    footer.hpp): values as written, the byte range checked against the file."""

    physical_type: int
    codec: int
    encodings: list[int]
    num_values: int
    data_page_offset: int
    dictionary_page_offset: int
    total_compressed_size: int
    start: int
    length: int
    padding: int
    external: bool

class ParquetRowGroup:
    num_rows: int
    columns: list[ParquetColumnChunk]

class ParquetFooter:
    """A Parquet file's footer, every count and byte range checked by the engine."""

    file_size: int
    num_rows: int
    created_by: str
    leaf_paths: list[str]
    leaf_max_definition: list[int]
    leaf_max_repetition: list[int]
    row_groups: list[ParquetRowGroup]

def read_parquet_footer(path: str) -> ParquetFooter:
    """The footer of the Parquet file at ``path``; SourceReadError when malformed."""

def parse_parquet_footer(tail: bytes, file_size: int) -> ParquetFooter:
    """The footer parsed from the last bytes of a Parquet file (footer, length, ``PAR1``)."""

def check_parquet_pages(
    footer: ParquetFooter,
    row_groups: list[int],
    leaves: list[int],
    read_at: Callable[[int, int], bytes],
    name: str,
) -> None:
    """Walks the page headers of the column chunks of ``leaves`` (indices into
    ``footer.leaf_paths``) in ``row_groups``, reading with ``read_at(offset, size)``; raises
    SourceReadError naming ``name`` when a page runs past its column chunk or claims more
    uncompressed bytes than its codec can expand its compressed bytes to."""
