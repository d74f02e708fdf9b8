// Dictionary-encoded strings are profiled once per used entry, weighted by its row count
// (column_consume.cpp, consume_dictionary_entries). The result must be the plain array's, whatever
// the dictionary holds (unused entries, a null entry, more entries than rows) and however the
// arrays are sliced; and a dictionary batch of a string column does not change its type.
#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "arrow_builders.hpp"
#include "truthound/profile/partial.hpp"

namespace truthound {
namespace {

using namespace truthound::testing;
using json::Value;
using std::nullopt;

// Values that exercise every per-value statistic: patterns, UTF-8 lengths, empty strings.
const std::vector<std::string> kVocabulary = {
    "",      "red",      "green", "h\xc3\xa9llo", "a@b.com",   "x.y@mail.org",
    "12",    "-7",       "3.25",  "true",         "no",        "2024-02-29",
    "zebra", "\xc3\xb1", "Zed",   "mid",          "192.0.2.1", "+1 (555) 123-4567"};

// The column object without what depends on the encoding (type name, bytes in memory).
std::string encoding_free(const Value& profile, const std::string& name) {
  Value c = json::column(profile, name);
  std::erase_if(c.members, [](const auto& m) { return m.first == "physical_type"; });
  return c.dump();
}

Value finalize(const PartialProfile& p) {
  return json::parse(p.finalize_json());
}

struct Case {
  Opt<std::string> dict;  // entries (nullopt: a null entry)
  Opt<int32_t> idx;       // rows (nullopt: a null row)
  int64_t dict_offset;
  int64_t idx_offset;
};

Case random_case(std::mt19937_64& rng) {
  Case c;
  const size_t entries = 1 + rng() % 24;
  const size_t rows = rng() % 3 == 0 ? rng() % 12 : 1 + rng() % 400;  // sometimes fewer rows
  for (size_t e = 0; e < entries; ++e) {
    if (rng() % 10 == 0) {
      c.dict.push_back(nullopt);
    } else {
      c.dict.push_back(kVocabulary[rng() % kVocabulary.size()] + (rng() % 3 ? "" : "!"));
    }
  }
  // skewed use: low entries often, some entries never
  for (size_t r = 0; r < rows; ++r) {
    if (rng() % 8 == 0) {
      c.idx.push_back(nullopt);
    } else {
      const size_t a = rng() % entries, b = rng() % entries;
      c.idx.push_back(static_cast<int32_t>(std::min(a, b)));
    }
  }
  c.dict_offset = static_cast<int64_t>(rng() % 4);
  c.idx_offset = static_cast<int64_t>(rng() % 4);
  return c;
}

// How a case is laid out: the index type and the value type of the dictionary.
struct Layout2 {
  const char* index_format;  // "c" int8, "S" uint16, "i" int32, "L" uint64
  const char* value_format;  // "u" utf8, "U" large utf8, "z" binary
};

template <typename I>
ArrowArray indices(ReleaseCounter* rc, const Case& c) {
  Opt<I> idx;
  for (const auto& i : c.idx) idx.push_back(i ? std::optional<I>(static_cast<I>(*i)) : nullopt);
  return primitive_array<I>(rc, idx, {c.idx_offset, 0}, static_cast<I>(99));
}

ArrowArray strings(ReleaseCounter* rc, const Opt<std::string>& v, int64_t offset, bool large) {
  return large ? string_array<int64_t>(rc, v, {offset, 0}) : string_array(rc, v, {offset, 0});
}

// A two-column batch: the strings (dictionary-encoded or plain) and a small int column, so the
// duplicate-row count depends on the string column's row hashes.
ArrowArray batch_of(ReleaseCounter* rc, const Case& c, bool encoded, const Layout2& l) {
  const int64_t n = static_cast<int64_t>(c.idx.size());
  const bool large = l.value_format[0] == 'U';
  std::vector<ArrowArray> cols;
  if (encoded) {
    const std::string f = l.index_format;
    ArrowArray idx = f == "c"   ? indices<int8_t>(rc, c)
                     : f == "S" ? indices<uint16_t>(rc, c)
                     : f == "L" ? indices<uint64_t>(rc, c)
                                : indices<int32_t>(rc, c);
    cols.push_back(with_dictionary(idx, strings(rc, c.dict, c.dict_offset, large)));
  } else {
    Opt<std::string> plain;
    for (const auto& i : c.idx) plain.push_back(i ? c.dict[static_cast<size_t>(*i)] : nullopt);
    cols.push_back(strings(rc, plain, c.idx_offset, large));
  }
  Opt<int64_t> small;
  for (int64_t i = 0; i < n; ++i) small.push_back(i % 3);
  cols.push_back(primitive_array<int64_t>(rc, small));
  return make_array(rc, n, 0, 0, {nullopt}, std::move(cols));
}

TEST(Dictionary, ProfileEqualsThePlainArrays) {
  std::mt19937_64 rng(20261125);
  for (const Layout2 l :
       {Layout2{"i", "u"}, Layout2{"c", "u"}, Layout2{"S", "z"}, Layout2{"L", "U"}}) {
    const ScopedSchema dict_schema(struct_schema(
        {dict_field("s", l.index_format, field("", l.value_format)), field("k", "l")}));
    const ScopedSchema plain_schema(struct_schema({field("s", l.value_format), field("k", "l")}));
    for (int trial = 0; trial < 100; ++trial) {
      const Case c = random_case(rng);
      ReleaseCounter rc;
      PartialProfile encoded, plain;
      {
        ScopedArray a(batch_of(&rc, c, true, l));
        encoded.consume_batch(*dict_schema, *a);
        ScopedArray b(batch_of(&rc, c, false, l));
        plain.consume_batch(*plain_schema, *b);
      }
      const Value e = finalize(encoded), p = finalize(plain);
      ASSERT_EQ(encoding_free(e, "s"), encoding_free(p, "s")) << l.index_format << trial;
      ASSERT_EQ(e["duplicate_row_count"].dump(), p["duplicate_row_count"].dump())
          << l.index_format << trial;
      // and merged with another part, in either order
      auto copy = [](const PartialProfile& q) {
        const std::vector<uint8_t> bytes = q.serialize();
        return PartialProfile::deserialize(bytes.data(), bytes.size());
      };
      PartialProfile merged = copy(encoded);
      merged.merge(plain);
      PartialProfile twice = copy(plain);
      twice.merge(plain);
      ASSERT_EQ(encoding_free(finalize(merged), "s"), encoding_free(finalize(twice), "s"));
    }
  }
}

TEST(Dictionary, EncodedBatchKeepsTheColumnsType) {
  // A zero-row batch declares s (string, or large_string: pyarrow's read_dictionary gives
  // dictionary<int32, string> for those too); a dictionary batch then feeds it as it is.
  for (const bool large : {false, true}) {
    ReleaseCounter rc;
    const ScopedSchema declared(struct_schema({field("s", large ? "U" : "u")}));
    const ScopedSchema dict_schema(struct_schema({dict_field("s", "i", field("", "u"))}));
    PartialProfile p;
    {
      std::vector<ArrowArray> none;
      none.push_back(strings(&rc, Opt<std::string>{}, 0, large));
      ScopedArray empty(make_array(&rc, 0, 0, 0, {nullopt}, std::move(none)));
      p.consume_batch(*declared, *empty);
      std::vector<ArrowArray> cols;
      cols.push_back(with_dictionary(primitive_array<int32_t>(&rc, {0, 1, 1, nullopt, 1}),
                                     string_array(&rc, {"u", "v"})));
      ScopedArray batch(make_array(&rc, 5, 0, 0, {nullopt}, std::move(cols)));
      p.consume_batch(*dict_schema, *batch);
    }
    const Value s = json::column(finalize(p), "s");
    EXPECT_EQ(s["physical_type"].str(), large ? "large_string" : "string");
    EXPECT_EQ(s["row_count"].num(), 5);
    EXPECT_EQ(s["null_count"].num(), 1);
    EXPECT_EQ(s["distinct_count"].num(), 2);
    EXPECT_EQ(s["top_values"][0]["value"].str(), "v");
    EXPECT_EQ(s["top_values"][0]["count"].num(), 3);
  }
}

}  // namespace
}  // namespace truthound
