// Specification of the alerts (cpp/include/truthound/profile/alerts.hpp): each rule on plain
// figures (fires above its threshold, not at it), then on small built profiles (the figures a
// finalized column reports), their order, their thresholds as options, and after a merge.
#include "truthound/profile/alerts.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "arrow_builders.hpp"
#include "truthound/profile/partial.hpp"
#include "truthound/util/error.hpp"

namespace truthound {
namespace {

using namespace truthound::testing;
using std::nullopt;

std::vector<std::string> kinds(const std::vector<Alert>& alerts) {
  std::vector<std::string> out;
  for (const auto& a : alerts) out.push_back(alert_kind_name(a.kind));
  return out;
}

std::vector<Alert> alerts_of(const ColumnAlertFigures& f, const AlertThresholds& t = {}) {
  std::vector<Alert> out;
  column_alerts(f, t, out);
  return out;
}

ColumnAlertFigures figures(uint64_t rows, uint64_t nulls, double distinct) {
  ColumnAlertFigures f;
  f.name = "c";
  f.rows = rows;
  f.nulls = nulls;
  f.distinct_known = true;
  f.distinct = distinct;
  f.inferred_type = "string";
  return f;
}

// ---------------------------------------------------------------- rules on figures

TEST(AlertRules, AllNullSaysNothingElse) {
  ColumnAlertFigures f = figures(100, 100, 0);
  f.zeros = 0;
  const auto a = alerts_of(f);
  ASSERT_EQ(kinds(a), (std::vector<std::string>{"all_null"}));
  EXPECT_EQ(a[0].column, "c");
  EXPECT_FALSE(a[0].other_column.has_value());
  EXPECT_EQ(a[0].value, 1.0);
  EXPECT_FALSE(a[0].threshold.has_value());
  EXPECT_EQ(a[0].message, "c: all 100 values are null");
  EXPECT_TRUE(alerts_of(figures(0, 0, 0)).empty());  // no rows: nothing to say
}

TEST(AlertRules, HighNullRatioFiresAboveItsThreshold) {
  AlertThresholds t;
  t.high_null_ratio = 0.05;
  EXPECT_TRUE(alerts_of(figures(200, 10, 2), t).empty());  // 5 %: at, not above
  const auto a = alerts_of(figures(200, 25, 2), t);
  ASSERT_EQ(kinds(a), (std::vector<std::string>{"high_null_ratio"}));
  EXPECT_EQ(a[0].value, 0.125);
  EXPECT_EQ(a[0].threshold, 0.05);
  EXPECT_EQ(a[0].message, "c: 12.5 % nulls (threshold 5 %)");
}

TEST(AlertRules, ConstantNamesItsValueAndKeepsNulls) {
  ColumnAlertFigures f = figures(100, 70, 1);
  f.categorical_kind = true;
  f.top_value = "active";
  f.top_count_lower = 30;
  const auto a = alerts_of(f);  // constant, and 70 % nulls; never imbalanced
  ASSERT_EQ(kinds(a), (std::vector<std::string>{"constant", "high_null_ratio"}));
  EXPECT_EQ(a[0].message, "c: constant, one distinct value ('active') in 30 non-null values");
}

TEST(AlertRules, UniqueForIdentifiers) {
  ColumnAlertFigures f = figures(10, 0, 10);
  EXPECT_TRUE(alerts_of(f).empty());  // unique floats, emails, dates: not identifiers
  f.inferred_type = "identifier";     // integers or untyped text, at least 10, all distinct
  const auto a = alerts_of(f);
  ASSERT_EQ(kinds(a), (std::vector<std::string>{"unique"}));
  EXPECT_EQ(a[0].value, 1.0);
  EXPECT_FALSE(a[0].threshold.has_value());
  EXPECT_EQ(a[0].message, "c: an identifier, 10 distinct values in 10 non-null values");
  // A sequential integer column past the exact distinct count is an identifier too.
  f = figures(100000, 0, 99870);
  f.inferred_type = "identifier";
  EXPECT_EQ(kinds(alerts_of(f)), (std::vector<std::string>{"unique"}));
}

TEST(AlertRules, HighCardinalityForFreeTextOnly) {
  ColumnAlertFigures f = figures(100, 0, 75);
  EXPECT_TRUE(alerts_of(f).empty());  // not free text (a pattern type, categorical, ...)
  f.free_text = true;
  auto a = alerts_of(f);
  ASSERT_EQ(kinds(a), (std::vector<std::string>{"high_cardinality"}));
  EXPECT_EQ(a[0].value, 0.75);
  EXPECT_EQ(a[0].message, "c: 75 distinct values, 75.0 % of non-null values (threshold 50 %)");
  f.distinct = 50;  // at the threshold
  EXPECT_TRUE(alerts_of(f).empty());
  f.distinct = 100;  // unique says it instead
  f.inferred_type = "identifier";
  f.free_text = false;
  EXPECT_EQ(kinds(alerts_of(f)), (std::vector<std::string>{"unique"}));
  f = figures(9, 0, 8);  // too few values to tell
  f.free_text = true;
  EXPECT_TRUE(alerts_of(f).empty());
}

TEST(AlertRules, ImbalanceReadsTheCountsLowerBound) {
  ColumnAlertFigures f = figures(1000, 0, 2);
  f.categorical_kind = true;
  f.top_value = "false";
  f.top_count_lower = 900;
  EXPECT_TRUE(alerts_of(f).empty());  // 90 %: at the threshold
  f.top_count_lower = 901;
  const auto a = alerts_of(f);
  ASSERT_EQ(kinds(a), (std::vector<std::string>{"imbalanced"}));
  EXPECT_EQ(a[0].value, 0.901);
  EXPECT_EQ(a[0].message, "c: 'false' is 90.1 % of non-null values (threshold 90 %)");
  f.categorical_kind = false;  // numbers: zeros and skewness speak for them
  EXPECT_TRUE(alerts_of(f).empty());
}

TEST(AlertRules, MixedTypesBetweenTheFloorAndNinetyPercent) {
  ColumnAlertFigures f = figures(100, 0, 3);
  f.likeliest_type = "float";
  for (double share : {0.5, 0.9, 0.95, 0.2}) {
    f.likeliest_share = share;
    EXPECT_TRUE(alerts_of(f).empty()) << share;
  }
  f.likeliest_share = 0.8;
  const auto a = alerts_of(f);
  ASSERT_EQ(kinds(a), (std::vector<std::string>{"mixed_types"}));
  EXPECT_EQ(a[0].threshold, 0.5);
  EXPECT_EQ(a[0].message,
            "c: 80.0 % of non-null values read as float, the rest do not (floor 50 %, a type "
            "needs 90 %)");
}

TEST(AlertRules, SkewedZerosInfinite) {
  ColumnAlertFigures f = figures(1000, 0, 500);
  f.skewness = -20;
  f.zeros = 100;
  f.infinite = 0;
  EXPECT_TRUE(alerts_of(f).empty());  // |-20| and 10 %: at the thresholds; no infinity
  f.skewness = -31.5;
  f.zeros = 101;
  f.infinite = 2;
  const auto a = alerts_of(f);
  ASSERT_EQ(kinds(a), (std::vector<std::string>{"skewed", "zeros", "infinite"}));
  EXPECT_EQ(a[0].value, -31.5);
  EXPECT_EQ(a[0].message, "c: skewness -31.5 (threshold |20|)");
  EXPECT_EQ(a[1].value, 0.101);
  EXPECT_EQ(a[1].message, "c: 101 zeros, 10.1 % of non-null values (threshold 10 %)");
  EXPECT_EQ(a[2].value, 2.0);
  EXPECT_EQ(a[2].message, "c: 2 infinite values (any is alerted)");
}

TEST(AlertRules, TableAndPairs) {
  std::vector<Alert> out;
  const AlertThresholds t;
  table_alerts(1000, 0, false, t, out);
  table_alerts(1000, nullopt, false, t, out);  // duplicates not countable
  EXPECT_TRUE(out.empty());
  table_alerts(1500, 3, true, t, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].column.has_value());
  EXPECT_EQ(out[0].value, 0.002);
  EXPECT_EQ(out[0].message, "table: about 3 duplicate rows, 0.2 % of rows (threshold 0 %)");
  out.clear();
  correlation_alerts("a", "b", 0.9, t, out);
  correlation_alerts("a", "c", std::nan(""), t, out);
  EXPECT_TRUE(out.empty());
  correlation_alerts("a", "b", -0.975, t, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].column, "a");
  EXPECT_EQ(out[0].other_column, "b");
  EXPECT_EQ(out[0].value, -0.975);
  EXPECT_EQ(out[0].message, "a and b: Pearson correlation -0.975 (threshold |0.9|)");
}

TEST(AlertRules, MessagesCutLongValues) {
  ColumnAlertFigures f = figures(10, 0, 1);
  f.top_value = std::string(39, 'x') + "\xC3\xA9" + "tail";  // é straddles character 40
  const auto a = alerts_of(f);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_NE(a[0].message.find("'" + std::string(39, 'x') + "\xE2\x80\xA6'"), std::string::npos)
      << a[0].message;
}

// ---------------------------------------------------------------- thresholds as options

TEST(AlertThresholdOptions, ParsedValidatedAndNamed) {
  const ProfileOptions o =
      ProfileOptions::from_json(R"({"alert_zeros": 0.25, "alert_skewness": 3})");
  EXPECT_EQ(o.alerts.zeros, 0.25);
  EXPECT_EQ(o.alerts.skewness, 3);
  EXPECT_EQ(o.alerts.high_null_ratio, AlertThresholds{}.high_null_ratio);
  expect_throws<InvalidArgumentError>(
      [] { (void)ProfileOptions::from_json(R"({"alert_zeros": 1.5})"); },
      {"option 'alert_zeros' must be a number from 0 to 1, got 1.5"});
  expect_throws<InvalidArgumentError>(
      [] { (void)ProfileOptions::from_json(R"({"alert_skewness": -1})"); },
      {"option 'alert_skewness' must be a number >= 0, got -1"});
  expect_throws<InvalidArgumentError>(
      [] { (void)ProfileOptions::from_json(R"({"alert_correlation": "high"})"); },
      {"option 'alert_correlation' must be a number"});
  expect_throws<InvalidArgumentError>(
      [] { (void)ProfileOptions::from_json(R"({"alert_nope": 1})"); },
      {"unknown option 'alert_nope'"});
  ProfileOptions bad;
  bad.alerts.imbalance = std::nan("");
  expect_throws<InvalidArgumentError>([&] { bad.validate(); }, {"alert_imbalance"});
}

TEST(AlertThresholdOptions, DifferentThresholdsStillMergeAndSerialize) {
  ProfileOptions a, b;
  a.alerts.zeros = 0.3;
  b.alerts.correlation = 0.5;
  EXPECT_NO_THROW(a.check_mergeable(b));
  ByteWriter w;
  a.serialize(w);
  const auto bytes = w.take();
  ByteReader r(bytes.data(), bytes.size(), "options");
  const ProfileOptions back = ProfileOptions::deserialize(r);
  r.expect_end();
  EXPECT_EQ(back.alerts.zeros, 0.3);
  EXPECT_EQ(back.alerts.correlation, 0.9);
  // a threshold out of range in the bytes is corruption
  std::vector<uint8_t> corrupt = bytes;
  const double bad = -1;
  std::memcpy(corrupt.data() + corrupt.size() - 8, &bad, 8);  // the last threshold
  ByteReader rc(corrupt.data(), corrupt.size(), "options");
  expect_throws<CorruptProfileError>([&] { (void)ProfileOptions::deserialize(rc); },
                                     {"alert threshold 'correlation'"});
}

// ---------------------------------------------------------------- built profiles

// 1,000 rows built so that each column fires one alert (and the `quiet` column none).
struct AlertTable {
  Opt<int64_t> id, empty, zeros, x, y;
  Opt<std::string> status, notes, comment, amount, quiet;
  Opt<bool> flag;
  Opt<double> skew, ratio;
};

AlertTable alert_table(int64_t n) {
  AlertTable t;
  for (int64_t k = 0; k < n; ++k) {
    t.id.push_back(k);                          // unique
    t.empty.push_back(nullopt);                 // all_null
    t.status.push_back(std::string("active"));  // constant
    t.notes.push_back(k % 5 < 3 ? std::optional<std::string>{}
                                : std::string(k % 5 == 3 ? "late" : "early"));  // 60 % nulls
    t.comment.push_back("remark " + std::to_string(k % 700));                   // 70 % distinct
    t.flag.push_back(k % 20 != 0);                                              // 95 % true
    t.amount.push_back(k % 10 < 7 ? std::to_string(k % 13) : "n/a");            // 70 % integers
    t.skew.push_back(k == n - 1 ? 1e6 : 1.0 + static_cast<double>(k % 3));      // skewness ~31
    t.zeros.push_back(k % 4 == 0 ? 0 : k % 9 + 1);                              // 25 % zeros
    t.ratio.push_back(k == 7 ? INFINITY : static_cast<double>(k % 50) + 1);     // one infinity
    t.x.push_back(k % 100);
    t.y.push_back(3 * (k % 100) + (k % 2));          // follows x
    t.quiet.push_back("q" + std::to_string(k % 3));  // categorical, balanced: nothing
  }
  return t;
}

void consume_rows(PartialProfile& p, const AlertTable& t, size_t from, size_t to) {
  ScopedSchema s(
      struct_schema({field("id", "l"), field("empty", "l"), field("status", "u"),
                     field("notes", "u"), field("comment", "u"), field("flag", "b"),
                     field("amount", "u"), field("skew", "g"), field("zeros", "l"),
                     field("ratio", "g"), field("x", "l"), field("y", "l"), field("quiet", "u")}));
  auto slice = [&](const auto& v) {
    return std::decay_t<decltype(v)>(v.begin() + from, v.begin() + to);
  };
  ReleaseCounter rc;
  std::vector<ArrowArray> cols;
  cols.push_back(primitive_array<int64_t>(&rc, slice(t.id)));
  cols.push_back(primitive_array<int64_t>(&rc, slice(t.empty)));
  cols.push_back(string_array(&rc, slice(t.status)));
  cols.push_back(string_array(&rc, slice(t.notes)));
  cols.push_back(string_array(&rc, slice(t.comment)));
  cols.push_back(bool_array(&rc, slice(t.flag)));
  cols.push_back(string_array(&rc, slice(t.amount)));
  cols.push_back(primitive_array<double>(&rc, slice(t.skew)));
  cols.push_back(primitive_array<int64_t>(&rc, slice(t.zeros)));
  cols.push_back(primitive_array<double>(&rc, slice(t.ratio)));
  cols.push_back(primitive_array<int64_t>(&rc, slice(t.x)));
  cols.push_back(primitive_array<int64_t>(&rc, slice(t.y)));
  cols.push_back(string_array(&rc, slice(t.quiet)));
  ScopedArray a(make_array(&rc, static_cast<int64_t>(to - from), 0, 0, {nullopt}, std::move(cols)));
  p.consume_batch(*s, *a);
}

ProfileOptions with_correlations() {
  ProfileOptions o;
  o.correlations = true;
  return o;
}

std::vector<std::pair<std::string, std::string>> kind_and_column(const std::vector<Alert>& a) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& x : a) {
    std::string col = x.column.value_or("-");
    if (x.other_column) col += "+" + *x.other_column;
    out.emplace_back(alert_kind_name(x.kind), col);
  }
  return out;
}

TEST(AlertsOfAProfile, EachColumnFiresItsAlertInTableOrder) {
  const AlertTable t = alert_table(1000);
  PartialProfile p(with_correlations());
  consume_rows(p, t, 0, 1000);
  const auto alerts = p.alerts();
  using KC = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(kind_and_column(alerts), (KC{{"unique", "id"},
                                         {"all_null", "empty"},
                                         {"constant", "status"},
                                         {"high_null_ratio", "notes"},
                                         {"high_cardinality", "comment"},
                                         {"imbalanced", "flag"},
                                         {"mixed_types", "amount"},
                                         {"skewed", "skew"},
                                         {"zeros", "zeros"},
                                         {"infinite", "ratio"},
                                         {"high_correlation", "x+y"}}));
  auto find = [&](const char* kind) {
    for (const auto& a : alerts) {
      if (std::string(alert_kind_name(a.kind)) == kind) return a;
    }
    throw std::runtime_error(kind);
  };
  EXPECT_EQ(find("high_null_ratio").value, 0.6);
  EXPECT_EQ(find("high_cardinality").value, 0.7);
  EXPECT_EQ(find("imbalanced").value, 0.95);
  EXPECT_EQ(find("mixed_types").value, 0.7);
  EXPECT_EQ(find("zeros").value, 0.25);
  EXPECT_EQ(find("infinite").value, 1.0);
  EXPECT_GT(find("skewed").value, 30);
  EXPECT_GT(find("high_correlation").value, 0.99);

  // The result carries them as its "alerts" array, before the columns.
  const json::Value v = json::parse(p.finalize_json());
  ASSERT_EQ(v["alerts"].size(), alerts.size());
  EXPECT_EQ(v["alerts"][3]["kind"].str(), "high_null_ratio");
  EXPECT_EQ(v["alerts"][3]["column"].str(), "notes");
  EXPECT_TRUE(v["alerts"][3]["other_column"].is_null());
  EXPECT_EQ(v["alerts"][3]["value"].num(), 0.6);
  EXPECT_EQ(v["alerts"][3]["threshold"].num(), 0.5);
  EXPECT_EQ(v["alerts"][3]["message"].str(), "notes: 60.0 % nulls (threshold 50 %)");
  EXPECT_EQ(v["alerts"][1]["threshold"].dump(), "null");
}

TEST(AlertsOfAProfile, ThresholdsFromOptions) {
  const AlertTable t = alert_table(1000);
  ProfileOptions o = with_correlations();
  o.alerts.high_null_ratio = 0.7;
  o.alerts.high_cardinality = 1;
  o.alerts.imbalance = 0.99;
  o.alerts.mixed_types = 0.75;
  o.alerts.skewness = 40;
  o.alerts.zeros = 0.3;
  o.alerts.correlation = 1;
  PartialProfile p(o);
  consume_rows(p, t, 0, 1000);
  using KC = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(
      kind_and_column(p.alerts()),
      (KC{{"unique", "id"}, {"all_null", "empty"}, {"constant", "status"}, {"infinite", "ratio"}}));
}

TEST(AlertsOfAProfile, MergedPartsGiveTheAlertsOfTheWhole) {
  const AlertTable t = alert_table(1000);
  PartialProfile whole(with_correlations());
  consume_rows(whole, t, 0, 1000);
  ProfileOptions other = with_correlations();
  other.alerts.zeros = 0.9;  // the second part's thresholds do not count
  PartialProfile a(with_correlations()), b(other);
  consume_rows(a, t, 0, 400);
  consume_rows(b, t, 400, 1000);
  const auto bytes = b.serialize();
  a.merge(PartialProfile::deserialize(bytes.data(), bytes.size()));
  const auto merged = a.alerts(), expected = whole.alerts();
  ASSERT_EQ(kind_and_column(merged), kind_and_column(expected));
  for (size_t i = 0; i < merged.size(); ++i) {
    EXPECT_NEAR(merged[i].value, expected[i].value, 1e-9 * std::abs(expected[i].value))
        << merged[i].message;
  }
  // the first 400 rows alone: no zeros alert with a 0.9 threshold, thresholds survive bytes
  const auto b2 = PartialProfile::deserialize(bytes.data(), bytes.size());
  EXPECT_EQ(b2.options().alerts.zeros, 0.9);
}

TEST(AlertsOfAProfile, DuplicateRowsAtTableLevelFirst) {
  ScopedSchema s(struct_schema({field("k", "l")}));
  Opt<int64_t> k;
  for (int64_t i = 0; i < 20; ++i) k.push_back(i % 15);
  ReleaseCounter rc;
  std::vector<ArrowArray> cols;
  cols.push_back(primitive_array<int64_t>(&rc, k));
  ScopedArray a(make_array(&rc, 20, 0, 0, {nullopt}, std::move(cols)));
  PartialProfile p;
  p.consume_batch(*s, *a);
  const auto alerts = p.alerts();
  ASSERT_FALSE(alerts.empty());
  EXPECT_EQ(alert_kind_name(alerts[0].kind), std::string("duplicate_rows"));
  EXPECT_EQ(alerts[0].value, 0.25);
  EXPECT_EQ(alerts[0].message, "table: 5 duplicate rows, 25.0 % of rows (threshold 0 %)");
}

}  // namespace
}  // namespace truthound
