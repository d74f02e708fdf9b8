// A cheap check of the page sizes of a Parquet file that another reader (pyarrow) will read: the
// page headers of each column chunk are walked, bounds-checked, and no page body is read.
//
// Why: a reader allocates what a page header claims before it reads the page. pyarrow allocates
// the compressed size (its read buffer) and the uncompressed size (the decompression buffer) as
// written, so a 400-byte file whose page claims 2 GiB made it allocate 2 GiB before it failed.
// The engine's own reader checks every page it reads; files it leaves to pyarrow (other codecs,
// nested columns, other encodings) are checked here first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "truthound/parquet/footer.hpp"

namespace truthound::parquet {

// Fills `dst` with the file's bytes at `offset`; throws SourceReadError when it cannot (the
// file is shorter than the footer says, an I/O error).
using ReadAt = std::function<void(int64_t offset, std::span<uint8_t> dst)>;

// The most bytes a page of `compressed` bytes can decompress to under `codec` (parquet.thrift's
// CompressionCodec), from the format's largest expansion per input byte, with 1 MiB to spare;
// -1 when no bound applies (UNCOMPRESSED: no decompression buffer; LZO and unknown codecs:
// pyarrow does not read them). The bounds (`compressed` >= 0):
//   SNAPPY    22 per byte  (a 3-byte copy element emits at most 64 bytes)
//   GZIP      1032         (deflate: a 258-byte match in two 1-bit codes)
//   BROTLI    4,971,027    (a meta-block emits at most 2^24 bytes and its header alone is at
//                          least 27 bits: no useful bound beyond a few hundred bytes)
//   LZ4, LZ4_RAW 255       (a match length grows by 255 per extension byte)
//   ZSTD      32768        (a block emits at most 128 KiB and takes at least 4 bytes)
int64_t max_uncompressed_size(int32_t codec, int64_t compressed);

// Walks the page headers of the column chunks of `leaves` (indices into meta.leaf_paths) in
// `row_groups` (indices into meta.row_groups), as Arrow's page reader walks them: from the
// chunk's start until its data pages hold the chunk's value count or the chunk ends. Throws
// SourceReadError "<name>: row group G, column 'c': ..." when a page header is malformed, a
// page's compressed size runs past its column chunk, or its uncompressed size is more than its
// codec can expand its compressed size to (max_uncompressed_size). Chunks in other files
// (ColumnChunk.file_path) are not walked. Reads each header with `read_at` (a few KiB per page,
// up to 16 MiB for a header with large statistics, never past the chunk).
void check_page_sizes(const FileMeta& meta, std::span<const size_t> row_groups,
                      std::span<const size_t> leaves, const ReadAt& read_at,
                      const std::string& name);

}  // namespace truthound::parquet
