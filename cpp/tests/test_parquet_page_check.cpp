// The page-size check of files another reader reads (parquet/page_check.hpp): what it refuses,
// and that the walk follows the chunk (sizes, values, padding, long headers) without refusing a
// well-formed one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "arrow_builders.hpp"
#include "parquet_builders.hpp"
#include "truthound/parquet/page_check.hpp"
#include "truthound/util/error.hpp"

namespace truthound::parquet {
namespace {

using truthound::testing::Bytes;
using truthound::testing::expect_throws;

PageHeader data_page(int32_t values, int32_t compressed, int32_t uncompressed) {
  PageHeader h;
  h.type = PageType::kDataPage;
  h.num_values = values;
  h.compressed_size = compressed;
  h.uncompressed_size = uncompressed;
  return h;
}

// A file of 4 bytes of magic and one column chunk of `pages` (each a header, then as many body
// bytes as its compressed size says, or none when it says more than 1 MiB), then `tail` bytes.
struct File {
  Bytes bytes{'P', 'A', 'R', '1'};
  FileMeta meta;
  int reads = 0;

  File(const std::vector<PageHeader>& pages, int32_t codec, int64_t num_values,
       const builders::EncodeOptions& o = {}, size_t tail = 8) {
    const auto start = static_cast<int64_t>(bytes.size());
    for (const PageHeader& h : pages) {
      const Bytes header = builders::encode(h, o);
      bytes.insert(bytes.end(), header.begin(), header.end());
      const int32_t body = h.compressed_size <= (1 << 20) ? std::max(h.compressed_size, 0) : 0;
      bytes.resize(bytes.size() + static_cast<size_t>(body), 0x5a);
    }
    ColumnChunkMeta c;
    c.codec = codec;
    c.num_values = num_values;
    c.start = start;
    c.length = static_cast<int64_t>(bytes.size()) - start;
    bytes.resize(bytes.size() + tail, 0);
    meta.file_size = static_cast<int64_t>(bytes.size());
    meta.leaf_paths = {"x"};
    meta.row_groups = {RowGroupMeta{.num_rows = num_values, .columns = {c}}};
  }

  void check() {
    const std::vector<size_t> groups{0}, leaves{0};
    check_page_sizes(
        meta, groups, leaves,
        [&](int64_t offset, std::span<uint8_t> dst) {
          ++reads;
          ASSERT_GE(offset, meta.row_groups[0].columns[0].start);
          ASSERT_LE(offset + static_cast<int64_t>(dst.size()), meta.file_size);
          std::copy_n(bytes.begin() + offset, dst.size(), dst.begin());
        },
        "f.parquet");
  }
};

TEST(ParquetPageCheck, WellFormedChunksPass) {
  PageHeader dict;
  dict.type = PageType::kDictionaryPage;
  dict.num_values = 3;
  dict.compressed_size = 20;
  dict.uncompressed_size = 20 * 22 + 32;  // snappy at its largest expansion
  File f({dict, data_page(50, 30, 60), data_page(50, 10, 10)}, 1, 100);
  f.check();
  EXPECT_EQ(f.reads, 3);  // one read per page header, none of a body

  // a v2 page, an index page, a header with statistics and unknown fields
  PageHeader v2;
  v2.type = PageType::kDataPageV2;
  v2.num_values = v2.num_rows = 7;
  v2.compressed_size = 5;
  v2.uncompressed_size = 9;
  PageHeader index;
  index.type = PageType::kIndexPage;
  index.compressed_size = 3;
  File g({index, v2, data_page(3, 4, 4)}, 6, 10, {.statistics = true, .unknown_fields = true});
  g.check();
}

TEST(ParquetPageCheck, AWalkEndsWithTheChunksValues) {
  // the chunk holds 10 values in its first page: the bytes after it (PARQUET-816 padding, which
  // may reach into the next chunk) are not read as a page, as Arrow's page reader stops there
  File f({data_page(10, 4, 4)}, 0, 10);
  f.bytes.insert(f.bytes.end() - 8, {0xff, 0xff, 0xff});
  f.meta.row_groups[0].columns[0].length += 3;
  f.meta.file_size += 3;
  f.check();
  EXPECT_EQ(f.reads, 1);
}

TEST(ParquetPageCheck, APageRunningPastItsChunkIsRefused) {
  // the second page claims 2^31 - 1 bytes: the file holds none of them
  File f({data_page(5, 4, 4), data_page(5, 2147483647, 4)}, 6, 10);
  const std::string msg = expect_throws<SourceReadError>(
      [&] { f.check(); }, {"f.parquet: row group 0, column 'x': the page at byte ",
                           "claims 2147483647 bytes, and 0 bytes of its column chunk are left"});
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;

  // by one byte
  File g({data_page(5, 4, 4), data_page(5, 5, 5)}, 0, 10);
  g.meta.row_groups[0].columns[0].length -= 1;
  expect_throws<SourceReadError>([&] { g.check(); }, {"claims 5 bytes, and 4 bytes"});
}

TEST(ParquetPageCheck, UncompressedSizesBeyondTheCodecAreRefused) {
  struct Case {
    int32_t codec;
    const char* name;
    int64_t per_byte;
  };
  for (const Case& c : {Case{1, "snappy", 22}, Case{2, "gzip", 1032}, Case{5, "lz4", 255},
                        Case{6, "zstd", 32768}, Case{7, "lz4_raw", 255}}) {
    const int64_t most = c.per_byte * 100 + (1 << 20);
    EXPECT_EQ(max_uncompressed_size(c.codec, 100), most) << c.name;
    File ok({data_page(10, 100, static_cast<int32_t>(most))}, c.codec, 10);
    ok.check();
    File bad({data_page(10, 100, static_cast<int32_t>(most + 1))}, c.codec, 10);
    expect_throws<SourceReadError>([&] { bad.check(); },
                                   {"claims " + std::to_string(most + 1) + " bytes uncompressed",
                                    std::string("100 bytes of ") + c.name});
  }
  // brotli can expand a few hundred bytes past any i32; no bound for UNCOMPRESSED, LZO or a
  // codec with no name (pyarrow refuses the last two)
  EXPECT_EQ(max_uncompressed_size(4, 27), 27 * 4971027 + (1 << 20));
  for (int32_t codec : {0, 3, 8, 99}) {
    EXPECT_EQ(max_uncompressed_size(codec, 100), -1);
    File f({data_page(10, 100, (1 << 30) + ((1 << 30) - 1))}, codec, 10);
    f.check();
  }
}

TEST(ParquetPageCheck, AHeaderLongerThanTheFirstReadIsReadWhole) {
  // statistics of 10,000-byte values: a header of ~20 KB, more than the first 4 KiB read
  PageHeader h = data_page(10, 4, 4);
  File f({h}, 0, 10);
  builders::Compact c;
  c.i32(1, 0);
  c.i32(2, 4);
  c.i32(3, 4);
  c.begin_struct(5);
  c.i32(1, 10);
  c.i32(2, 0);
  c.i32(3, 3);
  c.i32(4, 3);
  c.begin_struct(5);  // statistics: max_value, min_value
  c.binary(5, std::string(10000, 'z'));
  c.binary(6, std::string(10000, 'a'));
  c.end_struct();
  c.end_struct();
  c.stop();
  Bytes bytes{'P', 'A', 'R', '1'};
  bytes.insert(bytes.end(), c.out.begin(), c.out.end());
  bytes.resize(bytes.size() + 4 + 8, 0);
  f.bytes = bytes;
  f.meta.row_groups[0].columns[0].length = static_cast<int64_t>(c.out.size()) + 4;
  f.meta.file_size = static_cast<int64_t>(bytes.size());
  f.check();
  EXPECT_EQ(f.reads, 3);  // 4 KiB, 16 KiB, then the ~20 KB the chunk has
}

TEST(ParquetPageCheck, MalformedHeadersAreRefusedWithinTheChunk) {
  File f({data_page(10, 4, 4)}, 0, 10);
  f.bytes[4] = 0x0f;  // a field of type 15: not a thrift type
  expect_throws<SourceReadError>([&] { f.check(); }, {"the page at byte 4 has a malformed header"});

  // a chunk cut inside its header: the walk reads nothing past the chunk
  File g({data_page(10, 4, 4)}, 0, 10);
  g.meta.row_groups[0].columns[0].length = 3;
  expect_throws<SourceReadError>([&] { g.check(); }, {"malformed header", "truncated"});
}

TEST(ParquetPageCheck, ChunksInOtherFilesAndBadIndicesAreHandled) {
  File f({data_page(10, (1 << 30), 4)}, 0, 10);
  f.meta.row_groups[0].columns[0].external = true;
  f.check();  // not walked: its bytes are not in this file
  const std::vector<size_t> none{7}, zero{0};
  auto read = [](int64_t, std::span<uint8_t>) {};
  expect_throws<SourceReadError>([&] { check_page_sizes(f.meta, none, zero, read, "f.parquet"); },
                                 {"no row group 7"});
  expect_throws<SourceReadError>([&] { check_page_sizes(f.meta, zero, none, read, "f.parquet"); },
                                 {"no column 7"});
}

}  // namespace
}  // namespace truthound::parquet
