// Specification of truthound::diff_profiles (cpp/include/truthound/profile/diff.hpp) and
// KllSketch::ks_statistic: a profile diffed with itself shows no change; a shifted column moves
// its PSI, KS and quantiles and nothing else; the sketch KS is exact for exact sketches and
// within its bound of the exact two-sample statistic otherwise.
#include "truthound/profile/diff.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "arrow_builders.hpp"
#include "truthound/sketch/kll.hpp"

namespace truthound {
namespace {

using namespace truthound::testing;
using json::Value;
using std::nullopt;

// The exact two-sample KS statistic of two samples (sorted copies, one merge walk).
double exact_ks(std::vector<double> a, std::vector<double> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  size_t i = 0, j = 0;
  double sup = 0;
  while (i < a.size() || j < b.size()) {
    const double x = j == b.size() || (i < a.size() && a[i] <= b[j]) ? a[i] : b[j];
    while (i < a.size() && a[i] == x) ++i;
    while (j < b.size() && b[j] == x) ++j;
    sup = std::max(sup, std::abs(static_cast<double>(i) / static_cast<double>(a.size()) -
                                 static_cast<double>(j) / static_cast<double>(b.size())));
  }
  return sup;
}

KllSketch sketch_of(const std::vector<double>& v) {
  KllSketch s;
  s.update(v);
  return s;
}

std::vector<double> normal(std::mt19937_64& rng, size_t n, double mean, double sd) {
  std::normal_distribution<double> d(mean, sd);
  std::vector<double> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

TEST(KllKsStatistic, Empty) {
  KllSketch a, b;
  b.update(1.0);
  EXPECT_TRUE(std::isnan(KllSketch::ks_statistic(a, b)));
  EXPECT_TRUE(std::isnan(KllSketch::ks_statistic(b, a)));
}

TEST(KllKsStatistic, ExactSketchesGiveTheExactStatistic) {
  std::mt19937_64 rng(3);
  const auto a = normal(rng, 1000, 0, 1), b = normal(rng, 700, 0.3, 1);
  EXPECT_DOUBLE_EQ(KllSketch::ks_statistic(sketch_of(a), sketch_of(b)), exact_ks(a, b));
  EXPECT_DOUBLE_EQ(KllSketch::ks_statistic(sketch_of(a), sketch_of(a)), 0.0);
  // ties across the samples
  const std::vector<double> t1{1, 1, 2, 3, 3, 3}, t2{1, 2, 2, 3};
  EXPECT_DOUBLE_EQ(KllSketch::ks_statistic(sketch_of(t1), sketch_of(t2)), exact_ks(t1, t2));
}

TEST(KllKsStatistic, EstimatedWithinTheBound) {
  std::mt19937_64 rng(5);
  for (double shift : {0.0, 0.05, 0.5}) {
    const auto a = normal(rng, 300000, 0, 1), b = normal(rng, 200000, shift, 1.2);
    const KllSketch sa = sketch_of(a), sb = sketch_of(b);
    ASSERT_FALSE(sa.is_exact());
    const double bound = sa.normalized_rank_error() + sb.normalized_rank_error();
    EXPECT_NEAR(KllSketch::ks_statistic(sa, sb), exact_ks(a, b), bound) << "shift " << shift;
  }
}

// ---------------------------------------------------------------- diff_profiles

PartialProfile profile_of(const std::vector<std::optional<double>>& x,
                          const std::vector<std::optional<std::string>>& s) {
  ReleaseCounter rc;
  PartialProfile p;
  ScopedSchema schema(struct_schema({field("x", "g"), field("s", "u")}));
  std::vector<ArrowArray> cols;
  cols.push_back(primitive_array<double>(&rc, x));
  cols.push_back(string_array(&rc, s));
  ScopedArray a(make_array(&rc, static_cast<int64_t>(x.size()), 0, 0, {nullopt}, std::move(cols)));
  p.consume_batch(*schema, *a);
  return p;
}

struct Data {
  std::vector<std::optional<double>> x;
  std::vector<std::optional<std::string>> s;
};

Data data(size_t n, double shift, double null_share, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(10 + shift, 2);
  std::uniform_real_distribution<double> u(0, 1);
  Data out;
  const char* words[] = {"alpha@example.com", "beta@example.com", "gamma@example.com"};
  for (size_t i = 0; i < n; ++i) {
    out.x.emplace_back(u(rng) < null_share ? std::optional<double>() : d(rng));
    out.s.emplace_back(words[i % 3]);
  }
  return out;
}

const Value& diff_column(const Value& diff, const std::string& name) {
  for (const auto& c : diff["columns"].items) {
    if (c["name"].str() == name) return c;
  }
  throw std::runtime_error("no column " + name);
}

TEST(DiffProfiles, WithItselfShowsNoChange) {
  const Data d = data(5000, 0, 0.1, 1);
  const PartialProfile p = profile_of(d.x, d.s);
  const Value diff = json::parse(diff_profiles(p, p));
  EXPECT_EQ(diff["added_columns"].size(), 0u);
  EXPECT_EQ(diff["removed_columns"].size(), 0u);
  for (const char* name : {"x", "s"}) {
    const Value& c = diff_column(diff, name);
    EXPECT_FALSE(c["type_changed"].b) << name;
    EXPECT_EQ(c["null_ratio"]["change"].num(), 0) << name;
    EXPECT_EQ(c["distinct_count"]["change"].num(), 0) << name;
    EXPECT_FALSE(c["distinct_count"]["beyond_bounds"].b) << name;
    EXPECT_EQ(c["top_share_change"].num(), 0) << name;
    EXPECT_EQ(c["pattern_change"].num(), 0) << name;
  }
  const Value& x = diff_column(diff, "x");
  EXPECT_EQ(x["psi"].num(), 0);
  EXPECT_EQ(x["ks"]["statistic"].num(), 0);
  EXPECT_EQ(x["mean"]["change"].num(), 0);
  EXPECT_EQ(x["quantiles"]["p50"]["change"].num(), 0);
  EXPECT_TRUE(diff_column(diff, "s")["psi"].is_null());
}

TEST(DiffProfiles, ShiftedColumnMovesItsDistribution) {
  const Data a = data(20000, 0, 0.0, 1), b = data(20000, 3, 0.2, 2);
  const Value diff = json::parse(diff_profiles(profile_of(a.x, a.s), profile_of(b.x, b.s)));
  const Value& x = diff_column(diff, "x");
  EXPECT_GT(x["psi"].num(), 1.0);
  EXPECT_NEAR(x["mean"]["change"].num(), 3, 0.1);
  EXPECT_NEAR(x["std"]["relative_change"].num(), 0, 0.05);
  EXPECT_NEAR(x["quantiles"]["p50"]["change"].num(), 3, 0.15);
  EXPECT_NEAR(x["null_ratio"]["change"].num(), 0.2, 0.02);
  EXPECT_GT(x["ks"]["statistic"].num(), 0.5);
  EXPECT_FALSE(x["ks"]["exact"].b);  // 20,000 values: beyond the exact limit
  EXPECT_GT(x["ks"]["bound"].num(), 0);
  const Value& s = diff_column(diff, "s");
  EXPECT_EQ(s["top_share_change"].num(), 0);
  ASSERT_EQ(s["patterns"].size(), 1u);
  EXPECT_EQ(s["patterns"][0]["name"].str(), "email");
}

TEST(DiffProfiles, AddedRemovedAndRetypedColumns) {
  ReleaseCounter rc;
  PartialProfile a, b;
  {
    ScopedSchema s(struct_schema({field("k", "l"), field("gone", "l")}));
    std::vector<ArrowArray> cols;
    cols.push_back(primitive_array<int64_t>(&rc, {1, 2, 3}));
    cols.push_back(primitive_array<int64_t>(&rc, {1, 2, 3}));
    ScopedArray arr(make_array(&rc, 3, 0, 0, {nullopt}, std::move(cols)));
    a.consume_batch(*s, *arr);
  }
  {
    ScopedSchema s(struct_schema({field("k", "u"), field("new", "l")}));
    std::vector<ArrowArray> cols;
    cols.push_back(string_array(&rc, {"1", "2", "3"}));
    cols.push_back(primitive_array<int64_t>(&rc, {1, 2, 3}));
    ScopedArray arr(make_array(&rc, 3, 0, 0, {nullopt}, std::move(cols)));
    b.consume_batch(*s, *arr);
  }
  EXPECT_TRUE(rc.balanced());
  const Value diff = json::parse(diff_profiles(a, b));
  ASSERT_EQ(diff["added_columns"].size(), 1u);
  EXPECT_EQ(diff["added_columns"][0].str(), "new");
  ASSERT_EQ(diff["removed_columns"].size(), 1u);
  EXPECT_EQ(diff["removed_columns"][0].str(), "gone");
  ASSERT_EQ(diff["columns"].size(), 1u);
  const Value& k = diff["columns"][0];
  EXPECT_TRUE(k["type_changed"].b);
  EXPECT_EQ(k["base_type"].str(), "int64");
  EXPECT_EQ(k["current_type"].str(), "string");
  EXPECT_TRUE(k["mean"].is_null());
  EXPECT_TRUE(k["psi"].is_null());
}

TEST(DiffProfiles, TemporalColumnsCompareDistributionsNotQuantiles) {
  auto profile = [](int64_t first, const char* format) {
    ReleaseCounter rc;
    PartialProfile p;
    std::vector<std::optional<int64_t>> v;
    for (int64_t i = 0; i < 500; ++i) v.emplace_back((first + i) * 3600);
    ScopedSchema s(struct_schema({field("t", format)}));
    std::vector<ArrowArray> cols;
    cols.push_back(primitive_array<int64_t>(&rc, v));
    ScopedArray a(make_array(&rc, 500, 0, 0, {nullopt}, std::move(cols)));
    p.consume_batch(*s, *a);
    return p;
  };
  const Value same_type =
      json::parse(diff_profiles(profile(0, "tss:"), profile(400, "tss:")))["columns"][0];
  EXPECT_TRUE(same_type["quantiles"].is_null());
  EXPECT_GT(same_type["psi"].num(), 1.0);
  EXPECT_DOUBLE_EQ(same_type["ks"]["statistic"].num(), 0.8);  // 400 of 500 hours moved past
  const Value other_unit =
      json::parse(diff_profiles(profile(0, "tss:"), profile(0, "tsm:")))["columns"][0];
  EXPECT_TRUE(other_unit["type_changed"].b);
  EXPECT_TRUE(other_unit["psi"].is_null());
}

}  // namespace
}  // namespace truthound
