// Low-level pieces of the Parquet column-chunk reader: the thrift compact-protocol page header
// and the RLE / bit-packed hybrid decoder (dictionary indices, levels, booleans). No third-party
// dependency; every read is bounds-checked and malformed bytes throw SourceReadError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace truthound::parquet {

enum class PageType : int32_t {
  kDataPage = 0,
  kIndexPage = 1,
  kDictionaryPage = 2,
  kDataPageV2 = 3
};

enum class Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6,
  kDeltaByteArray = 7,
  kRleDictionary = 8,
  kByteStreamSplit = 9,
};

struct PageHeader {
  PageType type = PageType::kDataPage;
  int32_t uncompressed_size = 0;  // field 2
  int32_t compressed_size = 0;    // field 3
  int32_t num_values = 0;         // data page v1/v2 or dictionary page: field 1 of the sub-header
  Encoding encoding = Encoding::kPlain;                 // values encoding (sub-header 2, v2: 4)
  Encoding definition_level_encoding = Encoding::kRle;  // v1 field 3
  Encoding repetition_level_encoding = Encoding::kRle;  // v1 field 4
  // data page v2 only
  int32_t num_nulls = 0, num_rows = 0;
  int32_t definition_levels_byte_length = 0, repetition_levels_byte_length = 0;
  bool is_compressed = true;  // v2 field 7, default true
  size_t header_size = 0;     // bytes the serialized header occupied
};

// Parses a thrift compact-protocol PageHeader at the start of `bytes` (which may extend past the
// header). Throws truthound::SourceReadError ("Parquet page header: ...") when truncated or
// malformed: bad varint, field type it cannot skip, missing required fields (type, sizes, and
// the sub-header matching `type`), negative sizes or counts, nesting deeper than 32.
// Unknown fields (statistics, crc, newer additions) are skipped. Page and encoding values are
// returned as written, also ones this enum does not name: the caller decides what it supports
// (a page of an unknown type can be skipped by compressed_size). Index pages need no sub-header.
PageHeader read_page_header(std::span<const uint8_t> bytes);

// Reads a little-endian uint32 length prefix at the start of `data` and returns the span of that
// many bytes after it (throws SourceReadError if it runs past `data`); `consumed` gets
// 4 + length.
std::span<const uint8_t> length_prefixed(std::span<const uint8_t> data, size_t& consumed);

// Decoder of the RLE / bit-packing hybrid encoding (Parquet Encodings.md). Keeps its position
// across decode() calls, so a sequence can be read in chunks of any size. The decoder only
// views `data`: the bytes must outlive it.
class RleBitPackedDecoder {
 public:
  // `data` holds the runs only (any 4-byte length prefix already stripped by the caller).
  // bit_width 0..32, else SourceReadError.
  RleBitPackedDecoder(std::span<const uint8_t> data, int bit_width);

  // Decodes up to out.size() values into `out`; returns how many were written: fewer than
  // out.size() only when the data is exhausted. Throws SourceReadError on a malformed run (a
  // bit-packed run or RLE value running past the data; only the last bit-packed group may be
  // cut short, and then the values whose bits are all present are decoded).
  size_t decode(std::span<uint32_t> out);
  // Same, for levels: writes uint8 values. Throws SourceReadError if bit_width > 8.
  size_t decode(std::span<uint8_t> out);

  int bit_width() const { return bit_width_; }

 private:
  template <typename Out>
  size_t decode_impl(std::span<Out> out);
  // Reads the next run header (and RLE value); false at the end of the data.
  bool next_run();
  // Unpacks the next group of the current bit-packed run into group_ (zero-padded if cut short).
  void buffer_group();

  std::span<const uint8_t> data_;
  size_t pos_ = 0;      // next unread byte: a run header, or the next group of a bit-packed run
  size_t run_end_ = 0;  // where the current run's bytes end (the next run header)
  int bit_width_ = 0;
  uint32_t mask_ = 0;
  bool rle_ = false;       // kind of the current run
  uint64_t run_left_ = 0;  // values of the current run not yet returned (including group_)
  uint32_t rle_value_ = 0;
  uint32_t group_[8] = {};  // one unpacked group of a bit-packed run, for reads that split it
  uint32_t group_pos_ = 0, group_len_ = 0;
};

}  // namespace truthound::parquet
