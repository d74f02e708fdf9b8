// Specification of the Parquet column-chunk reader (cpp/include/truthound/parquet/reader.hpp).
// Column chunks are built in memory by parquet_builders.hpp (dictionary and data pages v1/v2,
// PLAIN / dictionary / RLE values, optional definition levels, UNCOMPRESSED or literal-only
// SNAPPY), written to a temp file, read back batch by batch and compared value by value; errors,
// truncations and random mutations must raise SourceReadError or InvalidArgumentError, never crash.
#include "truthound/parquet/reader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "arrow_builders.hpp"
#include "parquet_builders.hpp"
#include "truthound/util/error.hpp"

namespace truthound::parquet {
namespace {

using builders::build_chunk;
using builders::BuiltChunk;
using builders::ChunkOptions;
using builders::PageForm;
using builders::PageSpec;
using builders::Values;
using truthound::testing::Bytes;
using truthound::testing::dict_field;
using truthound::testing::expect_throws;
using truthound::testing::field;
using truthound::testing::SchemaSpec;
using truthound::testing::ScopedSchema;
using truthound::testing::struct_schema;

template <typename T>
using Rows = std::vector<std::optional<T>>;

constexpr PageForm kV1 = PageForm::kV1;
constexpr PageForm kV2 = PageForm::kV2;
constexpr Values kPlain = Values::kPlain;
constexpr Values kDict = Values::kDictionary;
constexpr Values kRle = Values::kRle;

// ------------------------------------------------------------------ temp files

class TempFile {
 public:
  TempFile() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("truthound_parquet_reader_" + std::to_string(::getpid()) + "_" +
             std::to_string(counter.fetch_add(1)) + ".bin");
  }
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void write(const Bytes& b) const {
    std::ofstream f(path_, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    ASSERT_TRUE(f.good()) << path_;
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// ------------------------------------------------------------------ checking batches

// Checks slot validity and null_count of `a` against `valid`; returns the first problem.
std::string check_validity(const ArrowArray& a, const std::vector<bool>& valid) {
  const auto n = static_cast<int64_t>(valid.size());
  if (a.length != n) return "length " + std::to_string(a.length) + " != " + std::to_string(n);
  if (a.offset != 0) return "offset " + std::to_string(a.offset);
  if (a.release == nullptr) return "released child";
  const auto nulls = static_cast<int64_t>(std::count(valid.begin(), valid.end(), false));
  if (a.null_count != nulls)
    return "null_count " + std::to_string(a.null_count) + " != " + std::to_string(nulls);
  const auto* bits = static_cast<const uint8_t*>(a.buffers[0]);
  if (nulls == 0) return bits == nullptr ? "" : "a validity buffer without nulls";
  if (bits == nullptr) return "no validity buffer";
  for (int64_t i = 0; i < n; ++i) {
    if (((bits[i >> 3] >> (i & 7)) & 1) != (valid[static_cast<size_t>(i)] ? 1 : 0))
      return "validity of slot " + std::to_string(i);
  }
  return "";
}

template <typename O>
std::string string_at(const ArrowArray& a, int64_t i) {
  const auto* off = static_cast<const O*>(a.buffers[1]);
  const auto* data = static_cast<const char*>(a.buffers[2]);
  if (off[i + 1] < off[i]) return "<offsets decrease>";
  return std::string(data + off[i], static_cast<size_t>(off[i + 1] - off[i]));
}

bool is_large(const std::string& format) {
  return format == "U" || format == "Z";
}

// What a test column is expected to read as, for rows [start, start + n) of one row group.
template <typename T>
struct Expected {
  Rows<T> rows;
  std::vector<T> dictionary;    // the chunk's dictionary page
  std::vector<bool> plain_row;  // rows stored PLAIN
};

// Compares child `a` of a batch (`field` its schema) with rows [start, start + n) of `e`.
template <typename T>
std::string check_child(const ArrowArray& a, const SchemaSpec& fld, const Expected<T>& e,
                        int64_t start, int64_t n) {
  std::vector<bool> valid;
  for (int64_t i = start; i < start + n; ++i)
    valid.push_back(e.rows[static_cast<size_t>(i)].has_value());
  std::string err = check_validity(a, valid);
  if (!err.empty()) return err;
  for (int64_t i = 0; i < n; ++i) {
    const auto& want = e.rows[static_cast<size_t>(start + i)];
    if (!want) continue;
    const std::string at = "slot " + std::to_string(i) + ": ";
    if constexpr (std::is_same_v<T, bool>) {
      const auto* bits = static_cast<const uint8_t*>(a.buffers[1]);
      if ((((bits[i >> 3] >> (i & 7)) & 1) != 0) != *want) return at + "boolean differs";
    } else if constexpr (std::is_arithmetic_v<T>) {
      T got;
      std::memcpy(&got, static_cast<const T*>(a.buffers[1]) + i, sizeof(T));
      if (got != *want) return at + std::to_string(got) + " != " + std::to_string(*want);
    } else if (fld.dictionary) {
      if (a.dictionary == nullptr || a.n_buffers != 2) return "not a dictionary array";
      const ArrowArray& d = *a.dictionary;
      const int32_t idx = static_cast<const int32_t*>(a.buffers[1])[i];
      if (idx < 0 || idx >= d.length) return at + "index " + std::to_string(idx) + " out of range";
      const std::string got = is_large(fld.dictionary->format) ? string_at<int64_t>(d, idx)
                                                               : string_at<int32_t>(d, idx);
      if (got != *want) return at + "'" + got + "' != '" + *want + "'";
    } else {
      if (a.n_buffers != 3) return "n_buffers " + std::to_string(a.n_buffers);
      const std::string got =
          is_large(fld.format) ? string_at<int64_t>(a, i) : string_at<int32_t>(a, i);
      if (got != *want) return at + "'" + got + "' != '" + *want + "'";
    }
  }
  if constexpr (std::is_same_v<T, std::string>) {
    if (fld.dictionary) {
      // The dictionary: the chunk's dictionary page, then this batch's plain values in order;
      // plain rows point at their appended entry, the others at their dictionary entry.
      std::vector<std::string> want_dict = e.dictionary;
      std::vector<int32_t> want_idx;
      for (int64_t i = start; i < start + n; ++i) {
        const auto& v = e.rows[static_cast<size_t>(i)];
        if (!v) {
          want_idx.push_back(-1);
        } else if (e.plain_row[static_cast<size_t>(i)]) {
          want_idx.push_back(static_cast<int32_t>(want_dict.size()));
          want_dict.push_back(*v);
        } else {
          want_idx.push_back(static_cast<int32_t>(
              std::find(e.dictionary.begin(), e.dictionary.end(), *v) - e.dictionary.begin()));
        }
      }
      const ArrowArray& d = *a.dictionary;
      if (d.length != static_cast<int64_t>(want_dict.size()))
        return "dictionary length " + std::to_string(d.length) +
               " != " + std::to_string(want_dict.size());
      if (d.null_count != 0 || d.buffers[0] != nullptr || d.release == nullptr)
        return "dictionary validity";
      for (int64_t k = 0; k < d.length; ++k) {
        const std::string got =
            is_large(fld.dictionary->format) ? string_at<int64_t>(d, k) : string_at<int32_t>(d, k);
        if (got != want_dict[static_cast<size_t>(k)])
          return "dictionary entry " + std::to_string(k);
      }
      for (int64_t i = 0; i < n; ++i) {
        const int32_t w = want_idx[static_cast<size_t>(i)];
        if (w >= 0 && static_cast<const int32_t*>(a.buffers[1])[i] != w)
          return "index of slot " + std::to_string(i);
      }
    }
  }
  return "";
}

// ------------------------------------------------------------------ test tables

// One column of a test table: its plan entry (without chunk positions), its Arrow field, its
// chunks, and a check of a batch child against rows [start, start + n) of row group g.
struct Column {
  std::string name;
  PhysicalType physical = PhysicalType::kInt64;
  int max_def = 0;
  SchemaSpec fld;
  std::vector<Bytes> chunks;  // one per row group
  bool snappy = false;
  std::function<std::string(const ArrowArray&, size_t g, int64_t start, int64_t n)> check;
};

struct Table {
  std::vector<int64_t> group_rows;
  std::vector<Column> columns;

  template <typename T>
  void add(std::string name, PhysicalType physical, SchemaSpec fld, const ChunkOptions& o,
           const std::vector<Rows<T>>& groups, const std::vector<std::vector<PageSpec>>& pages) {
    if (group_rows.empty()) {
      for (const auto& g : groups) group_rows.push_back(static_cast<int64_t>(g.size()));
    }
    Column c;
    c.name = std::move(name);
    c.physical = physical;
    c.max_def = o.max_def;
    c.fld = fld;
    c.fld.name = c.name;
    c.snappy = o.snappy;
    auto expected = std::make_shared<std::vector<Expected<T>>>();
    for (size_t g = 0; g < groups.size(); ++g) {
      BuiltChunk<T> b = build_chunk(groups[g], pages[g], o);
      c.chunks.push_back(std::move(b.bytes));
      expected->push_back({groups[g], std::move(b.dictionary), std::move(b.plain_row)});
    }
    const SchemaSpec f = c.fld;
    c.check = [expected, f](const ArrowArray& a, size_t g, int64_t start, int64_t n) {
      return check_child<T>(a, f, (*expected)[g], start, n);
    };
    columns.push_back(std::move(c));
  }

  SchemaSpec schema() const {
    std::vector<SchemaSpec> children;
    for (const Column& c : columns) children.push_back(c.fld);
    return struct_schema(std::move(children));
  }

  // The file's bytes (chunks in row group order, garbage between them) and the plan reading them.
  ReadPlan layout(const std::string& path, Bytes& file, int64_t batch_rows) const {
    ReadPlan plan;
    plan.path = path;
    plan.row_group_rows = group_rows;
    plan.batch_rows = batch_rows;
    file = {0xde, 0xad, 0xbe, 0xef};
    for (const Column& c : columns) {
      ColumnRead r;
      r.name = c.name;
      r.physical = c.physical;
      r.max_definition_level = c.max_def;
      plan.columns.push_back(std::move(r));
    }
    for (size_t g = 0; g < group_rows.size(); ++g) {
      for (size_t i = 0; i < columns.size(); ++i) {
        const Bytes& b = columns[i].chunks[g];
        plan.columns[i].chunks.push_back(
            ColumnChunk{static_cast<int64_t>(file.size()), static_cast<int64_t>(b.size()),
                        group_rows[g], columns[i].snappy ? Codec::kSnappy : Codec::kUncompressed});
        file.insert(file.end(), b.begin(), b.end());
        file.insert(file.end(), {0x15, 0x00, 0xff, 0x7f, 0x15});  // garbage: looks like a header
      }
    }
    return plan;
  }
};

// Checks one batch: its row group and rows, then every column. `g`/`pos`: where the batch
// must start (advanced past it).
void check_batch(const Table& t, const ArrowArray& b, int64_t batch_rows, size_t& g, int64_t& pos) {
  while (g < t.group_rows.size() && pos == t.group_rows[g]) {
    ++g;
    pos = 0;
  }
  ASSERT_LT(g, t.group_rows.size()) << "a batch after the last row group";
  ASSERT_EQ(b.n_children, static_cast<int64_t>(t.columns.size()));
  ASSERT_EQ(b.offset, 0);
  ASSERT_EQ(b.null_count, 0);
  ASSERT_GT(b.length, 0);
  ASSERT_LE(b.length, batch_rows);
  ASSERT_LE(pos + b.length, t.group_rows[g]) << "a batch spans row groups";
  if (b.length < batch_rows) {
    ASSERT_EQ(pos + b.length, t.group_rows[g]) << "a short batch mid-group";
  }
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const std::string err = t.columns[i].check(*b.children[i], g, pos, b.length);
    ASSERT_EQ(err, "") << "column " << t.columns[i].name << ", row group " << g << ", rows " << pos
                       << "+" << b.length << ", batch_rows " << batch_rows;
  }
  pos += b.length;
}

// Writes the table, reads it all with `batch_rows` and checks every batch.
void read_and_check(const Table& t, int64_t batch_rows) {
  SCOPED_TRACE("batch_rows " + std::to_string(batch_rows));
  TempFile file;
  Bytes bytes;
  ReadPlan plan = t.layout(file.path(), bytes, batch_rows);
  file.write(bytes);
  ScopedSchema schema(t.schema());
  BatchReader reader(std::move(plan), *schema);
  size_t g = 0;
  int64_t pos = 0;
  int64_t total = 0;
  ArrowArray b;
  while (reader.next(&b)) {
    total += b.length;
    check_batch(t, b, batch_rows, g, pos);
    b.release(&b);
    EXPECT_EQ(b.release, nullptr);
    if (::testing::Test::HasFatalFailure()) return;
  }
  int64_t want = 0;
  for (int64_t r : t.group_rows) want += r;
  EXPECT_EQ(total, want);
  EXPECT_EQ(reader.rows_read(), want);
  EXPECT_FALSE(reader.next(&b));  // stays at the end
}

// ------------------------------------------------------------------ random rows

template <typename T>
Rows<T> random_rows(size_t n, double null_rate, std::mt19937_64& rng,
                    const std::function<T(std::mt19937_64&)>& value) {
  Rows<T> rows(n);
  std::bernoulli_distribution is_null(null_rate);
  for (auto& r : rows)
    if (!is_null(rng)) r = value(rng);
  return rows;
}

// Values from a small pool, so dictionaries repeat them.
template <typename T>
std::function<T(std::mt19937_64&)> pooled(std::vector<T> pool) {
  return [pool = std::move(pool)](std::mt19937_64& rng) { return pool[rng() % pool.size()]; };
}

std::string random_string(std::mt19937_64& rng) {
  const size_t len = rng() % 8 == 0 ? 65 + rng() % 200 : rng() % 20;  // long ones use memcpy
  std::string s(len, ' ');
  for (auto& ch : s) ch = static_cast<char>(rng() % 256);
  return s;
}

int64_t random_i64(std::mt19937_64& rng) {
  return static_cast<int64_t>(rng());
}
int32_t random_i32(std::mt19937_64& rng) {
  return static_cast<int32_t>(rng());
}
double random_f64(std::mt19937_64& rng) {
  return std::uniform_real_distribution<double>(-1e12, 1e12)(rng);
}
float random_f32(std::mt19937_64& rng) {
  return std::uniform_real_distribution<float>(-1e6f, 1e6f)(rng);
}
bool random_bool(std::mt19937_64& rng) {
  return rng() % 3 == 0;
}

// Sets rows [from, to) to null.
template <typename T>
void null_out(Rows<T>& rows, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) rows[i].reset();
}

// A table of every supported type over two row groups (50 and 37 rows) with mixed page layouts:
// several pages per chunk, v1 and v2, PLAIN / dictionary / RLE, all-null pages and pages of zero
// values, required and optional columns, dictionary and plain output.
Table every_type_table(bool snappy, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Table t;
  const ChunkOptions req{.max_def = 0, .snappy = snappy, .statistics = true};
  const ChunkOptions opt{.max_def = 1, .snappy = snappy};
  const ChunkOptions opt_raw_v2{.max_def = 1, .snappy = snappy, .v2_uncompressed = true};
  const ChunkOptions opt_plain_dict{.max_def = 1, .snappy = snappy, .plain_dictionary = true};

  t.add<int64_t>("i64_req", PhysicalType::kInt64, field("", "l"), req,
                 {random_rows<int64_t>(50, 0, rng, random_i64),
                  random_rows<int64_t>(37, 0, rng, pooled<int64_t>({-1, 7, INT64_MIN, INT64_MAX}))},
                 {{{20, kV1, kPlain}, {0, kV1, kPlain}, {30, kV2, kPlain}}, {{37, kV1, kDict}}});
  {
    auto g0 = random_rows<int64_t>(50, 0.3, rng, pooled<int64_t>({1, 2, 3, 1LL << 40}));
    null_out(g0, 0, 10);  // an all-null first page
    auto g1 = random_rows<int64_t>(37, 0.5, rng, random_i64);
    t.add<int64_t>("i64_opt", PhysicalType::kInt64, field("", "l"), opt, {g0, g1},
                   {{{10, kV1, kPlain}, {25, kV2, kDict}, {15, kV1, kPlain}},
                    {{5, kV2, kPlain}, {0, kV2, kPlain}, {32, kV1, kDict}}});
  }
  t.add<int32_t>("i32", PhysicalType::kInt32, field("", "i"), opt_plain_dict,
                 {random_rows<int32_t>(50, 0.2, rng, pooled<int32_t>({5, -5, INT32_MAX})),
                  random_rows<int32_t>(37, 0.1, rng, random_i32)},
                 {{{50, kV1, kDict}}, {{17, kV2, kPlain}, {20, kV1, kPlain}}});
  t.add<int32_t>("date", PhysicalType::kInt32, field("", "tdD"), req,
                 {random_rows<int32_t>(50, 0, rng, random_i32),
                  random_rows<int32_t>(37, 0, rng, pooled<int32_t>({0, 19000, -1}))},
                 {{{7, kV1, kPlain}, {7, kV1, kPlain}, {36, kV2, kPlain}},
                  {{1, kV2, kDict}, {36, kV2, kDict}}});
  t.add<double>("f64", PhysicalType::kDouble, field("", "g"), opt,  // optional, no nulls
                {random_rows<double>(50, 0, rng, random_f64),
                 random_rows<double>(37, 0, rng, pooled<double>({0.5, -0.0, 1e300}))},
                {{{25, kV2, kPlain}, {25, kV1, kPlain}}, {{20, kV1, kDict}, {17, kV2, kPlain}}});
  t.add<float>(
      "f32", PhysicalType::kFloat, field("", "f"), req,
      {random_rows<float>(50, 0, rng, random_f32), random_rows<float>(37, 0, rng, random_f32)},
      {{{50, kV2, kPlain}}, {{3, kV1, kPlain}, {34, kV1, kPlain}}});
  {
    auto g0 = random_rows<bool>(50, 0.3, rng, random_bool);
    null_out(g0, 20, 29);  // an all-null page
    t.add<bool>("bool_opt", PhysicalType::kBoolean, field("", "b"), opt,
                {g0, random_rows<bool>(37, 0.4, rng, random_bool)},
                {{{20, kV1, kPlain}, {9, kV2, kRle}, {21, kV2, kRle}},
                 {{13, kV1, kRle}, {0, kV1, kPlain}, {24, kV1, kPlain}}});
  }
  t.add<bool>("bool_req", PhysicalType::kBoolean, field("", "b"), req,
              {random_rows<bool>(50, 0, rng, random_bool),
               random_rows<bool>(37, 0, rng, [](std::mt19937_64&) { return true; })},
              {{{11, kV2, kPlain}, {39, kV1, kRle}}, {{37, kV2, kRle}}});
  const auto words = pooled<std::string>({"", "a", "bb", std::string(70, 'x'), "ünï", "q"});
  t.add<std::string>("utf8", PhysicalType::kByteArray, field("", "u"), opt,
                     {random_rows<std::string>(50, 0.25, rng, words),
                      random_rows<std::string>(37, 0.25, rng, random_string)},
                     {{{30, kV1, kDict}, {20, kV2, kPlain}}, {{37, kV2, kPlain}}});
  t.add<std::string>(
      "large", PhysicalType::kByteArray, field("", "U"), req,
      {random_rows<std::string>(50, 0, rng, random_string),
       random_rows<std::string>(37, 0, rng, words)},
      {{{30, kV2, kPlain}, {20, kV1, kPlain}}, {{10, kV1, kDict}, {27, kV2, kDict}}});
  {
    auto g1 = random_rows<std::string>(37, 0.3, rng, words);
    null_out(g1, 0, 12);
    t.add<std::string>(
        "bin", PhysicalType::kByteArray, field("", "z"), opt_raw_v2,
        {random_rows<std::string>(50, 0.3, rng, words), g1},
        {{{22, kV2, kDict}, {28, kV1, kPlain}}, {{12, kV2, kPlain}, {25, kV2, kDict}}});
  }
  t.add<std::string>(
      "dict_u", PhysicalType::kByteArray, dict_field("", "i", field("", "u")), opt,
      {random_rows<std::string>(50, 0.2, rng, words),
       random_rows<std::string>(37, 0.2, rng, random_string)},
      {{{15, kV1, kDict}, {10, kV2, kPlain}, {25, kV2, kDict}}, {{37, kV1, kPlain}}});
  t.add<std::string>(
      "dict_U", PhysicalType::kByteArray, dict_field("", "i", field("", "U")), req,
      {random_rows<std::string>(50, 0, rng, words), random_rows<std::string>(37, 0, rng, words)},
      {{{50, kV2, kDict}}, {{20, kV1, kDict}, {17, kV1, kPlain}}});
  t.add<std::string>("dict_z", PhysicalType::kByteArray, dict_field("", "i", field("", "z")), opt,
                     {Rows<std::string>(50), random_rows<std::string>(37, 0.5, rng, words)},
                     {{{50, kV1, kPlain}}, {{37, kV2, kDict}}});  // all null, then dictionary
  return t;
}

// ------------------------------------------------------------------ values

TEST(ParquetReaderValues, RequiredInt64SinglePage) {
  Table t;
  std::mt19937_64 rng(1);
  t.add<int64_t>("x", PhysicalType::kInt64, field("", "l"), {.max_def = 0},
                 {random_rows<int64_t>(10, 0, rng, random_i64)}, {{{10, kV1, kPlain}}});
  read_and_check(t, 1000);
}

TEST(ParquetReaderValues, EveryTypeEveryLayoutAndBatchSize) {
  for (bool snappy : {false, true}) {
    for (uint64_t seed : {1, 2}) {
      SCOPED_TRACE(std::string(snappy ? "SNAPPY" : "UNCOMPRESSED") + " seed " +
                   std::to_string(seed));
      const Table t = every_type_table(snappy, seed);
      for (int64_t batch_rows : {1, 2, 3, 7, 25, 50, 1000}) {
        read_and_check(t, batch_rows);
        if (HasFatalFailure()) return;
      }
    }
  }
}

// Rows [first, first + count) of each row group: pages before `first` are skipped by their
// headers, the page where `first` falls is decoded from its start.
TEST(ParquetReaderValues, RowRangesOfEveryTypeAndLayout) {
  for (bool snappy : {false, true}) {
    const Table t = every_type_table(snappy, 3);
    for (int64_t first = 0; first <= 50; ++first) {
      for (int64_t count : {int64_t{0}, int64_t{1}, int64_t{4}, int64_t{1000}}) {
        std::vector<std::pair<int64_t, int64_t>> ranges;
        for (int64_t rows : t.group_rows) {
          const int64_t f = std::min(first, rows);
          ranges.emplace_back(f, std::min(count, rows - f));
        }
        SCOPED_TRACE(std::string(snappy ? "SNAPPY" : "UNCOMPRESSED") + " first " +
                     std::to_string(first) + " count " + std::to_string(count));
        TempFile file;
        Bytes bytes;
        ReadPlan plan = t.layout(file.path(), bytes, 3);
        plan.row_ranges = ranges;
        file.write(bytes);
        ScopedSchema schema(t.schema());
        BatchReader reader(std::move(plan), *schema);
        size_t g = 0;
        int64_t pos = 0;  // rows of the current range read so far
        ArrowArray b;
        while (reader.next(&b)) {
          while (g < ranges.size() && pos == ranges[g].second) {
            ++g;
            pos = 0;
          }
          ASSERT_LT(g, ranges.size());
          ASSERT_LE(pos + b.length, ranges[g].second);
          for (size_t i = 0; i < t.columns.size(); ++i) {
            ASSERT_EQ(t.columns[i].check(*b.children[i], g, ranges[g].first + pos, b.length), "")
                << "column " << t.columns[i].name << ", row group " << g;
          }
          pos += b.length;
          b.release(&b);
        }
        int64_t want = 0;
        for (const auto& r : ranges) want += r.second;
        EXPECT_EQ(reader.rows_read(), want);
      }
    }
  }
}

TEST(ParquetReaderErrors, RowRangesOutsideTheRowGroup) {
  Table t;
  std::mt19937_64 rng(5);
  t.add<int64_t>("x", PhysicalType::kInt64, field("", "l"), {.max_def = 0},
                 {random_rows<int64_t>(10, 0, rng, random_i64)}, {{{10, kV1, kPlain}}});
  TempFile file;
  Bytes bytes;
  for (const std::vector<std::pair<int64_t, int64_t>>& ranges :
       {std::vector<std::pair<int64_t, int64_t>>{{5, 6}},
        std::vector<std::pair<int64_t, int64_t>>{{-1, 2}},
        std::vector<std::pair<int64_t, int64_t>>{{0, -1}},
        std::vector<std::pair<int64_t, int64_t>>{{0, 1}, {0, 1}}}) {
    ReadPlan plan = t.layout(file.path(), bytes, 3);
    plan.row_ranges = ranges;
    file.write(bytes);
    ScopedSchema schema(t.schema());
    expect_throws<InvalidArgumentError>([&] { BatchReader reader(std::move(plan), *schema); },
                                        {"row range"});
  }
}

// Snappy pages are decompressed two at a time, (1, 2) then (3, 4), but never the page after the
// one that ends a row range: a range that ends in page 3 reads though page 4 is corrupt.
TEST(ParquetReaderValues, RowRangeStopsBeforeThePageAfterIt) {
  Table t;
  std::mt19937_64 rng(8);
  t.add<int64_t>("x", PhysicalType::kInt64, field("", "l"), {.max_def = 1, .snappy = true},
                 {random_rows<int64_t>(40, 0.1, rng, random_i64)},
                 {{{10, kV1, kPlain}, {10, kV1, kPlain}, {10, kV1, kPlain}, {10, kV1, kPlain}}});
  Bytes bytes;
  const ReadPlan good = t.layout("", bytes, 7);
  // the fourth page's body: past the first three pages' headers and bodies
  size_t at = static_cast<size_t>(good.columns[0].chunks[0].offset);
  for (int page = 0; page < 3; ++page) {
    const PageHeader h = read_page_header(std::span<const uint8_t>(bytes).subspan(at));
    at += h.header_size + static_cast<size_t>(h.compressed_size);
  }
  const PageHeader fourth = read_page_header(std::span<const uint8_t>(bytes).subspan(at));
  const size_t body = at + fourth.header_size;
  for (size_t i = 1; i < static_cast<size_t>(fourth.compressed_size); ++i) bytes[body + i] = 0xff;
  auto read = [&](std::vector<std::pair<int64_t, int64_t>> ranges) {
    TempFile file;
    Bytes unused;
    ReadPlan plan = t.layout(file.path(), unused, 7);
    plan.row_ranges = std::move(ranges);
    file.write(bytes);
    ScopedSchema schema(t.schema());
    BatchReader reader(std::move(plan), *schema);
    ArrowArray b;
    int64_t pos = 0;
    while (reader.next(&b)) {
      EXPECT_EQ(t.columns[0].check(*b.children[0], 0, pos, b.length), "");
      pos += b.length;
      b.release(&b);
    }
    return pos;
  };
  EXPECT_EQ(read({{0, 25}}), 25);
  EXPECT_EQ(read({{0, 30}}), 30);
  expect_throws<SourceReadError>([&] { read({{0, 31}}); }, {"snappy"});
  expect_throws<SourceReadError>([&] { read({{0, 40}}); }, {"snappy"});
}

TEST(ParquetReaderValues, BatchesNeverSpanRowGroups) {
  Table t;
  std::mt19937_64 rng(3);
  t.add<int32_t>("x", PhysicalType::kInt32, field("", "i"), {.max_def = 1},
                 {random_rows<int32_t>(5, 0.5, rng, random_i32),
                  random_rows<int32_t>(4, 0.5, rng, random_i32)},
                 {{{2, kV1, kPlain}, {3, kV1, kPlain}}, {{4, kV2, kPlain}}});
  TempFile file;
  Bytes bytes;
  ReadPlan plan = t.layout(file.path(), bytes, 3);
  file.write(bytes);
  ScopedSchema schema(t.schema());
  BatchReader reader(std::move(plan), *schema);
  std::vector<int64_t> lengths;
  ArrowArray b;
  while (reader.next(&b)) {
    lengths.push_back(b.length);
    b.release(&b);
  }
  EXPECT_EQ(lengths, (std::vector<int64_t>{3, 2, 3, 1}));
}

TEST(ParquetReaderValues, OptionalColumnWithoutNullsHasNoValidityBuffer) {
  Table t;
  std::mt19937_64 rng(4);
  t.add<int64_t>("x", PhysicalType::kInt64, field("", "l"), {.max_def = 1},
                 {random_rows<int64_t>(20, 0, rng, random_i64)},
                 {{{8, kV1, kPlain}, {12, kV2, kDict}}});
  t.add<std::string>("s", PhysicalType::kByteArray, field("", "u"), {.max_def = 1},
                     {random_rows<std::string>(20, 0, rng, random_string)}, {{{20, kV1, kPlain}}});
  read_and_check(t, 6);  // check_validity requires buffers[0] == nullptr when null_count is 0
}

TEST(ParquetReaderValues, AllNullChunksAndEmptyPages) {
  Table t;
  for (bool snappy : {false, true}) {
    const ChunkOptions o{.max_def = 1, .snappy = snappy};
    const std::string sfx = snappy ? "_snappy" : "";
    t.add<int64_t>("i" + sfx, PhysicalType::kInt64, field("", "l"), o, {Rows<int64_t>(9)},
                   {{{0, kV1, kPlain}, {4, kV1, kPlain}, {0, kV2, kPlain}, {5, kV2, kPlain}}});
    t.add<std::string>("s" + sfx, PhysicalType::kByteArray, field("", "u"), o,
                       {Rows<std::string>(9)}, {{{9, kV2, kDict}}});  // empty dictionary
    t.add<std::string>("d" + sfx, PhysicalType::kByteArray, dict_field("", "i", field("", "u")), o,
                       {Rows<std::string>(9)},
                       {{{3, kV1, kPlain}, {0, kV1, kDict}, {6, kV2, kDict}}});
    t.add<bool>("b" + sfx, PhysicalType::kBoolean, field("", "b"), o, {Rows<bool>(9)},
                {{{9, kV2, kRle}}});
  }
  for (int64_t batch_rows : {1, 4, 1000}) read_and_check(t, batch_rows);
}

// A page of zero values after the last row's page. The chunk holds exactly the rows, but the
// reader reports "more values than the row group's rows" (chunk_done() only accepts a chunk with
// no bytes left): disabled until reader.cpp skips empty trailing pages.
TEST(ParquetReaderValues, TrailingPageOfZeroValues) {
  Table t;
  std::mt19937_64 rng(5);
  t.add<int64_t>("x", PhysicalType::kInt64, field("", "l"), {.max_def = 1},
                 {random_rows<int64_t>(6, 0.3, rng, random_i64)},
                 {{{6, kV1, kPlain}, {0, kV1, kPlain}}});
  read_and_check(t, 1000);
}

TEST(ParquetReaderValues, RowGroupOfZeroRowsIsSkipped) {
  Table t;
  std::mt19937_64 rng(6);
  t.add<int64_t>("x", PhysicalType::kInt64, field("", "l"), {.max_def = 0},
                 {random_rows<int64_t>(4, 0, rng, random_i64), Rows<int64_t>{},
                  random_rows<int64_t>(3, 0, rng, random_i64)},
                 {{{4, kV1, kPlain}}, {}, {{3, kV1, kPlain}}});
  read_and_check(t, 2);
}

// Chunks of several MiB: pages cross the reader's read-ahead window, one page is larger than it.
TEST(ParquetReaderValues, ChunksLargerThanTheReadWindow) {
  Table t;
  std::mt19937_64 rng(7);
  t.add<int64_t>("x", PhysicalType::kInt64, field("", "l"), {.max_def = 1},
                 {random_rows<int64_t>(300000, 0.1, rng, random_i64)},
                 {{{70000, kV1, kPlain}, {200000, kV2, kPlain}, {30000, kV1, kPlain}}});
  t.add<std::string>("s", PhysicalType::kByteArray, field("", "U"), {.max_def = 0, .snappy = true},
                     {random_rows<std::string>(300000, 0, rng, random_string)},
                     {{{100000, kV1, kPlain}, {150001, kV2, kPlain}, {49999, kV1, kPlain}}});
  read_and_check(t, 65536);
}

// A page header bigger than the 64 KiB first parsed: an unknown field of 100 KB.
TEST(ParquetReaderValues, PageHeaderLargerThanTheHeaderWindow) {
  Bytes body;
  for (int64_t v : {11, 22, 33}) builders::plain_value(body, v);
  builders::Compact c;
  c.i32(1, static_cast<int32_t>(PageType::kDataPage));
  c.i32(2, static_cast<int32_t>(body.size()));
  c.i32(3, static_cast<int32_t>(body.size()));
  c.binary(100, std::string(100000, 'c'));  // an unknown field, skipped
  c.begin_struct(5);
  c.i32(1, 3);
  c.i32(2, 0);
  c.i32(3, 3);
  c.i32(4, 3);
  c.end_struct();
  c.stop();
  Bytes chunk = c.out;
  chunk.insert(chunk.end(), body.begin(), body.end());
  TempFile file;
  file.write(chunk);
  ReadPlan plan{file.path(),
                {{"x",
                  PhysicalType::kInt64,
                  0,
                  {{0, static_cast<int64_t>(chunk.size()), 3, Codec::kUncompressed}}}},
                {3},
                10,
                {}};
  ScopedSchema schema(struct_schema({field("x", "l")}));
  BatchReader reader(plan, *schema);
  ArrowArray b;
  ASSERT_TRUE(reader.next(&b));
  ASSERT_EQ(b.length, 3);
  const auto* v = static_cast<const int64_t*>(b.children[0]->buffers[1]);
  EXPECT_EQ(v[0], 11);
  EXPECT_EQ(v[1], 22);
  EXPECT_EQ(v[2], 33);
  b.release(&b);
  EXPECT_FALSE(reader.next(&b));
}

// ------------------------------------------------------------------ dictionaries

TEST(ParquetReaderDictionary, GatheredIntoPlainOutput) {
  for (bool snappy : {false, true}) {
    Table t;
    std::mt19937_64 rng(8);
    const ChunkOptions o{.max_def = 1, .snappy = snappy};
    t.add<int64_t>("l", PhysicalType::kInt64, field("", "l"), o,
                   {random_rows<int64_t>(40, 0.2, rng, pooled<int64_t>({4, 5, 6}))},
                   {{{13, kV1, kDict}, {27, kV2, kDict}}});
    t.add<double>("g", PhysicalType::kDouble, field("", "g"), o,
                  {random_rows<double>(40, 0.2, rng, pooled<double>({1.5}))},  // bit width 0
                  {{{40, kV2, kDict}}});
    t.add<float>("f", PhysicalType::kFloat, field("", "f"), o,
                 {random_rows<float>(40, 0.2, rng, random_f32)}, {{{40, kV1, kDict}}});
    t.add<std::string>("u", PhysicalType::kByteArray, field("", "u"), o,
                       {random_rows<std::string>(40, 0.2, rng, random_string)},
                       {{{20, kV1, kDict}, {20, kV2, kDict}}});
    t.add<std::string>("Z", PhysicalType::kByteArray, field("", "Z"), o,
                       {random_rows<std::string>(40, 0.2, rng, pooled<std::string>({"x", "yy"}))},
                       {{{40, kV1, kDict}}});
    for (int64_t batch_rows : {1, 3, 1000}) read_and_check(t, batch_rows);
  }
}

TEST(ParquetReaderDictionary, DictionaryOutputIndicesAndDictionary) {
  Table t;
  std::mt19937_64 rng(9);
  const auto words = pooled<std::string>({"red", "green", "", "blue", std::string(100, 'b')});
  for (const char* fmt : {"u", "U", "z", "Z"}) {
    t.add<std::string>(std::string("d_") + fmt, PhysicalType::kByteArray,
                       dict_field("", "i", field("", fmt)), {.max_def = 1},
                       {random_rows<std::string>(30, 0.2, rng, words),
                        random_rows<std::string>(20, 0.2, rng, words)},
                       {{{10, kV1, kDict}, {20, kV2, kDict}}, {{20, kV1, kDict}}});
  }
  for (int64_t batch_rows : {1, 3, 7, 1000}) read_and_check(t, batch_rows);
}

// Plain pages in a dictionary-output column: their values are appended to the batch's copy of
// the dictionary (check_child compares the whole dictionary and every index).
TEST(ParquetReaderDictionary, PlainPagesAppendToTheBatchDictionary) {
  for (bool snappy : {false, true}) {
    Table t;
    std::mt19937_64 rng(10);
    const ChunkOptions o{.max_def = 1, .snappy = snappy};
    const auto words = pooled<std::string>({"a", "b", "c", "", std::string(90, 'z')});
    t.add<std::string>("u", PhysicalType::kByteArray, dict_field("", "i", field("", "u")), o,
                       {random_rows<std::string>(45, 0.2, rng, words),
                        random_rows<std::string>(25, 0.2, rng, random_string)},
                       {{{10, kV1, kDict}, {10, kV1, kPlain}, {10, kV2, kDict}, {15, kV2, kPlain}},
                        {{25, kV2, kPlain}}});  // no dictionary page: all appended
    t.add<std::string>(
        "U", PhysicalType::kByteArray, dict_field("", "i", field("", "U")),
        {.max_def = 0, .snappy = snappy},
        {random_rows<std::string>(45, 0, rng, words), random_rows<std::string>(25, 0, rng, words)},
        {{{5, kV2, kPlain}, {40, kV1, kDict}}, {{12, kV1, kDict}, {13, kV1, kPlain}}});
    for (int64_t batch_rows : {1, 3, 8, 1000}) read_and_check(t, batch_rows);
  }
}

TEST(ParquetReaderDictionary, EachRowGroupHasItsOwnDictionary) {
  Table t;
  std::mt19937_64 rng(11);
  t.add<std::string>("d", PhysicalType::kByteArray, dict_field("", "i", field("", "u")),
                     {.max_def = 1},
                     {random_rows<std::string>(10, 0.1, rng, pooled<std::string>({"a", "b"})),
                      random_rows<std::string>(10, 0.1, rng, pooled<std::string>({"x", "y", "z"}))},
                     {{{10, kV1, kDict}}, {{10, kV1, kDict}}});
  t.add<int32_t>("i", PhysicalType::kInt32, field("", "i"), {.max_def = 0},
                 {random_rows<int32_t>(10, 0, rng, pooled<int32_t>({1, 2})),
                  random_rows<int32_t>(10, 0, rng, pooled<int32_t>({7, 8, 9}))},
                 {{{10, kV1, kDict}}, {{10, kV2, kDict}}});
  for (int64_t batch_rows : {4, 1000}) read_and_check(t, batch_rows);
}

// ------------------------------------------------------------------ buffers

Table buffer_table() {
  Table t;
  std::mt19937_64 rng(12);
  const auto words = pooled<std::string>({"a", "bc", "", std::string(80, 'q')});
  t.add<int64_t>("l", PhysicalType::kInt64, field("", "l"), {.max_def = 1},
                 {random_rows<int64_t>(40, 0.3, rng, random_i64)},
                 {{{17, kV1, kPlain}, {23, kV2, kDict}}});
  t.add<std::string>("s", PhysicalType::kByteArray, field("", "u"), {.max_def = 1},
                     {random_rows<std::string>(40, 0.3, rng, random_string)},
                     {{{40, kV1, kPlain}}});
  t.add<std::string>("d", PhysicalType::kByteArray, dict_field("", "i", field("", "u")),
                     {.max_def = 1}, {random_rows<std::string>(40, 0.3, rng, words)},
                     {{{12, kV1, kDict}, {8, kV1, kPlain}, {20, kV2, kDict}}});
  t.add<bool>("b", PhysicalType::kBoolean, field("", "b"), {.max_def = 1},
              {random_rows<bool>(40, 0.3, rng, random_bool)}, {{{40, kV2, kRle}}});
  return t;
}

TEST(ParquetReaderBuffers, HeldBatchesStayIntactAndReleasedOnesAreReused) {
  const Table t = buffer_table();
  constexpr int64_t kBatch = 5;
  TempFile file;
  Bytes bytes;
  ReadPlan plan = t.layout(file.path(), bytes, kBatch);
  file.write(bytes);
  ScopedSchema schema(t.schema());
  BatchReader reader(std::move(plan), *schema);
  auto check = [&](const ArrowArray& b, int64_t start) {
    for (size_t i = 0; i < t.columns.size(); ++i)
      EXPECT_EQ(t.columns[i].check(*b.children[i], 0, start, kBatch), "")
          << t.columns[i].name << " rows " << start;
  };
  ArrowArray b1, b2, b3, b4;
  ASSERT_TRUE(reader.next(&b1));
  ASSERT_TRUE(reader.next(&b2));
  ASSERT_TRUE(reader.next(&b3));
  check(b1, 0);
  check(b2, 5);
  check(b3, 10);
  const void* b1_values = b1.children[0]->buffers[1];
  b1.release(&b1);
  ASSERT_TRUE(reader.next(&b4));  // reuses b1's buffers
  EXPECT_EQ(b4.children[0]->buffers[1], b1_values);
  check(b2, 5);
  check(b3, 10);
  check(b4, 15);
  b3.release(&b3);
  b2.release(&b2);
  int64_t start = 20;
  ArrowArray b;
  while (reader.next(&b)) {
    check(b, start);
    check(b4, 15);
    start += kBatch;
    b.release(&b);
  }
  EXPECT_EQ(start, 40);
  b4.release(&b4);
}

TEST(ParquetReaderBuffers, BatchesOutliveTheReader) {
  const Table t = buffer_table();
  TempFile file;
  Bytes bytes;
  ReadPlan plan = t.layout(file.path(), bytes, 15);
  file.write(bytes);
  ScopedSchema schema(t.schema());
  ArrowArray b1, b2;
  {
    BatchReader reader(std::move(plan), *schema);
    ASSERT_TRUE(reader.next(&b1));
    ASSERT_TRUE(reader.next(&b2));
  }
  for (size_t i = 0; i < t.columns.size(); ++i) {
    EXPECT_EQ(t.columns[i].check(*b1.children[i], 0, 0, 15), "");
    EXPECT_EQ(t.columns[i].check(*b2.children[i], 0, 15, 15), "");
  }
  b2.release(&b2);
  b1.release(&b1);
}

// ------------------------------------------------------------------ errors

// A one-column plan over `chunk` (written to `file`) of `rows` rows.
ReadPlan one_column(const TempFile& file, const Bytes& chunk, PhysicalType physical, int max_def,
                    int64_t rows, Codec codec = Codec::kUncompressed, int64_t batch_rows = 1000) {
  file.write(chunk);
  return ReadPlan{
      file.path(),
      {{"col_x", physical, max_def, {{0, static_cast<int64_t>(chunk.size()), rows, codec}}}},
      {rows},
      batch_rows,
      {}};
}

void read_all(BatchReader& reader) {
  ArrowArray b;
  while (reader.next(&b)) b.release(&b);
}

template <typename T>
Bytes chunk_of(const Rows<T>& rows, const std::vector<PageSpec>& pages, const ChunkOptions& o) {
  return build_chunk(rows, pages, o).bytes;
}

TEST(ParquetReaderErrors, MissingFile) {
  ScopedSchema schema(struct_schema({field("x", "l")}));
  const std::string path =
      (std::filesystem::temp_directory_path() / "truthound_parquet_reader_no_such_file.parquet")
          .string();
  ReadPlan plan{
      path, {{"x", PhysicalType::kInt64, 0, {{0, 8, 1, Codec::kUncompressed}}}}, {1}, 10, {}};
  expect_throws<SourceReadError>([&] { BatchReader r(plan, *schema); }, {path});
}

TEST(ParquetReaderErrors, SchemaOrPlanMismatch) {
  TempFile file;
  const Bytes chunk = chunk_of<int64_t>({1, 2}, {{2, kV1, kPlain}}, {.max_def = 0});
  const ReadPlan good = one_column(file, chunk, PhysicalType::kInt64, 0, 2);
  auto with = [&](const std::function<void(ReadPlan&)>& edit) {
    ReadPlan p = good;
    edit(p);
    return p;
  };
  auto throws = [](const ReadPlan& p, const SchemaSpec& s,
                   std::initializer_list<std::string_view> needles) {
    ScopedSchema schema(s);
    expect_throws<InvalidArgumentError>([&] { BatchReader r(p, *schema); }, needles);
  };
  throws(good, struct_schema({field("col_x", "l"), field("y", "l")}), {"2 columns"});
  throws(good, struct_schema({}), {"0 columns"});
  throws(with([](ReadPlan& p) { p.columns[0].physical = PhysicalType::kByteArray; }),
         struct_schema({field("col_x", "l")}), {"col_x", "physical type"});
  throws(good, struct_schema({field("col_x", "u")}), {"col_x", "physical type"});
  throws(good, struct_schema({field("col_x", "g")}), {"col_x"});
  throws(good, struct_schema({field("col_x", "+l", {field("i", "l")})}), {"col_x"});
  throws(good, struct_schema({dict_field("col_x", "i", field("", "l"))}), {"col_x"});
  throws(with([](ReadPlan& p) { p.columns[0].physical = PhysicalType::kByteArray; }),
         struct_schema({dict_field("col_x", "l", field("", "u"))}), {"int32"});
  throws(with([](ReadPlan& p) { p.row_group_rows.push_back(2); }),
         struct_schema({field("col_x", "l")}), {"col_x", "1 chunks for 2 row groups"});
  throws(with([](ReadPlan& p) { p.columns[0].chunks.push_back(p.columns[0].chunks[0]); }),
         struct_schema({field("col_x", "l")}), {"col_x", "2 chunks for 1 row groups"});
  throws(with([](ReadPlan& p) { p.columns[0].max_definition_level = 2; }),
         struct_schema({field("col_x", "l")}), {"col_x", "nested"});
  throws(with([](ReadPlan& p) { p.batch_rows = 0; }), struct_schema({field("col_x", "l")}),
         {"batch_rows"});
  // counts that come from the file's footer are the file's fault
  for (int64_t values : {3, -1}) {
    ScopedSchema s(struct_schema({field("col_x", "l")}));
    ReadPlan p = with([&](ReadPlan& q) { q.columns[0].chunks[0].num_values = values; });
    expect_throws<SourceReadError>([&] { BatchReader r(p, *s); },
                                   {file.path(), "col_x", "values for 2 rows"});
  }
  {
    ScopedSchema s(struct_schema({field("col_x", "l")}));
    ReadPlan p = with([](ReadPlan& q) {
      q.row_group_rows[0] = -1;
      q.columns[0].chunks[0].num_values = -1;
    });
    expect_throws<SourceReadError>([&] { BatchReader r(p, *s); }, {"negative row count"});
  }
  // and the good plan reads
  ScopedSchema schema(struct_schema({field("col_x", "l")}));
  BatchReader r(good, *schema);
  read_all(r);
  EXPECT_EQ(r.rows_read(), 2);
}

TEST(ParquetReaderErrors, FewerOrMoreValuesThanRows) {
  TempFile file;
  ScopedSchema schema(struct_schema({field("col_x", "l")}));
  Rows<int64_t> rows(10, 5);
  rows[3].reset();
  for (int64_t batch_rows : {1, 4, 1000}) {
    for (PageForm form : {kV1, kV2}) {
      const Bytes chunk = chunk_of<int64_t>(rows, {{4, form, kPlain}, {6, form, kDict}}, {});
      for (int64_t plan_rows : {11, 12, 100}) {
        BatchReader r(one_column(file, chunk, PhysicalType::kInt64, 1, plan_rows,
                                 Codec::kUncompressed, batch_rows),
                      *schema);
        expect_throws<SourceReadError>([&] { read_all(r); },
                                       {file.path(), "col_x", "fewer values than"});
      }
      for (int64_t plan_rows : {1, 4, 5, 9}) {
        BatchReader r(one_column(file, chunk, PhysicalType::kInt64, 1, plan_rows,
                                 Codec::kUncompressed, batch_rows),
                      *schema);
        expect_throws<SourceReadError>([&] { read_all(r); },
                                       {file.path(), "col_x", "more values than"});
      }
    }
  }
}

// A 31-byte chunk whose page claims 2^31-1 values (one RLE run of null levels) must fail before
// anything is sized by that count. Disabled: reader.cpp allocates and fills 2 GiB of levels
// (~2 s, 2 GB RSS in Release) before reporting "more values"; enable once pages are counted
// against the chunk's num_values.
TEST(ParquetReaderErrors, PageClaimingMoreValuesThanTheChunkFailsFast) {
  builders::RleEncoder enc(1);
  enc.rle(0, static_cast<uint32_t>(INT32_MAX));
  Bytes body;
  builders::put_u32(body, static_cast<uint32_t>(enc.out.size()));
  body.insert(body.end(), enc.out.begin(), enc.out.end());
  for (PageType type : {PageType::kDataPage, PageType::kDataPageV2}) {
    PageHeader h;
    h.type = type;
    h.num_values = INT32_MAX;
    Bytes page_body = body;
    if (type == PageType::kDataPageV2) {
      page_body.erase(page_body.begin(), page_body.begin() + 4);  // v2: no length prefix
      h.definition_levels_byte_length = static_cast<int32_t>(page_body.size());
    }
    h.uncompressed_size = h.compressed_size = static_cast<int32_t>(page_body.size());
    TempFile file;
    ScopedSchema schema(struct_schema({field("col_x", "l")}));
    BatchReader r(one_column(file, builders::page(h, page_body), PhysicalType::kInt64, 1, 10),
                  *schema);
    const auto t0 = std::chrono::steady_clock::now();
    expect_throws<SourceReadError>([&] { read_all(r); }, {"col_x", "more values than"});
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
  }
}

TEST(ParquetReaderErrors, DictionaryIndexOutOfRange) {
  // A dictionary page of 3 values, then a page whose index 5 (bit width 3) is past it.
  auto chunk = [](PhysicalType physical, int width) {
    Bytes dict;
    for (int i = 0; i < 3; ++i) {
      if (physical == PhysicalType::kByteArray) {
        builders::plain_value(dict, std::string(1, static_cast<char>('a' + i)));
      } else {
        builders::plain_value(dict, int64_t{i});
      }
    }
    PageHeader dh;
    dh.type = PageType::kDictionaryPage;
    dh.num_values = 3;
    dh.uncompressed_size = dh.compressed_size = static_cast<int32_t>(dict.size());
    Bytes out = builders::page(dh, dict);
    Bytes values = {static_cast<uint8_t>(width)};
    const Bytes runs = builders::rle_hybrid({0, 1, 2, 5, 1, 0, 0, 0}, width);
    values.insert(values.end(), runs.begin(), runs.end());
    PageHeader h;
    h.type = PageType::kDataPage;
    h.num_values = 8;
    h.encoding = Encoding::kRleDictionary;
    h.uncompressed_size = h.compressed_size = static_cast<int32_t>(values.size());
    const Bytes p = builders::page(h, values);
    out.insert(out.end(), p.begin(), p.end());
    return out;
  };
  TempFile file;
  struct Case {
    PhysicalType physical;
    SchemaSpec fld;
  };
  for (const Case& c : {Case{PhysicalType::kInt64, field("col_x", "l")},
                        Case{PhysicalType::kByteArray, field("col_x", "u")},
                        Case{PhysicalType::kByteArray, dict_field("col_x", "i", field("", "U"))}}) {
    for (int width : {3, 8, 32}) {
      ScopedSchema schema(struct_schema({c.fld}));
      BatchReader r(one_column(file, chunk(c.physical, width), c.physical, 0, 8), *schema);
      expect_throws<SourceReadError>([&] { read_all(r); }, {"col_x", "out of range"});
    }
    // Without the dictionary page.
    Bytes values = {2, 0x02, 0x01};  // width 2, RLE run of one 1
    PageHeader h;
    h.type = PageType::kDataPage;
    h.num_values = 1;
    h.encoding = Encoding::kRleDictionary;
    h.uncompressed_size = h.compressed_size = static_cast<int32_t>(values.size());
    ScopedSchema schema(struct_schema({c.fld}));
    BatchReader r(one_column(file, builders::page(h, values), c.physical, 0, 1), *schema);
    expect_throws<SourceReadError>([&] { read_all(r); }, {"col_x", "dictionary"});
  }
}

TEST(ParquetReaderErrors, TruncatedPage) {
  TempFile file;
  ScopedSchema schema(struct_schema({field("col_x", "u")}));
  Rows<std::string> rows(20, std::string("hello"));
  const Bytes chunk = chunk_of<std::string>(rows, {{10, kV1, kPlain}, {10, kV1, kPlain}}, {});
  // The plan's chunk ends 3 bytes early: the last page runs past it.
  {
    Bytes cut(chunk.begin(), chunk.end() - 3);
    BatchReader r(one_column(file, cut, PhysicalType::kByteArray, 1, 20), *schema);
    expect_throws<SourceReadError>([&] { read_all(r); }, {"col_x", "past the end"});
  }
  // The plan's chunk is whole but the file ends early.
  {
    ReadPlan plan = one_column(file, chunk, PhysicalType::kByteArray, 1, 20);
    file.write(Bytes(chunk.begin(), chunk.end() - 3));
    EXPECT_THROW(
        {
          BatchReader r(plan, *schema);
          read_all(r);
        },
        SourceReadError);
  }
  // Plan ranges outside the file.
  for (const auto& [offset, length] : std::vector<std::pair<int64_t, int64_t>>{
           {1 << 20, 50}, {-5, 50}, {0, -1}, {static_cast<int64_t>(chunk.size()) - 1, 1}}) {
    ReadPlan plan = one_column(file, chunk, PhysicalType::kByteArray, 1, 20);
    plan.columns[0].chunks[0].offset = offset;
    plan.columns[0].chunks[0].length = length;
    EXPECT_ANY_THROW({
      try {
        BatchReader r(plan, *schema);
        read_all(r);
      } catch (const SourceReadError&) {
        throw;
      } catch (const InvalidArgumentError&) {
        throw;
      } catch (...) {
        ADD_FAILURE() << "another exception for offset " << offset << " length " << length;
        throw;
      }
    });
  }
  // A page header saying the body is shorter than its values.
  {
    Bytes values;
    builders::plain_value(values, std::string("abcdef"));
    values.resize(values.size() - 2);
    PageHeader h;
    h.type = PageType::kDataPage;
    h.num_values = 1;
    h.uncompressed_size = h.compressed_size = static_cast<int32_t>(values.size());
    ScopedSchema req(struct_schema({field("col_x", "u")}));
    BatchReader r(one_column(file, builders::page(h, values), PhysicalType::kByteArray, 0, 1),
                  *req);
    expect_throws<SourceReadError>([&] { read_all(r); }, {"col_x", "shorter"});
  }
}

TEST(ParquetReaderErrors, UnsupportedEncodingsAndCodecs) {
  TempFile file;
  ScopedSchema schema(struct_schema({field("col_x", "l")}));
  const Rows<int64_t> rows = {1, 2, 3, 4};
  Bytes body;
  for (int i = 0; i < 4; ++i) builders::plain_value(body, int64_t{i});
  auto data_page = [&](Encoding values, Encoding levels) {
    PageHeader h;
    h.type = PageType::kDataPage;
    h.num_values = 4;
    h.encoding = values;
    h.definition_level_encoding = levels;
    h.uncompressed_size = h.compressed_size = static_cast<int32_t>(body.size());
    return builders::page(h, body);
  };
  for (Encoding e : {Encoding::kDeltaBinaryPacked, Encoding::kByteStreamSplit,
                     Encoding::kDeltaByteArray, Encoding::kBitPacked, Encoding::kRle}) {
    BatchReader r(one_column(file, data_page(e, Encoding::kRle), PhysicalType::kInt64, 0, 4),
                  *schema);
    expect_throws<SourceReadError>([&] { read_all(r); }, {file.path(), "col_x"});
  }
  {
    BatchReader r(one_column(file, data_page(Encoding::kDeltaBinaryPacked, Encoding::kRle),
                             PhysicalType::kInt64, 0, 4),
                  *schema);
    expect_throws<SourceReadError>([&] { read_all(r); }, {"col_x", "encoding 5"});
  }
  {
    BatchReader r(one_column(file, data_page(Encoding::kPlain, Encoding::kBitPacked),
                             PhysicalType::kInt64, 1, 4),
                  *schema);
    expect_throws<SourceReadError>([&] { read_all(r); }, {"col_x", "definition level encoding"});
  }
  {
    const Bytes chunk = chunk_of<int64_t>(rows, {{4, kV1, kPlain}}, {.max_def = 0});
    BatchReader r(one_column(file, chunk, PhysicalType::kInt64, 0, 4, static_cast<Codec>(2)),
                  *schema);
    expect_throws<SourceReadError>([&] { read_all(r); }, {"col_x", "codec 2"});
  }
  {  // a SNAPPY chunk whose page is not snappy
    const Bytes chunk = chunk_of<int64_t>(rows, {{4, kV1, kPlain}}, {.max_def = 0});
    BatchReader r(one_column(file, chunk, PhysicalType::kInt64, 0, 4, Codec::kSnappy), *schema);
    expect_throws<SourceReadError>([&] { read_all(r); }, {"col_x"});
  }
}

// ------------------------------------------------------------------ fuzz

std::atomic<uint64_t> g_sink{0};  // keeps the reads of fuzzed batches from being optimized out

// Reads every batch; the outcome must be an error of the reader's kinds, or batches adding up to
// the rows whose buffers are consistent (every byte they claim is read, so ASan sees overruns).
void read_survives(const ReadPlan& plan, const SchemaSpec& spec, const std::string& what) {
  ScopedSchema schema(spec);
  int64_t total = 0;
  try {
    BatchReader reader(plan, *schema);
    ArrowArray b;
    while (reader.next(&b)) {
      total += b.length;
      for (int64_t c = 0; c < b.n_children; ++c) {
        const ArrowArray& a = *b.children[c];
        const SchemaSpec& f = spec.children[static_cast<size_t>(c)];
        ASSERT_EQ(a.length, b.length) << what;
        uint64_t sum = 0;
        int64_t zeros = 0;
        if (a.buffers[0] != nullptr) {
          for (int64_t i = 0; i < a.length; ++i)
            zeros += ((static_cast<const uint8_t*>(a.buffers[0])[i >> 3] >> (i & 7)) & 1) == 0;
          ASSERT_EQ(zeros, a.null_count) << what;
        } else {
          ASSERT_EQ(a.null_count, 0) << what;
        }
        auto touch_strings = [&](const ArrowArray& s, bool large, int64_t n) {
          for (int64_t i = 0; i < n; ++i) {
            const int64_t lo = large ? static_cast<const int64_t*>(s.buffers[1])[i]
                                     : static_cast<const int32_t*>(s.buffers[1])[i];
            const int64_t hi = large ? static_cast<const int64_t*>(s.buffers[1])[i + 1]
                                     : static_cast<const int32_t*>(s.buffers[1])[i + 1];
            ASSERT_LE(lo, hi) << what;
            if (i == 0) {
              ASSERT_EQ(lo, 0) << what;
            }
            for (int64_t k = lo; k < hi; ++k) sum += static_cast<const uint8_t*>(s.buffers[2])[k];
          }
        };
        if (f.dictionary) {
          ASSERT_NE(a.dictionary, nullptr) << what;
          const ArrowArray& d = *a.dictionary;
          touch_strings(d, is_large(f.dictionary->format), d.length);
          for (int64_t i = 0; i < a.length; ++i) {
            const bool valid = a.buffers[0] == nullptr ||
                               ((static_cast<const uint8_t*>(a.buffers[0])[i >> 3] >> (i & 7)) & 1);
            const int32_t idx = static_cast<const int32_t*>(a.buffers[1])[i];
            if (valid) {
              ASSERT_TRUE(idx >= 0 && idx < d.length) << what << " index " << idx;
            }
          }
        } else if (f.format == "u" || f.format == "U" || f.format == "z" || f.format == "Z") {
          touch_strings(a, is_large(f.format), a.length);
        } else {
          const int64_t bytes = f.format == "b"                      ? (a.length + 7) / 8
                                : f.format == "l" || f.format == "g" ? a.length * 8
                                                                     : a.length * 4;
          for (int64_t k = 0; k < bytes; ++k) sum += static_cast<const uint8_t*>(a.buffers[1])[k];
        }
        g_sink.fetch_add(sum, std::memory_order_relaxed);
      }
      b.release(&b);
    }
  } catch (const SourceReadError&) {
    return;
  } catch (const InvalidArgumentError&) {
    return;
  }
  int64_t rows = 0;
  for (int64_t r : plan.row_group_rows) rows += r;
  EXPECT_EQ(total, rows) << what;
}

// Valid one-column chunks of each kind the fuzz tests damage.
struct FuzzCase {
  std::string name;
  Table table;
};

std::vector<FuzzCase> fuzz_cases() {
  std::vector<FuzzCase> cases;
  std::mt19937_64 rng(99);
  const auto words = pooled<std::string>({"alpha", "", "be", std::string(66, 'g')});
  auto add = [&](std::string name, auto&& fill) {
    FuzzCase c{std::move(name), {}};
    fill(c.table);
    cases.push_back(std::move(c));
  };
  add("int64 v1 plain + v2 dict, uncompressed", [&](Table& t) {
    t.add<int64_t>("x", PhysicalType::kInt64, field("", "l"), {.max_def = 1},
                   {random_rows<int64_t>(30, 0.3, rng, pooled<int64_t>({1, 99, -7}))},
                   {{{12, kV1, kPlain}, {18, kV2, kDict}}});
  });
  add("int32 required v2 plain + v1 dict, snappy", [&](Table& t) {
    t.add<int32_t>("x", PhysicalType::kInt32, field("", "i"), {.max_def = 0, .snappy = true},
                   {random_rows<int32_t>(30, 0, rng, pooled<int32_t>({3, 4, 5, 6, 7}))},
                   {{{10, kV2, kPlain}, {20, kV1, kDict}}});
  });
  add("utf8 dict v1 + plain v2, snappy", [&](Table& t) {
    t.add<std::string>(
        "s", PhysicalType::kByteArray, field("", "u"), {.max_def = 1, .snappy = true},
        {random_rows<std::string>(30, 0.2, rng, words)}, {{{16, kV1, kDict}, {14, kV2, kPlain}}});
  });
  add("dictionary output, dict + plain, raw v2 in a snappy chunk", [&](Table& t) {
    t.add<std::string>("d", PhysicalType::kByteArray, dict_field("", "i", field("", "u")),
                       {.max_def = 1, .snappy = true, .v2_uncompressed = true},
                       {random_rows<std::string>(30, 0.2, rng, words)},
                       {{{10, kV2, kDict}, {8, kV1, kPlain}, {12, kV2, kPlain}}});
  });
  add("large strings required, plain v2 + dict v1, uncompressed", [&](Table& t) {
    t.add<std::string>("s", PhysicalType::kByteArray, field("", "U"), {.max_def = 0},
                       {random_rows<std::string>(24, 0, rng, words)},
                       {{{12, kV2, kPlain}, {12, kV1, kDict}}});
  });
  add("booleans plain v1 + RLE v2, snappy; double dict", [&](Table& t) {
    t.add<bool>("b", PhysicalType::kBoolean, field("", "b"), {.max_def = 1, .snappy = true},
                {random_rows<bool>(30, 0.3, rng, random_bool)},
                {{{14, kV1, kPlain}, {16, kV2, kRle}}});
    t.add<double>("g", PhysicalType::kDouble, field("", "g"), {.max_def = 0},
                  {random_rows<double>(30, 0, rng, pooled<double>({1.0, 2.5}))},
                  {{{30, kV1, kDict}}});
  });
  return cases;
}

TEST(ParquetReaderFuzz, EveryTruncationThrowsOrReadsAllRows) {
  for (const FuzzCase& c : fuzz_cases()) {
    TempFile file;
    Bytes bytes;
    // One column per case read alone, so the truncation is of that column's chunk.
    for (size_t col = 0; col < c.table.columns.size(); ++col) {
      Table one;
      one.group_rows = c.table.group_rows;
      one.columns.push_back(c.table.columns[col]);
      const ReadPlan full = one.layout(file.path(), bytes, 1000);
      const ColumnChunk whole = full.columns[0].chunks[0];
      const auto file_end = static_cast<int64_t>(bytes.size());
      const SchemaSpec spec = one.schema();
      for (int64_t len = 0; len < whole.length; ++len) {
        const std::string what = c.name + ": length " + std::to_string(len);
        ReadPlan p = full;
        p.batch_rows = len % 3 == 0 ? 1 : len % 3 == 1 ? 3 : 1000;
        p.columns[0].chunks[0].length = len;  // the plan's chunk is cut short
        file.write(bytes);
        read_survives(p, spec, what);
        // The plan's chunk is whole, the file ends inside it.
        std::filesystem::resize_file(file.path(), static_cast<uintmax_t>(whole.offset + len));
        read_survives(full, spec, what + " (file cut)");
        if (HasFatalFailure()) return;
      }
      file.write(bytes);
      read_survives(full, spec, c.name + ": whole");
      EXPECT_LE(whole.offset + whole.length, file_end);
    }
  }
}

TEST(ParquetReaderFuzz, RandomMutationsThrowOrReadAllRows) {
  std::mt19937_64 rng(2024);
  const std::vector<FuzzCase> cases = fuzz_cases();
  TempFile file;
  constexpr int kMutations = 2400;
  for (int m = 0; m < kMutations; ++m) {
    const FuzzCase& c = cases[static_cast<size_t>(m) % cases.size()];
    Bytes bytes;
    ReadPlan plan = c.table.layout(file.path(), bytes, std::vector<int64_t>{1, 3, 1000}[rng() % 3]);
    // Damage 1 to 4 bytes inside the chunks (the 4-byte file prefix is skipped).
    const int hits = 1 + static_cast<int>(rng() % 4);
    for (int h = 0; h < hits; ++h) {
      const size_t at = 4 + rng() % (bytes.size() - 4);
      switch (rng() % 4) {
        case 0:
          bytes[at] = static_cast<uint8_t>(rng());
          break;
        case 1:
          bytes[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
          break;
        case 2:
          bytes[at] = 0;
          break;
        default:
          bytes[at] = 0xff;
          break;
      }
    }
    file.write(bytes);
    read_survives(plan, c.table.schema(), c.name + ": mutation " + std::to_string(m));
    if (HasFatalFailure()) return;
  }
}

// ------------------------------------------------------------------ sizes from the file

Bytes dictionary_page(const std::vector<int64_t>& values) {
  Bytes body;
  for (int64_t v : values) builders::plain_value(body, v);
  PageHeader h;
  h.type = PageType::kDictionaryPage;
  h.num_values = static_cast<int32_t>(values.size());
  h.uncompressed_size = h.compressed_size = static_cast<int32_t>(body.size());
  return builders::page(h, body);
}

Bytes index_page(const std::vector<uint32_t>& indices) {
  Bytes body = {8};
  const Bytes runs = builders::rle_hybrid(indices, 8);
  body.insert(body.end(), runs.begin(), runs.end());
  PageHeader h;
  h.type = PageType::kDataPage;
  h.num_values = static_cast<int32_t>(indices.size());
  h.encoding = Encoding::kRleDictionary;
  h.uncompressed_size = h.compressed_size = static_cast<int32_t>(body.size());
  return builders::page(h, body);
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A second dictionary would relabel every row after it (values not in the file): refused, as
// Arrow refuses it ("Column cannot have more than one dictionary").
TEST(ParquetReaderErrors, SecondDictionaryPage) {
  TempFile file;
  ScopedSchema schema(struct_schema({field("col_x", "l")}));
  const Bytes chunk = concat({dictionary_page({10, 20}), index_page({0, 1}),
                              dictionary_page({30, 40}), index_page({0, 1})});
  BatchReader r(one_column(file, chunk, PhysicalType::kInt64, 0, 4), *schema);
  expect_throws<SourceReadError>([&] { read_all(r); }, {"col_x", "more than one dictionary"});
}

// A few bytes claiming 2^28 strings, or a snappy page claiming 2^28 bytes: refused before any
// buffer is sized by the claim.
TEST(ParquetReaderErrors, CountsBeyondTheirBytesFailFast) {
  TempFile file;
  PageHeader h;
  h.type = PageType::kDictionaryPage;
  h.num_values = 1 << 28;
  const Bytes body = {1, 0, 0, 0, 'a', 0, 0, 0};
  h.uncompressed_size = h.compressed_size = static_cast<int32_t>(body.size());
  const auto t0 = std::chrono::steady_clock::now();
  {
    ScopedSchema schema(struct_schema({field("col_x", "u")}));
    BatchReader r(one_column(file, concat({builders::page(h, body), index_page({0})}),
                             PhysicalType::kByteArray, 0, 1),
                  *schema);
    expect_throws<SourceReadError>([&] { read_all(r); }, {"col_x", "shorter than its values"});
  }
  {
    Bytes snappy;
    builders::Compact c;
    c.uvarint(uint64_t{1} << 28);
    snappy = c.out;
    snappy.insert(snappy.end(), {0x00, 'x'});  // one literal byte
    PageHeader d;
    d.type = PageType::kDataPage;
    d.num_values = 1;
    d.uncompressed_size = 1 << 28;
    d.compressed_size = static_cast<int32_t>(snappy.size());
    ScopedSchema schema(struct_schema({field("col_x", "l")}));
    BatchReader r(
        one_column(file, builders::page(d, snappy), PhysicalType::kInt64, 0, 1, Codec::kSnappy),
        *schema);
    expect_throws<SourceReadError>([&] { read_all(r); }, {"col_x", "more than snappy"});
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
}

// Offsets and lengths from the footer are checked against the file before a read (a negative
// length reached pread as ~2^64 bytes).
TEST(ParquetReaderErrors, ChunkNotInsideTheFile) {
  TempFile file;
  ScopedSchema schema(struct_schema({field("col_x", "l")}));
  const Bytes chunk = concat({dictionary_page({10, 20}), index_page({0, 1})});
  const ReadPlan good = one_column(file, chunk, PhysicalType::kInt64, 0, 2);
  const auto size = static_cast<int64_t>(chunk.size());
  for (auto [offset, length] : std::vector<std::pair<int64_t, int64_t>>{
           {0, -1}, {-1, 4}, {0, size + 1}, {size + 1, 0}, {1, INT64_MAX}, {INT64_MAX, 1}}) {
    ReadPlan p = good;
    p.columns[0].chunks[0].offset = offset;
    p.columns[0].chunks[0].length = length;
    BatchReader r(p, *schema);
    expect_throws<SourceReadError>([&] { read_all(r); }, {"col_x", "not inside the file"});
  }
}

// A padded chunk (parquet-mr before 1.2.9 left the dictionary page header out of the chunk's
// size; readers add up to 100 bytes) ends at its last value, even where the padding reaches
// into the next chunk; without padding, a page after the last value that holds values is an
// error.
TEST(ParquetReaderValues, PaddedChunkEndsAtItsLastValue) {
  TempFile file;
  ScopedSchema schema(struct_schema({field("col_x", "l")}));
  const Bytes next = index_page({1, 1, 1});  // the next chunk's first page
  const Bytes chunk = concat({dictionary_page({10, 20}), index_page({0, 1}), next});
  ReadPlan p = one_column(file, chunk, PhysicalType::kInt64, 0, 2);
  p.columns[0].chunks[0].padding = static_cast<int64_t>(next.size());
  {
    BatchReader r(p, *schema);
    read_all(r);
    EXPECT_EQ(r.rows_read(), 2);
  }
  p.columns[0].chunks[0].padding = 0;
  BatchReader r(p, *schema);
  expect_throws<SourceReadError>([&] { read_all(r); }, {"col_x", "more values than"});
}

// A data page v2 whose values section is empty (all nulls) has nothing to decompress.
TEST(ParquetReaderValues, DataPageV2WithAnEmptyValuesSection) {
  TempFile file;
  ScopedSchema schema(struct_schema({field("col_x", "g")}));
  const Bytes levels = builders::rle_hybrid({0, 0, 0}, 1);
  PageHeader h;
  h.type = PageType::kDataPageV2;
  h.num_values = h.num_rows = h.num_nulls = 3;
  h.definition_levels_byte_length = static_cast<int32_t>(levels.size());
  h.uncompressed_size = h.compressed_size = static_cast<int32_t>(levels.size());
  BatchReader r(
      one_column(file, builders::page(h, levels), PhysicalType::kDouble, 1, 3, Codec::kSnappy),
      *schema);
  ArrowArray b;
  ASSERT_TRUE(r.next(&b));
  EXPECT_EQ(b.length, 3);
  EXPECT_EQ(b.children[0]->null_count, 3);
  b.release(&b);
  EXPECT_FALSE(r.next(&b));
}

}  // namespace
}  // namespace truthound::parquet
