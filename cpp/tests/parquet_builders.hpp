// Test builders of Parquet bytes, shared by test_parquet_format.cpp and test_parquet_reader.cpp:
// a thrift compact-protocol encoder and PageHeader encoder, an RLE / bit-packed hybrid encoder,
// PLAIN value encoders, an all-literal snappy encoder, and a column-chunk builder (dictionary
// page + data pages v1/v2, optional definition levels, UNCOMPRESSED or SNAPPY).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "arrow_builders.hpp"
#include "truthound/parquet/format.hpp"
#include "truthound/parquet/reader.hpp"

namespace truthound::parquet::builders {

using truthound::testing::Bytes;

// ------------------------------------------------------------------ compact-protocol encoder

enum : uint8_t {
  kTrue = 1,
  kFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

class Compact {
 public:
  Bytes out;
  bool long_form = false;  // write every field id in the long form (delta 0 + zigzag i16)

  void byte(uint8_t b) { out.push_back(b); }
  void uvarint(uint64_t v) {
    while (v >= 0x80) {
      byte(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    byte(static_cast<uint8_t>(v));
  }
  void svarint(int64_t v) {
    uvarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  void field(int16_t id, uint8_t type) {
    const int delta = id - last_;
    if (!long_form && delta > 0 && delta <= 15) {
      byte(static_cast<uint8_t>(delta << 4 | type));
    } else {
      byte(type);
      svarint(id);
    }
    last_ = id;
  }
  void i32(int16_t id, int32_t v) {
    field(id, kI32);
    svarint(v);
  }
  void i64(int16_t id, int64_t v) {
    field(id, kI64);
    svarint(v);
  }
  void boolean(int16_t id, bool b) { field(id, b ? kTrue : kFalse); }
  void binary(int16_t id, std::string_view s) {
    field(id, kBinary);
    uvarint(s.size());
    out.insert(out.end(), s.begin(), s.end());
  }
  void dbl(int16_t id, double d) {
    field(id, kDouble);
    uint8_t b[8];
    std::memcpy(b, &d, 8);
    out.insert(out.end(), b, b + 8);
  }
  void begin_struct(int16_t id) {
    field(id, kStruct);
    stack_.push_back(last_);
    last_ = 0;
  }
  void end_struct() {
    byte(0);
    last_ = stack_.back();
    stack_.pop_back();
  }
  void stop() { byte(0); }
  // List (or set) field header; the caller writes `size` elements after it.
  void list(int16_t id, uint8_t elem, uint32_t size, uint8_t type = kList) {
    field(id, type);
    list_header(elem, size);
  }
  void list_header(uint8_t elem, uint32_t size) {
    if (size < 15) {
      byte(static_cast<uint8_t>(size << 4 | elem));
    } else {
      byte(static_cast<uint8_t>(0xf0 | elem));
      uvarint(size);
    }
  }
  void map(int16_t id, uint8_t key, uint8_t value, uint32_t size) {
    field(id, kMap);
    uvarint(size);
    if (size > 0) byte(static_cast<uint8_t>(key << 4 | value));
  }
  // A struct as a container element (no field header).
  void begin_element_struct() {
    stack_.push_back(last_);
    last_ = 0;
  }

 private:
  int16_t last_ = 0;
  std::vector<int16_t> stack_;
};

// Statistics of a data page: binary min/max, counts, and fields of every type the reader does
// not know, which it must skip.
inline void write_statistics(Compact& c, int16_t id, bool unknown_fields) {
  c.begin_struct(id);
  c.binary(1, "max-old");
  c.binary(2, std::string("min\0old", 7));
  c.i64(3, 17);
  c.i64(4, 1'000'000'000'000LL);
  c.binary(5, std::string(200, 'z'));  // length varint of two bytes
  c.binary(6, "");
  c.boolean(7, true);
  c.boolean(8, false);
  if (unknown_fields) {
    c.dbl(20, 3.25);
    c.field(21, kByte);
    c.byte(0xff);
    c.field(22, kI16);
    c.svarint(-300);
    c.list(23, kBinary, 3);
    for (std::string_view s : {"a", "", "ccc"}) {
      c.uvarint(s.size());
      c.out.insert(c.out.end(), s.begin(), s.end());
    }
    c.list(24, kTrue, 20, kSet);  // long list size, one byte per bool element
    for (int i = 0; i < 20; ++i) c.byte(i % 2 == 0 ? 1 : 2);
    c.map(25, kI32, kStruct, 2);
    for (int i = 0; i < 2; ++i) {
      c.svarint(i);
      c.begin_element_struct();
      c.i32(1, i);
      c.list(2, kI64, 2);
      c.svarint(-1);
      c.svarint(1LL << 40);
      c.end_struct();
    }
    c.map(26, kBinary, kDouble, 0);
    c.list(27, kList, 1);  // list<list<i32>>
    c.list_header(kI32, 2);
    c.svarint(5);
    c.svarint(6);
    c.begin_struct(300);  // long-form id, nested struct
    c.begin_struct(1);
    c.i32(1, 1);
    c.end_struct();
    c.end_struct();
  }
  c.end_struct();
}

struct EncodeOptions {
  bool long_form = false;
  bool statistics = false;
  bool unknown_fields = false;
  bool crc = false;
  bool write_is_compressed = false;    // write v2 field 7 even when it is true (the default)
  std::mt19937_64* shuffle = nullptr;  // writes the top-level fields in a random order
};

inline Bytes encode(const PageHeader& h, const EncodeOptions& o = {}) {
  Compact c;
  c.long_form = o.long_form;
  std::vector<std::function<void()>> fields;
  fields.push_back([&] { c.i32(1, static_cast<int32_t>(h.type)); });
  fields.push_back([&] { c.i32(2, h.uncompressed_size); });
  fields.push_back([&] { c.i32(3, h.compressed_size); });
  if (o.crc) fields.push_back([&] { c.i32(4, -123456789); });
  if (o.unknown_fields) {
    fields.push_back([&] {
      c.begin_struct(9);  // a field newer than this reader
      c.binary(1, "x");
      c.end_struct();
    });
  }
  switch (h.type) {
    case PageType::kDataPage:
      fields.push_back([&] {
        c.begin_struct(5);
        c.i32(1, h.num_values);
        c.i32(2, static_cast<int32_t>(h.encoding));
        c.i32(3, static_cast<int32_t>(h.definition_level_encoding));
        c.i32(4, static_cast<int32_t>(h.repetition_level_encoding));
        if (o.statistics) write_statistics(c, 5, o.unknown_fields);
        c.end_struct();
      });
      break;
    case PageType::kIndexPage:
      fields.push_back([&] {
        c.begin_struct(6);
        c.end_struct();
      });
      break;
    case PageType::kDictionaryPage:
      fields.push_back([&] {
        c.begin_struct(7);
        c.i32(1, h.num_values);
        c.i32(2, static_cast<int32_t>(h.encoding));
        if (o.unknown_fields) c.boolean(3, true);  // is_sorted
        c.end_struct();
      });
      break;
    case PageType::kDataPageV2:
      fields.push_back([&] {
        c.begin_struct(8);
        c.i32(1, h.num_values);
        c.i32(2, h.num_nulls);
        c.i32(3, h.num_rows);
        c.i32(4, static_cast<int32_t>(h.encoding));
        c.i32(5, h.definition_levels_byte_length);
        c.i32(6, h.repetition_levels_byte_length);
        if (!h.is_compressed || o.write_is_compressed) c.boolean(7, h.is_compressed);
        if (o.statistics) write_statistics(c, 8, o.unknown_fields);
        c.end_struct();
      });
      break;
  }
  if (o.shuffle != nullptr) std::shuffle(fields.begin(), fields.end(), *o.shuffle);
  for (auto& f : fields) f();
  c.stop();
  return c.out;
}

// ------------------------------------------------------------------ RLE / bit-packed hybrid

// Encoder of the hybrid format, from Encodings.md.
class RleEncoder {
 public:
  explicit RleEncoder(int bit_width) : w_(bit_width) {}
  Bytes out;

  void rle(uint32_t value, uint32_t count) {
    varint(uint64_t{count} << 1);
    for (int i = 0; i < (w_ + 7) / 8; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
  }
  // A bit-packed run; the last group is padded with zeros.
  void packed(const std::vector<uint32_t>& values) {
    const size_t groups = (values.size() + 7) / 8;
    varint(uint64_t{groups} << 1 | 1);
    const size_t start = out.size();
    out.resize(start + groups * static_cast<size_t>(w_), 0);
    for (size_t i = 0; i < values.size(); ++i) {
      for (int b = 0; b < w_; ++b) {
        if ((values[i] >> b) & 1) {
          const size_t bit = i * static_cast<size_t>(w_) + static_cast<size_t>(b);
          out[start + bit / 8] |= static_cast<uint8_t>(1u << (bit % 8));
        }
      }
    }
  }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<uint8_t>(v));
  }

 private:
  int w_;
};

// A run of the hybrid encoding for any values: RLE runs for repeats of 8 or more, bit-packed
// runs (multiples of 8 values) otherwise; only the very last group is zero-padded.
inline Bytes rle_hybrid(const std::vector<uint32_t>& v, int bit_width) {
  RleEncoder enc(bit_width);
  size_t i = 0;
  auto run_at = [&](size_t at) {
    size_t j = at;
    while (j < v.size() && v[j] == v[at]) ++j;
    return j - at;
  };
  while (i < v.size()) {
    const size_t run = run_at(i);
    if (run >= 8) {
      enc.rle(v[i], static_cast<uint32_t>(run));
      i += run;
      continue;
    }
    size_t j = i;
    do {
      j = std::min(j + 8, v.size());
    } while (j < v.size() && run_at(j) < 8);
    enc.packed(std::vector<uint32_t>(v.begin() + static_cast<std::ptrdiff_t>(i),
                                     v.begin() + static_cast<std::ptrdiff_t>(j)));
    i = j;
  }
  return std::move(enc.out);
}

// Bits needed for values up to `max_value` (0 for 0).
inline int bit_width_of(uint32_t max_value) {
  int w = 0;
  while (w < 32 && (max_value >> w) != 0) ++w;
  return w;
}

inline void put_u32(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// ------------------------------------------------------------------ PLAIN values

template <typename T>
void plain_value(Bytes& out, const T& v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.insert(out.end(), b, b + sizeof(T));
}
inline void plain_value(Bytes& out, const std::string& s) {
  put_u32(out, static_cast<uint32_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

// PLAIN booleans: bit-packed, LSB first.
inline Bytes plain_bools(const std::vector<bool>& v) {
  Bytes out((v.size() + 7) / 8, 0);
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i]) out[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  return out;
}

// ------------------------------------------------------------------ snappy

// A raw snappy block made of literal elements only, cut into pieces whose sizes cycle through
// values that use every literal length form (in the tag, and 1, 2 or 3 extra bytes).
inline Bytes snappy_literal(const Bytes& raw) {
  Bytes out;
  uint64_t n = raw.size();
  while (n >= 0x80) {
    out.push_back(static_cast<uint8_t>(n | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<uint8_t>(n));
  static constexpr size_t kPieces[] = {1, 17, 60, 61, 200, 256, 257, 70000, 5};
  size_t pos = 0;
  for (size_t k = 0; pos < raw.size(); ++k) {
    const size_t len = std::min(kPieces[k % std::size(kPieces)], raw.size() - pos);
    const size_t m = len - 1;
    if (m < 60) {
      out.push_back(static_cast<uint8_t>(m << 2));
    } else {
      const int extra = m < (1u << 8) ? 1 : m < (1u << 16) ? 2 : m < (1u << 24) ? 3 : 4;
      out.push_back(static_cast<uint8_t>((59 + extra) << 2));
      for (int i = 0; i < extra; ++i) out.push_back(static_cast<uint8_t>(m >> (8 * i)));
    }
    out.insert(out.end(), raw.begin() + static_cast<std::ptrdiff_t>(pos),
               raw.begin() + static_cast<std::ptrdiff_t>(pos + len));
    pos += len;
  }
  return out;
}

// ------------------------------------------------------------------ pages and chunks

inline Bytes page(const PageHeader& h, const Bytes& body, const EncodeOptions& o = {}) {
  Bytes out = encode(h, o);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

enum class PageForm { kV1, kV2 };
enum class Values { kPlain, kDictionary, kRle };  // kRle: booleans only

struct PageSpec {
  int64_t rows = 0;  // slots of the page (values and nulls)
  PageForm form = PageForm::kV1;
  Values values = Values::kPlain;
};

struct ChunkOptions {
  int max_def = 1;
  bool snappy = false;
  bool v2_uncompressed = false;   // v2 pages say is_compressed = false (values stored raw)
  bool plain_dictionary = false;  // PLAIN_DICTIONARY (2) instead of RLE_DICTIONARY (8)
  bool statistics = false;        // page headers carry statistics (skipped by readers)
};

// One column chunk's bytes, with what a reader of it needs to know to check its output.
template <typename T>
struct BuiltChunk {
  Bytes bytes;
  std::vector<T> dictionary;    // the dictionary page's values (first-appearance order)
  std::vector<bool> plain_row;  // per row: a non-null value stored PLAIN (not by index)
};

// Builds a column chunk holding `rows` (nullopt = null) in pages of `pages` (rows summing to
// rows.size()). A dictionary page comes first when any page is dictionary-encoded.
template <typename T>
BuiltChunk<T> build_chunk(const std::vector<std::optional<T>>& rows,
                          const std::vector<PageSpec>& pages, const ChunkOptions& o) {
  BuiltChunk<T> c;
  c.plain_row.assign(rows.size(), false);
  const EncodeOptions eo{.statistics = o.statistics};
  auto maybe_compress = [&](const Bytes& b) { return o.snappy ? snappy_literal(b) : b; };
  std::vector<uint32_t> index_of(rows.size(), 0);
  const bool any_dict = std::any_of(pages.begin(), pages.end(), [](const PageSpec& p) {
    return p.values == Values::kDictionary;
  });
  if (any_dict) {
    for (size_t i = 0; i < rows.size(); ++i) {
      if (!rows[i]) continue;
      auto it = std::find(c.dictionary.begin(), c.dictionary.end(), *rows[i]);
      index_of[i] = static_cast<uint32_t>(it - c.dictionary.begin());
      if (it == c.dictionary.end()) c.dictionary.push_back(*rows[i]);
    }
    Bytes body;
    for (const T& v : c.dictionary) plain_value(body, v);
    PageHeader h;
    h.type = PageType::kDictionaryPage;
    h.num_values = static_cast<int32_t>(c.dictionary.size());
    h.encoding = o.plain_dictionary ? Encoding::kPlainDictionary : Encoding::kPlain;
    const Bytes stored = maybe_compress(body);
    h.uncompressed_size = static_cast<int32_t>(body.size());
    h.compressed_size = static_cast<int32_t>(stored.size());
    const Bytes p = page(h, stored);
    c.bytes.insert(c.bytes.end(), p.begin(), p.end());
  }
  size_t start = 0;
  for (const PageSpec& spec : pages) {
    const size_t n = static_cast<size_t>(spec.rows);
    std::vector<uint32_t> levels;
    Bytes values;
    std::vector<bool> bits;
    std::vector<uint32_t> indices;
    int32_t nulls = 0;
    for (size_t i = start; i < start + n; ++i) {
      levels.push_back(rows[i] ? 1 : 0);
      if (!rows[i]) {
        ++nulls;
        continue;
      }
      if constexpr (std::is_same_v<T, bool>) {
        bits.push_back(*rows[i]);
      } else {
        if (spec.values == Values::kPlain) plain_value(values, *rows[i]);
      }
      if (spec.values == Values::kDictionary) {
        indices.push_back(index_of[i]);
      } else {
        c.plain_row[i] = true;
      }
    }
    Encoding enc = Encoding::kPlain;
    if (spec.values == Values::kDictionary) {
      const int w =
          bit_width_of(c.dictionary.empty() ? 0 : static_cast<uint32_t>(c.dictionary.size() - 1));
      values = {static_cast<uint8_t>(w)};
      const Bytes runs = rle_hybrid(indices, w);
      values.insert(values.end(), runs.begin(), runs.end());
      enc = o.plain_dictionary ? Encoding::kPlainDictionary : Encoding::kRleDictionary;
    } else if (spec.values == Values::kRle) {
      std::vector<uint32_t> v(bits.begin(), bits.end());
      const Bytes runs = rle_hybrid(v, 1);
      values.clear();
      put_u32(values, static_cast<uint32_t>(runs.size()));
      values.insert(values.end(), runs.begin(), runs.end());
      enc = Encoding::kRle;
    } else if constexpr (std::is_same_v<T, bool>) {
      values = plain_bools(bits);
    }
    const Bytes level_runs = o.max_def > 0 ? rle_hybrid(levels, 1) : Bytes{};
    PageHeader h;
    h.num_values = static_cast<int32_t>(n);
    h.encoding = enc;
    Bytes stored;
    if (spec.form == PageForm::kV1) {
      h.type = PageType::kDataPage;
      Bytes body;
      if (o.max_def > 0) {
        put_u32(body, static_cast<uint32_t>(level_runs.size()));
        body.insert(body.end(), level_runs.begin(), level_runs.end());
      }
      body.insert(body.end(), values.begin(), values.end());
      stored = maybe_compress(body);
      h.uncompressed_size = static_cast<int32_t>(body.size());
    } else {
      h.type = PageType::kDataPageV2;
      h.num_nulls = nulls;
      h.num_rows = static_cast<int32_t>(n);
      h.definition_levels_byte_length = static_cast<int32_t>(level_runs.size());
      h.is_compressed = !o.v2_uncompressed;
      stored = level_runs;
      const Bytes v = o.v2_uncompressed ? values : maybe_compress(values);
      stored.insert(stored.end(), v.begin(), v.end());
      h.uncompressed_size = static_cast<int32_t>(level_runs.size() + values.size());
    }
    h.compressed_size = static_cast<int32_t>(stored.size());
    const Bytes p = page(h, stored, eo);
    c.bytes.insert(c.bytes.end(), p.begin(), p.end());
    start += n;
  }
  return c;
}

}  // namespace truthound::parquet::builders
