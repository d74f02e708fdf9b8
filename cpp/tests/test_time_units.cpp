// Specification of how timestamps and durations of different units merge (ColumnState::merge,
// promote_to; DESIGN.md §2): in the finer unit, when every value fits it and the time zones are
// equal; otherwise SchemaError naming the column, both types and both sources. Equal instants in
// different units are one value (distinct counts, top values, duplicate rows).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "arrow_builders.hpp"
#include "old_formats.hpp"
#include "truthound/profile/partial.hpp"
#include "truthound/sketch/kll.hpp"
#include "truthound/util/error.hpp"
#include "truthound/util/temporal.hpp"

namespace truthound {
namespace {

using namespace truthound::testing;
using json::Value;
using std::nullopt;

// A profile of one int64-backed column "t" of Arrow format `format` ("tss:", "tsm:UTC", "tDs").
PartialProfile part(const std::string& format, const std::vector<std::optional<int64_t>>& values,
                    const std::string& source) {
  ReleaseCounter rc;
  PartialProfile p;
  p.add_source(source);
  ScopedSchema s(struct_schema({field("t", format)}));
  std::vector<ArrowArray> cols;
  cols.push_back(primitive_array<int64_t>(&rc, values));
  ScopedArray arr(
      make_array(&rc, static_cast<int64_t>(values.size()), 0, 0, {nullopt}, std::move(cols)));
  p.consume_batch(*s, *arr);
  return p;
}

Value fin(const PartialProfile& p) {
  return json::parse(p.finalize_json());
}

// The fields that must not depend on how the rows were split or in which unit they were read.
void expect_same_column(const Value& got, const Value& want) {
  for (const char* k :
       {"physical_type", "row_count", "null_count", "distinct_count", "min", "max", "median", "q1",
        "q3", "quantiles", "histogram", "top_values", "bottom_values", "inferred_type"}) {
    EXPECT_EQ(got[k].dump(), want[k].dump()) << k;
  }
}

TEST(TimeUnits, SecondsAndMillisecondsMergeInMilliseconds) {
  const auto a = [] { return part("tss:", {0, 1, 86400, nullopt}, "a.csv"); };
  const auto b = [] { return part("tsm:", {1000, 1500, 86400000}, "b.parquet"); };
  // the same instants read as milliseconds in one part
  const Value whole = fin(part("tsm:", {0, 1000, 86400000, nullopt, 1000, 1500, 86400000}, "w"));
  for (int order = 0; order < 2; ++order) {
    SCOPED_TRACE(order ? "ms first" : "s first");
    PartialProfile p = order ? b() : a();
    p.merge(order ? a() : b());
    const Value v = fin(p);
    const Value t = json::column(v, "t");
    EXPECT_EQ(t["physical_type"].str(), "timestamp[ms]");
    EXPECT_EQ(t["min"].str(), "1970-01-01T00:00:00");
    EXPECT_EQ(t["max"].str(), "1970-01-02T00:00:00");
    EXPECT_EQ(t["distinct_count"].num(), 4);  // 1 s == 1000 ms, 86400 s == 86400000 ms
    EXPECT_EQ(t["top_values"].items.at(0)["count"].num(), 2);
    EXPECT_EQ(v["duplicate_row_count"].num(), 2);
    expect_same_column(t, json::column(whole, "t"));
    EXPECT_EQ(v["duplicate_row_count"].num(), whole["duplicate_row_count"].num());
  }
}

TEST(TimeUnits, EveryUnitStepPromotesToTheFinest) {
  const char* formats[] = {"tss:", "tsm:", "tsu:", "tsn:"};
  const char* names[] = {"timestamp[s]", "timestamp[ms]", "timestamp[us]", "timestamp[ns]"};
  for (int lo = 0; lo < 4; ++lo) {
    for (int hi = lo + 1; hi < 4; ++hi) {
      SCOPED_TRACE(std::string(names[lo]) + " + " + names[hi]);
      const int64_t c = time_unit_factor(TimeUnit::kSecond, static_cast<TimeUnit>(lo));
      const int64_t f = time_unit_factor(TimeUnit::kSecond, static_cast<TimeUnit>(hi));
      // 2024-02-29T13:05:00 and one second later, in each part's unit
      const int64_t t0 = 1709211900;
      PartialProfile p = part(formats[lo], {t0 * c, (t0 + 1) * c}, "coarse");
      p.merge(part(formats[hi], {(t0 + 1) * f, (t0 + 2) * f + 1}, "fine"));
      const Value t = json::column(fin(p), "t");
      EXPECT_EQ(t["physical_type"].str(), names[hi]);
      EXPECT_EQ(t["min"].str(), "2024-02-29T13:05:00");
      EXPECT_EQ(t["distinct_count"].num(), 3);
      const Value whole = json::column(
          fin(part(formats[hi], {t0 * f, (t0 + 1) * f, (t0 + 1) * f, (t0 + 2) * f + 1}, "whole")),
          "t");
      expect_same_column(t, whole);
    }
  }
}

TEST(TimeUnits, ValuesThatDoNotFitTheFinerUnitThrowSchemaError) {
  // 10^10 s is 2286-11-20, beyond timestamp[ns] (int64 nanoseconds end in 2262)
  const auto coarse = [] { return part("tss:", {0, 10000000000}, "old.csv"); };
  const auto fine = [] { return part("tsn:", {5}, "new.parquet"); };
  for (int order = 0; order < 2; ++order) {
    SCOPED_TRACE(order ? "ns first" : "s first");
    PartialProfile p = order ? fine() : coarse();
    const std::string before = p.finalize_json();
    expect_throws<SchemaError>(
        [&] { p.merge(order ? coarse() : fine()); },
        {"'t'", "timestamp[s]", "timestamp[ns]", "2286-11-20", "old.csv", "new.parquet"});
    // a failed merge leaves the column as it was
    EXPECT_EQ(json::column(json::parse(p.finalize_json()), "t").dump(),
              json::column(json::parse(before), "t").dump());
  }
  // within one stream too (schema drift between batches)
  PartialProfile p = coarse();
  PartialProfile q = fine();
  expect_throws<SchemaError>([&] { q.merge(p); }, {"timestamp[s]", "timestamp[ns]"});
}

TEST(TimeUnits, TimeZonesMergeOnlyWhenEqual) {
  {
    PartialProfile p = part("tss:UTC", {0}, "a");
    p.merge(part("tsm:UTC", {1}, "b"));
    const Value t = json::column(fin(p), "t");
    EXPECT_EQ(t["physical_type"].str(), "timestamp[ms, tz=UTC]");
    EXPECT_EQ(t["max"].str(), "1970-01-01T00:00:00.001Z");
  }
  {
    PartialProfile p = part("tss:UTC", {0}, "a");
    expect_throws<SchemaError>([&] { p.merge(part("tsm:Europe/Paris", {1}, "b")); },
                               {"'t'", "UTC", "Europe/Paris"});
  }
  {
    PartialProfile p = part("tss:", {0}, "naive.csv");
    expect_throws<SchemaError>([&] { p.merge(part("tss:UTC", {1}, "utc.parquet")); },
                               {"timestamp[s]", "timestamp[s, tz=UTC]", "naive.csv"});
  }
}

TEST(TimeUnits, DurationsPromoteLikeTimestamps) {
  PartialProfile p = part("tDs", {2, 3}, "a");
  p.merge(part("tDm", {2000, 2500}, "b"));
  const Value t = json::column(fin(p), "t");
  EXPECT_EQ(t["physical_type"].str(), "duration[ms]");
  EXPECT_EQ(t["min"].num(), 2000);
  EXPECT_EQ(t["max"].num(), 3000);
  EXPECT_EQ(t["distinct_count"].num(), 3);
}

TEST(TimeUnits, ManyValuesMergeLikeTheWholeColumn) {
  // 60,000 timestamps a second apart around 2021, half read in seconds and half in microseconds,
  // against all of them in microseconds: HyperLogLog registers and exact counts are identical;
  // quantiles (estimation mode) stay within the sketch's bound.
  std::mt19937_64 rng(7);
  std::vector<int64_t> seconds(60000);
  for (auto& s : seconds) s = 1609459200 + static_cast<int64_t>(rng() % 90000);
  std::vector<std::optional<int64_t>> a, b, whole;
  for (size_t i = 0; i < seconds.size(); ++i) {
    (i % 2 ? a : b).push_back(i % 2 ? seconds[i] : seconds[i] * 1000000);
    whole.push_back(seconds[i] * 1000000);
  }
  PartialProfile p = part("tss:", a, "a");
  p.merge(part("tsu:", b, "b"));
  const Value got = fin(p), want = fin(part("tsu:", whole, "w"));
  const Value t = json::column(got, "t"), w = json::column(want, "t");
  for (const char* k : {"physical_type", "row_count", "distinct_count", "min", "max"}) {
    EXPECT_EQ(t[k].dump(), w[k].dump()) << k;
  }
  EXPECT_EQ(got["duplicate_row_count"].num(), want["duplicate_row_count"].num());
  EXPECT_EQ(t["top_values"].items.at(0)["count"].num(), w["top_values"].items.at(0)["count"].num());
}

TEST(TimeUnits, OlderFormatsWithFineTimestampsAreRefused) {
  PartialProfile ms = part("tsm:", {1, 2}, "a");
  auto bytes = relabelled(ms.serialize(), PartialProfile::kFormatVersionRawTimeHashes);
  expect_throws<CorruptProfileError>(
      [&] { PartialProfile::deserialize(bytes.data(), bytes.size()); },
      {"'t'", "timestamp[ms]", "format 3", "profile the data again"});
  // seconds hash as before: those bytes still load
  PartialProfile s = part("tss:", {1, 2}, "a");
  bytes = relabelled(s.serialize(), PartialProfile::kFormatVersionRawTimeHashes);
  EXPECT_EQ(json::column(fin(PartialProfile::deserialize(bytes.data(), bytes.size())), "t").dump(),
            json::column(fin(s), "t").dump());
}

TEST(TimeUnits, CanonicalFormIsTheCoarsestExactUnit) {
  EXPECT_EQ(canonical_time(2000, TimeUnit::kMilli).value, 2);
  EXPECT_EQ(canonical_time(2000, TimeUnit::kMilli).unit, TimeUnit::kSecond);
  EXPECT_EQ(canonical_time(1500, TimeUnit::kMilli).unit, TimeUnit::kMilli);
  EXPECT_EQ(canonical_time(-3000000000, TimeUnit::kNano).value, -3);
  EXPECT_EQ(canonical_time(0, TimeUnit::kNano).unit, TimeUnit::kSecond);
  int64_t out = 0;
  EXPECT_TRUE(rescale_time(9223372036, TimeUnit::kSecond, TimeUnit::kNano, out));
  EXPECT_FALSE(rescale_time(9223372037, TimeUnit::kSecond, TimeUnit::kNano, out));
  EXPECT_FALSE(rescale_time(1, TimeUnit::kMilli, TimeUnit::kSecond, out));
}

TEST(KllSketch, ScaleMultipliesEveryItemAndKeepsRanks) {
  KllSketch exact, big;
  std::mt19937_64 rng(3);
  std::vector<double> values;
  for (int i = 0; i < 200000; ++i) values.push_back(static_cast<double>(rng() % 1000000));
  for (int i = 0; i < 100; ++i) exact.update(values[static_cast<size_t>(i)]);
  big.update(values);
  for (KllSketch* k : {&exact, &big}) {
    KllSketch scaled = *k;
    scaled.scale(1000.0);
    EXPECT_EQ(scaled.n(), k->n());
    EXPECT_EQ(scaled.is_exact(), k->is_exact());
    EXPECT_EQ(scaled.min(), k->min() * 1000.0);
    EXPECT_EQ(scaled.max(), k->max() * 1000.0);
    for (double r : {0.0, 0.01, 0.25, 0.5, 0.9, 1.0}) {
      // exact mode interpolates between neighbours: equal up to that rounding
      EXPECT_DOUBLE_EQ(scaled.quantile(r), k->quantile(r) * 1000.0) << r;
    }
    // and it still serializes as a valid sketch
    const auto bytes = scaled.serialize();
    EXPECT_EQ(KllSketch::deserialize(bytes.data(), bytes.size()).quantile(0.5),
              scaled.quantile(0.5));
  }
  KllSketch k;
  k.update(1e300);
  EXPECT_THROW(k.scale(1e10), InvalidArgumentError);
  EXPECT_THROW(k.scale(0.0), InvalidArgumentError);
  EXPECT_THROW(k.scale(-1.0), InvalidArgumentError);
}

}  // namespace
}  // namespace truthound
