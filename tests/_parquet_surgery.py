"""Take a Parquet file apart and put it back together, for tests that need malformed files.

A file is parsed into its footer (a thrift compact-protocol ``FileMetaData``, kept as a generic
tree: a struct is a dict ``{field id: (type, value)}``) and, for each column chunk, its pages
(header tree and body bytes). Tests change any of it and :func:`assemble` writes the file again
with every page offset and chunk size recomputed from the bytes, so a changed page header or
body still lines up with the footer and the mutation reaches the page that holds it.

Only what the tests need of parquet.thrift is named here (field ids of FileMetaData, RowGroup,
ColumnChunk, ColumnMetaData and PageHeader).
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from typing import Any

# compact-protocol type codes
STOP, TRUE, FALSE, BYTE, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(13)

Struct = dict[int, tuple[int, Any]]

# FileMetaData
FMD_SCHEMA, FMD_NUM_ROWS, FMD_ROW_GROUPS, FMD_CREATED_BY = 2, 3, 4, 6
# SchemaElement
SE_TYPE, SE_REPETITION, SE_NAME, SE_NUM_CHILDREN = 1, 3, 4, 5
# RowGroup
RG_COLUMNS, RG_TOTAL_BYTE_SIZE, RG_NUM_ROWS, RG_FILE_OFFSET, RG_TOTAL_COMPRESSED = 1, 2, 3, 5, 6
# ColumnChunk
CC_FILE_OFFSET, CC_META = 2, 3
# ColumnMetaData
CMD_TYPE, CMD_ENCODINGS, CMD_PATH, CMD_CODEC, CMD_NUM_VALUES = 1, 2, 3, 4, 5
CMD_UNCOMPRESSED, CMD_COMPRESSED, CMD_DATA_PAGE_OFFSET = 6, 7, 9
CMD_INDEX_PAGE_OFFSET, CMD_DICTIONARY_PAGE_OFFSET, CMD_SIZE_STATISTICS = 10, 11, 16
# PageHeader
PH_TYPE, PH_UNCOMPRESSED, PH_COMPRESSED, PH_CRC = 1, 2, 3, 4
PH_DATA, PH_DICTIONARY, PH_DATA_V2 = 5, 7, 8
# page types
DATA_PAGE, INDEX_PAGE, DICTIONARY_PAGE, DATA_PAGE_V2 = 0, 1, 2, 3


class Reader:
    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise ValueError("truncated thrift")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        v = shift = 0
        while True:
            b = self.byte()
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
            shift += 7

    def zigzag(self) -> int:
        v = self.varint()
        return (v >> 1) ^ -(v & 1)

    def value(self, t: int) -> Any:
        if t in (TRUE, FALSE):
            return t == TRUE
        if t == BYTE:
            return self.byte()
        if t in (I16, I32, I64):
            return self.zigzag()
        if t == DOUBLE:
            self.pos += 8
            return struct.unpack("<d", self.data[self.pos - 8:self.pos])[0]
        if t == BINARY:
            n = self.varint()
            self.pos += n
            return self.data[self.pos - n:self.pos]
        if t in (LIST, SET):
            head = self.byte()
            n, et = head >> 4, head & 0x0F
            if n == 15:
                n = self.varint()
            return (et, [self.byte() == TRUE if et in (TRUE, FALSE) else self.value(et)
                         for _ in range(n)])
        if t == MAP:
            n = self.varint()
            kv = self.byte() if n else 0
            return (kv >> 4, kv & 0x0F, [(self.value(kv >> 4), self.value(kv & 0x0F))
                                         for _ in range(n)])
        if t == STRUCT:
            return self.struct()
        raise ValueError(f"thrift type {t}")

    def struct(self) -> Struct:
        out: Struct = {}
        last = 0
        while True:
            head = self.byte()
            t = head & 0x0F
            if t == STOP:
                return out
            fid = last + (head >> 4) if head >> 4 else self.zigzag()
            last = fid
            out[fid] = (t, self.value(t))


def _varint(v: int) -> bytes:
    out = bytearray()
    v &= (1 << 64) - 1
    while True:
        if v < 0x80:
            out.append(v)
            return bytes(out)
        out.append((v & 0x7F) | 0x80)
        v >>= 7


def _zigzag(v: int) -> bytes:
    return _varint((v << 1) ^ (v >> 63))


def write_value(t: int, v: Any) -> bytes:
    if t == BYTE:
        return bytes([v & 0xFF])
    if t in (I16, I32, I64):
        return _zigzag(v)
    if t == DOUBLE:
        return struct.pack("<d", v)
    if t == BINARY:
        return _varint(len(v)) + bytes(v)
    if t in (LIST, SET):
        et, items = v
        head = bytes([(len(items) << 4) | et]) if len(items) < 15 else bytes([0xF0 | et]) + _varint(len(items))
        if et in (TRUE, FALSE):
            return head + bytes(TRUE if x else FALSE for x in items)
        return head + b"".join(write_value(et, x) for x in items)
    if t == MAP:
        kt, vt, pairs = v
        if not pairs:
            return b"\x00"
        return _varint(len(pairs)) + bytes([(kt << 4) | vt]) + b"".join(
            write_value(kt, a) + write_value(vt, b) for a, b in pairs)
    if t == STRUCT:
        return write_struct(v)
    raise ValueError(f"thrift type {t}")


def write_struct(s: Struct) -> bytes:
    out = bytearray()
    last = 0
    for fid, (t, v) in s.items():
        wt = (TRUE if v else FALSE) if t in (TRUE, FALSE) else t
        if 0 < fid - last <= 15:
            out.append(((fid - last) << 4) | wt)
        else:
            out.append(wt)
            out += _zigzag(fid)
        last = fid
        if t not in (TRUE, FALSE):
            out += write_value(t, v)
    out.append(STOP)
    return bytes(out)


@dataclass
class Page:
    header: Struct
    body: bytes

    @property
    def type(self) -> int:
        return int(self.header[PH_TYPE][1])


@dataclass
class Chunk:
    meta: Struct  # the ColumnChunk struct (its ColumnMetaData at CC_META)
    pages: list[Page] = field(default_factory=list)

    @property
    def column_meta(self) -> Struct:
        cmd: Struct = self.meta[CC_META][1]
        return cmd


@dataclass
class ParquetParts:
    footer: Struct
    row_groups: list[list[Chunk]]


def disassemble(data: bytes) -> ParquetParts:
    """The footer and the pages of every column chunk of a file written by a sound writer."""
    assert data[:4] == b"PAR1" and data[-4:] == b"PAR1"
    n = struct.unpack("<I", data[-8:-4])[0]
    footer = Reader(data[-8 - n:-8]).struct()
    groups = []
    for rg in footer[FMD_ROW_GROUPS][1][1]:
        chunks = []
        for cc in rg[RG_COLUMNS][1][1]:
            cmd = cc[CC_META][1]
            start = cmd[CMD_DATA_PAGE_OFFSET][1]
            if CMD_DICTIONARY_PAGE_OFFSET in cmd and 0 < cmd[CMD_DICTIONARY_PAGE_OFFSET][1] < start:
                start = cmd[CMD_DICTIONARY_PAGE_OFFSET][1]
            end = start + cmd[CMD_COMPRESSED][1]
            chunk = Chunk(cc)
            pos = start
            while pos < end:
                r = Reader(data, pos)
                header = r.struct()
                size = header[PH_COMPRESSED][1]
                chunk.pages.append(Page(header, data[r.pos:r.pos + size]))
                pos = r.pos + size
            chunks.append(chunk)
        groups.append(chunks)
    return ParquetParts(footer, groups)


def _set(s: Struct, fid: int, t: int, v: Any) -> None:
    s[fid] = (t, v)


def assemble(parts: ParquetParts, *, recompute: bool = True) -> bytes:
    """The file of ``parts``. With ``recompute``, every chunk's page offsets and sizes (and the row
    groups' sizes) are set from the bytes written; otherwise the footer is written as it is."""
    out = io.BytesIO()
    out.write(b"PAR1")
    for g, chunks in enumerate(parts.row_groups):
        group_start = out.tell()
        group_bytes = 0
        for chunk in chunks:
            cmd = chunk.column_meta
            start = out.tell()
            dictionary_at = data_at = None
            for page in chunk.pages:
                at = out.tell()
                if page.type == DICTIONARY_PAGE and dictionary_at is None and data_at is None:
                    dictionary_at = at
                elif page.type in (DATA_PAGE, DATA_PAGE_V2) and data_at is None:
                    data_at = at
                out.write(write_struct(page.header))
                out.write(page.body)
            size = out.tell() - start
            group_bytes += size
            if recompute:
                _set(cmd, CMD_DATA_PAGE_OFFSET, I64, data_at if data_at is not None else start)
                if dictionary_at is not None:
                    _set(cmd, CMD_DICTIONARY_PAGE_OFFSET, I64, dictionary_at)
                else:
                    cmd.pop(CMD_DICTIONARY_PAGE_OFFSET, None)
                _set(cmd, CMD_COMPRESSED, I64, size)
                cmd.pop(CMD_INDEX_PAGE_OFFSET, None)
                _set(chunk.meta, CC_FILE_OFFSET, I64, start)
        if recompute:
            rg = parts.footer[FMD_ROW_GROUPS][1][1][g]
            if RG_FILE_OFFSET in rg:
                _set(rg, RG_FILE_OFFSET, I64, group_start)
            if RG_TOTAL_COMPRESSED in rg:
                _set(rg, RG_TOTAL_COMPRESSED, I64, group_bytes)
    if recompute:
        # column and offset indexes point into bytes that moved: drop them
        for rg in parts.footer[FMD_ROW_GROUPS][1][1]:
            for cc in rg[RG_COLUMNS][1][1]:
                for fid in (4, 5, 6, 7):  # offset/column index offset and length
                    cc.pop(fid, None)
    footer = write_struct(parts.footer)
    out.write(footer)
    out.write(struct.pack("<I", len(footer)))
    out.write(b"PAR1")
    return out.getvalue()


def row_group(parts: ParquetParts, g: int) -> Struct:
    rg: Struct = parts.footer[FMD_ROW_GROUPS][1][1][g]
    return rg


def sub_header(page: Page) -> Struct:
    """The data page (v1/v2) or dictionary page header of ``page``."""
    for fid in (PH_DATA, PH_DICTIONARY, PH_DATA_V2):
        if fid in page.header:
            sub: Struct = page.header[fid][1]
            return sub
    raise KeyError("page without a sub-header")
