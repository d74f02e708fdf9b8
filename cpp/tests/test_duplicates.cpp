#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <unordered_map>
#include <vector>

#include "truthound/profile/duplicates.hpp"
#include "truthound/util/error.hpp"
#include "truthound/util/hash.hpp"

namespace truthound {
namespace {

// Row hashes of `rows` rows of which about `dup_share` repeat an earlier row.
std::vector<uint64_t> rows_with_duplicates(uint64_t seed, size_t rows, double dup_share,
                                           uint64_t* exact_dups) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<uint64_t> out;
  out.reserve(rows);
  uint64_t next = 0;
  std::unordered_map<uint64_t, int> seen;
  for (size_t r = 0; r < rows; ++r) {
    uint64_t key = (!out.empty() && u(rng) < dup_share)
                       ? out[rng() % out.size()]
                       : hash_int(static_cast<int64_t>(seed * 1'000'000'007ULL + next++));
    out.push_back(key);
  }
  uint64_t distinct = 0;
  for (uint64_t h : out) distinct += seen[h]++ == 0;
  *exact_dups = rows - distinct;
  return out;
}

TEST(DuplicateCounter, ExactBelowTheLimit) {
  uint64_t exact = 0;
  const auto h = rows_with_duplicates(1, 50'000, 0.1, &exact);
  DuplicateCounter d(100'000);
  d.update(h);
  EXPECT_TRUE(d.is_exact());
  EXPECT_EQ(d.duplicate_rows(), exact);
  EXPECT_EQ(d.rows(), 50'000u);
}

TEST(DuplicateCounter, NoDuplicatesStayNoneAtAnySize) {
  std::vector<uint64_t> h;
  for (int64_t i = 0; i < 3'000'000; ++i) h.push_back(hash_int(i));
  DuplicateCounter d(1000);
  d.update(h);
  EXPECT_FALSE(d.is_exact());
  EXPECT_EQ(d.duplicate_rows(), 0u);
}

TEST(DuplicateCounter, EstimateWithinBoundAboveTheLimitAcrossSeeds) {
  // sample of ~limit distinct hashes: the duplicates in it number about dups / 2^level, and the
  // estimate's relative standard error is about 1 / sqrt(that)
  int outside = 0;
  const int seeds = 12;
  for (int s = 0; s < seeds; ++s) {
    uint64_t exact = 0;
    const auto h = rows_with_duplicates(100 + s, 200'000, 0.05, &exact);
    DuplicateCounter d(10'000);
    d.update(h);
    ASSERT_FALSE(d.is_exact());
    const double sampled =
        static_cast<double>(exact) / std::ldexp(1.0, static_cast<int>(d.level()));
    const double rse = 1.0 / std::sqrt(sampled);
    const double err =
        std::abs(static_cast<double>(d.duplicate_rows()) - static_cast<double>(exact)) /
        static_cast<double>(exact);
    if (err > 3 * rse) ++outside;
  }
  EXPECT_LE(outside, 1);
}

TEST(DuplicateCounter, MergeDoesNotDependOnOrderOrSplit) {
  uint64_t exact = 0;
  const auto h = rows_with_duplicates(7, 200'000, 0.2, &exact);
  DuplicateCounter whole(5000);
  whole.update(h);
  DuplicateCounter a(5000), b(5000), c(5000);
  a.update(std::span(h).subspan(0, 30'000));
  b.update(std::span(h).subspan(30'000, 120'000));
  c.update(std::span(h).subspan(150'000));
  DuplicateCounter ab = a;
  ab.merge(b);
  ab.merge(c);
  DuplicateCounter cb = c;
  cb.merge(b);
  cb.merge(a);
  EXPECT_EQ(ab.level(), whole.level());
  EXPECT_EQ(ab.duplicate_rows(), whole.duplicate_rows());
  EXPECT_EQ(cb.duplicate_rows(), whole.duplicate_rows());
  ByteWriter w1, w2;
  ab.serialize(w1);
  whole.serialize(w2);
  EXPECT_EQ(w1.buffer(), w2.buffer());
}

TEST(DuplicateCounter, SerializeRoundTripAndEveryTruncationThrows) {
  uint64_t exact = 0;
  const auto h = rows_with_duplicates(9, 3000, 0.3, &exact);
  DuplicateCounter d(500);
  d.update(h);
  ByteWriter w;
  d.serialize(w);
  const auto bytes = w.take();
  ByteReader r(bytes.data(), bytes.size(), "test");
  const DuplicateCounter back = DuplicateCounter::deserialize(r, 500);
  r.expect_end();
  EXPECT_EQ(back.duplicate_rows(), d.duplicate_rows());
  EXPECT_EQ(back.level(), d.level());
  for (size_t n = 0; n < bytes.size(); ++n) {
    ByteReader t(bytes.data(), n, "test");
    EXPECT_THROW(DuplicateCounter::deserialize(t, 500), CorruptProfileError) << n;
  }
}

}  // namespace
}  // namespace truthound
