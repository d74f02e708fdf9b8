// Specification of truthound::PartialProfile (cpp/include/truthound/profile/partial.hpp) and
// ProfileOptions: the merge invariants of DESIGN.md §2 on random tables and random splits,
// column merges, schema drift, duplicates, options, and the serialized format.
#include "truthound/profile/partial.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "arrow_builders.hpp"
#include "old_format.hpp"
#include "truthound/util/error.hpp"
#include "truthound/util/hash.hpp"

namespace truthound {
namespace {

using namespace truthound::testing;
using json::Value;
using std::nullopt;

// ---------------------------------------------------------------- random tables

struct Table {
  Opt<int64_t> i;
  Opt<double> d;
  Opt<std::string> s;
  Opt<bool> b;
  size_t rows() const { return i.size(); }
};

Table random_table(std::mt19937_64& rng, size_t n) {
  static const std::vector<std::string> pool = {"alice@example.com",
                                                "bob@example.org",
                                                "42",
                                                "-17",
                                                "3.25",
                                                "2024-02-29",
                                                "2023-12-31T23:59:59",
                                                "true",
                                                "no",
                                                "550e8400-e29b-41d4-a716-446655440000",
                                                "https://truthound.dev/x",
                                                "192.168.0.1",
                                                "h\xc3\xa9llo",
                                                "\xed\x95\x9c\xea\xb8\x80",
                                                "Zed",
                                                "a",
                                                "abc",
                                                "  padded  ",
                                                "{\"k\": 1}",
                                                "50%",
                                                "$12.50"};
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> normal(10, 100);
  Table t;
  for (size_t r = 0; r < n; ++r) {
    const double x = u(rng);
    if (x < 0.15) {
      t.i.push_back(nullopt);
    } else if (x < 0.18) {
      t.i.push_back(u(rng) < 0.5 ? INT64_MIN + 1 : (int64_t{1} << 62));
    } else {
      t.i.push_back(static_cast<int64_t>(rng() % 101) - 50);
    }
    const double y = u(rng);
    if (y < 0.10) {
      t.d.push_back(nullopt);
    } else if (y < 0.14) {
      t.d.push_back(std::numeric_limits<double>::quiet_NaN());
    } else if (y < 0.17) {
      t.d.push_back(u(rng) < 0.5 ? std::numeric_limits<double>::infinity()
                                 : -std::numeric_limits<double>::infinity());
    } else if (y < 0.20) {
      t.d.push_back(u(rng) < 0.5 ? -0.0 : 0.0);
    } else {
      t.d.push_back(normal(rng));
    }
    const double z = u(rng);
    if (z < 0.10) {
      t.s.push_back(nullopt);
    } else if (z < 0.15) {
      t.s.push_back("");
    } else if (z < 0.65) {
      t.s.push_back(pool[rng() % pool.size()]);
    } else {
      std::string s;
      const size_t len = rng() % 12;
      for (size_t k = 0; k < len; ++k) s += static_cast<char>('a' + rng() % 26);
      t.s.push_back(s);
    }
    const double w = u(rng);
    t.b.push_back(w < 0.1 ? std::optional<bool>() : std::optional<bool>(w < 0.6));
  }
  return t;
}

SchemaSpec table_schema() {
  return struct_schema({field("i", "l"), field("d", "g"), field("s", "u"), field("b", "b")});
}

// The whole table as one batch, sliced to rows [lo, hi) through the batch's offset. Children
// carry their own (odd) offsets.
ArrowArray table_batch(ReleaseCounter* rc, const Table& t, size_t lo, size_t hi) {
  std::vector<ArrowArray> cols;
  cols.push_back(primitive_array<int64_t>(rc, t.i, {3, 0}));
  cols.push_back(primitive_array<double>(rc, t.d, {0, 0}));
  cols.push_back(string_array(rc, t.s, {5, 0}));
  cols.push_back(bool_array(rc, t.b, {1, 0}));
  return make_array(rc, static_cast<int64_t>(hi - lo), static_cast<int64_t>(lo), 0, {nullopt},
                    std::move(cols));
}

// Rows [lo, hi) of `t`, fed as one or two batches (split at `mid` when given).
void feed(PartialProfile& p, const Table& t, size_t lo, size_t hi,
          std::optional<size_t> mid = nullopt) {
  ReleaseCounter rc;
  ScopedSchema schema(table_schema());
  if (mid && *mid > lo && *mid < hi) {
    ScopedArray a(table_batch(&rc, t, lo, *mid));
    p.consume_batch(*schema, *a);
    ScopedArray b(table_batch(&rc, t, *mid, hi));
    p.consume_batch(*schema, *b);
  } else {
    ScopedArray a(table_batch(&rc, t, lo, hi));
    p.consume_batch(*schema, *a);
  }
}

PartialProfile profile_of(const Table& t, size_t lo, size_t hi, ProfileOptions o = {},
                          std::optional<size_t> mid = nullopt) {
  PartialProfile p(o);
  feed(p, t, lo, hi, mid);
  return p;
}

// ---------------------------------------------------------------- comparing finalized profiles

bool is_moment(const std::string& key) {
  return key == "mean" || key == "std" || key == "variance" || key == "skewness" ||
         key == "kurtosis";
}

struct Compare {
  std::set<std::string> skip = {"estimated_memory_bytes"};
  bool ignore_sample_order = false;
};

// Every field equal as written, except moments (1e-9 relative) and skipped keys. Columns are
// matched by name.
void expect_same(const Value& a, const Value& b, const Compare& how,
                 const std::string& path = "$") {
  ASSERT_EQ(a.kind, b.kind) << path << ": " << a.dump().substr(0, 200) << " vs "
                            << b.dump().substr(0, 200);
  switch (a.kind) {
    case Value::kObject: {
      ASSERT_EQ(a.members.size(), b.members.size()) << path;
      for (size_t k = 0; k < a.members.size(); ++k) {
        const std::string& key = a.members[k].first;
        ASSERT_EQ(key, b.members[k].first) << path;
        if (how.skip.count(key)) continue;
        const Value& x = a.members[k].second;
        const Value& y = b.members[k].second;
        if (is_moment(key) && x.kind == Value::kNumber && y.kind == Value::kNumber) {
          const double p = x.num(), q = y.num();
          // the mean is relative to the spread of the data: with values near +-2^62 a mean near 0
          // is a difference of huge numbers and carries their rounding
          double scale = std::max(std::abs(p), std::abs(q));
          if (key == "mean" && a["std"].kind == Value::kNumber)
            scale = std::max(scale, a["std"].num());
          EXPECT_NEAR(p, q, 1e-9 * scale + 1e-12) << path << "." << key;
        } else if (key == "columns") {
          ASSERT_EQ(x.size(), y.size()) << path;
          for (const auto& col : x.items) {
            expect_same(col, json::column(b, col["name"].str()), how,
                        path + ".columns[" + col["name"].str() + "]");
          }
        } else if (key == "samples" && how.ignore_sample_order) {
          // samples are the first matches seen, so they depend on the merge order; their number
          // does not
          EXPECT_EQ(x.size(), y.size()) << path << ".samples";
        } else {
          expect_same(x, y, how, path + "." + key);
        }
      }
      return;
    }
    case Value::kArray:
      ASSERT_EQ(a.items.size(), b.items.size()) << path;
      for (size_t k = 0; k < a.items.size(); ++k)
        expect_same(a.items[k], b.items[k], how, path + "[" + std::to_string(k) + "]");
      return;
    default:
      EXPECT_EQ(a.dump(), b.dump()) << path;
  }
}

Value fin(const PartialProfile& p) {
  return json::parse(p.finalize_json());
}

// ---------------------------------------------------------------- merge invariants

TEST(PartialProfile, MergeOfSplitsEqualsProfileOfUnion) {
  std::mt19937_64 rng(20240229);
  for (int trial = 0; trial < 40; ++trial) {
    const size_t n = rng() % 300;
    const Table t = random_table(rng, n);
    const size_t cut = n ? rng() % (n + 1) : 0;
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + std::to_string(n) + " rows cut at " +
                 std::to_string(cut));
    const PartialProfile whole = profile_of(t, 0, n);
    PartialProfile merged = profile_of(t, 0, cut, {}, cut / 3);
    merged.merge(profile_of(t, cut, n));
    expect_same(fin(merged), fin(whole), Compare{});
    EXPECT_EQ(merged.row_count(), n);
  }
}

TEST(PartialProfile, MergeIsCommutative) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 30; ++trial) {
    const size_t n = rng() % 300;
    const Table t = random_table(rng, n);
    const size_t cut = n ? rng() % (n + 1) : 0;
    SCOPED_TRACE("trial " + std::to_string(trial));
    PartialProfile ab = profile_of(t, 0, cut);
    ab.merge(profile_of(t, cut, n));
    PartialProfile ba = profile_of(t, cut, n);
    ba.merge(profile_of(t, 0, cut));
    Compare how;
    how.ignore_sample_order = true;
    expect_same(fin(ab), fin(ba), how);
  }
}

TEST(PartialProfile, MergeIsAssociative) {
  std::mt19937_64 rng(99);
  for (int trial = 0; trial < 30; ++trial) {
    const size_t n = rng() % 300;
    const Table t = random_table(rng, n);
    size_t c1 = n ? rng() % (n + 1) : 0, c2 = n ? rng() % (n + 1) : 0;
    if (c1 > c2) std::swap(c1, c2);
    SCOPED_TRACE("trial " + std::to_string(trial));
    PartialProfile left = profile_of(t, 0, c1);  // (A + B) + C
    left.merge(profile_of(t, c1, c2));
    left.merge(profile_of(t, c2, n));
    PartialProfile bc = profile_of(t, c1, c2);  // A + (B + C)
    bc.merge(profile_of(t, c2, n));
    PartialProfile right = profile_of(t, 0, c1);
    right.merge(bc);
    expect_same(fin(left), fin(right), Compare{});
    expect_same(fin(left), fin(profile_of(t, 0, n)), Compare{});
  }
}

TEST(PartialProfile, MergingAnEmptyPartialIsTheIdentity) {
  std::mt19937_64 rng(5);
  const Table t = random_table(rng, 200);
  const std::string expected = profile_of(t, 0, 200).finalize_json();
  {
    PartialProfile p = profile_of(t, 0, 200);
    p.merge(PartialProfile());
    EXPECT_EQ(p.finalize_json(), expected);
  }
  {
    PartialProfile p;
    p.merge(profile_of(t, 0, 200));
    EXPECT_EQ(p.finalize_json(), expected);
  }
  {
    // an empty slice of the same table: same columns, no rows
    PartialProfile p = profile_of(t, 0, 200);
    p.merge(profile_of(t, 100, 100));
    EXPECT_EQ(p.finalize_json(), expected);
  }
}

TEST(PartialProfile, MergingWithItselfIsRejected) {
  std::mt19937_64 rng(1);
  PartialProfile p = profile_of(random_table(rng, 10), 0, 10);
  EXPECT_THROW(p.merge(p), InvalidArgumentError);
}

// ---------------------------------------------------------------- column partitions

TEST(PartialProfile, ColumnMergeOfDisjointColumnsMatchesTheWholeTable) {
  std::mt19937_64 rng(11);
  const Table t = random_table(rng, 150);
  ReleaseCounter rc;
  PartialProfile left, right;
  {
    ScopedSchema s(struct_schema({field("i", "l"), field("d", "g")}));
    std::vector<ArrowArray> cols;
    cols.push_back(primitive_array<int64_t>(&rc, t.i, {3, 0}));
    cols.push_back(primitive_array<double>(&rc, t.d));
    ScopedArray a(make_array(&rc, 150, 0, 0, {nullopt}, std::move(cols)));
    left.consume_batch(*s, *a);
  }
  {
    ScopedSchema s(struct_schema({field("s", "u"), field("b", "b")}));
    std::vector<ArrowArray> cols;
    cols.push_back(string_array(&rc, t.s, {5, 0}));
    cols.push_back(bool_array(&rc, t.b, {1, 0}));
    ScopedArray a(make_array(&rc, 150, 0, 0, {nullopt}, std::move(cols)));
    right.consume_batch(*s, *a);
  }
  EXPECT_TRUE(rc.balanced());
  left.merge(right, MergeMode::kColumns);
  const Value merged = fin(left);
  const Value whole = fin(profile_of(t, 0, 150));
  EXPECT_EQ(merged["row_count"].num(), 150);
  EXPECT_EQ(merged["column_count"].num(), 4);
  EXPECT_TRUE(merged["duplicate_row_count"].is_null());
  EXPECT_TRUE(merged["duplicate_row_ratio"].is_null());
  for (const char* name : {"i", "d", "s", "b"}) {
    SCOPED_TRACE(name);
    expect_same(json::column(merged, name), json::column(whole, name), Compare{});
  }
  // into an empty partial: the other side's duplicates carry over
  PartialProfile empty;
  empty.merge(right, MergeMode::kColumns);
  EXPECT_EQ(empty.row_count(), 150u);
  EXPECT_FALSE(fin(empty)["duplicate_row_count"].is_null());
}

TEST(PartialProfile, ColumnMergeWithDifferentRowCountsThrowsSchemaError) {
  ReleaseCounter rc;
  PartialProfile a, b;
  {
    ScopedSchema s(struct_schema({field("x", "l")}));
    ScopedArray arr(make_array(&rc, 3, 0, 0, {nullopt}, [&] {
      std::vector<ArrowArray> c;
      c.push_back(primitive_array<int64_t>(&rc, {1, 2, 3}));
      return c;
    }()));
    a.consume_batch(*s, *arr);
  }
  {
    ScopedSchema s(struct_schema({field("y", "l")}));
    ScopedArray arr(make_array(&rc, 4, 0, 0, {nullopt}, [&] {
      std::vector<ArrowArray> c;
      c.push_back(primitive_array<int64_t>(&rc, {1, 2, 3, 4}));
      return c;
    }()));
    b.consume_batch(*s, *arr);
  }
  EXPECT_THROW(a.merge(b, MergeMode::kColumns), SchemaError);
}

TEST(PartialProfile, ColumnMergeOfOverlappingColumnsThrowsSchemaError) {
  std::mt19937_64 rng(3);
  const Table t = random_table(rng, 20);
  PartialProfile a = profile_of(t, 0, 20);
  expect_throws<SchemaError>([&] { a.merge(profile_of(t, 0, 20), MergeMode::kColumns); }, {"'i'"});
}

// ---------------------------------------------------------------- schema drift

PartialProfile one_column(const std::string& format,
                          const std::function<ArrowArray(ReleaseCounter*)>& col, int64_t n,
                          const std::string& source) {
  ReleaseCounter rc;
  PartialProfile p;
  p.add_source(source);
  ScopedSchema s(struct_schema({field("v", format)}));
  std::vector<ArrowArray> cols;
  cols.push_back(col(&rc));
  ScopedArray arr(make_array(&rc, n, 0, 0, {nullopt}, std::move(cols)));
  p.consume_batch(*s, *arr);
  return p;
}

PartialProfile int32_part() {
  return one_column(
      "i",
      [](ReleaseCounter* rc) { return primitive_array<int32_t>(rc, {7, -3, nullopt, 2}, {5, 0}); },
      4, "a.parquet");
}
PartialProfile int64_part() {
  return one_column(
      "l",
      [](ReleaseCounter* rc) {
        return primitive_array<int64_t>(rc, {int64_t{1} << 40, 0, -1}, {2, 0});
      },
      3, "b.parquet");
}
PartialProfile string_part() {
  return one_column(
      "u", [](ReleaseCounter* rc) { return string_array(rc, {"x", "yy"}, {1, 0}); }, 2,
      "c.parquet");
}

TEST(PartialProfile, IntegerMeanIsExactWhateverTheSplit) {
  // Values beyond 2^53 lose bits as doubles: the mean of an integer column comes from an exact
  // sum, so every split and merge order gives the same mean, and the right one.
  const std::vector<int64_t> v = {0, -9223371016128940542, 9223372036854760962, 7, -5, 1LL << 62};
  __int128 sum = 0;
  for (int64_t x : v) sum += x;
  const double exact = static_cast<double>(static_cast<long double>(sum) / v.size());
  auto part = [&](size_t lo, size_t hi) {
    Opt<int64_t> vals(v.begin() + static_cast<std::ptrdiff_t>(lo),
                      v.begin() + static_cast<std::ptrdiff_t>(hi));
    return one_column(
        "l", [&](ReleaseCounter* rc) { return primitive_array<int64_t>(rc, vals); },
        static_cast<int64_t>(hi - lo), "p" + std::to_string(lo));
  };
  const double whole = json::column(fin(part(0, v.size())), "v")["mean"].num();
  EXPECT_NEAR(whole, exact, std::abs(exact) * 1e-15);
  for (size_t cut = 1; cut < v.size(); ++cut) {
    PartialProfile a = part(0, cut);
    a.merge(part(cut, v.size()));
    PartialProfile b = part(cut, v.size());
    b.merge(part(0, cut));
    EXPECT_EQ(json::column(fin(a), "v")["mean"].num(), whole) << cut;
    EXPECT_EQ(json::column(fin(b), "v")["mean"].num(), whole) << cut;
  }
}

TEST(PartialProfile, Uint64MeanIsExactAboveInt64Max) {
  const uint64_t big = UINT64_MAX - 2;  // (2^64 - 3) + 3 + 1 = 2^64 + 1 over 3 values
  PartialProfile p = one_column(
      "L", [&](ReleaseCounter* rc) { return primitive_array<uint64_t>(rc, {big, 3, 1}); }, 3, "u");
  const double mean = json::column(fin(p), "v")["mean"].num();
  EXPECT_EQ(mean, static_cast<double>((static_cast<long double>(UINT64_MAX) + 2) / 3));
}

TEST(PartialProfile, Int32AndInt64PartitionsMergePromoted) {
  for (int order = 0; order < 2; ++order) {
    SCOPED_TRACE(order ? "int64 first" : "int32 first");
    PartialProfile p = order ? int64_part() : int32_part();
    p.merge(order ? int32_part() : int64_part());
    const Value v = json::column(fin(p), "v");
    EXPECT_EQ(v["physical_type"].str(), "int64");
    EXPECT_EQ(v["row_count"].num(), 7);
    EXPECT_EQ(v["null_count"].num(), 1);
    EXPECT_EQ(v["min"].num(), -3);
    EXPECT_EQ(v["max"].text, std::to_string(int64_t{1} << 40));
    EXPECT_EQ(v["negative_count"].num(), 2);
    EXPECT_EQ(v["zero_count"].num(), 1);
  }
}

TEST(PartialProfile, IntAndDoublePartitionsMergeAsDouble) {
  PartialProfile p = int32_part();
  p.merge(one_column(
      "g", [](ReleaseCounter* rc) { return primitive_array<double>(rc, {0.5, -9.25}, {1, 0}); }, 2,
      "d.parquet"));
  const Value v = json::column(fin(p), "v");
  EXPECT_EQ(v["physical_type"].str(), "double");
  EXPECT_EQ(v["min"].num(), -9.25);
  EXPECT_EQ(v["max"].num(), 7.0);
  EXPECT_EQ(v["row_count"].num(), 6);
}

TEST(PartialProfile, StringAndLargeStringPartitionsMergeAsLargeString) {
  PartialProfile p = string_part();
  p.merge(one_column(
      "U",
      [](ReleaseCounter* rc) { return string_array<int64_t>(rc, {"zz", "a", nullopt}, {3, 0}); }, 3,
      "e.parquet"));
  const Value v = json::column(fin(p), "v");
  EXPECT_EQ(v["physical_type"].str(), "large_string");
  EXPECT_EQ(v["min"].str(), "a");
  EXPECT_EQ(v["max"].str(), "zz");
  EXPECT_EQ(v["null_count"].num(), 1);
  EXPECT_EQ(v["max_length"].num(), 2);
}

TEST(PartialProfile, Int64AndStringPartitionsThrowSchemaErrorNamingColumnTypesAndSources) {
  for (int order = 0; order < 2; ++order) {
    PartialProfile p = order ? string_part() : int64_part();
    expect_throws<SchemaError>([&] { p.merge(order ? int64_part() : string_part()); },
                               {"'v'", "int64", "string", "b.parquet", "c.parquet"});
  }
}

TEST(PartialProfile, ColumnsMissingFromOnePartitionCountAsNullRows) {
  std::mt19937_64 rng(17);
  const Table t = random_table(rng, 50);
  PartialProfile p = profile_of(t, 0, 50);
  p.merge(int32_part());  // only "v", 4 rows
  const Value v = fin(p);
  EXPECT_EQ(v["row_count"].num(), 54);
  EXPECT_EQ(json::column(v, "v")["row_count"].num(), 54);
  EXPECT_EQ(json::column(v, "v")["null_count"].num(), 50 + 1);
  EXPECT_EQ(json::column(v, "i")["row_count"].num(), 54);
  EXPECT_EQ(json::column(v, "i")["null_count"].num(), static_cast<double>(count_nulls(t.i) + 4));
  // the parts hashed their rows over other columns: the union's duplicates are not known
  EXPECT_TRUE(v["duplicate_row_count"].is_null());
}

// ---------------------------------------------------------------- duplicates

TEST(PartialProfile, DuplicateRowsAreCountedExactlyAcrossPartitions) {
  // 6 distinct rows, each repeated: (k, "s<k>", k odd) for k in 0..5, row r = r % 6, plus nulls
  Table t;
  for (int r = 0; r < 100; ++r) {
    const int k = r % 6;
    t.i.push_back(k == 5 ? std::optional<int64_t>() : std::optional<int64_t>(k));
    t.d.push_back(k * 0.5);
    t.s.push_back(k == 4 ? std::optional<std::string>()
                         : std::optional<std::string>("s" + std::to_string(k)));
    t.b.push_back(k % 2 == 1);
  }
  // and 7 unique rows
  for (int r = 0; r < 7; ++r) {
    t.i.push_back(1000 + r);
    t.d.push_back(-1.0);
    t.s.push_back("u");
    t.b.push_back(true);
  }
  const size_t n = t.rows();
  const Value whole = fin(profile_of(t, 0, n));
  EXPECT_EQ(whole["duplicate_row_count"].num(), 107 - 13);
  EXPECT_FALSE(whole["duplicate_rows_approximate"].b);
  EXPECT_DOUBLE_EQ(whole["duplicate_row_ratio"].num(), 94.0 / 107);
  for (size_t cut : {size_t{0}, size_t{1}, size_t{37}, size_t{100}, n}) {
    PartialProfile a = profile_of(t, 0, cut);
    a.merge(profile_of(t, cut, n));
    EXPECT_EQ(fin(a)["duplicate_row_count"].num(), 94) << "cut at " << cut;
  }
}

TEST(PartialProfile, NegativeZeroAndNaNRowsAreDuplicatesOfTheirCanonicalForm) {
  Table t;
  for (double x : {0.0, -0.0, std::nan("1"), -std::numeric_limits<double>::quiet_NaN()}) {
    t.i.push_back(1);
    t.d.push_back(x);
    t.s.push_back("a");
    t.b.push_back(true);
  }
  EXPECT_EQ(fin(profile_of(t, 0, 4))["duplicate_row_count"].num(), 2);
}

TEST(PartialProfile, DuplicateCountIsFlaggedApproximateAboveTheExactLimit) {
  ProfileOptions o;
  o.duplicate_exact_limit = 1000;
  // 60000 distinct rows and 10000 repeats of earlier ones
  Table t;
  for (int r = 0; r < 70000; ++r) {
    const int k = r < 60000 ? r : (r * 7919) % 60000;
    t.i.push_back(k);
    t.d.push_back(1.0);
    t.s.push_back("x");
    t.b.push_back(true);
  }
  const Value v = fin(profile_of(t, 0, t.rows(), o));
  EXPECT_TRUE(v["duplicate_rows_approximate"].b);
  EXPECT_NEAR(v["duplicate_row_count"].num(), 10000, 1500);

  // below the limit it stays exact, also through a merge
  ProfileOptions big;
  big.duplicate_exact_limit = 100000;
  PartialProfile a = profile_of(t, 0, 35000, big);
  a.merge(profile_of(t, 35000, t.rows(), big));
  const Value w = fin(a);
  EXPECT_FALSE(w["duplicate_rows_approximate"].b);
  EXPECT_EQ(w["duplicate_row_count"].num(), 10000);

  // two exact partials whose union passes the limit become approximate when merged
  PartialProfile c = profile_of(t, 0, 700, o);
  c.merge(profile_of(t, 700, 1400, o));
  EXPECT_TRUE(fin(c)["duplicate_rows_approximate"].b);
}

TEST(PartialProfile, DuplicateCountAndFlagDoNotDependOnHowRowsWereSplit) {
  ProfileOptions o;
  o.duplicate_exact_limit = 100;
  Table t;
  for (int r = 0; r < 1200; ++r) {
    t.i.push_back(r % 1000);  // 1000 distinct rows, 200 repeats
    t.d.push_back(2.0);
    t.s.push_back("y");
    t.b.push_back(false);
  }
  const Value whole = fin(profile_of(t, 0, t.rows(), o));
  PartialProfile a = profile_of(t, 0, 500, o);
  a.merge(profile_of(t, 500, t.rows(), o));
  const Value merged = fin(a);
  EXPECT_TRUE(whole["duplicate_rows_approximate"].b);
  EXPECT_TRUE(merged["duplicate_rows_approximate"].b);
  EXPECT_EQ(whole["duplicate_row_count"].num(), merged["duplicate_row_count"].num());
}

TEST(PartialProfile, NonZeroReservedHeaderBytesAreRejected) {
  Table t;
  for (int r = 0; r < 10; ++r) {
    t.i.push_back(r);
    t.d.push_back(r);
    t.s.push_back("z");
    t.b.push_back(true);
  }
  auto bytes = profile_of(t, 0, t.rows(), ProfileOptions{}).serialize();
  bytes[6] = 1;
  expect_throws<CorruptProfileError>(
      [&] { PartialProfile::deserialize(bytes.data(), bytes.size()); }, {"reserved"});
}

// ---------------------------------------------------------------- options

TEST(PartialProfileOptions, FromJsonReadsEveryOption) {
  const ProfileOptions o = ProfileOptions::from_json(
      R"({"top_n": 3, "histogram_bins": 7, "patterns": false, "pattern_threshold": 0.5, "pattern_samples": 2,
          "correlations": true, "hll_precision": 12, "kll_k": 200, "frequent_items_capacity": 64,
          "duplicate_exact_limit": 10})");
  EXPECT_EQ(o.top_n, 3u);
  EXPECT_EQ(o.histogram_bins, 7u);
  EXPECT_FALSE(o.patterns);
  EXPECT_EQ(o.pattern_threshold, 0.5);
  EXPECT_EQ(o.pattern_samples, 2u);
  EXPECT_TRUE(o.correlations);
  EXPECT_EQ(o.hll_precision, 12);
  EXPECT_EQ(o.kll_k, 200);
  EXPECT_EQ(o.frequent_items_capacity, 64u);
  EXPECT_EQ(o.duplicate_exact_limit, 10u);
  EXPECT_EQ(ProfileOptions::from_json("{}").kll_k, ProfileOptions{}.kll_k);
}

TEST(PartialProfileOptions, FromJsonRejectsUnknownKeysAndBadValuesNamingTheOption) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"top_k": 3})", "top_k"},
      {R"({"hll_precision": 3})", "hll_precision"},
      {R"({"hll_precision": 19})", "hll_precision"},
      {R"({"hll_precision": 12.5})", "hll_precision"},
      {R"({"kll_k": 7})", "kll_k"},
      {R"({"kll_k": 70000})", "kll_k"},
      {R"({"top_n": -1})", "top_n"},
      {R"({"top_n": 2000, "frequent_items_capacity": 1024})", "top_n"},
      {R"({"histogram_bins": 0})", "histogram_bins"},
      {R"({"pattern_threshold": 0})", "pattern_threshold"},
      {R"({"pattern_threshold": 1.5})", "pattern_threshold"},
      {R"({"pattern_samples": 5000})", "pattern_samples"},
      {R"({"patterns": 1})", "patterns"},
      {R"({"correlations": "yes"})", "correlations"},
      {R"({"frequent_items_capacity": 8})", "frequent_items_capacity"},
      {R"({"duplicate_exact_limit": -5})", "duplicate_exact_limit"},
      {R"({"kll_k": null})", "kll_k"},
  };
  for (const auto& [text, option] : bad) {
    SCOPED_TRACE(text);
    expect_throws<InvalidArgumentError>([&] { ProfileOptions::from_json(text); }, {option});
  }
  EXPECT_THROW(ProfileOptions::from_json("{\"top_n\": "), InvalidArgumentError);
  EXPECT_THROW(ProfileOptions::from_json("[1]"), InvalidArgumentError);
}

TEST(PartialProfileOptions, ConstructingAProfileWithBadOptionsThrows) {
  ProfileOptions o;
  o.hll_precision = 30;
  EXPECT_THROW(PartialProfile{o}, InvalidArgumentError);
}

TEST(PartialProfile, MismatchedSketchOptionsRefuseToMerge) {
  std::mt19937_64 rng(8);
  const Table t = random_table(rng, 30);
  const std::vector<std::pair<std::string, std::function<void(ProfileOptions&)>>> changes = {
      {"hll_precision", [](ProfileOptions& o) { o.hll_precision = 12; }},
      {"kll_k", [](ProfileOptions& o) { o.kll_k = 200; }},
      {"frequent_items_capacity", [](ProfileOptions& o) { o.frequent_items_capacity = 512; }},
      {"duplicate_exact_limit", [](ProfileOptions& o) { o.duplicate_exact_limit = 5; }},
      {"patterns", [](ProfileOptions& o) { o.patterns = false; }},
  };
  for (const auto& [name, change] : changes) {
    SCOPED_TRACE(name);
    ProfileOptions other;
    change(other);
    PartialProfile a = profile_of(t, 0, 15);
    const std::string before = a.finalize_json();
    expect_throws<InvalidArgumentError>([&] { a.merge(profile_of(t, 15, 30, other)); }, {name});
    EXPECT_EQ(a.finalize_json(), before) << "a refused merge must leave the profile unchanged";
  }
  // reporting options do not take part in the sketches: they merge
  ProfileOptions reporting;
  reporting.top_n = 3;
  reporting.histogram_bins = 5;
  PartialProfile a = profile_of(t, 0, 15);
  EXPECT_NO_THROW(a.merge(profile_of(t, 15, 30, reporting)));
}

TEST(PartialProfile, ReportingOptionsShapeTheResult) {
  std::mt19937_64 rng(21);
  const Table t = random_table(rng, 200);
  ProfileOptions o;
  o.top_n = 2;
  o.histogram_bins = 4;
  const Value v = fin(profile_of(t, 0, 200, o));
  const Value i = json::column(v, "i");
  EXPECT_LE(i["top_values"].size(), 2u);
  EXPECT_EQ(i["histogram"]["counts"].size(), 4u);
  EXPECT_EQ(i["histogram"]["edges"].size(), 5u);
  double total = 0;
  for (const auto& c : i["histogram"]["counts"].items) total += c.num();
  EXPECT_EQ(total, 200 - static_cast<double>(count_nulls(t.i)));
}

// ---------------------------------------------------------------- serialization

PartialProfile multi_column_profile(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const Table t = random_table(rng, n);
  PartialProfile p;
  p.add_source("part-0.parquet");
  feed(p, t, 0, n, n / 2);
  // a date column, a dictionary column and a nested struct in a second batch shape
  ReleaseCounter rc;
  ScopedSchema s(struct_schema({field("dt", "tdD"), dict_field("cat", "c", field("", "u")),
                                field("n", "+s", {field("x", "l")})}));
  Opt<int32_t> dates;
  Opt<int8_t> idx;
  Opt<int64_t> xs;
  for (size_t r = 0; r < 40; ++r) {
    dates.push_back(r % 5 ? std::optional<int32_t>(19000 + static_cast<int32_t>(r)) : nullopt);
    idx.push_back(static_cast<int8_t>(r % 3));
    xs.push_back(static_cast<int64_t>(r * r));
  }
  std::vector<ArrowArray> cols;
  cols.push_back(primitive_array<int32_t>(&rc, dates, {1, 0}));
  ArrowArray dict = string_array(&rc, {"low", "mid", "high"}, {0, 0, false});
  cols.push_back(with_dictionary(primitive_array<int8_t>(&rc, idx), dict));
  std::vector<ArrowArray> kids;
  kids.push_back(primitive_array<int64_t>(&rc, xs));
  cols.push_back(struct_array(&rc, 40, std::move(kids)));
  ScopedArray arr(make_array(&rc, 40, 0, 0, {nullopt}, std::move(cols)));
  p.consume_batch(*s, *arr);
  return p;
}

TEST(PartialProfile, SerializeRoundTripIsExact) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{250}}) {
    SCOPED_TRACE(n);
    const PartialProfile p = multi_column_profile(n, n + 1);
    const auto bytes = p.serialize();
    const PartialProfile back = PartialProfile::deserialize(bytes.data(), bytes.size());
    EXPECT_EQ(back.finalize_json(), p.finalize_json());
    EXPECT_EQ(back.serialize(), bytes);
    EXPECT_EQ(back.row_count(), p.row_count());
    EXPECT_EQ(back.column_names(), p.column_names());
    EXPECT_EQ(back.sources(), p.sources());
  }
  PartialProfile empty;
  const auto bytes = empty.serialize();
  EXPECT_EQ(PartialProfile::deserialize(bytes.data(), bytes.size()).finalize_json(),
            empty.finalize_json());
}

TEST(PartialProfile, DeserializedPartialsMergeLikeTheOriginals) {
  std::mt19937_64 rng(4);
  const Table t = random_table(rng, 200);
  PartialProfile direct = profile_of(t, 0, 120);
  direct.merge(profile_of(t, 120, 200));
  const auto a = profile_of(t, 0, 120).serialize();
  const auto b = profile_of(t, 120, 200).serialize();
  PartialProfile shipped = PartialProfile::deserialize(a.data(), a.size());
  shipped.merge(PartialProfile::deserialize(b.data(), b.size()));
  EXPECT_EQ(shipped.finalize_json(), direct.finalize_json());
}

TEST(PartialProfile, EveryTruncationThrowsCorruptProfileError) {
  const auto bytes = multi_column_profile(250, 42).serialize();
  ASSERT_GT(bytes.size(), 1000u);
  for (size_t k = 0; k < bytes.size(); ++k) {
    EXPECT_THROW(PartialProfile::deserialize(bytes.data(), k), CorruptProfileError)
        << "truncated to " << k;
  }
  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  EXPECT_THROW(PartialProfile::deserialize(longer.data(), longer.size()), CorruptProfileError);
}

// Re-frames `payload` with a valid header and checksum, so the payload readers themselves must
// catch what is wrong.
std::vector<uint8_t> frame(const std::vector<uint8_t>& original, const uint8_t* payload,
                           size_t len) {
  std::vector<uint8_t> out(original.begin(), original.begin() + 8);
  ByteWriter w;
  w.u64(len);
  w.raw(payload, len);
  w.u64(hash_bytes(payload, len));
  const auto& b = w.buffer();
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

TEST(PartialProfile, EveryPayloadTruncationBehindAValidChecksumThrowsCorruptProfileError) {
  const auto bytes = multi_column_profile(30, 43).serialize();
  const size_t payload_len = bytes.size() - 24;
  const uint8_t* payload = bytes.data() + 16;
  ASSERT_EQ(frame(bytes, payload, payload_len), bytes);
  for (size_t k = 0; k < payload_len; ++k) {
    const auto b = frame(bytes, payload, k);
    EXPECT_THROW(PartialProfile::deserialize(b.data(), b.size()), CorruptProfileError)
        << "payload cut at " << k;
  }
}

TEST(PartialProfile, RandomCorruptionsAreCaught) {
  const auto bytes = multi_column_profile(250, 44).serialize();
  std::mt19937_64 rng(12345);
  int trials = 0, rejected = 0;
  auto attempt = [&](const std::vector<uint8_t>& b) {
    ++trials;
    try {
      const PartialProfile p = PartialProfile::deserialize(b.data(), b.size());
      (void)p.finalize_json();
    } catch (const CorruptProfileError&) {
      ++rejected;
    }
  };
  for (int t = 0; t < 2000; ++t) {
    auto b = bytes;
    b[rng() % b.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    attempt(b);
  }
  for (int t = 0; t < 300; ++t) {
    auto b = bytes;
    const size_t at = rng() % b.size();
    const size_t len = 2 + rng() % 16;
    for (size_t k = at; k < std::min(b.size(), at + len); ++k) b[k] = static_cast<uint8_t>(rng());
    attempt(b);
  }
  EXPECT_GE(rejected, trials * 99 / 100) << rejected << " of " << trials << " corruptions rejected";
}

TEST(PartialProfile, CorruptPayloadBehindAValidChecksumThrowsOrFinalizes) {
  // The checksum is not a defence against a deliberately forged payload: the readers must stay
  // in bounds and fail with CorruptProfileError (any other exception, or a crash, fails).
  const auto bytes = multi_column_profile(60, 45).serialize();
  const size_t payload_len = bytes.size() - 24;
  std::mt19937_64 rng(777);
  int rejected = 0;
  const int trials = 2500;
  for (int t = 0; t < trials; ++t) {
    std::vector<uint8_t> payload(bytes.begin() + 16,
                                 bytes.begin() + 16 + static_cast<long>(payload_len));
    const int flips = t < 2000 ? 1 : 2 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      const size_t at = rng() % payload.size();
      if (rng() % 3 == 0) {
        payload[at] = 0xFF;  // large counts and lengths
      } else {
        payload[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
      }
    }
    const auto b = frame(bytes, payload.data(), payload.size());
    try {
      const PartialProfile p = PartialProfile::deserialize(b.data(), b.size());
      const std::string j = p.finalize_json();
      EXPECT_NO_THROW(json::parse(j)) << "corruption " << t << " finalized to invalid JSON";
    } catch (const CorruptProfileError&) {
      ++rejected;
    }
  }
  RecordProperty("rejected", rejected);
}

// One int64 (format "l") or uint64 ("L") column, consumed in batches of 3,000 rows.
template <typename T>
PartialProfile integer_column(const std::vector<T>& values, const char* format) {
  PartialProfile p;
  ReleaseCounter rc;
  ScopedSchema s(struct_schema({field("id", format)}));
  for (size_t b = 0; b < values.size(); b += 3000) {
    Opt<T> batch(values.begin() + static_cast<long>(b),
                 values.begin() + static_cast<long>(std::min(values.size(), b + 3000)));
    std::vector<ArrowArray> cols;
    cols.push_back(primitive_array<T>(&rc, batch));
    ScopedArray a(
        make_array(&rc, static_cast<int64_t>(batch.size()), 0, 0, {nullopt}, std::move(cols)));
    p.consume_batch(*s, *a);
  }
  return p;
}

TEST(PartialProfile, SequentialUniqueIntegersAreIdentifiersPastTheExactDistinctLimit) {
  auto inferred = [](const PartialProfile& p) {
    return column(fin(p), "id")["inferred_type"].str();
  };
  std::vector<int64_t> ids(20000);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>(i) + 2007;
  std::mt19937_64 rng(3);
  std::shuffle(ids.begin(), ids.end(), rng);  // any order
  const PartialProfile p = integer_column(ids, "l");
  EXPECT_FALSE(column(fin(p), "id")["is_unique"].b);  // not provable from the sketch
  EXPECT_EQ(inferred(p), "identifier");
  // the same after a merge of two halves, and for unsigned and negative ranges
  PartialProfile a = integer_column(std::vector<int64_t>(ids.begin(), ids.begin() + 9000), "l");
  a.merge(integer_column(std::vector<int64_t>(ids.begin() + 9000, ids.end()), "l"));
  EXPECT_EQ(inferred(a), "identifier");
  std::vector<uint64_t> uids(20000);
  for (size_t i = 0; i < uids.size(); ++i) uids[i] = UINT64_MAX - i;
  EXPECT_EQ(inferred(integer_column(uids, "L")), "identifier");
  std::vector<int64_t> negative(20000);
  for (size_t i = 0; i < negative.size(); ++i) negative[i] = INT64_MIN + static_cast<int64_t>(i);
  EXPECT_EQ(inferred(integer_column(negative, "l")), "identifier");
  // Not sequential: every value twice (half the range), every value once but spread out, the
  // range one short (a repeated maximum), one value far out.
  std::vector<int64_t> twice(20000), spread(20000);
  for (size_t i = 0; i < twice.size(); ++i) {
    twice[i] = static_cast<int64_t>(i / 2);
    spread[i] = static_cast<int64_t>(i) * 7;
  }
  auto short_range = ids;
  for (auto& v : short_range) v = v == 2007 ? 2008 : v;
  auto far_out = ids;
  far_out[0] = int64_t{1} << 40;
  for (const auto* v : {&twice, &spread, &short_range, &far_out}) {
    const PartialProfile q = integer_column(*v, "l");
    if (column(fin(q), "id")["is_unique"].b) continue;  // the sketch's estimate hit n exactly
    EXPECT_EQ(inferred(q), "integer");
  }
  // Small columns: unique (exact) or not, as before.
  EXPECT_EQ(inferred(integer_column(std::vector<int64_t>{5, 3, 4, 6, 7, 8, 9, 10, 11, 12}, "l")),
            "identifier");
  EXPECT_EQ(inferred(integer_column(std::vector<int64_t>{5, 3, 4, 6, 7, 8, 9, 10, 11}, "l")),
            "integer");  // fewer than 10 values
}

// A decimal column whose serialized scale is forged behind a valid checksum: INT32_MIN reached
// `-scale` (undefined behaviour) at finalize, INT32_MAX looped 2^31 times.
TEST(PartialProfile, ForgedDecimalScaleIsRejected) {
  ReleaseCounter rc;
  PartialProfile p;
  {
    ScopedSchema s(struct_schema({field("price", "d:10,2,64")}));
    std::vector<ArrowArray> cols;
    cols.push_back(primitive_array<int64_t>(&rc, Opt<int64_t>{1250, -7, nullopt, 99}));
    ScopedArray a(make_array(&rc, 4, 0, 0, {nullopt}, std::move(cols)));
    p.consume_batch(*s, *a);
  }
  const auto bytes = p.serialize();
  // The column's DataType as serialized: id, unit, time zone, then width, precision, scale.
  ByteWriter type;
  type.u8(static_cast<uint8_t>(TypeId::kDecimal));
  type.u8(0);
  type.str("");
  type.put<int32_t>(64);
  type.put<int32_t>(10);
  type.put<int32_t>(2);
  const auto& needle = type.buffer();
  const auto it = std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end());
  ASSERT_NE(it, bytes.end());
  const size_t scale_at = static_cast<size_t>(it - bytes.begin()) + needle.size() - 4;
  for (int32_t scale : {INT32_MIN, INT32_MAX, -129, 128}) {
    SCOPED_TRACE(scale);
    std::vector<uint8_t> payload(bytes.begin() + 16, bytes.end() - 8);
    std::memcpy(payload.data() + scale_at - 16, &scale, 4);
    const auto b = frame(bytes, payload.data(), payload.size());
    expect_throws<CorruptProfileError>([&] { PartialProfile::deserialize(b.data(), b.size()); },
                                       {"scale", std::to_string(scale)});
  }
  // The unforged bytes still load and print the scale-2 values.
  const Value back = fin(PartialProfile::deserialize(bytes.data(), bytes.size()));
  EXPECT_EQ(column(back, "price")["min"].str(), "-0.07");
  EXPECT_EQ(column(back, "price")["max"].str(), "12.50");
}

TEST(PartialProfile, WrongMagicOrVersionIsRejectedSayingSo) {
  const auto bytes = multi_column_profile(10, 46).serialize();
  {
    auto b = bytes;
    b[0] = 'X';
    try {
      PartialProfile::deserialize(b.data(), b.size());
      FAIL();
    } catch (const CorruptProfileError& e) {
      EXPECT_NE(std::string(e.what()).find("magic"), std::string::npos) << e.what();
    }
  }
  {
    auto b = bytes;
    b[4] = PartialProfile::kFormatVersion + 1;
    try {
      PartialProfile::deserialize(b.data(), b.size());
      FAIL();
    } catch (const CorruptProfileError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("version"), std::string::npos) << m;
      EXPECT_NE(m.find(std::to_string(PartialProfile::kFormatVersion + 1)), std::string::npos) << m;
    }
  }
  {
    auto b = bytes;
    b[20] ^= 1;  // inside the payload
    try {
      PartialProfile::deserialize(b.data(), b.size());
      FAIL();
    } catch (const CorruptProfileError& e) {
      EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(PartialProfile::deserialize(nullptr, 0), CorruptProfileError);
}

TEST(PartialProfile, VersionFourLoadsWithDefaultAlertThresholds) {
  ProfileOptions o;
  o.alerts.zeros = 0.75;
  PartialProfile p(o);
  p.merge(multi_column_profile(250, 48));
  const auto b = as_old_format(p.serialize(), PartialProfile::kFormatVersionUnpacked);
  const PartialProfile old = PartialProfile::deserialize(b.data(), b.size());
  EXPECT_EQ(old.options().alerts.zeros, AlertThresholds{}.zeros);
  EXPECT_EQ(fin(old)["columns"].dump(), fin(p)["columns"].dump());
}

TEST(PartialProfile, VersionFourLoadsIntoTheSameState) {
  const PartialProfile p = multi_column_profile(3000, 49);
  const auto b = as_old_format(p.serialize(), PartialProfile::kFormatVersionUnpacked);
  const PartialProfile old = PartialProfile::deserialize(b.data(), b.size());
  EXPECT_EQ(old.serialize(), p.serialize());
}

TEST(PartialProfile, VersionTwoLoadsWithDuplicatesUnavailable) {
  const PartialProfile p = multi_column_profile(250, 48);
  auto b = as_old_format(p.serialize(), PartialProfile::kFormatVersionOldRowHashes);
  const PartialProfile old = PartialProfile::deserialize(b.data(), b.size());
  const auto now = fin(p), then = fin(old);
  EXPECT_FALSE(now["duplicate_row_count"].is_null());
  EXPECT_TRUE(then["duplicate_row_count"].is_null());
  EXPECT_EQ(then["row_count"].num(), now["row_count"].num());
  PartialProfile merged = PartialProfile::deserialize(b.data(), b.size());
  merged.merge(p);
  EXPECT_TRUE(fin(merged)["duplicate_row_count"].is_null());
  EXPECT_EQ(fin(merged)["row_count"].num(), 2 * now["row_count"].num());
  b[4] = 1;
  EXPECT_THROW(PartialProfile::deserialize(b.data(), b.size()), CorruptProfileError);
}

TEST(PartialProfile, HeaderLayoutIsAsDocumented) {
  const auto bytes = multi_column_profile(10, 47).serialize();
  ASSERT_GE(bytes.size(), 24u);
  EXPECT_EQ(std::memcmp(bytes.data(), "THPP", 4), 0);
  EXPECT_EQ(bytes[4], PartialProfile::kFormatVersion);
  EXPECT_EQ(bytes[5] | bytes[6] | bytes[7], 0);
  uint64_t len = 0;
  std::memcpy(&len, bytes.data() + 8, 8);
  EXPECT_EQ(len, bytes.size() - 24);
  uint64_t sum = 0;
  std::memcpy(&sum, bytes.data() + bytes.size() - 8, 8);
  EXPECT_EQ(sum, hash_bytes(bytes.data() + 16, len));
}

}  // namespace
}  // namespace truthound
