// Specification of how PartialProfile imports Arrow data over the C Data Interface
// (cpp/include/truthound/profile/partial.hpp, cpp/include/truthound/arrow/c_abi.hpp):
// slices and validity, malformed input, streams, and who releases what.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "arrow_builders.hpp"
#include "truthound/profile/partial.hpp"
#include "truthound/util/error.hpp"

namespace truthound {
namespace {

using namespace truthound::testing;
using json::Value;
using std::nullopt;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// ---------------------------------------------------------------- the known batch (13 rows)

const Opt<int64_t> kI = {5, nullopt, -7, 12, 0, nullopt, 3, 3, 100, -2, nullopt, 8, 1};
const Opt<double> kD = {1.5,     kNaN,  nullopt, kInf, -2.25,   0.0, 4.0,
                        nullopt, -kInf, 10.0,    2.5,  nullopt, 0.5};
const Opt<std::string> kS = {
    "apple", nullopt,   "", "h\xc3\xa9llo",           "zebra", "b",  nullopt,
    "apple", "x@y.com", "", "\xc3\xb1\x61nd\xc3\xba", "Zed",   "mid"};
const Opt<bool> kB = {true, false, nullopt, true, true, nullopt, false,
                      true, false, nullopt, true, true, false};
const Opt<int32_t> kDate = {18262, nullopt, 0, 19723, -1, 18262, nullopt, 1, 2, 3, 4, 5, 6};
const Opt<std::string> kDict = {"red", "green", nullopt, "blue"};
const Opt<int32_t> kIdx = {0, 1, 3, nullopt, 0, 0, 2, 1, 3, 3, nullopt, 0, 1};  // 2 -> a null value
const std::vector<bool> kNestedValid = {1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1};
const Opt<int64_t> kX = {1, 2, 3, nullopt, 5, 6, 7, 8, 9, 10, 11, 12, 13};  // rows 2, 6, 11 masked
const Opt<std::string> kY = {
    "a",   "bb", "IGNORED-MASKED-xxxxxxxxxxxxxxxxx", "ccc", "d", "ee", "zzzzzzzz-masked", "f", "gg",
    "hhh", "i",  "~~~~~~~~~~~~~~~~~~~~masked",       "k"};
const Opt<int32_t> kNb = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};

SchemaSpec known_schema() {
  return struct_schema({
      field("i", "l"),
      field("d", "g"),
      field("s", "u"),
      field("b", "b"),
      field("dt", "tdD"),
      dict_field("cat", "i", field("", "u")),
      field("nested", "+s", {field("x", "l"), field("y", "u")}),
      field("nb", "i"),
  });
}

// Offsets of every array of the known batch.
struct Offsets {
  int64_t root, i, d, s, b, dt, idx, dict, nested, x, y, nb;
};

ArrowArray known_batch(ReleaseCounter* rc, const Offsets& o) {
  const int64_t n = 13;
  const int64_t shift = o.root;  // children of the batch see the batch's offset
  std::vector<ArrowArray> cols;
  cols.push_back(primitive_array<int64_t>(rc, kI, {o.i, shift, true, false}, INT64_MIN));
  cols.push_back(primitive_array<double>(rc, kD, {o.d, shift, true, true}, 1e308));
  cols.push_back(string_array(rc, kS, {o.s, shift}));
  cols.push_back(bool_array(rc, kB, {o.b, shift}));
  cols.push_back(primitive_array<int32_t>(rc, kDate, {o.dt, shift}, INT32_MIN));
  {
    ArrowArray dict = string_array(rc, kDict, {o.dict, 0});
    ArrowArray idx =
        primitive_array<int32_t>(rc, kIdx, {o.idx, shift}, 1000000);  // null index out of range
    cols.push_back(with_dictionary(idx, dict));
  }
  {
    const int64_t inner = o.nested + shift;
    std::vector<ArrowArray> kids;
    kids.push_back(primitive_array<int64_t>(rc, kX, {o.x, inner}));
    kids.push_back(string_array(rc, kY, {o.y, inner, /*bitmap=*/false}));
    cols.push_back(struct_array(rc, n, std::move(kids), &kNestedValid, {o.nested, shift}));
  }
  cols.push_back(primitive_array<int32_t>(rc, kNb, {o.nb, shift, /*bitmap=*/false}));
  return make_array(rc, n, o.root, 0, {nullopt}, std::move(cols));
}

Value profile_json(const PartialProfile& p) {
  return json::parse(p.finalize_json());
}

void expect_known_profile(const Value& v) {
  EXPECT_EQ(v["row_count"].num(), 13);
  EXPECT_EQ(v["column_count"].num(), 9);
  EXPECT_EQ(v["duplicate_row_count"].num(), 0);

  const Value i = json::column(v, "i");
  EXPECT_EQ(i["physical_type"].str(), "int64");
  EXPECT_EQ(i["row_count"].num(), 13);
  EXPECT_EQ(i["null_count"].num(), 3);
  EXPECT_EQ(i["min"].num(), -7);
  EXPECT_EQ(i["max"].num(), 100);
  EXPECT_EQ(i["zero_count"].num(), 1);
  EXPECT_EQ(i["negative_count"].num(), 2);
  EXPECT_EQ(i["distinct_count"].num(), 9);
  EXPECT_DOUBLE_EQ(i["mean"].num(), 12.3);

  const Value d = json::column(v, "d");
  EXPECT_EQ(d["null_count"].num(), 3);
  EXPECT_EQ(d["nan_count"].num(), 1);
  EXPECT_EQ(d["inf_count"].num(), 2);
  EXPECT_EQ(d["min"].num(), -2.25);
  EXPECT_EQ(d["max"].num(), 10.0);
  EXPECT_EQ(d["zero_count"].num(), 1);
  EXPECT_EQ(d["negative_count"].num(), 1);
  EXPECT_DOUBLE_EQ(d["mean"].num(), 16.25 / 7);

  const Value s = json::column(v, "s");
  EXPECT_EQ(s["physical_type"].str(), "string");
  EXPECT_EQ(s["null_count"].num(), 2);
  EXPECT_EQ(s["empty_string_count"].num(), 2);
  EXPECT_EQ(s["min"].str(), "");
  EXPECT_EQ(s["max"].str(), "\xc3\xb1\x61nd\xc3\xba");
  EXPECT_EQ(s["min_length"].num(), 0);
  EXPECT_EQ(s["max_length"].num(), 7);
  EXPECT_DOUBLE_EQ(s["avg_length"].num(), 39.0 / 11);
  EXPECT_EQ(s["distinct_count"].num(), 9);
  // "apple" and "" both occur twice: either may come first
  std::set<std::string> top2 = {s["top_values"][0]["value"].str(),
                                s["top_values"][1]["value"].str()};
  EXPECT_EQ(top2, (std::set<std::string>{"apple", ""}));
  EXPECT_EQ(s["top_values"][0]["count"].num(), 2);
  EXPECT_EQ(s["top_values"][1]["count"].num(), 2);
  EXPECT_EQ(s["top_values"][2]["count"].num(), 1);

  const Value b = json::column(v, "b");
  EXPECT_EQ(b["null_count"].num(), 3);
  EXPECT_EQ(b["true_count"].num(), 6);
  EXPECT_EQ(b["false_count"].num(), 4);

  const Value dt = json::column(v, "dt");
  EXPECT_EQ(dt["physical_type"].str(), "date32[day]");
  EXPECT_EQ(dt["null_count"].num(), 2);
  EXPECT_EQ(dt["min"].str(), "1969-12-31");
  EXPECT_EQ(dt["max"].str(), "2024-01-01");
  EXPECT_EQ(dt["min_date"].str(), "1969-12-31");
  EXPECT_EQ(dt["max_date"].str(), "2024-01-01");

  const Value cat = json::column(v, "cat");
  EXPECT_EQ(cat["physical_type"].str(), "dictionary<values=string, indices=int32, ordered=0>");
  EXPECT_EQ(cat["null_count"].num(), 3);  // two null indices, one index to a null value
  EXPECT_EQ(cat["min"].str(), "blue");
  EXPECT_EQ(cat["max"].str(), "red");
  EXPECT_EQ(cat["distinct_count"].num(), 3);
  EXPECT_EQ(cat["top_values"][0]["value"].str(), "red");
  EXPECT_EQ(cat["top_values"][0]["count"].num(), 4);
  EXPECT_EQ(cat["min_length"].num(), 3);
  EXPECT_EQ(cat["max_length"].num(), 5);

  const Value x = json::column(v, "nested.x");
  EXPECT_EQ(x["null_count"].num(), 4);  // three masked by the struct, one of its own
  EXPECT_EQ(x["min"].num(), 1);
  EXPECT_EQ(x["max"].num(), 13);
  EXPECT_EQ(x["distinct_count"].num(), 9);

  const Value y = json::column(v, "nested.y");
  EXPECT_EQ(y["null_count"].num(), 3);
  EXPECT_EQ(y["min"].str(), "a");
  EXPECT_EQ(y["max"].str(), "k");
  EXPECT_EQ(y["min_length"].num(), 1);
  EXPECT_EQ(y["max_length"].num(), 3);
  EXPECT_DOUBLE_EQ(y["avg_length"].num(), 17.0 / 10);

  const Value nb = json::column(v, "nb");
  EXPECT_EQ(nb["physical_type"].str(), "int32");
  EXPECT_EQ(nb["null_count"].num(), 0);
  EXPECT_EQ(nb["min"].num(), 1);
  EXPECT_EQ(nb["max"].num(), 13);
}

TEST(ArrowImport, KnownBatchWithoutOffsetsGivesHandComputedStatistics) {
  ReleaseCounter rc;
  {
    ScopedSchema schema(known_schema());
    ScopedArray batch(known_batch(&rc, Offsets{}));
    PartialProfile p;
    p.consume_batch(*schema, *batch);
    expect_known_profile(profile_json(p));
  }
  EXPECT_TRUE(rc.balanced()) << rc.created << " created, " << rc.released << " released";
}

TEST(ArrowImport, SlicedBatchAndChildrenGiveHandComputedStatistics) {
  const Offsets configs[] = {
      {3, 5, 0, 11, 7, 2, 4, 1, 6, 1, 9, 9},      // odd offsets everywhere
      {8, 8, 16, 8, 0, 24, 8, 8, 8, 16, 0, 8},    // multiples of 8
      {13, 1, 63, 64, 65, 7, 3, 2, 5, 70, 3, 1},  // crossing 64-bit words
      {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12},    // only children sliced
      {5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},       // only the batch sliced
  };
  for (const auto& o : configs) {
    SCOPED_TRACE("root offset " + std::to_string(o.root) + ", nested offset " +
                 std::to_string(o.nested));
    ReleaseCounter rc;
    {
      ScopedSchema schema(known_schema());
      ScopedArray batch(known_batch(&rc, o));
      PartialProfile p;
      p.consume_batch(*schema, *batch);
      expect_known_profile(profile_json(p));
    }
    EXPECT_TRUE(rc.balanced());
  }
}

TEST(ArrowImport, UnknownNullCountIsComputedFromTheBitmap) {
  ReleaseCounter rc;
  ScopedSchema schema(struct_schema({field("i", "l")}));
  std::vector<ArrowArray> cols;
  cols.push_back(primitive_array<int64_t>(&rc, kI, {3, 0, true, /*unknown_null_count=*/true}));
  ScopedArray batch(make_array(&rc, 13, 0, 0, {nullopt}, std::move(cols)));
  PartialProfile p;
  p.consume_batch(*schema, *batch);
  const Value i = json::column(profile_json(p), "i");
  EXPECT_EQ(i["null_count"].num(), 3);
  EXPECT_EQ(i["min"].num(), -7);
}

TEST(ArrowImport, ArraysWithoutValidityBufferHaveNoNulls) {
  ReleaseCounter rc;
  ScopedSchema schema(struct_schema({field("i", "l"), field("s", "u"), field("b", "b")}));
  const Opt<int64_t> ints = {4, -1, 9, 2, 2, 0, 7, 3, 8, 1, 6};
  const Opt<std::string> strs = {"aa", "b", "", "dddd", "b", "cc", "e", "ff", "g", "hh", "i"};
  const Opt<bool> bools = {true, true, false, true, false, false, true, true, true, false, true};
  std::vector<ArrowArray> cols;
  cols.push_back(primitive_array<int64_t>(&rc, ints, {5, 0, false}));
  cols.push_back(string_array(&rc, strs, {3, 0, false}));
  cols.push_back(bool_array(&rc, bools, {6, 0, false}));
  ScopedArray batch(make_array(&rc, 11, 0, 0, {nullopt}, std::move(cols)));
  // and the same arrays with n_buffers pointing at a null validity pointer, null_count 0
  ASSERT_EQ(batch->children[0]->buffers[0], nullptr);
  PartialProfile p;
  p.consume_batch(*schema, *batch);
  const Value v = profile_json(p);
  const Value i = json::column(v, "i");
  EXPECT_EQ(i["null_count"].num(), 0);
  EXPECT_EQ(i["min"].num(), -1);
  EXPECT_EQ(i["max"].num(), 9);
  const Value s = json::column(v, "s");
  EXPECT_EQ(s["null_count"].num(), 0);
  EXPECT_EQ(s["min"].str(), "");
  EXPECT_EQ(s["max"].str(), "i");
  EXPECT_EQ(s["max_length"].num(), 4);
  EXPECT_EQ(s["empty_string_count"].num(), 1);
  const Value b = json::column(v, "b");
  EXPECT_EQ(b["true_count"].num(), 7);
  EXPECT_EQ(b["false_count"].num(), 4);
  EXPECT_EQ(v["duplicate_row_count"].num(), 0);
}

TEST(ArrowImport, NullCountZeroMeansTheBitmapIsNotRead) {
  // The spec allows a producer to leave a garbage bitmap when null_count == 0.
  ReleaseCounter rc;
  ScopedSchema schema(struct_schema({field("i", "l")}));
  std::vector<ArrowArray> cols;
  const Opt<int64_t> ints = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  cols.push_back(primitive_array<int64_t>(&rc, ints, {2, 0, true}));
  auto* bits = const_cast<uint8_t*>(static_cast<const uint8_t*>(cols[0].buffers[0]));
  bits[0] = bits[1] = 0;  // "all null" garbage
  cols[0].null_count = 0;
  ScopedArray batch(make_array(&rc, 9, 0, 0, {nullopt}, std::move(cols)));
  PartialProfile p;
  p.consume_batch(*schema, *batch);
  EXPECT_EQ(json::column(profile_json(p), "i")["null_count"].num(), 0);
}

TEST(ArrowImport, DuplicateRowsAcrossSlicedColumnsAreCountedExactly) {
  ReleaseCounter rc;
  ScopedSchema schema(struct_schema({field("i", "l"), field("s", "u")}));
  // rows: (1,a) (2,b) (1,a) (null,a) (null,a) (1,null) (1,null) (2,b) (3,c) (1,a)
  const Opt<int64_t> ints = {1, 2, 1, nullopt, nullopt, 1, 1, 2, 3, 1};
  const Opt<std::string> strs = {"a", "b", "a", "a", "a", nullopt, nullopt, "b", "c", "a"};
  std::vector<ArrowArray> cols;
  cols.push_back(primitive_array<int64_t>(&rc, ints, {3, 7}));
  cols.push_back(string_array(&rc, strs, {9, 7}));
  ScopedArray batch(make_array(&rc, 10, 7, 0, {nullopt}, std::move(cols)));
  PartialProfile p;
  p.consume_batch(*schema, *batch);
  const Value v = profile_json(p);
  // distinct rows: (1,a) (2,b) (null,a) (1,null) (3,c) -> 5 of 10
  EXPECT_EQ(v["duplicate_row_count"].num(), 5);
  EXPECT_FALSE(v["duplicate_rows_approximate"].b);
}

// ---------------------------------------------------------------- malformed input

struct Case {
  std::string name;
  SchemaSpec schema;
  std::function<ArrowArray(ReleaseCounter*)> batch;
};

ArrowArray one_column_batch(ReleaseCounter* rc, ArrowArray col, int64_t n) {
  std::vector<ArrowArray> cols;
  cols.push_back(col);
  return make_array(rc, n, 0, 0, {nullopt}, std::move(cols));
}

std::vector<Case> malformed_cases() {
  const Opt<int64_t> ints = {1, 2, nullopt, 4, 5};
  const Opt<std::string> strs = {"a", nullopt, "ccc", "d", "e"};
  std::vector<Case> cases;
  auto int_col = [ints](ReleaseCounter* rc) { return primitive_array<int64_t>(rc, ints, {1, 0}); };
  auto str_col = [strs](ReleaseCounter* rc) { return string_array(rc, strs, {1, 0}); };
  auto dict_col = [](ReleaseCounter* rc, Opt<int32_t> idx) {
    return with_dictionary(primitive_array<int32_t>(rc, idx, {2, 0}),
                           string_array(rc, {"x", "y", "z"}, {0, 0, false}));
  };
  const SchemaSpec int_schema = struct_schema({field("c", "l")});
  const SchemaSpec str_schema = struct_schema({field("c", "u")});
  const SchemaSpec dict_schema = struct_schema({dict_field("c", "i", field("", "u"))});

  cases.push_back({"missing data buffer", int_schema, [=](ReleaseCounter* rc) {
                     ArrowArray c = int_col(rc);
                     c.buffers[1] = nullptr;
                     return one_column_batch(rc, c, 5);
                   }});
  cases.push_back({"too few buffers", int_schema, [=](ReleaseCounter* rc) {
                     ArrowArray c = int_col(rc);
                     c.n_buffers = 1;
                     return one_column_batch(rc, c, 5);
                   }});
  cases.push_back({"null buffers array", int_schema, [=](ReleaseCounter* rc) {
                     ArrowArray c = int_col(rc);
                     c.buffers = nullptr;
                     c.null_count = 0;
                     return one_column_batch(rc, c, 5);
                   }});
  cases.push_back({"missing string offsets", str_schema, [=](ReleaseCounter* rc) {
                     ArrowArray c = str_col(rc);
                     c.buffers[1] = nullptr;
                     return one_column_batch(rc, c, 5);
                   }});
  cases.push_back(
      {"missing bool values", struct_schema({field("c", "b")}), [=](ReleaseCounter* rc) {
         ArrowArray c = bool_array(rc, {true, false, nullopt, true, true}, {0, 0});
         c.n_buffers = 1;
         return one_column_batch(rc, c, 5);
       }});
  cases.push_back({"dictionary index out of range", dict_schema, [=](ReleaseCounter* rc) {
                     return one_column_batch(rc, dict_col(rc, {0, 1, nullopt, 3, 2}), 5);
                   }});
  cases.push_back({"negative dictionary index", dict_schema, [=](ReleaseCounter* rc) {
                     return one_column_batch(rc, dict_col(rc, {0, -1, 2, 1, 0}), 5);
                   }});
  cases.push_back({"dictionary array without dictionary", dict_schema, [=](ReleaseCounter* rc) {
                     ArrowArray a = dict_col(rc, {0, 1, 2, 1, 0});
                     a.dictionary = nullptr;  // still owned (and released) by its private data
                     return one_column_batch(rc, a, 5);
                   }});
  cases.push_back({"dictionary with null buffers array", dict_schema, [=](ReleaseCounter* rc) {
                     ArrowArray a = dict_col(rc, {0, 1, 2, 1, 0});
                     a.dictionary->buffers = nullptr;
                     a.dictionary->null_count = 1;
                     return one_column_batch(rc, a, 5);
                   }});
  cases.push_back({"dictionary with negative offset", dict_schema, [=](ReleaseCounter* rc) {
                     ArrowArray a = dict_col(rc, {0, 1, 2, 1, 0});
                     a.dictionary->offset = -64;
                     a.dictionary->null_count = 1;
                     return one_column_batch(rc, a, 5);
                   }});
  cases.push_back({"dictionary with negative length", dict_schema, [=](ReleaseCounter* rc) {
                     ArrowArray a = dict_col(rc, {0, 1, 2, 1, 0});
                     a.dictionary->length = -1;
                     return one_column_batch(rc, a, 5);
                   }});
  cases.push_back({"nested struct with negative offset",
                   struct_schema({field("n", "+s", {field("a", "l")})}), [=](ReleaseCounter* rc) {
                     std::vector<ArrowArray> kids;
                     kids.push_back(int_col(rc));
                     const std::vector<bool> valid = {1, 0, 1, 1, 1};
                     ArrowArray st = struct_array(rc, 5, std::move(kids), &valid);
                     st.offset = -16;
                     return one_column_batch(rc, st, 5);
                   }});
  cases.push_back({"nested struct with negative length",
                   struct_schema({field("n", "+s", {field("a", "l")})}), [=](ReleaseCounter* rc) {
                     std::vector<ArrowArray> kids;
                     kids.push_back(int_col(rc));
                     ArrowArray st = struct_array(rc, 5, std::move(kids));
                     st.length = -1;
                     return one_column_batch(rc, st, 5);
                   }});
  cases.push_back({"batch offset + length overflows", int_schema, [=](ReleaseCounter* rc) {
                     ArrowArray b = one_column_batch(rc, int_col(rc), 5);
                     b.offset = INT64_MAX - 2;
                     return b;
                   }});
  cases.push_back({"batch has fewer children than schema",
                   struct_schema({field("c", "l"), field("d", "l")}),
                   [=](ReleaseCounter* rc) { return one_column_batch(rc, int_col(rc), 5); }});
  cases.push_back({"batch has more children than schema", int_schema, [=](ReleaseCounter* rc) {
                     std::vector<ArrowArray> cols;
                     cols.push_back(int_col(rc));
                     cols.push_back(int_col(rc));
                     return make_array(rc, 5, 0, 0, {nullopt}, std::move(cols));
                   }});
  cases.push_back({"nested struct children mismatch",
                   struct_schema({field("n", "+s", {field("a", "l"), field("b", "l")})}),
                   [=](ReleaseCounter* rc) {
                     std::vector<ArrowArray> kids;
                     kids.push_back(int_col(rc));
                     return one_column_batch(rc, struct_array(rc, 5, std::move(kids)), 5);
                   }});
  cases.push_back({"children pointer missing", int_schema, [=](ReleaseCounter* rc) {
                     ArrowArray b = one_column_batch(rc, int_col(rc), 5);
                     b.children = nullptr;
                     return b;
                   }});
  cases.push_back({"null child", int_schema, [=](ReleaseCounter* rc) {
                     ArrowArray b = one_column_batch(rc, int_col(rc), 5);
                     static_cast<ArrayPrivate*>(b.private_data)->children[0]->length = 5;
                     b.children = new ArrowArray* [1] { nullptr };  // leaked into a holder below
                     static std::vector<std::unique_ptr<ArrowArray*[]>> holder;
                     holder.emplace_back(b.children);
                     return b;
                   }});
  cases.push_back({"negative batch length", int_schema, [=](ReleaseCounter* rc) {
                     ArrowArray b = one_column_batch(rc, int_col(rc), 5);
                     b.length = -1;
                     return b;
                   }});
  cases.push_back({"negative batch offset", int_schema, [=](ReleaseCounter* rc) {
                     ArrowArray b = one_column_batch(rc, int_col(rc), 5);
                     b.offset = -3;
                     return b;
                   }});
  cases.push_back({"negative column length", int_schema, [=](ReleaseCounter* rc) {
                     ArrowArray c = int_col(rc);
                     c.length = -5;
                     return one_column_batch(rc, c, 5);
                   }});
  cases.push_back({"negative column offset", int_schema, [=](ReleaseCounter* rc) {
                     ArrowArray c = int_col(rc);
                     c.offset = -1;
                     return one_column_batch(rc, c, 5);
                   }});
  cases.push_back({"column shorter than batch", int_schema, [=](ReleaseCounter* rc) {
                     ArrowArray c = int_col(rc);
                     c.length = 4;
                     return one_column_batch(rc, c, 5);
                   }});
  cases.push_back({"column shorter than sliced batch", int_schema, [=](ReleaseCounter* rc) {
                     ArrowArray b = one_column_batch(rc, int_col(rc), 4);
                     b.offset = 2;  // needs 6 child elements, the child has 5
                     return b;
                   }});
  cases.push_back({"unknown format string", struct_schema({field("c", "Q")}),
                   [=](ReleaseCounter* rc) { return one_column_batch(rc, int_col(rc), 5); }});
  cases.push_back(
      {"batch is not a struct", field("c", "l"), [=](ReleaseCounter* rc) { return int_col(rc); }});
  return cases;
}

TEST(ArrowImport, MalformedBatchesThrowArrowImportErrorAndNeverCrash) {
  for (const auto& c : malformed_cases()) {
    SCOPED_TRACE(c.name);
    ReleaseCounter rc;
    {
      ScopedSchema schema(c.schema);
      ScopedArray batch(c.batch(&rc));
      PartialProfile p;
      EXPECT_THROW(p.consume_batch(*schema, *batch), ArrowImportError);
    }
    EXPECT_TRUE(rc.balanced());
  }
}

TEST(ArrowImport, MalformedBatchErrorNamesTheColumn) {
  ReleaseCounter rc;
  ScopedSchema schema(struct_schema({field("price", "l")}));
  ArrowArray c = primitive_array<int64_t>(&rc, {1, 2, 3}, {0, 0});
  c.buffers[1] = nullptr;
  ScopedArray batch(one_column_batch(&rc, c, 3));
  PartialProfile p;
  expect_throws<ArrowImportError>([&] { p.consume_batch(*schema, *batch); }, {"price"});
}

TEST(ArrowImport, DictionaryIndexErrorSaysWhichIndex) {
  ReleaseCounter rc;
  ScopedSchema schema(struct_schema({dict_field("c", "s", field("", "u"))}));
  ArrowArray dict = string_array(&rc, {"x", "y"}, {0, 0, false});
  ArrowArray idx = with_dictionary(primitive_array<int16_t>(&rc, {0, 1, 7}, {3, 0}), dict);
  ScopedArray batch(one_column_batch(&rc, idx, 3));
  PartialProfile p;
  expect_throws<ArrowImportError>([&] { p.consume_batch(*schema, *batch); }, {"7"});
}

// ---------------------------------------------------------------- streams and release

ArrowArray small_batch(ReleaseCounter* rc, int64_t base, int64_t offset) {
  Opt<int64_t> ints;
  Opt<std::string> strs;
  for (int64_t i = 0; i < 10; ++i) {
    ints.push_back(i % 4 == 3 ? std::optional<int64_t>() : base + i);
    strs.push_back("v" + std::to_string(base + i));
  }
  std::vector<ArrowArray> cols;
  cols.push_back(primitive_array<int64_t>(rc, ints, {offset, offset}));
  cols.push_back(string_array(rc, strs, {1, offset}));
  return make_array(rc, 10, offset, 0, {nullopt}, std::move(cols));
}

SchemaSpec small_schema() {
  return struct_schema({field("i", "l"), field("s", "u")});
}

TEST(ArrowImport, StreamReleasesEveryBatchAndSchemaExactlyOnce) {
  ReleaseCounter arrays, schemas, streams;
  {
    std::vector<ArrowArray> batches;
    for (int b = 0; b < 4; ++b) batches.push_back(small_batch(&arrays, b * 10, b));
    ArrowArrayStream raw = make_stream(
        &streams, [&] { return export_schema(small_schema(), &schemas); }, std::move(batches));
    OwnedStream stream(&raw);
    PartialProfile p;
    p.consume_stream(*stream.get());
    EXPECT_EQ(p.row_count(), 40u);
    // the engine released the batches and the schema it took; the stream is still ours
    EXPECT_TRUE(arrays.balanced())
        << arrays.created << " created, " << arrays.released << " released";
    EXPECT_EQ(schemas.created, 1 + 2);  // one get_schema: the struct and its two children
    EXPECT_EQ(schemas.released, 1 + 2);
    EXPECT_FALSE(stream.is_released());
    EXPECT_EQ(streams.released, 0);
    const Value v = profile_json(p);
    const Value i = json::column(v, "i");
    EXPECT_EQ(i["null_count"].num(), 8);  // rows 3 and 7 of each batch
    EXPECT_EQ(i["min"].num(), 0);
    EXPECT_EQ(i["max"].num(), 39);
    EXPECT_EQ(json::column(v, "s")["distinct_count"].num(), 40);
  }
  EXPECT_EQ(streams.created, 1);
  EXPECT_EQ(streams.released, 1);
}

TEST(ArrowImport, StreamGetNextFailureReportsTheStreamsErrorText) {
  ReleaseCounter arrays, schemas, streams;
  {
    std::vector<ArrowArray> batches;
    for (int b = 0; b < 3; ++b) batches.push_back(small_batch(&arrays, b * 10, 0));
    ArrowArrayStream raw = make_stream(
        &streams, [&] { return export_schema(small_schema(), &schemas); }, std::move(batches),
        /*fail_at=*/1);
    OwnedStream stream(&raw);
    PartialProfile p;
    expect_throws<ArrowImportError>([&] { p.consume_stream(*stream.get()); },
                                    {"disk on fire while reading batch 1"});
    EXPECT_TRUE(schemas.balanced());
    EXPECT_EQ(arrays.released,
              3);  // batch 0 (struct + 2 children); batches 1 and 2 are the stream's
  }
  EXPECT_TRUE(arrays.balanced());
  EXPECT_EQ(streams.released, 1);
}

TEST(ArrowImport, StreamGetSchemaFailureReportsTheStreamsErrorText) {
  ReleaseCounter arrays, schemas, streams;
  {
    std::vector<ArrowArray> batches;
    batches.push_back(small_batch(&arrays, 0, 0));
    ArrowArrayStream raw = make_stream(
        &streams, [&] { return export_schema(small_schema(), &schemas); }, std::move(batches), -1,
        /*schema_error=*/22);
    OwnedStream stream(&raw);
    PartialProfile p;
    expect_throws<ArrowImportError>([&] { p.consume_stream(*stream.get()); },
                                    {"schema unavailable"});
  }
  EXPECT_TRUE(arrays.balanced());
  EXPECT_TRUE(schemas.balanced());
  EXPECT_EQ(streams.released, 1);
}

TEST(ArrowImport, StreamWithMalformedBatchReleasesEverything) {
  ReleaseCounter arrays, schemas, streams;
  {
    std::vector<ArrowArray> batches;
    batches.push_back(small_batch(&arrays, 0, 0));
    ArrowArray bad = small_batch(&arrays, 10, 3);
    static_cast<ArrayPrivate*>(bad.private_data)->children[0]->buffers[1] = nullptr;
    batches.push_back(bad);
    batches.push_back(small_batch(&arrays, 20, 0));
    ArrowArrayStream raw = make_stream(
        &streams, [&] { return export_schema(small_schema(), &schemas); }, std::move(batches));
    OwnedStream stream(&raw);
    PartialProfile p;
    EXPECT_THROW(p.consume_stream(*stream.get()), ArrowImportError);
    EXPECT_TRUE(schemas.balanced());
    EXPECT_EQ(arrays.released, 6);  // the two batches handed over, each released once
  }
  EXPECT_TRUE(arrays.balanced());
  EXPECT_EQ(streams.released, 1);
}

TEST(ArrowImport, AlreadyReleasedStreamIsRejected) {
  ArrowArrayStream s{};
  s.release = nullptr;
  PartialProfile p;
  EXPECT_THROW(p.consume_stream(s), ArrowImportError);
}

TEST(ArrowImport, OwnedReleasesOnceAndMoveMarksSourceReleased) {
  ReleaseCounter rc;
  {
    ArrowArray raw = primitive_array<int64_t>(&rc, {1, 2, 3});
    OwnedArray a(&raw);
    EXPECT_EQ(raw.release, nullptr);
    OwnedArray b(std::move(a));
    EXPECT_TRUE(a.is_released());
    EXPECT_FALSE(b.is_released());
    OwnedArray c;
    c = std::move(b);
    c.reset();
    EXPECT_EQ(rc.released, 1);
    c.reset();
  }
  EXPECT_EQ(rc.released, 1);
  EXPECT_TRUE(rc.balanced());
}

TEST(ArrowImport, SchemaDriftInsideAStreamPromotesIntegers) {
  ReleaseCounter rc;
  PartialProfile p;
  {
    ScopedSchema s32(struct_schema({field("v", "i")}));
    ScopedArray b32(
        one_column_batch(&rc, primitive_array<int32_t>(&rc, {1, -5, nullopt}, {1, 0}), 3));
    p.consume_batch(*s32, *b32);
    ScopedSchema s64(struct_schema({field("v", "l")}));
    ScopedArray b64(
        one_column_batch(&rc, primitive_array<int64_t>(&rc, {int64_t{1} << 40, 2}, {0, 0}), 2));
    p.consume_batch(*s64, *b64);
  }
  const Value v = json::column(profile_json(p), "v");
  EXPECT_EQ(v["physical_type"].str(), "int64");
  EXPECT_EQ(v["row_count"].num(), 5);
  EXPECT_EQ(v["null_count"].num(), 1);
  EXPECT_EQ(v["min"].num(), -5);
  EXPECT_EQ(v["max"].text, std::to_string(int64_t{1} << 40));
  EXPECT_TRUE(rc.balanced());
}

TEST(ArrowImport, SchemaDriftInsideAStreamBetweenTemporalTypesThrowsSchemaError) {
  // date32 and int64 (or naive and zoned timestamps) share a value domain but not a meaning;
  // timestamps of two units in one zone promote (test_time_units.cpp)
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"tdD", "l"}, {"tss:", "tsm:UTC"}, {"l", "tsu:"}};
  for (const auto& [first, second] : pairs) {
    SCOPED_TRACE(first + " then " + second);
    ReleaseCounter rc;
    PartialProfile p;
    ScopedSchema s1(struct_schema({field("when", first)}));
    ScopedArray b1(one_column_batch(&rc, primitive_array<int64_t>(&rc, {1, 2}), 2));
    if (first == "tdD") {
      ScopedArray d(one_column_batch(&rc, primitive_array<int32_t>(&rc, {1, 2}), 2));
      p.consume_batch(*s1, *d);
    } else {
      p.consume_batch(*s1, *b1);
    }
    ScopedSchema s2(struct_schema({field("when", second)}));
    ScopedArray b2(one_column_batch(&rc, primitive_array<int64_t>(&rc, {3, 4}), 2));
    expect_throws<SchemaError>([&] { p.consume_batch(*s2, *b2); }, {"when"});
  }
}

TEST(ArrowImport, SchemaErrorInABatchLeavesTheProfileUnchanged) {
  ReleaseCounter rc;
  PartialProfile p;
  ScopedSchema s1(struct_schema({field("a", "l"), field("b", "l")}));
  std::vector<ArrowArray> k1;
  k1.push_back(primitive_array<int64_t>(&rc, {1, 2}));
  k1.push_back(primitive_array<int64_t>(&rc, {3, 4}));
  ScopedArray b1(struct_array(&rc, 2, std::move(k1)));
  p.consume_batch(*s1, *b1);
  const std::string before = p.finalize_json();
  // column a still fits (int32 promotes), column b does not (a date)
  ScopedSchema s2(struct_schema({field("a", "i"), field("b", "tdD")}));
  std::vector<ArrowArray> k2;
  k2.push_back(primitive_array<int32_t>(&rc, {5, 6}));
  k2.push_back(primitive_array<int32_t>(&rc, {7, 8}));
  ScopedArray b2(struct_array(&rc, 2, std::move(k2)));
  EXPECT_THROW(p.consume_batch(*s2, *b2), SchemaError);
  EXPECT_EQ(p.finalize_json(), before);
}

TEST(ArrowImport, AllNullColumnTakesTheTypeOfItsFirstValues) {
  ReleaseCounter rc;
  PartialProfile p;
  ScopedSchema sn(struct_schema({field("v", "n")}));
  ScopedArray bn(
      one_column_batch(&rc, make_array(&rc, 4, 0, 4, {}), 4));  // null arrays have no buffers
  p.consume_batch(*sn, *bn);
  ScopedSchema sl(struct_schema({field("v", "l")}));
  ScopedArray bl(one_column_batch(&rc, primitive_array<int64_t>(&rc, {9, nullopt, -4}, {2, 0}), 3));
  p.consume_batch(*sl, *bl);
  p.consume_batch(*sn, *bn);
  const Value v = json::column(profile_json(p), "v");
  EXPECT_EQ(v["physical_type"].str(), "int64");
  EXPECT_EQ(v["row_count"].num(), 11);
  EXPECT_EQ(v["null_count"].num(), 9);
  EXPECT_EQ(v["min"].num(), -4);
  EXPECT_EQ(v["max"].num(), 9);
}

TEST(ArrowImport, ColumnMissingFromALaterBatchCountsAsNull) {
  ReleaseCounter rc;
  PartialProfile p;
  ScopedSchema s2(struct_schema({field("a", "l"), field("b", "l")}));
  std::vector<ArrowArray> cols;
  cols.push_back(primitive_array<int64_t>(&rc, {1, 2}));
  cols.push_back(primitive_array<int64_t>(&rc, {3, 4}));
  ScopedArray b2(make_array(&rc, 2, 0, 0, {nullopt}, std::move(cols)));
  p.consume_batch(*s2, *b2);
  ScopedSchema s1(struct_schema({field("a", "l")}));
  ScopedArray b1(one_column_batch(&rc, primitive_array<int64_t>(&rc, {5, 6, 7}), 3));
  p.consume_batch(*s1, *b1);
  const Value v = profile_json(p);
  EXPECT_EQ(json::column(v, "b")["row_count"].num(), 5);
  EXPECT_EQ(json::column(v, "b")["null_count"].num(), 3);
  EXPECT_EQ(json::column(v, "a")["null_count"].num(), 0);
}

}  // namespace
}  // namespace truthound
