// Partials as workers ship them (PartialProfile::compact_for_transport, then serialize): a
// column in the sketch regime takes at most 48 KiB, and 200 of them, deserialized and merged as
// the driver merges them, keep every stated bound (distinct counts within their bounds,
// quantiles within the reported rank error, every value above 4n / capacity listed with bounds
// that hold its true count).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "arrow_builders.hpp"
#include "truthound/profile/partial.hpp"

namespace truthound {
namespace {

using namespace truthound::testing;

constexpr size_t kShipBound = 48 * 1024;

// Rows of four columns: unique ids, normal doubles, and an integer and a string column with
// ten heavy values (0.05 % of the rows each, twice 4n / 16,384) among many rare ones.
struct Rows {
  Opt<int64_t> id, cat;
  Opt<double> x;
  Opt<std::string> s;
};

Rows make_rows(size_t first, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(100.0, 15.0);
  Rows r;
  for (size_t i = 0; i < n; ++i) {
    r.id.push_back(static_cast<int64_t>(first + i + 1));
    r.x.push_back(normal(rng));
    const bool heavy = rng() % 200 == 0;
    r.cat.push_back(heavy ? static_cast<int64_t>(rng() % 10)
                          : 1000 + static_cast<int64_t>(rng() % 300000));
    r.s.push_back(heavy ? "heavy-" + std::to_string(rng() % 10)
                        : "v" + std::to_string(rng() % 200000));
  }
  return r;
}

void consume(PartialProfile& p, const Rows& r) {
  ScopedSchema schema(
      struct_schema({field("id", "l"), field("x", "g"), field("cat", "l"), field("s", "u")}));
  const size_t n = r.id.size();
  for (size_t lo = 0; lo < n; lo += 65536) {
    const size_t hi = std::min(n, lo + 65536);
    auto slice = [&](const auto& v) {
      return std::decay_t<decltype(v)>(v.begin() + lo, v.begin() + hi);
    };
    ReleaseCounter rc;
    std::vector<ArrowArray> cols;
    cols.push_back(primitive_array<int64_t>(&rc, slice(r.id)));
    cols.push_back(primitive_array<double>(&rc, slice(r.x)));
    cols.push_back(primitive_array<int64_t>(&rc, slice(r.cat)));
    cols.push_back(string_array(&rc, slice(r.s)));
    ScopedArray a(
        make_array(&rc, static_cast<int64_t>(hi - lo), 0, 0, {std::nullopt}, std::move(cols)));
    p.consume_batch(*schema, *a);
  }
}

std::vector<uint8_t> shipped(PartialProfile& p) {
  p.compact_for_transport();
  return p.serialize();
}

TEST(ShippedPartials, ColumnsInTheSketchRegimeTakeAtMost48KiB) {
  PartialProfile p;
  consume(p, make_rows(0, 1000000, 1));
  p.compact_for_transport();
  for (const ColumnState& c : p.columns()) {
    const auto sizes = c.serialized_sizes();
    EXPECT_LE(sizes.total, kShipBound)
        << c.name() << ": distinct " << sizes.distinct << ", quantiles " << sizes.quantiles
        << ", top values " << sizes.top_values;
  }
  // Packing changes no answer: the shipped bytes finalize as the compacted state does.
  const auto bytes = p.serialize();
  EXPECT_EQ(PartialProfile::deserialize(bytes.data(), bytes.size()).finalize_json(),
            p.finalize_json());
}

// The true rank interval [lo, hi] of v in sorted data, as fractions.
std::pair<double, double> true_ranks(const std::vector<double>& sorted, double v) {
  const double n = static_cast<double>(sorted.size());
  const auto lo = std::lower_bound(sorted.begin(), sorted.end(), v) - sorted.begin();
  const auto hi = std::upper_bound(sorted.begin(), sorted.end(), v) - sorted.begin();
  return {static_cast<double>(lo) / n, static_cast<double>(hi) / n};
}

TEST(ShippedPartials, TwoHundredMergedKeepEveryBound) {
  constexpr size_t kParts = 200, kRows = 5000, kTotal = kParts * kRows;
  std::vector<double> ids, xs;
  std::map<int64_t, uint64_t> cat_truth;
  std::map<std::string, uint64_t> s_truth;
  std::optional<PartialProfile> merged;
  for (size_t part = 0; part < kParts; ++part) {
    const Rows r = make_rows(part * kRows, kRows, 100 + part);
    for (size_t i = 0; i < kRows; ++i) {
      ids.push_back(static_cast<double>(*r.id[i]));
      xs.push_back(*r.x[i]);
      ++cat_truth[*r.cat[i]];
      ++s_truth[*r.s[i]];
    }
    PartialProfile p;
    consume(p, r);
    const auto bytes = shipped(p);
    PartialProfile incoming = PartialProfile::deserialize(bytes.data(), bytes.size());
    if (merged) {
      merged->merge(incoming);
    } else {
      merged = std::move(incoming);
    }
  }
  // The merge of shipped partials is itself shipped once more (a tree of merges).
  const auto final_bytes = shipped(*merged);
  const json::Value v = json::parse(
      PartialProfile::deserialize(final_bytes.data(), final_bytes.size()).finalize_json());
  EXPECT_EQ(v["row_count"].num(), static_cast<double>(kTotal));

  // Distinct counts: within the reported bounds (3 standard errors), the truth known.
  const std::map<std::string, double> distinct_truth = {
      {"id", static_cast<double>(kTotal)},
      {"x", static_cast<double>(std::unordered_set<double>(xs.begin(), xs.end()).size())},
      {"cat", static_cast<double>(cat_truth.size())},
      {"s", static_cast<double>(s_truth.size())}};
  for (const auto& [name, truth] : distinct_truth) {
    const json::Value c = json::column(v, name);
    EXPECT_TRUE(c["distinct_approximate"].b) << name;
    EXPECT_LE(c["distinct_count_lower"].num(), truth) << name;
    EXPECT_GE(c["distinct_count_upper"].num(), truth) << name;
  }

  // Quantiles: each reported quantile's true rank within the reported rank error, a bound of
  // 99 % confidence a query (so one of the 18 may pass it, none by twice).
  std::sort(ids.begin(), ids.end());
  std::sort(xs.begin(), xs.end());
  int beyond = 0;
  for (const auto& [name, sorted] : {std::pair{"id", &ids}, std::pair{"x", &xs}}) {
    const json::Value c = json::column(v, name);
    const double bound = c["quantile_rank_error"].num();
    EXPECT_GT(bound, 0) << name;
    for (const auto& [q, rank] : kReportedQuantiles) {
      const auto [lo, hi] = true_ranks(*sorted, c["quantiles"][q].num());
      const double error = rank < lo ? lo - rank : rank > hi ? rank - hi : 0.0;
      beyond += error > bound;
      EXPECT_LE(error, 2 * bound) << name << " " << q;
    }
  }
  EXPECT_LE(beyond, 1);

  // Top values: every value above 4n / capacity listed, every listed count bound holding.
  const double guaranteed = 4.0 * kTotal / ProfileOptions{}.frequent_items_capacity;
  auto check_top = [&](const std::string& name, const auto& truth, auto key_of) {
    const json::Value c = json::column(v, name);
    EXPECT_TRUE(c["top_values_approximate"].b) << name;
    for (const auto& row : c["top_values"].items) {
      const auto t = static_cast<double>(truth.at(key_of(row["value"])));
      EXPECT_GT(t, guaranteed) << name << " " << row["value"].dump();
      EXPECT_LE(row["count_lower"].num(), t) << name << " " << row["value"].dump();
      EXPECT_GE(row["count_upper"].num(), t) << name << " " << row["value"].dump();
    }
    size_t heavy = 0;
    for (const auto& [key, count] : truth) heavy += static_cast<double>(count) > guaranteed;
    EXPECT_EQ(heavy, 10u) << name;
    EXPECT_EQ(c["top_values"].items.size(), heavy) << name;  // so every heavy one is listed
  };
  check_top("cat", cat_truth, [](const json::Value& x) { return static_cast<int64_t>(x.num()); });
  check_top("s", s_truth, [](const json::Value& x) { return x.str(); });
}

}  // namespace
}  // namespace truthound
