// The footer of a Parquet file (parquet.thrift's FileMetaData), read and checked by the engine:
// what the engine's reader needs to plan a read (row groups, and per column chunk its codec,
// encodings, value count and byte range), without trusting any count, offset or length in it.
//
// Why here and not pyarrow's metadata objects: some of their getters throw C++ exceptions that
// Python cannot catch (a codec value out of range, level histograms that disagree with the
// schema) and abort the process; and a byte range from the footer must be checked against the
// file before the reader sizes anything by it (Arrow's ComputeColumnChunkRange does the same).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace truthound::parquet {

struct ColumnChunkMeta {
  int32_t physical_type = 0;       // ColumnMetaData.type, as written
  int32_t codec = 0;               // as written: a value no codec has is kept, not an error
  std::vector<int32_t> encodings;  // as written
  int64_t num_values = 0;          // >= 0
  int64_t data_page_offset = 0;
  int64_t dictionary_page_offset = -1;  // -1 when the footer gives none
  int64_t total_compressed_size = 0;
  // The chunk's bytes [start, start + length): from the dictionary page (when it comes first) to
  // the end of the last page; checked to lie inside the file. Files of parquet-mr before 1.2.9
  // left the dictionary page header out of total_compressed_size: as Arrow does, up to 100
  // bytes (those the file has) are added to `length` (PARQUET-816).
  int64_t start = 0;
  int64_t length = 0;
  int64_t padding = 0;    // the bytes added for PARQUET-816
  bool external = false;  // the chunk lives in another file (ColumnChunk.file_path)
};

struct RowGroupMeta {
  int64_t num_rows = 0;                  // >= 0
  std::vector<ColumnChunkMeta> columns;  // one per leaf column, in schema order
};

struct FileMeta {
  int64_t file_size = 0;
  int64_t num_rows = 0;  // >= 0
  std::string created_by;
  std::vector<std::string> leaf_paths;       // each leaf column's path, names joined by '.'
  std::vector<int32_t> leaf_max_definition;  // max definition level of each leaf
  std::vector<int32_t> leaf_max_repetition;  // max repetition level of each leaf
  std::vector<RowGroupMeta> row_groups;
};

// Parses the serialized FileMetaData `footer` of a file of `file_size` bytes. Throws
// SourceReadError ("Parquet footer: ...") when the bytes are malformed or a value is impossible:
// truncated thrift, a schema tree that does not add up, a negative count, a row group whose
// column count is not the schema's, a column path that is not its leaf's, a chunk whose byte
// range is negative or runs past the file.
FileMeta parse_file_meta(std::span<const uint8_t> footer, int64_t file_size);

// Parses the last bytes of a file of `file_size` bytes: `tail` ends with the footer, its 4-byte
// length and the magic bytes "PAR1". Throws SourceReadError when the magic is wrong, the footer
// length does not fit the file or is longer than `tail`, or parse_file_meta throws.
FileMeta parse_file_tail(std::span<const uint8_t> tail, int64_t file_size);

// Reads and parses the footer of the file at `path` (magic bytes, footer length checked against
// the file size before anything is allocated). Throws SourceReadError naming the file.
FileMeta read_file_meta(const std::string& path);

}  // namespace truthound::parquet
