// Golden serialized bytes of every sketch and of the partial profile (cpp/tests/golden/*.bin):
// each case serializes a fixed input, compares byte for byte with its golden file, then loads the
// golden file and checks a few values, so the stored bytes are also known to mean what they
// should. Regenerate after a deliberate format change: see golden.hpp. (FrequentItems keeps its
// own hashed golden outputs in test_frequent_items.cpp; its section is inside the partial
// profile's file here.)
#include "golden.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "arrow_builders.hpp"
#include "truthound/arrow/data_type.hpp"
#include "truthound/profile/duplicates.hpp"
#include "truthound/profile/options.hpp"
#include "truthound/profile/partial.hpp"
#include "truthound/sketch/hll.hpp"
#include "truthound/sketch/kll.hpp"
#include "truthound/stats/moments.hpp"
#include "truthound/util/hash.hpp"

namespace truthound {
namespace {

using namespace truthound::testing;
using std::nullopt;

template <typename T>
std::vector<uint8_t> bytes_of(const T& x) {
  ByteWriter w;
  x.serialize(w);
  return w.take();
}

std::vector<uint64_t> hashes(uint64_t first, uint64_t count) {
  std::vector<uint64_t> out;
  for (uint64_t i = first; i < first + count; ++i) out.push_back(hash_int(static_cast<int64_t>(i)));
  return out;
}

TEST(GoldenHyperLogLog, ExactAndDense) {
  {
    const HyperLogLog empty;
    const auto g = check_golden("hll_empty", empty.serialize());
    const HyperLogLog back = HyperLogLog::deserialize(g.data(), g.size());
    EXPECT_TRUE(back.is_empty());
    EXPECT_EQ(back.precision(), 16);
  }
  {
    HyperLogLog exact;  // below the exact limit: the hashes themselves
    const auto h = hashes(0, 1000);
    exact.update(h);
    exact.update(std::span<const uint64_t>(h).first(10));  // repeats
    const auto g = check_golden("hll_exact_1000", exact.serialize());
    const HyperLogLog back = HyperLogLog::deserialize(g.data(), g.size());
    EXPECT_TRUE(back.is_exact());
    EXPECT_EQ(back.estimate(), 1000.0);
  }
  {
    HyperLogLog dense(12);  // 4,096 registers, past the exact limit
    dense.update(hashes(0, 100000));
    const auto g = check_golden("hll_dense_p12_100000", dense.serialize());
    const HyperLogLog back = HyperLogLog::deserialize(g.data(), g.size());
    EXPECT_FALSE(back.is_exact());
    EXPECT_EQ(back.precision(), 12);
    EXPECT_NEAR(back.estimate(), 100000.0, 100000.0 * 3 * back.relative_standard_error());
    EXPECT_EQ(back.estimate(), dense.estimate());
    // Format versions 1 (one byte per register) and 2 (4-bit registers with exceptions) still
    // load, into the same registers.
    const auto v1 = read_golden("hll_dense_p12_100000_v1");
    ASSERT_EQ(v1.size(), 8u + 4096);
    ASSERT_EQ(v1[1], 1);
    const auto v2 = read_golden("hll_dense_p12_100000_v2");
    ASSERT_EQ(v2[1], 2);
    EXPECT_LT(g.size(), v2.size());
    for (const auto& old_bytes : {v1, v2}) {
      const HyperLogLog old = HyperLogLog::deserialize(old_bytes.data(), old_bytes.size());
      EXPECT_EQ(old.serialize(), dense.serialize());
      EXPECT_EQ(old.estimate(), dense.estimate());
    }
  }
  {
    HyperLogLog exact;
    exact.update(hashes(0, 1000));
    for (const char* name : {"hll_exact_1000_v1", "hll_exact_1000_v2"}) {
      const auto old = read_golden(name);
      ASSERT_LE(old[1], 2) << name;
      EXPECT_EQ(HyperLogLog::deserialize(old.data(), old.size()).serialize(), exact.serialize())
          << name;
    }
  }
}

TEST(GoldenKllSketch, ExactAndCompacted) {
  {
    KllSketch exact;  // every item kept
    for (int i = 0; i < 100; ++i) exact.update(static_cast<double>((i * 37) % 100) - 20.5);
    const auto g = check_golden("kll_exact_100", exact.serialize());
    const KllSketch back = KllSketch::deserialize(g.data(), g.size());
    EXPECT_TRUE(back.is_exact());
    EXPECT_EQ(back.n(), 100u);
    EXPECT_EQ(back.min(), -20.5);
    EXPECT_EQ(back.max(), 78.5);
    EXPECT_EQ(back.quantile(0.5), 29.0);              // numpy.quantile(np.arange(100) - 20.5, 0.5)
    const auto v1 = read_golden("kll_exact_100_v1");  // format version 1 still loads
    ASSERT_EQ(v1[1], 1);
    EXPECT_EQ(KllSketch::deserialize(v1.data(), v1.size()).serialize(), exact.serialize());
  }
  {
    KllSketch compacted(64);
    std::mt19937_64 rng(7);  // the engine is specified; only its raw output is used
    for (int i = 0; i < 100000; ++i) compacted.update(static_cast<double>(rng() % 1000000));
    const auto g = check_golden("kll_k64_100000", compacted.serialize());
    const KllSketch back = KllSketch::deserialize(g.data(), g.size());
    EXPECT_FALSE(back.is_exact());
    EXPECT_EQ(back.k(), 64);
    EXPECT_EQ(back.n(), 100000u);
    EXPECT_EQ(back.quantile(0.5), compacted.quantile(0.5));
    EXPECT_NEAR(back.quantile(0.5), 500000.0, 1000000.0 * 3 * back.normalized_rank_error());
    const auto v1 = read_golden("kll_k64_100000_v1");  // format version 1 still loads
    ASSERT_EQ(v1[1], 1);
    EXPECT_LT(g.size(), v1.size());
    EXPECT_EQ(KllSketch::deserialize(v1.data(), v1.size()).serialize(), compacted.serialize());
  }
}

TEST(GoldenMoments, MomentsAndCoMoments) {
  // 1..1024: every sum, mean and centered power is exact in double, so the bytes do not depend
  // on the compiler's floating-point contraction.
  std::vector<double> xs, ys;
  for (int i = 1; i <= 1024; ++i) {
    xs.push_back(i);
    ys.push_back(2.0 * i + 1);
  }
  Moments m;
  m.update(xs);
  const auto g = check_golden("moments_1_to_1024", m.serialize());
  const Moments back = Moments::deserialize(g.data(), g.size());
  EXPECT_EQ(back.n, 1024u);
  EXPECT_EQ(back.mean, 512.5);
  EXPECT_EQ(back.variance_population(), (1024.0 * 1024.0 - 1) / 12);
  EXPECT_EQ(back.m3, 0.0);

  CoMoments c;
  c.update(xs, ys);
  const auto gc = check_golden("comoments_1_to_1024", c.serialize());
  const CoMoments cback = CoMoments::deserialize(gc.data(), gc.size());
  EXPECT_EQ(cback.n, 1024u);
  EXPECT_EQ(cback.mean_y, 1026.0);
  EXPECT_DOUBLE_EQ(cback.pearson(), 1.0);
}

TEST(GoldenDuplicateCounter, ExactAndSampled) {
  {
    DuplicateCounter exact(1000);
    auto h = hashes(0, 500);
    const auto again = hashes(100, 50);  // 50 rows repeat earlier ones
    h.insert(h.end(), again.begin(), again.end());
    exact.update(h);
    const auto g = check_golden("duplicates_exact", bytes_of(exact));
    ByteReader r(g.data(), g.size(), "duplicates");
    const DuplicateCounter back = DuplicateCounter::deserialize(r, 1000);
    r.expect_end();
    EXPECT_TRUE(back.is_exact());
    EXPECT_EQ(back.rows(), 550u);
    EXPECT_EQ(back.duplicate_rows(), 50u);
    // The layout of partial profile format 4 (u64 hash and count a row) still loads.
    const auto v4 = read_golden("duplicates_exact_v4");
    ByteReader r4(v4.data(), v4.size(), "duplicates");
    const DuplicateCounter old = DuplicateCounter::deserialize(r4, 1000, false);
    r4.expect_end();
    EXPECT_EQ(bytes_of(old), g);
  }
  {
    DuplicateCounter sampled(256);  // past the limit: a sample of the hashes
    auto h = hashes(0, 5000);
    const auto again = hashes(0, 1000);
    h.insert(h.end(), again.begin(), again.end());
    sampled.update(h);
    const auto g = check_golden("duplicates_sampled", bytes_of(sampled));
    ByteReader r(g.data(), g.size(), "duplicates");
    const DuplicateCounter back = DuplicateCounter::deserialize(r, 256);
    r.expect_end();
    EXPECT_FALSE(back.is_exact());
    EXPECT_EQ(back.rows(), 6000u);
    EXPECT_EQ(back.duplicate_rows(), sampled.duplicate_rows());
    EXPECT_NEAR(static_cast<double>(back.duplicate_rows()), 1000.0, 500.0);
    const auto v4 = read_golden("duplicates_sampled_v4");
    ByteReader r4(v4.data(), v4.size(), "duplicates");
    const DuplicateCounter old = DuplicateCounter::deserialize(r4, 256, false);
    r4.expect_end();
    EXPECT_EQ(bytes_of(old), g);
    EXPECT_LT(g.size(), v4.size());
  }
}

TEST(GoldenDataType, NestedTree) {
  const SchemaSpec spec = struct_schema({
      field("id", "l"),
      field("price", "d:10,2,64"),
      field("at", "tsu:Europe/Oslo"),
      field("tags", "+l", {field("item", "u")}),
      dict_field("city", "i", field("", "U"), true),
      field("t", "ttn"),
  });
  ScopedSchema s(spec);
  const DataType t = parse_field(*s).type;
  const auto g = check_golden("data_type_struct", bytes_of(t));
  ByteReader r(g.data(), g.size(), "data type");
  const DataType back = DataType::deserialize(r);
  r.expect_end();
  EXPECT_EQ(back, t);
  EXPECT_EQ(back.to_string(),
            "struct<id: int64, price: decimal64(10, 2), at: timestamp[us, tz=Europe/Oslo], tags: "
            "list<item: string>, city: dictionary<values=large_string, indices=int32, "
            "ordered=1>, t: time64[ns]>");
}

TEST(GoldenProfileOptions, NonDefaultValues) {
  ProfileOptions o;
  o.top_n = 7;
  o.histogram_bins = 12;
  o.patterns = false;
  o.pattern_threshold = 0.625;
  o.pattern_samples = 3;
  o.correlations = true;
  o.hll_precision = 14;
  o.kll_k = 200;
  o.frequent_items_capacity = 512;
  o.duplicate_exact_limit = 4096;
  o.alerts.high_null_ratio = 0.25;
  o.alerts.skewness = 7.5;
  o.alerts.correlation = 0.75;
  const auto g = check_golden("profile_options", bytes_of(o));
  ByteReader r(g.data(), g.size(), "options");
  const ProfileOptions back = ProfileOptions::deserialize(r);
  r.expect_end();
  EXPECT_EQ(back.top_n, 7u);
  EXPECT_EQ(back.histogram_bins, 12u);
  EXPECT_FALSE(back.patterns);
  EXPECT_EQ(back.pattern_threshold, 0.625);
  EXPECT_EQ(back.pattern_samples, 3u);
  EXPECT_TRUE(back.correlations);
  EXPECT_EQ(back.hll_precision, 14);
  EXPECT_EQ(back.kll_k, 200);
  EXPECT_EQ(back.frequent_items_capacity, 512u);
  EXPECT_EQ(back.duplicate_exact_limit, 4096u);
  EXPECT_EQ(back.alerts.high_null_ratio, 0.25);
  EXPECT_EQ(back.alerts.skewness, 7.5);
  EXPECT_EQ(back.alerts.correlation, 0.75);
  EXPECT_EQ(back.alerts.zeros, AlertThresholds{}.zeros);
}

// The same options as written by partial profile formats 2 to 4 (no alert thresholds): they load
// with the default thresholds.
TEST(GoldenProfileOptions, Version4LoadsWithDefaultThresholds) {
  const auto g = read_golden("profile_options_v4");
  ByteReader r(g.data(), g.size(), "options");
  const ProfileOptions back = ProfileOptions::deserialize(r, /*with_alerts=*/false);
  r.expect_end();
  EXPECT_EQ(back.kll_k, 200);
  EXPECT_EQ(back.duplicate_exact_limit, 4096u);
  const AlertThresholds defaults;
  for (const auto& o : AlertThresholds::options()) {
    EXPECT_EQ(back.alerts.*o.field, defaults.*o.field) << o.name;
  }
}

// Every column kind, nulls, two batches, two sources, correlations and duplicates.
PartialProfile golden_partial() {
  ProfileOptions o;
  o.correlations = true;
  o.kll_k = 64;  // small enough that 300 rows compact the quantile sketches
  PartialProfile p(o);
  p.add_source("part-0.parquet");
  p.add_source("part-1.parquet");
  ScopedSchema s(
      struct_schema({field("id", "l"), field("amount", "g"), field("email", "u"),
                     field("active", "b"), field("at", "tsu:UTC"), field("price", "d:10,2,64")}));
  const std::vector<std::string> domains = {"example.com", "example.org", "mail.test"};
  for (int batch = 0; batch < 2; ++batch) {
    Opt<int64_t> id, at, price;
    Opt<double> amount;
    Opt<std::string> email;
    Opt<bool> active;
    for (int64_t i = batch * 150; i < (batch + 1) * 150; ++i) {
      const int64_t k = i % 140;  // rows 140..299 repeat rows 0..159
      id.push_back(k);
      amount.push_back(k % 11 == 0 ? std::optional<double>{} : k * 0.25 - 3);
      email.push_back(k % 13 == 0
                          ? std::optional<std::string>{}
                          : "user" + std::to_string(k) + "@" + domains[static_cast<size_t>(k % 3)]);
      active.push_back(k % 7 == 0 ? std::optional<bool>{} : k % 2 == 0);
      at.push_back(1700000000000000 + k * 3600000000);
      price.push_back(k * 125 - 999);
    }
    ReleaseCounter rc;
    std::vector<ArrowArray> cols;
    cols.push_back(primitive_array<int64_t>(&rc, id));
    cols.push_back(primitive_array<double>(&rc, amount));
    cols.push_back(string_array(&rc, email));
    cols.push_back(bool_array(&rc, active));
    cols.push_back(primitive_array<int64_t>(&rc, at));
    cols.push_back(primitive_array<int64_t>(&rc, price));
    ScopedArray a(make_array(&rc, 150, 0, 0, {nullopt}, std::move(cols)));
    p.consume_batch(*s, *a);
  }
  return p;
}

TEST(GoldenPartialProfile, EveryColumnKind) {
  const PartialProfile p = golden_partial();
  const auto g = check_golden("partial_profile", p.serialize());
  const PartialProfile back = PartialProfile::deserialize(g.data(), g.size());
  EXPECT_EQ(back.row_count(), 300u);
  EXPECT_EQ(back.sources(), (std::vector<std::string>{"part-0.parquet", "part-1.parquet"}));
  EXPECT_EQ(back.column_names(),
            (std::vector<std::string>{"id", "amount", "email", "active", "at", "price"}));
  EXPECT_EQ(back.options().kll_k, 64);
  EXPECT_TRUE(back.options().correlations);
  const json::Value v = json::parse(back.finalize_json());
  using json::column;
  EXPECT_EQ(v["duplicate_row_count"].num(), 160);
  EXPECT_EQ(column(v, "id")["min"].num(), 0);
  EXPECT_EQ(column(v, "id")["max"].num(), 139);
  EXPECT_EQ(column(v, "id")["distinct_count"].num(), 140);
  EXPECT_EQ(column(v, "amount")["null_count"].num(), 28);  // k % 11 == 0: 13 + 13 + 2
  EXPECT_EQ(column(v, "email")["null_count"].num(), 24);   // k % 13 == 0: 11 + 11 + 2
  EXPECT_EQ(column(v, "active")["null_count"].num(), 43);  // k % 7 == 0: 20 + 20 + 3
  EXPECT_EQ(column(v, "at")["min"].str(), "2023-11-14T22:13:20Z");
  EXPECT_EQ(column(v, "price")["max"].str(), "163.76");
  EXPECT_EQ(column(v, "email")["detected_patterns"][0]["name"].str(), "email");
  EXPECT_EQ(v["correlations"].size(), 3u);  // id, amount, price: three numeric pairs
  // The whole result of the golden bytes is what the same input gives today.
  EXPECT_EQ(back.finalize_json(), p.finalize_json());
}

// The same input serialized by format version 4 (before the options carried alert thresholds):
// it loads with the default thresholds and finalizes as today's bytes do, alerts included.
TEST(GoldenPartialProfile, Version4LoadsWithDefaultAlertThresholds) {
  const auto v4 = read_golden("partial_profile_v4");
  ASSERT_GT(v4.size(), 8u);
  ASSERT_EQ(v4[4], PartialProfile::kFormatVersionUnpacked);
  const PartialProfile back = PartialProfile::deserialize(v4.data(), v4.size());
  EXPECT_EQ(back.options().alerts.correlation, AlertThresholds{}.correlation);
  const PartialProfile p = golden_partial();
  EXPECT_EQ(back.finalize_json(), p.finalize_json());
  const json::Value v = json::parse(back.finalize_json());
  ASSERT_GT(v["alerts"].size(), 0u);
  EXPECT_EQ(v["alerts"][0]["kind"].str(), "duplicate_rows");
}

// Format version 4 (sketches unpacked: one u64 a hash, 4-bit HyperLogLog registers, f64
// quantile items) of the same input loads into the same state, so it re-serializes as today's.
TEST(GoldenPartialProfile, Version4LoadsIntoTheSameState) {
  const PartialProfile p = golden_partial();
  const auto v4 = read_golden("partial_profile_v4");
  ASSERT_GT(v4.size(), 8u);
  ASSERT_EQ(v4[4], PartialProfile::kFormatVersionUnpacked);
  const PartialProfile back = PartialProfile::deserialize(v4.data(), v4.size());
  EXPECT_EQ(back.serialize(), p.serialize());
  EXPECT_EQ(back.finalize_json(), p.finalize_json());
  PartialProfile merged = PartialProfile::deserialize(v4.data(), v4.size());
  merged.merge(p);
  PartialProfile twice = golden_partial();
  twice.merge(p);
  EXPECT_EQ(merged.serialize(), twice.serialize());
}

// The same input serialized by format version 3 (before timestamps hashed in canonical units):
// its microsecond column's hashes cannot merge with today's, so it is refused with a clear error.
TEST(GoldenPartialProfile, Version3WithSubSecondTimestampsIsRefused) {
  const std::string path = std::string(TRUTHOUND_GOLDEN_DIR) + "/partial_profile_v3.bin";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path;
  const std::vector<uint8_t> v3((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  ASSERT_GT(v3.size(), 8u);
  try {
    (void)PartialProfile::deserialize(v3.data(), v3.size());
    ADD_FAILURE() << "version 3 bytes with a microsecond timestamp column loaded";
  } catch (const CorruptProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("again"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace truthound
