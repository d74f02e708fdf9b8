// KllSketch, specified by example: exact mode, accuracy in estimation mode, merge,
// serialize/deserialize, truncated and corrupted bytes.
#include "truthound/sketch/kll.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "truthound/util/error.hpp"
#include "truthound/util/sorted_codec.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define TRUTHOUND_KLL_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TRUTHOUND_KLL_SANITIZED 1
#endif
#endif
#ifndef TRUTHOUND_KLL_SANITIZED
#define TRUTHOUND_KLL_SANITIZED 0
#endif

namespace truthound {
namespace {

constexpr bool kSanitized = TRUTHOUND_KLL_SANITIZED;

enum class Shape { kUniform, kNormal, kSorted, kReversed, kFewDistinct };
const char* shape_name(Shape s) {
  switch (s) {
    case Shape::kUniform:
      return "uniform";
    case Shape::kNormal:
      return "normal";
    case Shape::kSorted:
      return "sorted";
    case Shape::kReversed:
      return "reversed";
    case Shape::kFewDistinct:
      return "few-distinct";
  }
  return "?";
}

std::vector<double> make_data(Shape shape, size_t n, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::vector<double> x(n);
  std::uniform_real_distribution<double> u(-5, 5);
  std::normal_distribution<double> z(100, 15);
  for (auto& v : x) {
    switch (shape) {
      case Shape::kNormal:
        v = z(g);
        break;
      case Shape::kFewDistinct:
        v = static_cast<double>(g() % 1000) * 0.25;
        break;
      default:
        v = u(g);
    }
  }
  if (shape == Shape::kSorted) std::sort(x.begin(), x.end());
  if (shape == Shape::kReversed) std::sort(x.rbegin(), x.rend());
  return x;
}

void feed(KllSketch& s, const std::vector<double>& x, size_t block = 65536) {
  for (size_t i = 0; i < x.size(); i += block) {
    s.update(std::span<const double>(x.data() + i, std::min(block, x.size() - i)));
  }
}

// numpy.quantile(x, q, method="linear"), written out independently.
double numpy_linear(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double t = pos - std::floor(pos), a = sorted[lo], b = sorted[hi];
  if (a == b) return a;
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

// Distance from q to the true normalized rank interval [#< v, #<= v] / n of the value v.
double rank_error(const std::vector<double>& sorted, double q, double v) {
  const double n = static_cast<double>(sorted.size());
  const double lo =
      static_cast<double>(std::lower_bound(sorted.begin(), sorted.end(), v) - sorted.begin()) / n;
  const double hi =
      static_cast<double>(std::upper_bound(sorted.begin(), sorted.end(), v) - sorted.begin()) / n;
  return q < lo ? lo - q : (q > hi ? q - hi : 0.0);
}

struct ErrorTally {
  size_t checks = 0, failures = 0;
  double max_error = 0;
  void add(double err, double bound) {
    ++checks;
    failures += err > bound ? 1 : 0;
    max_error = std::max(max_error, err);
  }
};

// Checks quantiles 0.01..0.99 and rank() at the true quantiles of one sketch.
void check_accuracy(const KllSketch& s, const std::vector<double>& sorted, ErrorTally& tally) {
  const double bound = s.normalized_rank_error();
  std::vector<double> ranks;
  for (int i = 1; i <= 99; ++i) ranks.push_back(i / 100.0);
  const auto q = s.quantiles(ranks);
  const double n = static_cast<double>(sorted.size());
  for (size_t i = 0; i < ranks.size(); ++i) {
    tally.add(rank_error(sorted, ranks[i], q[i]), bound);
    const double v = sorted[static_cast<size_t>(ranks[i] * n)];
    const double lo =
        static_cast<double>(std::lower_bound(sorted.begin(), sorted.end(), v) - sorted.begin()) / n;
    const double hi =
        static_cast<double>(std::upper_bound(sorted.begin(), sorted.end(), v) - sorted.begin()) / n;
    const double r = s.rank(v);  // true rank(v) is hi; with ties anything in [lo, hi] is fair
    tally.add(r < lo ? lo - r : (r > hi ? r - hi : 0.0), bound);
  }
}

uint64_t total(const std::vector<uint64_t>& counts) {
  return std::accumulate(counts.begin(), counts.end(), uint64_t{0});
}

// ---- construction and empty ----

TEST(KllSketch, RejectsKOutsideRange) {
  EXPECT_THROW(KllSketch(7), InvalidArgumentError);
  EXPECT_THROW(KllSketch(0), InvalidArgumentError);
  EXPECT_NO_THROW(KllSketch(8));
  EXPECT_NO_THROW(KllSketch(65535));
}

TEST(KllSketch, EmptySketchAnswersNaNAndZeroCounts) {
  KllSketch s;
  EXPECT_TRUE(s.is_empty());
  EXPECT_TRUE(s.is_exact());
  EXPECT_EQ(s.n(), 0u);
  EXPECT_TRUE(std::isnan(s.min()));
  EXPECT_TRUE(std::isnan(s.max()));
  EXPECT_TRUE(std::isnan(s.quantile(0.5)));
  EXPECT_TRUE(std::isnan(s.rank(1.0)));
  EXPECT_EQ(s.histogram(0, 1, 4), std::vector<uint64_t>(4, 0));
  EXPECT_EQ(s.normalized_rank_error(), 0.0);
}

TEST(KllSketch, RejectsBadRanksAndHistogramRanges) {
  KllSketch s;
  s.update(1.0);
  EXPECT_THROW(s.quantile(-0.01), InvalidArgumentError);
  EXPECT_THROW(s.quantile(1.01), InvalidArgumentError);
  EXPECT_THROW(s.quantile(std::nan("")), InvalidArgumentError);
  EXPECT_THROW(s.histogram(1, 0, 3), InvalidArgumentError);
  EXPECT_THROW(s.histogram(0, 1, 0), InvalidArgumentError);
  EXPECT_THROW(s.histogram(0, INFINITY, 3), InvalidArgumentError);
}

// ---- exact mode ----

TEST(KllSketch, ExactModeMatchesNumpyGoldenValues) {
  // numpy.quantile([3, 1, 2, 10, 7.5], [0, .1, .25, .5, .9, .99, 1]) with numpy 2.4
  KllSketch s;
  for (double v : {3.0, 1.0, 2.0, 10.0, 7.5}) s.update(v);
  ASSERT_TRUE(s.is_exact());
  const std::vector<double> ranks = {0, 0.1, 0.25, 0.5, 0.9, 0.99, 1};
  const std::vector<double> expected = {1, 1.4, 2, 3, 9, 9.9, 10};
  EXPECT_EQ(s.quantiles(ranks), expected);
}

TEST(KllSketch, ExactModeMatchesSortedData) {
  std::mt19937_64 g(42);
  for (size_t n : {1u, 2u, 3u, 17u, 400u, 1000u, 4095u}) {
    std::vector<double> x(n);
    std::normal_distribution<double> z(0, 1e6);
    for (auto& v : x) v = std::round(z(g)) / 8;  // ties included
    KllSketch s;
    feed(s, x, 1000);
    ASSERT_TRUE(s.is_exact()) << n;
    EXPECT_EQ(s.normalized_rank_error(), 0.0);
    std::vector<double> sorted = x;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(s.min(), sorted.front());
    EXPECT_EQ(s.max(), sorted.back());
    for (int i = 0; i <= 200; ++i) {
      const double q = i / 200.0;
      EXPECT_EQ(s.quantile(q), numpy_linear(sorted, q)) << "n=" << n << " q=" << q;
    }
    for (double v : {sorted[n / 2], sorted[n / 3] + 0.01, sorted.front() - 1}) {
      const double le =
          static_cast<double>(std::upper_bound(sorted.begin(), sorted.end(), v) - sorted.begin());
      EXPECT_EQ(s.rank(v), le / static_cast<double>(n));
    }
    // Exact histogram over [min, max].
    const uint32_t bins = 7;
    std::vector<uint64_t> expected(bins, 0);
    const double lo = sorted.front(), hi = sorted.back();
    for (double v : x) {
      size_t b =
          hi > lo ? static_cast<size_t>((v * 0.5 - lo * 0.5) / (hi * 0.5 - lo * 0.5) * bins) : 0;
      expected[std::min<size_t>(b, bins - 1)]++;
    }
    EXPECT_EQ(s.histogram(lo, hi, bins), expected);
  }
}

TEST(KllSketch, SingleUpdatesEqualBlockUpdates) {
  const auto x = make_data(Shape::kUniform, 200000, 3);
  KllSketch a(200, 9), b(200, 9);
  for (double v : x) a.update(v);
  feed(b, x);
  EXPECT_EQ(a.n(), b.n());
  EXPECT_EQ(a.min(), b.min());
  EXPECT_EQ(a.max(), b.max());
  std::vector<double> sorted = x;
  std::sort(sorted.begin(), sorted.end());
  ErrorTally t;
  check_accuracy(a, sorted, t);
  check_accuracy(b, sorted, t);
  EXPECT_LE(t.failures, t.checks / 20);
}

// ---- estimation mode ----

TEST(KllSketch, RankErrorWithinBoundAcrossSeedsAndInputs) {
  struct Plan {
    size_t n;
    int seeds;
  };
  std::vector<Plan> plans = {{100000, 30}, {1000000, 30}, {10000000, 3}};
  if (kSanitized) plans = {{100000, 8}, {1000000, 3}};
  ErrorTally all;
  for (const Plan& plan : plans) {
    for (Shape shape :
         {Shape::kUniform, Shape::kNormal, Shape::kSorted, Shape::kReversed, Shape::kFewDistinct}) {
      const auto x = make_data(shape, plan.n, plan.n + static_cast<int>(shape));
      std::vector<double> sorted = x;
      std::sort(sorted.begin(), sorted.end());
      ErrorTally t;
      for (int seed = 0; seed < plan.seeds; ++seed) {
        KllSketch s(400, 1000 + seed);
        feed(s, x);
        ASSERT_FALSE(s.is_exact());
        ASSERT_EQ(s.n(), plan.n);
        ASSERT_EQ(s.min(), sorted.front());
        ASSERT_EQ(s.max(), sorted.back());
        EXPECT_EQ(s.quantile(0), sorted.front());
        EXPECT_EQ(s.quantile(1), sorted.back());
        check_accuracy(s, sorted, t);
      }
      // No single check may be far outside the 99% bound.
      EXPECT_LE(t.max_error, 2 * KllSketch::normalized_rank_error_for(400))
          << shape_name(shape) << " n=" << plan.n;
      all.checks += t.checks;
      all.failures += t.failures;
      all.max_error = std::max(all.max_error, t.max_error);
    }
  }
  // A 99% bound: at most ~2% of all checks above it.
  EXPECT_LE(static_cast<double>(all.failures), 0.02 * static_cast<double>(all.checks))
      << all.failures << " of " << all.checks << ", max error " << all.max_error;
}

TEST(KllSketch, DocumentedBoundForDefaultK) {
  EXPECT_LE(KllSketch::normalized_rank_error_for(400), 0.005);
  EXPECT_GT(KllSketch::normalized_rank_error_for(200), KllSketch::normalized_rank_error_for(400));
}

TEST(KllSketch, SmallChunksKeepEveryWeight) {
  // Chunks of 1..13 values exercise the sampler's unfinished blocks.
  const size_t n = kSanitized ? 400000 : 3000000;
  const auto x = make_data(Shape::kNormal, n, 77);
  KllSketch s(64, 5);  // small k: the sampler starts early
  std::mt19937_64 g(1);
  for (size_t i = 0; i < x.size();) {
    const size_t m = std::min<size_t>(1 + g() % 13, x.size() - i);
    s.update(std::span<const double>(x.data() + i, m));
    i += m;
  }
  EXPECT_EQ(s.n(), n);
  EXPECT_EQ(total(s.histogram(s.min(), s.max(), 10)), n);
  std::vector<double> sorted = x;
  std::sort(sorted.begin(), sorted.end());
  ErrorTally t;
  check_accuracy(s, sorted, t);
  EXPECT_LE(t.max_error, 2 * s.normalized_rank_error());
}

TEST(KllSketch, HistogramCountsSumToNAndFollowTrueCounts) {
  const size_t n = kSanitized ? 300000 : 2000000;
  const auto x = make_data(Shape::kNormal, n, 11);
  KllSketch s;
  feed(s, x);
  ASSERT_FALSE(s.is_exact());
  std::vector<double> sorted = x;
  std::sort(sorted.begin(), sorted.end());
  const uint32_t bins = 20;
  const auto counts = s.histogram(s.min(), s.max(), bins);
  ASSERT_EQ(counts.size(), bins);
  EXPECT_EQ(total(counts), n);
  // The bound holds for one query with 99% confidence: of the 19 edges, at most one may pass
  // it, and none by more than twice.
  const double eps = s.normalized_rank_error() * static_cast<double>(n);
  uint64_t cum = 0;
  int over = 0;
  const double lo = s.min(), hi = s.max();
  for (uint32_t b = 0; b + 1 < bins; ++b) {
    cum += counts[b];
    const double edge = lo + (hi - lo) * (b + 1) / bins;
    const double exact =
        static_cast<double>(std::lower_bound(sorted.begin(), sorted.end(), edge) - sorted.begin());
    const double err = std::abs(static_cast<double>(cum) - exact);
    over += err > eps;
    EXPECT_LE(err, 2 * eps) << "edge " << b + 1;
  }
  EXPECT_LE(over, 1);
  // Values outside [lo, hi] land in the end bins; lo == hi puts everything in the first.
  EXPECT_EQ(total(s.histogram(0, 1, 3)), n);
  EXPECT_EQ(s.histogram(5, 5, 3)[0], n);
}

// ---- merge ----

TEST(KllSketch, MergeOfRandomPartitionsStaysWithinBound) {
  const size_t n = kSanitized ? 200000 : 1000000;
  const auto x = make_data(Shape::kUniform, n, 5);
  std::vector<double> sorted = x;
  std::sort(sorted.begin(), sorted.end());
  std::mt19937_64 g(99);
  ErrorTally t;
  const int trials = kSanitized ? 3 : 12;
  for (int trial = 0; trial < trials; ++trial) {
    // Random cut points (some parts empty or tiny), sketched with different seeds.
    const size_t parts = 2 + g() % 40;
    std::vector<size_t> cuts = {0, n};
    for (size_t p = 1; p < parts; ++p) cuts.push_back(g() % (n + 1));
    std::sort(cuts.begin(), cuts.end());
    std::vector<KllSketch> sketches;
    for (size_t p = 0; p + 1 < cuts.size(); ++p) {
      KllSketch s(400, trial * 100 + p);
      s.update(std::span<const double>(x.data() + cuts[p], cuts[p + 1] - cuts[p]));
      sketches.push_back(std::move(s));
    }
    std::shuffle(sketches.begin(), sketches.end(), g);
    KllSketch merged(400, trial);
    for (const auto& s : sketches) merged.merge(s);
    ASSERT_EQ(merged.n(), n);
    ASSERT_EQ(merged.min(), sorted.front());
    ASSERT_EQ(merged.max(), sorted.back());
    EXPECT_EQ(total(merged.histogram(merged.min(), merged.max(), 8)), n);
    check_accuracy(merged, sorted, t);
  }
  EXPECT_LE(static_cast<double>(t.failures), 0.02 * static_cast<double>(t.checks))
      << t.failures << " of " << t.checks << ", max error " << t.max_error;
  EXPECT_LE(t.max_error, 2 * KllSketch::normalized_rank_error_for(400));
}

// Partials as they ship (flushed, serialized, deserialized), 200 of them merged as the driver
// merges them: the bound holds as for sketches merged in memory.
TEST(KllSketch, TwoHundredShippedPartsMergeWithinBound) {
  const size_t parts = 200, rows = kSanitized ? 1000 : 5000;
  ErrorTally shipped_tally, plain_tally;
  for (uint64_t seed = 1; seed <= (kSanitized ? 1u : 4u); ++seed) {
    const auto x = make_data(seed % 2 ? Shape::kNormal : Shape::kUniform, parts * rows, seed);
    std::vector<double> sorted = x;
    std::sort(sorted.begin(), sorted.end());
    KllSketch shipped, plain;
    for (size_t p = 0; p < parts; ++p) {
      KllSketch part;
      part.update(std::span<const double>(x.data() + p * rows, rows));
      plain.merge(part);
      part.flush();
      const auto bytes = part.serialize();
      shipped.merge(KllSketch::deserialize(bytes.data(), bytes.size()));
    }
    ASSERT_EQ(shipped.n(), x.size());
    check_accuracy(shipped, sorted, shipped_tally);
    check_accuracy(plain, sorted, plain_tally);
  }
  for (const ErrorTally* t : {&shipped_tally, &plain_tally}) {
    EXPECT_LE(static_cast<double>(t->failures), 0.02 * static_cast<double>(t->checks))
        << t->failures << " of " << t->checks << ", max error " << t->max_error;
    EXPECT_LE(t->max_error, 2 * KllSketch::normalized_rank_error_for(400));
  }
}

// The profile's partials all use the default seed: sketches of two halves of a column must still
// draw independent coins (their generator starts from the data too), or their compaction errors
// add up when merged (before: mean max error 1.7x a single sketch's on 1M normal values).
TEST(KllSketch, HalvesWithOneSeedMergeLikeIndependentSketches) {
  const size_t n = kSanitized ? 200000 : 1000000;
  const int trials = kSanitized ? 6 : 40;
  const std::vector<double> ranks = {0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99};
  auto max_error = [&](const KllSketch& s, const std::vector<double>& sorted) {
    double e = 0;
    for (double r : ranks) e = std::max(e, rank_error(sorted, r, s.quantile(r)));
    return e;
  };
  double single = 0, merged = 0;
  for (int trial = 0; trial < trials; ++trial) {
    const auto x = make_data(Shape::kNormal, n, 1000 + trial);
    std::vector<double> sorted = x;
    std::sort(sorted.begin(), sorted.end());
    KllSketch one, a, b;
    feed(one, x, 2048);
    const std::vector<double> lo(x.begin(), x.begin() + n / 2), hi(x.begin() + n / 2, x.end());
    feed(a, lo, 2048);
    feed(b, hi, 2048);
    a.merge(b);
    single += max_error(one, sorted);
    merged += max_error(a, sorted);
  }
  EXPECT_LE(merged, 1.5 * single) << "mean max rank error: merged halves " << merged / trials
                                  << ", one sketch " << single / trials;
}

TEST(KllSketch, MergeOfSmallExactPartsStaysExact) {
  const auto x = make_data(Shape::kNormal, 3000, 8);
  KllSketch a, b;
  a.update(std::span<const double>(x.data(), 1000));
  b.update(std::span<const double>(x.data() + 1000, 2000));
  a.merge(b);
  ASSERT_TRUE(a.is_exact());
  std::vector<double> sorted = x;
  std::sort(sorted.begin(), sorted.end());
  for (double q : {0.0, 0.013, 0.5, 0.77, 1.0}) EXPECT_EQ(a.quantile(q), numpy_linear(sorted, q));
}

TEST(KllSketch, MergeWithEmptyIsIdentity) {
  const auto x = make_data(Shape::kNormal, 500000, 21);
  KllSketch s(400, 3);
  feed(s, x);
  s.update(std::span<const double>(x.data(), 3));  // leave a sampler block unfinished
  const auto before = s.serialize();
  s.merge(KllSketch(400, 77));
  EXPECT_EQ(s.serialize(), before);

  KllSketch empty(400, 77);
  empty.merge(s);
  std::vector<double> ranks;
  for (int i = 0; i <= 100; ++i) ranks.push_back(i / 100.0);
  EXPECT_EQ(empty.quantiles(ranks), s.quantiles(ranks));
  EXPECT_EQ(empty.n(), s.n());
  EXPECT_EQ(empty.min(), s.min());
  EXPECT_EQ(empty.max(), s.max());
}

TEST(KllSketch, MergeRejectsDifferentK) {
  KllSketch a(200), b(400);
  b.update(1.0);
  EXPECT_THROW(a.merge(b), InvalidArgumentError);
}

TEST(KllSketch, MergeWithItselfDoublesWeights) {
  const auto x = make_data(Shape::kUniform, 300000, 4);
  KllSketch s;
  feed(s, x);
  s.merge(s);
  EXPECT_EQ(s.n(), 600000u);
  EXPECT_EQ(total(s.histogram(s.min(), s.max(), 5)), 600000u);
}

// ---- reproducibility ----

TEST(KllSketch, SameSeedSameBytes) {
  const auto x = make_data(Shape::kNormal, 700000, 2);
  KllSketch a(400, 5), b(400, 5), c(400, 6);
  feed(a, x);
  feed(b, x);
  feed(c, x);
  EXPECT_EQ(a.serialize(), b.serialize());
  EXPECT_NE(a.serialize(), c.serialize());
}

// ---- serialize / deserialize ----

std::vector<KllSketch> sample_sketches() {
  std::vector<KllSketch> out;
  out.emplace_back();  // empty
  KllSketch one;
  one.update(-2.5);
  out.push_back(one);
  KllSketch exact(400, 1);
  feed(exact, make_data(Shape::kFewDistinct, 1000, 1));
  out.push_back(exact);
  KllSketch est(400, 2);
  feed(est, make_data(Shape::kNormal, kSanitized ? 100000 : 400000, 2));
  out.push_back(est);
  KllSketch sampled(32, 3);  // sampler active, unfinished block
  const auto x = make_data(Shape::kUniform, 300001, 3);
  feed(sampled, x, 9999);
  out.push_back(sampled);
  return out;
}

TEST(KllSketch, SerializeRoundTripKeepsQuantilesAndBytes) {
  std::vector<double> ranks;
  for (int i = 0; i <= 50; ++i) ranks.push_back(i / 50.0);
  for (const auto& s : sample_sketches()) {
    const auto bytes = s.serialize();
    KllSketch r = KllSketch::deserialize(bytes.data(), bytes.size());
    EXPECT_EQ(r.serialize(), bytes) << s.to_string();
    EXPECT_EQ(r.n(), s.n());
    EXPECT_EQ(r.is_exact(), s.is_exact());
    if (!s.is_empty()) {
      EXPECT_EQ(r.quantiles(ranks), s.quantiles(ranks));
      EXPECT_EQ(r.min(), s.min());
      EXPECT_EQ(r.max(), s.max());
    }
    // The copy continues exactly like the original.
    KllSketch a = s;
    const auto more = make_data(Shape::kUniform, 100000, 8);
    feed(a, more, 777);
    feed(r, more, 777);
    EXPECT_EQ(r.serialize(), a.serialize());
  }
}

TEST(KllSketch, DeserializeFromReaderLeavesTrailingBytes) {
  KllSketch s;
  s.update(1.0);
  ByteWriter w;
  s.serialize(w);
  w.u8(0xAB);
  ByteReader r(w.buffer().data(), w.size(), "test");
  KllSketch back = KllSketch::deserialize(r);
  EXPECT_EQ(back.n(), 1u);
  EXPECT_EQ(r.u8(), 0xAB);
  // The (data, size) form insists on exactly its bytes.
  EXPECT_THROW(KllSketch::deserialize(w.buffer().data(), w.size()), CorruptProfileError);
}

TEST(KllSketch, EveryTruncationThrows) {
  for (const auto& s : sample_sketches()) {
    const auto bytes = s.serialize();
    for (size_t len = 0; len < bytes.size(); ++len) {
      EXPECT_THROW(KllSketch::deserialize(bytes.data(), len), CorruptProfileError)
          << "length " << len << " of " << bytes.size();
    }
  }
}

TEST(KllSketch, RejectsUnknownFamilyAndVersion) {
  KllSketch s;
  s.update(3.0);
  auto bytes = s.serialize();
  bytes[0] ^= 1;
  EXPECT_THROW(KllSketch::deserialize(bytes.data(), bytes.size()), CorruptProfileError);
  bytes[0] ^= 1;
  for (uint8_t version : {0, 3, 255}) {
    bytes[1] = version;
    EXPECT_THROW(KllSketch::deserialize(bytes.data(), bytes.size()), CorruptProfileError);
  }
}

// Version 1 (every item as f64 after u32 level offsets) of the same sketch loads to it.
std::vector<uint8_t> version1_bytes(const KllSketch& s) {
  const auto now = s.serialize();
  ByteReader r(now.data(), now.size(), "test");
  std::vector<uint8_t> out(now.begin(), now.begin() + 88);
  out[1] = KllSketch::kFormatVersionRaw;
  r.raw(88);
  std::vector<std::vector<double>> levels;
  for (size_t h = 0; h < now[4]; ++h) {
    levels.emplace_back();
    for (uint64_t key : read_sorted_u64(r, UINT64_MAX, false))
      levels.back().push_back(key_double(key));
  }
  const uint64_t buffered = r.varint();
  ByteWriter tail;
  uint32_t offset = 0;
  tail.u32(0);
  for (const auto& l : levels) tail.u32(offset += static_cast<uint32_t>(l.size()));
  tail.u32(static_cast<uint32_t>(buffered));
  for (const auto& l : levels) {
    for (double x : l) tail.f64(x);
  }
  for (uint64_t i = 0; i < buffered; ++i) tail.f64(r.f64());
  r.expect_end();
  out.insert(out.end(), tail.buffer().begin(), tail.buffer().end());
  return out;
}

TEST(KllSketch, ReadsFormatVersion1IntoTheSameSketch) {
  for (const auto& s : sample_sketches()) {
    const auto v1 = version1_bytes(s);
    const KllSketch back = KllSketch::deserialize(v1.data(), v1.size());
    EXPECT_EQ(back.serialize(), s.serialize()) << s.to_string();
    for (size_t len = 0; len < v1.size(); len += 1 + len / 8) {
      EXPECT_THROW(KllSketch::deserialize(v1.data(), len), CorruptProfileError) << len;
    }
  }
}

TEST(KllSketch, FlushEmptiesTheBufferWithinTheBoundAndLeavesExactSketchesAlone) {
  KllSketch exact;
  feed(exact, make_data(Shape::kNormal, 3000, 4));
  const auto before = exact.serialize();
  exact.flush();
  EXPECT_EQ(exact.serialize(), before);
  EXPECT_TRUE(exact.is_exact());

  for (size_t n : {50000u, 1000000u}) {
    const auto x = make_data(Shape::kNormal, n, 5);
    KllSketch s(400, 7);
    feed(s, x, 4999);  // blocks that leave items in the buffer
    const size_t retained = s.num_retained();
    s.flush();
    EXPECT_EQ(s.n(), n);
    EXPECT_LE(s.num_retained(), retained);
    // What ships: the levels, at most about 3k items, tightly coded (under 8 bytes an item).
    const auto bytes = s.serialize();
    EXPECT_LT(bytes.size(), 3 * 400 * 8) << n;
    std::vector<double> sorted = x;
    std::sort(sorted.begin(), sorted.end());
    ErrorTally tally;
    check_accuracy(s, sorted, tally);
    EXPECT_EQ(tally.failures, 0u) << n << ": max rank error " << tally.max_error;
    // Flushing again changes nothing; the round trip keeps every answer.
    s.flush();
    EXPECT_EQ(s.serialize(), bytes);
    const KllSketch back = KllSketch::deserialize(bytes.data(), bytes.size());
    EXPECT_EQ(back.quantile(0.5), s.quantile(0.5));
    EXPECT_EQ(back.serialize(), bytes);
  }
}

TEST(KllSketch, IntegerItemsPackToAFewBytesEach) {
  KllSketch ids(400, 1);
  std::vector<double> x(1000000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i + 1);
  feed(ids, x);
  ids.flush();
  EXPECT_LT(ids.serialize().size(), 88 + ids.num_retained() * 3) << ids.to_string();
}

TEST(KllSketch, NegativeAndPositiveZeroRoundTrip) {
  KllSketch s(8, 1);  // small k: levels compact, mixing -0.0 and 0.0 in sorted levels
  std::mt19937_64 g(4);
  for (int i = 0; i < 20000; ++i) s.update((g() % 3 == 0) ? -0.0 : (g() % 2 ? 0.0 : 1.0));
  s.flush();
  const auto bytes = s.serialize();
  const KllSketch back = KllSketch::deserialize(bytes.data(), bytes.size());
  EXPECT_EQ(back.serialize(), bytes);
  EXPECT_EQ(back.quantile(0.3), s.quantile(0.3));
  EXPECT_EQ(back.rank(0.0), s.rank(0.0));
}

TEST(KllSketch, RandomCorruptionsThrowOrYieldValidSketch) {
  std::mt19937_64 g(2024);
  const auto sketches = sample_sketches();
  size_t accepted = 0, rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const auto& s = sketches[g() % sketches.size()];
    auto bytes = s.serialize();
    const int flips = 1 + static_cast<int>(g() % 3);
    for (int f = 0; f < flips; ++f) {
      // Mostly the header and level offsets, where corruption is most dangerous.
      const size_t pos = (g() % 2) ? g() % std::min<size_t>(bytes.size(), 160) : g() % bytes.size();
      bytes[pos] ^= static_cast<uint8_t>(1 + g() % 255);
    }
    try {
      KllSketch r = KllSketch::deserialize(bytes.data(), bytes.size());
      ++accepted;
      EXPECT_EQ(r.serialize(), bytes);  // canonical: what loads re-serializes to its bytes
      // A sketch that was accepted is fully usable.
      EXPECT_EQ(total(r.histogram(0, 1, 4)), r.n());
      if (!r.is_empty()) {
        const double q = r.quantile(0.5);
        EXPECT_GE(q, r.min());
        EXPECT_LE(q, r.max());
        (void)r.rank(q);
      }
      KllSketch m(r.k());
      m.merge(r);
      m.update(1.0);
      EXPECT_EQ(m.n(), r.n() + 1);
      (void)r.to_string();
    } catch (const CorruptProfileError&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0u);
  EXPECT_EQ(accepted + rejected, 3000u);
}

TEST(KllSketch, ToStringNamesModeAndSize) {
  KllSketch s;
  s.update(1.0);
  EXPECT_NE(s.to_string().find("exact"), std::string::npos);
  EXPECT_NE(s.to_string().find("n=1"), std::string::npos);
}

}  // namespace
}  // namespace truthound
