// The Parquet footer parser (parquet/footer.hpp): what it reads, and every impossible value it
// refuses before the reader could size anything by it.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "arrow_builders.hpp"
#include "parquet_builders.hpp"
#include "truthound/parquet/footer.hpp"
#include "truthound/util/error.hpp"

namespace truthound::parquet {
namespace {

using builders::Compact;
using truthound::testing::Bytes;
using truthound::testing::expect_throws;

struct Chunk {
  std::string path = "x";
  int32_t codec = 1;
  int64_t num_values = 10;
  int64_t data_page_offset = 40;
  int64_t dictionary_page_offset = 4;  // < 0: none
  int64_t total_compressed_size = 100;
};

struct Footer {
  std::vector<std::pair<std::string, int>> leaves = {{"x", 1}};  // name, repetition
  int64_t num_rows = 10;
  std::vector<int64_t> group_rows = {10};
  std::vector<Chunk> chunks = {Chunk{}};  // row group by row group, one per leaf in order
  std::string created_by = "parquet-cpp-arrow version 20.0.0";
  uint32_t encodings_list_size = 2;  // the size the encodings list header claims
};

Bytes encode(const Footer& f) {
  Compact c;
  c.i32(1, 2);  // version
  c.list(2, builders::kStruct, static_cast<uint32_t>(f.leaves.size() + 1));
  c.begin_element_struct();
  c.binary(4, "schema");
  c.i32(5, static_cast<int32_t>(f.leaves.size()));
  c.end_struct();
  for (const auto& [name, repetition] : f.leaves) {
    c.begin_element_struct();
    c.i32(1, 2);  // INT64
    c.i32(3, repetition);
    c.binary(4, name);
    c.end_struct();
  }
  c.i64(3, f.num_rows);
  c.list(4, builders::kStruct, static_cast<uint32_t>(f.group_rows.size()));
  size_t next = 0;
  for (int64_t rows : f.group_rows) {
    c.begin_element_struct();
    const size_t per_group = f.chunks.size() / f.group_rows.size();  // may differ from leaves
    c.list(1, builders::kStruct, static_cast<uint32_t>(per_group));
    for (size_t i = 0; i < per_group; ++i) {
      const Chunk& k = f.chunks[next++];
      c.begin_element_struct();
      c.i64(2, k.data_page_offset);
      c.begin_struct(3);
      c.i32(1, 2);
      c.list(2, builders::kI32, f.encodings_list_size);
      for (uint32_t e = 0; e < std::min<uint32_t>(f.encodings_list_size, 2); ++e)
        c.svarint(e == 0 ? 0 : 8);
      c.list(3, builders::kBinary, 1);
      c.uvarint(k.path.size());
      c.out.insert(c.out.end(), k.path.begin(), k.path.end());
      c.i32(4, k.codec);
      c.i64(5, k.num_values);
      c.i64(6, k.total_compressed_size);
      c.i64(7, k.total_compressed_size);
      c.i64(9, k.data_page_offset);
      if (k.dictionary_page_offset >= 0) c.i64(11, k.dictionary_page_offset);
      c.end_struct();
      c.end_struct();
    }
    c.i64(2, 1000);
    c.i64(3, rows);
    c.end_struct();
  }
  c.binary(6, f.created_by);
  c.stop();
  return c.out;
}

FileMeta parse(const Footer& f, int64_t file_size = 1000) {
  return parse_file_meta(encode(f), file_size);
}

TEST(ParquetFooter, ReadsWhatThePlanNeeds) {
  Footer f;
  f.leaves = {{"a", 0}, {"b", 1}};
  f.chunks = {Chunk{.path = "a"}, Chunk{.path = "b", .codec = 0, .dictionary_page_offset = -1}};
  const FileMeta m = parse(f);
  EXPECT_EQ(m.num_rows, 10);
  EXPECT_EQ(m.created_by, f.created_by);
  EXPECT_EQ(m.leaf_paths, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(m.leaf_max_definition, (std::vector<int32_t>{0, 1}));
  ASSERT_EQ(m.row_groups.size(), 1u);
  const auto& a = m.row_groups[0].columns[0];
  EXPECT_EQ(a.codec, 1);
  EXPECT_EQ(a.encodings, (std::vector<int32_t>{0, 8}));
  EXPECT_EQ(a.start, 4);  // the dictionary page comes first
  EXPECT_EQ(a.length, 100);
  EXPECT_EQ(a.padding, 0);
  const auto& b = m.row_groups[0].columns[1];
  EXPECT_EQ(b.start, 40);
  EXPECT_EQ(b.dictionary_page_offset, -1);
}

TEST(ParquetFooter, CodecValuesAreKeptAsWritten) {
  // pyarrow's ColumnChunkMetaData.compression aborts the process on such a value; here the
  // caller sees it and leaves the chunk to a reader that reports it
  Footer f;
  f.chunks[0].codec = 99;
  EXPECT_EQ(parse(f).row_groups[0].columns[0].codec, 99);
}

TEST(ParquetFooter, OldParquetMrChunksArePadded) {
  Footer f;
  f.created_by = "parquet-mr";
  EXPECT_EQ(parse(f, 1000).row_groups[0].columns[0].padding, 100);
  EXPECT_EQ(parse(f, 150).row_groups[0].columns[0].padding, 46);  // only what the file has
  f.created_by = "parquet-mr version 1.2.8 (build abc)";
  EXPECT_EQ(parse(f).row_groups[0].columns[0].padding, 100);
  f.created_by = "parquet-mr version 1.2.9 (build abc)";
  EXPECT_EQ(parse(f).row_groups[0].columns[0].padding, 0);
  f.created_by = "parquet-mr version 1.13.1 (build abc)";
  EXPECT_EQ(parse(f).row_groups[0].columns[0].padding, 0);
}

TEST(ParquetFooter, ImpossibleValuesAreRefused) {
  auto refused = [](const std::function<void(Footer&)>& edit, std::string_view needle,
                    int64_t file_size = 1000) {
    Footer f;
    edit(f);
    expect_throws<SourceReadError>([&] { parse(f, file_size); }, {"Parquet footer", needle});
  };
  refused([](Footer& f) { f.num_rows = -1; }, "negative row count");
  refused([](Footer& f) { f.group_rows = {-1}; }, "negative row count");
  refused([](Footer& f) { f.chunks[0].num_values = -1; }, "negative value count");
  refused([](Footer& f) { f.chunks[0].total_compressed_size = -5; }, "negative");
  refused([](Footer& f) { f.chunks[0].data_page_offset = f.chunks[0].dictionary_page_offset = -8; },
          "negative");
  refused([](Footer&) {}, "runs past the end of the file", 50);
  refused([](Footer& f) { f.chunks[0].total_compressed_size = INT64_MAX; }, "runs past");
  refused([](Footer& f) { f.chunks[0].path = "y"; }, "path");
  refused([](Footer& f) { f.leaves.push_back({"y", 1}); }, "column chunks");
  refused([](Footer& f) { f.encodings_list_size = 1u << 30; }, "too large");
}

TEST(ParquetFooter, EveryTruncationIsRefused) {
  const Bytes whole = encode(Footer{});
  for (size_t n = 0; n < whole.size(); ++n) {
    const Bytes cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(parse_file_meta(cut, 1000), SourceReadError) << n << " bytes";
  }
}

TEST(ParquetFooter, TailChecksMagicAndLength) {
  const Bytes footer = encode(Footer{});
  auto tail_of = [&](uint32_t length, const char* magic) {
    Bytes t = footer;
    builders::put_u32(t, length);
    t.insert(t.end(), magic, magic + 4);
    return t;
  };
  const auto n = static_cast<uint32_t>(footer.size());
  EXPECT_EQ(parse_file_tail(tail_of(n, "PAR1"), 1000).num_rows, 10);
  expect_throws<SourceReadError>([&] { parse_file_tail(tail_of(n, "PARE"), 1000); }, {"encrypted"});
  expect_throws<SourceReadError>([&] { parse_file_tail(tail_of(n, "PAR2"), 1000); }, {"magic"});
  expect_throws<SourceReadError>([&] { parse_file_tail(tail_of(UINT32_MAX, "PAR1"), 1000); },
                                 {"in a file of 1000 bytes"});
  expect_throws<SourceReadError>([&] { parse_file_tail(tail_of(n + 1, "PAR1"), 1000); },
                                 {"the tail holds"});
  expect_throws<SourceReadError>([&] { parse_file_tail(tail_of(n, "PAR1"), 8); }, {"8 bytes"});
}

}  // namespace
}  // namespace truthound::parquet
