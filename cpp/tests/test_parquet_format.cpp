// Specification of the Parquet page header reader and the RLE / bit-packed hybrid decoder
// (cpp/include/truthound/parquet/format.hpp). Headers and runs are produced by the small encoders
// of parquet_builders.hpp, written from the thrift compact protocol and Encodings.md.
#include "truthound/parquet/format.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "arrow_builders.hpp"
#include "parquet_builders.hpp"
#include "truthound/util/error.hpp"

namespace truthound::parquet {
namespace {

using truthound::testing::Bytes;
using truthound::testing::expect_throws;
using namespace truthound::parquet::builders;  // Compact, encode(), RleEncoder

PageHeader parse(const Bytes& b) {
  return read_page_header(std::span<const uint8_t>(b));
}

void expect_same(const PageHeader& want, const PageHeader& got) {
  EXPECT_EQ(want.type, got.type);
  EXPECT_EQ(want.uncompressed_size, got.uncompressed_size);
  EXPECT_EQ(want.compressed_size, got.compressed_size);
  EXPECT_EQ(want.num_values, got.num_values);
  EXPECT_EQ(want.encoding, got.encoding);
  EXPECT_EQ(want.definition_level_encoding, got.definition_level_encoding);
  EXPECT_EQ(want.repetition_level_encoding, got.repetition_level_encoding);
  EXPECT_EQ(want.num_nulls, got.num_nulls);
  EXPECT_EQ(want.num_rows, got.num_rows);
  EXPECT_EQ(want.definition_levels_byte_length, got.definition_levels_byte_length);
  EXPECT_EQ(want.repetition_levels_byte_length, got.repetition_levels_byte_length);
  EXPECT_EQ(want.is_compressed, got.is_compressed);
}

PageHeader v1_header() {
  PageHeader h;
  h.type = PageType::kDataPage;
  h.uncompressed_size = 123456;
  h.compressed_size = 654;
  h.num_values = 100000;
  h.encoding = Encoding::kRleDictionary;
  h.definition_level_encoding = Encoding::kRle;
  h.repetition_level_encoding = Encoding::kBitPacked;
  return h;
}

PageHeader dict_header() {
  PageHeader h;
  h.type = PageType::kDictionaryPage;
  h.uncompressed_size = 80;
  h.compressed_size = 80;
  h.num_values = 10;
  h.encoding = Encoding::kPlain;
  return h;
}

PageHeader v2_header() {
  PageHeader h;
  h.type = PageType::kDataPageV2;
  h.uncompressed_size = 5000;
  h.compressed_size = 4000;
  h.num_values = 1000;
  h.num_nulls = 12;
  h.num_rows = 900;
  h.encoding = Encoding::kDeltaBinaryPacked;
  h.definition_levels_byte_length = 40;
  h.repetition_levels_byte_length = 7;
  h.is_compressed = false;
  return h;
}

// ------------------------------------------------------------------ page headers

TEST(ParquetFormatHeader, DataPageV1WithStatisticsAndUnknownFields) {
  const PageHeader want = v1_header();
  for (bool unknown : {false, true}) {
    const Bytes b = encode(want, {.statistics = true, .unknown_fields = unknown, .crc = true});
    const PageHeader got = parse(b);
    expect_same(want, got);
    EXPECT_EQ(got.header_size, b.size());
  }
}

TEST(ParquetFormatHeader, HandEncodedDataPageV1) {
  // type=0, uncompressed=100, compressed=50, data_page_header{num_values=10, encoding=8 (RLE
  // dictionary), def=3, rep=3, statistics{max="b", min="a", unknown field 9: i32 7}}.
  const Bytes b = {
      0x15, 0x00, 0x15, 0xc8, 0x01, 0x15, 0x64, 0x2c, 0x15, 0x14, 0x15,
      0x10, 0x15, 0x06, 0x15, 0x06, 0x1c, 0x18, 0x01, 'b',  0x18, 0x01,
      'a',  0x75, 0x0e, 0x00, 0x00, 0x00, 0xaa, 0xbb};  // two page bytes after the header
  const PageHeader h = parse(b);
  EXPECT_EQ(h.type, PageType::kDataPage);
  EXPECT_EQ(h.uncompressed_size, 100);
  EXPECT_EQ(h.compressed_size, 50);
  EXPECT_EQ(h.num_values, 10);
  EXPECT_EQ(h.encoding, Encoding::kRleDictionary);
  EXPECT_EQ(h.definition_level_encoding, Encoding::kRle);
  EXPECT_EQ(h.repetition_level_encoding, Encoding::kRle);
  EXPECT_EQ(h.header_size, b.size() - 2);
}

TEST(ParquetFormatHeader, DictionaryPage) {
  const PageHeader want = dict_header();
  for (bool unknown : {false, true}) {
    const Bytes b = encode(want, {.unknown_fields = unknown});
    const PageHeader got = parse(b);
    expect_same(want, got);
    EXPECT_EQ(got.header_size, b.size());
  }
}

TEST(ParquetFormatHeader, DataPageV2) {
  PageHeader want = v2_header();
  Bytes b = encode(want, {.statistics = true, .unknown_fields = true});
  PageHeader got = parse(b);
  expect_same(want, got);
  EXPECT_FALSE(got.is_compressed);
  EXPECT_EQ(got.header_size, b.size());

  want.is_compressed = true;  // absent: defaults to true
  got = parse(encode(want));
  EXPECT_TRUE(got.is_compressed);
  got = parse(encode(want, {.write_is_compressed = true}));
  EXPECT_TRUE(got.is_compressed);
}

TEST(ParquetFormatHeader, IndexPageNeedsNoSubHeader) {
  PageHeader want;
  want.type = PageType::kIndexPage;
  want.uncompressed_size = want.compressed_size = 9;
  expect_same(want, parse(encode(want)));
  const Bytes bare = {0x15, 0x02, 0x15, 0x12, 0x15, 0x12, 0x00};
  EXPECT_EQ(parse(bare).header_size, bare.size());
}

TEST(ParquetFormatHeader, UnknownPageTypeIsReturnedForTheCallerToSkip) {
  const Bytes b = {0x15, 0x0e, 0x15, 0x12, 0x15, 0x12, 0x00};  // type 7
  const PageHeader h = parse(b);
  EXPECT_EQ(static_cast<int32_t>(h.type), 7);
  EXPECT_EQ(h.compressed_size, 9);
  EXPECT_EQ(h.header_size, b.size());
}

TEST(ParquetFormatHeader, LongFormFieldIds) {
  for (const PageHeader& want : {v1_header(), dict_header(), v2_header()}) {
    const Bytes b = encode(want, {.long_form = true, .statistics = true, .unknown_fields = true});
    const PageHeader got = parse(b);
    expect_same(want, got);
    EXPECT_EQ(got.header_size, b.size());
  }
  // Field 2 written long-form by hand: 0x05 (type i32, delta 0), zigzag(2) = 4, value.
  const Bytes b = {0x15, 0x04, 0x05, 0x04, 0x02, 0x15, 0x04, 0x4c,
                   0x15, 0x02, 0x15, 0x00, 0x00, 0x00, 0xaa, 0xbb};
  const PageHeader h = parse(b);
  EXPECT_EQ(h.type, PageType::kDictionaryPage);
  EXPECT_EQ(h.uncompressed_size, 1);
  EXPECT_EQ(h.compressed_size, 2);
  EXPECT_EQ(h.num_values, 1);
  EXPECT_EQ(h.header_size, b.size() - 2);
}

TEST(ParquetFormatHeader, FieldsInAnyOrderAndDuplicatesLastWins) {
  Compact c;
  c.begin_struct(5);
  c.i32(4, 3);
  c.i32(1, 77);
  c.i32(3, 3);
  c.i32(2, 0);
  c.end_struct();
  c.i32(3, 5);
  c.i32(2, 6);
  c.i32(1, 0);
  c.i32(2, 8);  // duplicate
  c.stop();
  const PageHeader h = parse(c.out);
  EXPECT_EQ(h.num_values, 77);
  EXPECT_EQ(h.compressed_size, 5);
  EXPECT_EQ(h.uncompressed_size, 8);
}

TEST(ParquetFormatHeader, HeaderSizeIsExactWithTrailingBytes) {
  std::mt19937_64 rng(7);
  for (const PageHeader& want : {v1_header(), dict_header(), v2_header()}) {
    Bytes b = encode(want, {.statistics = true, .unknown_fields = true, .crc = true});
    const size_t size = b.size();
    for (int i = 0; i < 100; ++i) b.push_back(static_cast<uint8_t>(rng()));
    EXPECT_EQ(parse(b).header_size, size);
  }
}

TEST(ParquetFormatHeader, EveryTruncationThrows) {
  for (const PageHeader& want : {v1_header(), dict_header(), v2_header()}) {
    for (bool stats : {false, true}) {
      const Bytes b = encode(want, {.statistics = stats, .unknown_fields = stats, .crc = stats});
      for (size_t n = 0; n < b.size(); ++n) {
        const Bytes prefix(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        expect_throws<SourceReadError>([&] { parse(prefix); }, {"Parquet page header"});
      }
    }
  }
}

TEST(ParquetFormatHeader, MissingRequiredFieldsThrow) {
  // Top-level fields.
  struct Case {
    Bytes bytes;
    std::string needle;
  };
  std::vector<Case> cases;
  {
    Compact c;  // no type
    c.i32(2, 1);
    c.i32(3, 1);
    c.stop();
    cases.push_back({c.out, "missing required field type"});
  }
  {
    Compact c;
    c.i32(1, 2);
    c.i32(3, 1);
    c.stop();
    cases.push_back({c.out, "uncompressed_page_size"});
  }
  {
    Compact c;
    c.i32(1, 2);
    c.i32(2, 1);
    c.stop();
    cases.push_back({c.out, "compressed_page_size"});
  }
  for (int type : {0, 2, 3}) {  // the sub-header matching the type is absent
    Compact c;
    c.i32(1, type);
    c.i32(2, 1);
    c.i32(3, 1);
    if (type != 0) {  // another page's sub-header does not count
      c.begin_struct(5);
      c.i32(1, 1);
      c.i32(2, 0);
      c.i32(3, 3);
      c.i32(4, 3);
      c.end_struct();
    }
    c.stop();
    cases.push_back({c.out, type == 0   ? "data_page_header"
                            : type == 2 ? "dictionary_page_header"
                                        : "data_page_header_v2"});
  }
  // Each required field of each sub-header.
  const std::vector<std::pair<int, std::vector<std::string>>> subs = {
      {5, {"num_values", "encoding", "definition_level_encoding", "repetition_level_encoding"}},
      {7, {"num_values", "encoding"}},
      {8,
       {"num_values", "num_nulls", "num_rows", "encoding", "definition_levels_byte_length",
        "repetition_levels_byte_length"}}};
  for (const auto& [id, names] : subs) {
    for (size_t skip = 0; skip < names.size(); ++skip) {
      Compact c;
      c.i32(1, id == 5 ? 0 : id == 7 ? 2 : 3);
      c.i32(2, 1);
      c.i32(3, 1);
      c.begin_struct(static_cast<int16_t>(id));
      for (size_t f = 0; f < names.size(); ++f) {
        if (f != skip) c.i32(static_cast<int16_t>(f + 1), 0);
      }
      c.end_struct();
      c.stop();
      cases.push_back({c.out, "." + names[skip]});
    }
  }
  {
    Compact c;  // a required field of the wrong type counts as missing
    c.i32(1, 2);
    c.binary(2, "12");
    c.i32(3, 1);
    c.stop();
    cases.push_back({c.out, "uncompressed_page_size"});
  }
  for (const Case& k : cases) {
    expect_throws<SourceReadError>([&] { parse(k.bytes); },
                                   {"Parquet page header", "missing", k.needle});
  }
}

TEST(ParquetFormatHeader, NegativeSizesAndCountsThrow) {
  for (int field = 0; field < 9; ++field) {
    PageHeader h = field < 3 ? v1_header() : v2_header();
    switch (field) {
      case 0:
        h.uncompressed_size = -1;
        break;
      case 1:
        h.compressed_size = -2;
        break;
      case 2:
        h.num_values = -3;
        break;
      case 3:
        h.num_values = -1;
        break;
      case 4:
        h.num_nulls = -1;
        break;
      case 5:
        h.num_rows = -1;
        break;
      case 6:
        h.definition_levels_byte_length = -1;
        break;
      case 7:
        h.repetition_levels_byte_length = -1;
        break;
      case 8:
        h.type = static_cast<PageType>(-1);
        break;
    }
    expect_throws<SourceReadError>([&] { parse(encode(h)); }, {"negative"});
  }
  PageHeader d = dict_header();
  d.num_values = std::numeric_limits<int32_t>::min();
  expect_throws<SourceReadError>([&] { parse(encode(d)); }, {"negative num_values"});
}

TEST(ParquetFormatHeader, OutOfRangeI32AndBadVarintThrow) {
  {
    Compact c;
    c.i32(1, 0);
    c.field(2, kI32);
    c.svarint(int64_t{1} << 31);  // one past int32 max
    c.stop();
    expect_throws<SourceReadError>([&] { parse(c.out); }, {"out of range"});
  }
  {
    Bytes b = {0x15};
    for (int i = 0; i < 11; ++i) b.push_back(0xff);  // never-ending varint
    b.push_back(0x00);
    expect_throws<SourceReadError>([&] { parse(b); }, {"bad varint"});
  }
  {
    Bytes b = {0x15, 0x00, 0x05};  // long-form field id beyond int16
    Compact c;
    c.svarint(40000);
    b.insert(b.end(), c.out.begin(), c.out.end());
    b.push_back(0x00);
    expect_throws<SourceReadError>([&] { parse(b); }, {"field id"});
  }
}

TEST(ParquetFormatHeader, FieldTypesThatCannotBeSkippedThrow) {
  for (uint8_t type : {13, 14, 15}) {
    Bytes b = encode(v1_header());
    b.pop_back();  // the stop
    b.push_back(static_cast<uint8_t>(0x10 | type));
    b.insert(b.end(), {0, 0, 0, 0});
    expect_throws<SourceReadError>([&] { parse(b); }, {"cannot skip a field of type"});
  }
  // A list whose element type is a stop.
  Bytes b = encode(v1_header());
  b.pop_back();
  b.insert(b.end(), {0x19, 0x10, 0x00, 0x00});
  expect_throws<SourceReadError>([&] { parse(b); }, {"element type"});
}

TEST(ParquetFormatHeader, ContainerSizesBeyondTheDataThrowEarly) {
  for (uint8_t type : {kList, kSet}) {
    Compact c;
    c.i32(1, 1);
    c.list(9, kI64, 2'000'000'000, type);
    c.stop();
    expect_throws<SourceReadError>([&] { parse(c.out); }, {"too large"});
  }
  Compact c;
  c.map(9, kI32, kI32, 2'000'000'000);
  c.stop();
  expect_throws<SourceReadError>([&] { parse(c.out); }, {"too large"});
}

// A header whose unknown field 9 holds structs (or lists) nested `levels` deep below the
// top-level struct.
Bytes nested(int levels, bool lists) {
  Bytes b = encode(v1_header());
  b.pop_back();
  Compact c;
  if (lists) {
    c.list(9, kList, 1);
    for (int i = 1; i < levels - 1; ++i) c.list_header(kList, 1);
    c.list_header(kI32, 0);
  } else {
    for (int i = 0; i < levels; ++i) c.begin_struct(i == 0 ? 9 : 1);
    for (int i = 0; i < levels; ++i) c.end_struct();
  }
  c.stop();
  b.insert(b.end(), c.out.begin(), c.out.end());
  return b;
}

TEST(ParquetFormatHeader, NestingLimit) {
  for (bool lists : {false, true}) {
    // The top-level struct is level 1: 31 levels below it make 32.
    const Bytes ok = nested(31, lists);
    EXPECT_EQ(parse(ok).header_size, ok.size());
    expect_throws<SourceReadError>([&] { parse(nested(32, lists)); }, {"nested deeper than 32"});
    expect_throws<SourceReadError>([&] { parse(nested(5000, lists)); }, {"nested deeper"});
  }
}

TEST(ParquetFormatHeader, GarbageThrowsOrParsesNeverCrashes) {
  size_t parsed = 0;
  for (uint64_t seed = 0; seed < 20000; ++seed) {
    std::mt19937_64 rng(seed);
    Bytes b(rng() % 96);
    // Bias toward plausible bytes: small field headers and varints.
    for (auto& x : b) x = static_cast<uint8_t>(rng() % 3 == 0 ? rng() % 0x30 : rng());
    try {
      const PageHeader h = parse(b);
      EXPECT_LE(h.header_size, b.size());
      ++parsed;
    } catch (const SourceReadError&) {
    }
  }
  // Mutations of valid headers: random bytes replaced, inserted or removed.
  for (uint64_t seed = 0; seed < 20000; ++seed) {
    std::mt19937_64 rng(seed);
    const PageHeader base = seed % 3 == 0   ? v1_header()
                            : seed % 3 == 1 ? dict_header()
                                            : v2_header();
    Bytes b = encode(base, {.statistics = true, .unknown_fields = seed % 2 == 0});
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !b.empty(); ++e) {
      const size_t at = rng() % b.size();
      switch (rng() % 3) {
        case 0:
          b[at] = static_cast<uint8_t>(rng());
          break;
        case 1:
          b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), static_cast<uint8_t>(rng()));
          break;
        default:
          b.erase(b.begin() + static_cast<std::ptrdiff_t>(at));
          break;
      }
    }
    try {
      const PageHeader h = parse(b);
      EXPECT_LE(h.header_size, b.size());
      ++parsed;
    } catch (const SourceReadError&) {
    }
  }
  EXPECT_GT(parsed, 0u);
}

TEST(ParquetFormatHeader, RoundTripRandomHeaders) {
  for (uint64_t seed = 0; seed < 3000; ++seed) {
    std::mt19937_64 rng(seed);
    auto count = [&] {
      switch (rng() % 4) {
        case 0:
          return static_cast<int32_t>(rng() % 16);
        case 1:
          return static_cast<int32_t>(rng() % 100000);
        case 2:
          return std::numeric_limits<int32_t>::max() - static_cast<int32_t>(rng() % 3);
        default:
          return static_cast<int32_t>(rng() & 0x7fffffff);
      }
    };
    PageHeader h;
    const PageType types[] = {PageType::kDataPage, PageType::kDictionaryPage, PageType::kDataPageV2,
                              PageType::kIndexPage};
    h.type = types[rng() % 4];
    h.uncompressed_size = count();
    h.compressed_size = count();
    auto encoding = [&] { return static_cast<Encoding>(rng() % 10); };
    if (h.type != PageType::kIndexPage) {
      h.num_values = count();
      h.encoding = encoding();
    }
    if (h.type == PageType::kDataPage) {
      h.definition_level_encoding = encoding();
      h.repetition_level_encoding = encoding();
    }
    if (h.type == PageType::kDataPageV2) {
      h.num_nulls = count();
      h.num_rows = count();
      h.definition_levels_byte_length = count();
      h.repetition_levels_byte_length = count();
      h.is_compressed = rng() % 2 == 0;
    }
    EncodeOptions o;
    o.long_form = rng() % 4 == 0;
    o.statistics = rng() % 2 == 0;
    o.unknown_fields = rng() % 2 == 0;
    o.crc = rng() % 2 == 0;
    o.write_is_compressed = rng() % 2 == 0;
    if (rng() % 2 == 0) o.shuffle = &rng;
    Bytes b = encode(h, o);
    const size_t size = b.size();
    for (uint64_t i = rng() % 8; i > 0; --i) b.push_back(static_cast<uint8_t>(rng()));
    const PageHeader got = parse(b);
    expect_same(h, got);
    EXPECT_EQ(got.header_size, size);
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "seed " << seed;
      return;
    }
  }
}

// ------------------------------------------------------------------ length prefix

TEST(ParquetFormatLengthPrefixed, ReadsTheSpanAfterTheLength) {
  const Bytes b = {3, 0, 0, 0, 'a', 'b', 'c', 'd'};
  size_t consumed = 0;
  const auto s = length_prefixed(b, consumed);
  EXPECT_EQ(consumed, 7u);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s.data(), b.data() + 4);
  const Bytes empty = {0, 0, 0, 0};
  EXPECT_EQ(length_prefixed(empty, consumed).size(), 0u);
  EXPECT_EQ(consumed, 4u);
  const Bytes big = {0x00, 0x01, 0x00, 0x00, 1, 2};  // 256 bytes announced
  expect_throws<SourceReadError>([&] { length_prefixed(big, consumed); }, {"runs past"});
  const Bytes huge = {0xff, 0xff, 0xff, 0xff, 1};
  expect_throws<SourceReadError>([&] { length_prefixed(huge, consumed); }, {"runs past"});
  for (size_t n = 0; n < 4; ++n) {
    expect_throws<SourceReadError>(
        [&] { length_prefixed(std::span<const uint8_t>(b.data(), n), consumed); }, {"too short"});
  }
}

// ------------------------------------------------------------------ RLE / bit-packed hybrid

struct Encoded {
  std::vector<uint32_t> values;  // the logical values
  size_t padding = 0;            // zeros the last bit-packed group adds after them
  Bytes bytes;
};

// A random mix of RLE runs and bit-packed runs (the last one possibly padded).
Encoded random_runs(int w, std::mt19937_64& rng, size_t target) {
  Encoded e;
  RleEncoder enc(w);
  const uint32_t mask = w == 32 ? 0xffffffffu : (uint32_t{1} << w) - 1;
  auto value = [&] {
    // Mostly small values, sometimes the extremes.
    switch (rng() % 4) {
      case 0:
        return static_cast<uint32_t>(rng()) & mask;
      case 1:
        return mask;
      case 2:
        return 0u;
      default:
        return static_cast<uint32_t>(rng() % 5) & mask;
    }
  };
  while (e.values.size() < target) {
    const bool last_chance = rng() % 6 == 0;
    if (rng() % 2 == 0) {
      const uint32_t count = rng() % 5 == 0 ? static_cast<uint32_t>(1 + rng() % 5000)
                                            : static_cast<uint32_t>(1 + rng() % 40);
      const uint32_t v = value();
      enc.rle(v, count);
      e.values.insert(e.values.end(), count, v);
    } else {
      size_t n = 8 * (1 + rng() % (rng() % 4 == 0 ? 200 : 6));
      if (last_chance) n -= rng() % 8;  // the final run: a padded last group
      std::vector<uint32_t> vals(n);
      for (auto& x : vals) x = value();
      enc.packed(vals);
      e.values.insert(e.values.end(), vals.begin(), vals.end());
      if (n % 8 != 0) {
        e.padding = 8 - n % 8;
        break;
      }
    }
    if (last_chance) break;
  }
  e.bytes = std::move(enc.out);
  return e;
}

// Decodes `n` values in chunks of random sizes.
template <typename Out>
std::vector<Out> decode_chunked(RleBitPackedDecoder& d, size_t n, std::mt19937_64& rng) {
  std::vector<Out> out(n);
  size_t got = 0;
  while (got < n) {
    size_t chunk;
    switch (rng() % 5) {
      case 0:
        chunk = 1;
        break;
      case 1:
        chunk = 7;
        break;
      case 2:
        chunk = 1000;
        break;
      case 3:
        chunk = 1 + rng() % 20;
        break;
      default:
        chunk = 1 + rng() % 300;
        break;
    }
    chunk = std::min(chunk, n - got);
    const size_t k = d.decode(std::span<Out>(out.data() + got, chunk));
    got += k;
    if (k < chunk) break;
  }
  out.resize(got);
  return out;
}

TEST(RleBitPackedDecoder, SpecExample) {
  // Encodings.md: 0..7 with bit width 3, one bit-packed group.
  const Bytes b = {0x03, 0x88, 0xc6, 0xfa};
  RleBitPackedDecoder d(b, 3);
  std::vector<uint32_t> out(10);
  ASSERT_EQ(d.decode(out), 8u);
  for (uint32_t i = 0; i < 8; ++i) EXPECT_EQ(out[i], i);
  EXPECT_EQ(d.decode(out), 0u);
}

TEST(RleBitPackedDecoder, RandomRunsEveryBitWidthInRandomChunks) {
  for (int w = 0; w <= 32; ++w) {
    for (uint64_t seed = 0; seed < 40; ++seed) {
      std::mt19937_64 rng(seed * 100 + static_cast<uint64_t>(w));
      const Encoded e = random_runs(w, rng, 1 + rng() % 6000);
      {
        RleBitPackedDecoder d(e.bytes, w);
        const auto got = decode_chunked<uint32_t>(d, e.values.size(), rng);
        ASSERT_EQ(got, e.values) << "bit width " << w << " seed " << seed;
        // What follows is only the padding of the last group, as zeros.
        std::vector<uint32_t> rest(20, 1);
        ASSERT_EQ(d.decode(rest), e.padding);
        for (size_t i = 0; i < e.padding; ++i) EXPECT_EQ(rest[i], 0u);
        EXPECT_EQ(d.decode(rest), 0u);
      }
      if (w <= 8) {
        RleBitPackedDecoder d(e.bytes, w);
        const auto got = decode_chunked<uint8_t>(d, e.values.size(), rng);
        ASSERT_EQ(got.size(), e.values.size());
        for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], e.values[i]) << w << " " << i;
      }
      {
        RleBitPackedDecoder d(e.bytes, w);  // one call
        std::vector<uint32_t> all(e.values.size() + e.padding + 5);
        ASSERT_EQ(d.decode(all), e.values.size() + e.padding);
        all.resize(e.values.size());
        ASSERT_EQ(all, e.values);
      }
    }
  }
}

TEST(RleBitPackedDecoder, ResumesMidRunAcrossCalls) {
  for (int w : {1, 3, 8, 13, 20, 32}) {
    std::mt19937_64 rng(static_cast<uint64_t>(w));
    const Encoded e = random_runs(w, rng, 20000);
    RleBitPackedDecoder whole(e.bytes, w);
    std::vector<uint32_t> want(e.values.size());
    ASSERT_EQ(whole.decode(want), want.size());
    RleBitPackedDecoder d(e.bytes, w);
    std::vector<uint32_t> got;
    const size_t sizes[] = {1, 7, 1000};
    for (size_t i = 0; got.size() < want.size(); ++i) {
      std::vector<uint32_t> chunk(std::min(sizes[i % 3], want.size() - got.size()));
      ASSERT_EQ(d.decode(chunk), chunk.size());
      got.insert(got.end(), chunk.begin(), chunk.end());
    }
    EXPECT_EQ(got, want);
  }
}

TEST(RleBitPackedDecoder, BitWidthZeroYieldsZeros) {
  RleEncoder enc(0);
  enc.rle(0, 1000);                          // no value bytes
  enc.packed(std::vector<uint32_t>(16, 0));  // no data bytes
  ASSERT_EQ(enc.out.size(), 3u);
  RleBitPackedDecoder d(enc.out, 0);
  std::vector<uint32_t> out(2000, 7);
  ASSERT_EQ(d.decode(out), 1016u);
  for (size_t i = 0; i < 1016; ++i) ASSERT_EQ(out[i], 0u);
  RleBitPackedDecoder d8(enc.out, 0);
  std::vector<uint8_t> levels(500, 7);
  ASSERT_EQ(d8.decode(levels), 500u);
  EXPECT_EQ(std::count(levels.begin(), levels.end(), 0), 500);
}

TEST(RleBitPackedDecoder, RleValueIsMasked) {
  const Bytes b = {0x08, 0xff};  // 4 copies of 0xff, bit width 3
  RleBitPackedDecoder d(b, 3);
  std::vector<uint32_t> out(4);
  ASSERT_EQ(d.decode(out), 4u);
  EXPECT_EQ(out, std::vector<uint32_t>(4, 7));
  const Bytes c = {0x04, 0xff, 0xff, 0xff};  // 2 copies, bit width 20 (3 value bytes)
  RleBitPackedDecoder e(c, 20);
  ASSERT_EQ(e.decode(out), 2u);
  EXPECT_EQ(out[0], 0xfffffu);
}

TEST(RleBitPackedDecoder, ShortLastGroupDecodesWhatIsPresent) {
  // Two groups of width 8 announced, 12 bytes present: the 12 values whose bits are present.
  Bytes b = {0x05};
  for (uint8_t i = 0; i < 12; ++i) b.push_back(i);
  RleBitPackedDecoder d(b, 8);
  std::vector<uint32_t> out(16);
  ASSERT_EQ(d.decode(out), 12u);
  for (uint32_t i = 0; i < 12; ++i) EXPECT_EQ(out[i], i);
  // Width 5, one group announced, 3 bytes (24 bits) present: 4 values.
  const Bytes c = {0x03, 0xff, 0xff, 0xff};
  RleBitPackedDecoder e(c, 5);
  ASSERT_EQ(e.decode(out), 4u);
  EXPECT_EQ(out[3], 31u);
}

TEST(RleBitPackedDecoder, MalformedRunsThrow) {
  std::vector<uint32_t> out(100);
  // Three groups of width 8 announced, only 10 bytes: more than the last group is missing.
  Bytes b = {0x07};
  b.resize(11, 1);
  expect_throws<SourceReadError>([&] { RleBitPackedDecoder(b, 8).decode(out); },
                                 {"bit-packed run"});
  // RLE value bytes missing.
  const Bytes c = {0x04, 0xff};
  expect_throws<SourceReadError>([&] { RleBitPackedDecoder(c, 12).decode(out); }, {"RLE run"});
  // Run header varint truncated, or longer than 32 bits.
  const Bytes h1 = {0x80};
  expect_throws<SourceReadError>([&] { RleBitPackedDecoder(h1, 1).decode(out); }, {"header"});
  const Bytes h2 = {0x80, 0x80, 0x80, 0x80, 0x10, 0x00};
  expect_throws<SourceReadError>([&] { RleBitPackedDecoder(h2, 1).decode(out); }, {"header"});
  // The values before the bad run are still decoded by earlier calls.
  Bytes ok_then_bad = {0x04, 0x01, 0x07, 0x00};
  RleBitPackedDecoder d(ok_then_bad, 1);
  std::vector<uint32_t> two(2);
  EXPECT_EQ(d.decode(two), 2u);
  expect_throws<SourceReadError>([&] { d.decode(two); }, {"bit-packed run"});
}

TEST(RleBitPackedDecoder, BadBitWidthsThrow) {
  const Bytes b = {0x02, 0x01};
  expect_throws<SourceReadError>([&] { RleBitPackedDecoder(b, 33); }, {"bit width"});
  expect_throws<SourceReadError>([&] { RleBitPackedDecoder(b, -1); }, {"bit width"});
  RleBitPackedDecoder d(b, 9);
  std::vector<uint8_t> levels(1);
  expect_throws<SourceReadError>([&] { d.decode(levels); }, {"too wide"});
}

TEST(RleBitPackedDecoder, EmptyDataAndEmptyOutput) {
  RleBitPackedDecoder d(std::span<const uint8_t>(), 5);
  std::vector<uint32_t> out(4);
  EXPECT_EQ(d.decode(out), 0u);
  const Bytes b = {0x02, 0x01};
  RleBitPackedDecoder e(b, 1);
  EXPECT_EQ(e.decode(std::span<uint32_t>()), 0u);
  EXPECT_EQ(e.decode(out), 1u);
  // Zero-length runs are empty, not an error.
  const Bytes z = {0x00, 0x01, 0x01, 0x02, 0x01};
  RleBitPackedDecoder f(z, 1);
  EXPECT_EQ(f.decode(out), 1u);
}

// Truncated data: each prefix decodes to a prefix of the values (then stops), or throws.
TEST(RleBitPackedDecoder, TruncatedDataThrowsOrReturnsAPrefix) {
  for (int w : {0, 1, 2, 3, 5, 7, 8, 9, 12, 16, 17, 24, 31, 32}) {
    for (uint64_t seed = 0; seed < 6; ++seed) {
      std::mt19937_64 rng(seed + 1000 * static_cast<uint64_t>(w));
      const Encoded e = random_runs(w, rng, 300);
      std::vector<uint32_t> full = e.values;
      full.insert(full.end(), e.padding, 0u);
      for (size_t n = 0; n < e.bytes.size(); ++n) {
        // A copy of exactly n bytes, so ASan sees any read past it.
        const std::vector<uint8_t> prefix(e.bytes.begin(),
                                          e.bytes.begin() + static_cast<std::ptrdiff_t>(n));
        RleBitPackedDecoder d(prefix, w);
        std::vector<uint32_t> got;
        try {
          got = decode_chunked<uint32_t>(d, full.size() + 10, rng);
        } catch (const SourceReadError&) {
          continue;
        }
        ASSERT_LE(got.size(), full.size());
        ASSERT_TRUE(std::equal(got.begin(), got.end(), full.begin())) << w << " " << n;
      }
    }
  }
}

TEST(RleBitPackedDecoder, GarbageNeverCrashes) {
  for (uint64_t seed = 0; seed < 5000; ++seed) {
    std::mt19937_64 rng(seed);
    const int w = static_cast<int>(rng() % 33);
    std::vector<uint8_t> b(rng() % 64);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    RleBitPackedDecoder d(b, w);
    try {
      std::vector<uint32_t> out(rng() % 3000);
      d.decode(out);
      if (w <= 8) {
        std::vector<uint8_t> levels(rng() % 3000);
        d.decode(levels);
      }
    } catch (const SourceReadError&) {
    }
  }
}

TEST(RleBitPackedDecoder, LengthPrefixedLevels) {
  // Data page v1 definition levels: a 4-byte length, then the runs.
  RleEncoder enc(1);
  enc.rle(1, 10);
  enc.packed({0, 1, 0, 1, 1, 1, 0, 0});
  Bytes page = {static_cast<uint8_t>(enc.out.size()), 0, 0, 0};
  page.insert(page.end(), enc.out.begin(), enc.out.end());
  page.insert(page.end(), {0xde, 0xad});  // the values follow
  size_t consumed = 0;
  RleBitPackedDecoder d(length_prefixed(page, consumed), 1);
  EXPECT_EQ(consumed, page.size() - 2);
  std::vector<uint8_t> levels(30);
  ASSERT_EQ(d.decode(levels), 18u);
  levels.resize(18);
  EXPECT_EQ(levels, (std::vector<uint8_t>{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 0, 0}));
}

}  // namespace
}  // namespace truthound::parquet
