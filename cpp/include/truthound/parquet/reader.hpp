// The engine's own reader of flat Parquet column chunks: it decodes pages straight into Arrow
// arrays that it recycles from batch to batch, and hands them out as an Arrow C stream.
//
// Why: pyarrow's reader copies every string from the decompressed page into freshly allocated
// builder buffers grown by reallocation; at 10M rows that was half of `th profile`'s time.
// Here a page is decompressed into a buffer reused for every page, values are copied once into
// batch buffers that are reused as soon as the consumer releases the batch (warm in cache, no
// page faults), and dictionary-encoded string columns can be handed out as dictionary arrays.
//
// Scope (the caller, Python, checks it from the file's metadata and uses pyarrow otherwise):
// flat columns (no repetition, definition level 0 or 1); physical types BOOLEAN, INT32, INT64,
// FLOAT, DOUBLE, BYTE_ARRAY written as the Arrow type of the same layout; PLAIN,
// PLAIN_DICTIONARY/RLE_DICTIONARY and RLE (booleans) values; data pages v1 and v2; UNCOMPRESSED
// and SNAPPY pages. Anything else met in the bytes raises SourceReadError naming the file and
// column.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "truthound/arrow/c_abi.hpp"

namespace truthound::parquet {

enum class PhysicalType : int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};

enum class Codec : int32_t { kUncompressed = 0, kSnappy = 1 };

// One column chunk: its bytes in the file (from the dictionary page, if any, to the last data
// page) and how many values (rows, for a flat column) it holds. `padding` bytes at the end of
// [offset, offset + length) may belong to the next chunk (a file of parquet-mr before 1.2.9, see
// parquet/footer.hpp): the reader stops at the chunk's last value when no more than those are
// left; otherwise pages after the last value must hold no values.
struct ColumnChunk {
  int64_t offset = 0;
  int64_t length = 0;
  int64_t num_values = 0;
  Codec codec = Codec::kUncompressed;
  int64_t padding = 0;
};

struct ColumnRead {
  std::string name;
  PhysicalType physical = PhysicalType::kInt64;
  int max_definition_level = 0;     // 0 (required) or 1 (optional)
  std::vector<ColumnChunk> chunks;  // one per row group read, in the order read
};

struct ReadPlan {
  std::string path;
  std::vector<ColumnRead> columns;
  std::vector<int64_t> row_group_rows;  // rows of each row group read
  int64_t batch_rows = 131072;
  // Optional, one per row group: read only its rows [first, first + count). The rows before
  // `first` cost their pages' headers (and the rest of the page where `first` falls), not their
  // decompression, so a row group can be split among workers.
  std::vector<std::pair<int64_t, int64_t>> row_ranges;
};

// Reads the plan's rows as struct batches of at most `batch_rows` rows (no batch spans two row
// groups). `schema` (only read, not kept) is the struct schema of the batches: one child per plan
// column, in order, each of the column's Arrow type of the same layout as its physical type, or,
// for a BYTE_ARRAY column, dictionary<int32, string/binary>: read dictionary-encoded (the
// dictionary page's values, plus any plainly encoded values a batch meets).
class BatchReader {
 public:
  // Throws InvalidArgumentError when the schema does not fit the plan, SourceReadError when the
  // file cannot be opened.
  BatchReader(ReadPlan plan, const ArrowSchema& schema);
  ~BatchReader();
  BatchReader(const BatchReader&) = delete;
  BatchReader& operator=(const BatchReader&) = delete;

  // Fills `out` with the next batch and returns true, or returns false at the end. The batch owns
  // its buffers until its release callback runs; the reader reuses them after that. Throws
  // SourceReadError (naming the file and column) on malformed or unsupported bytes.
  bool next(ArrowArray* out);

  int64_t rows_read() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace truthound::parquet
