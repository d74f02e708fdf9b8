// Moments and CoMoments, specified against wide-precision two-pass references on hard data.
#include "truthound/stats/moments.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "truthound/util/error.hpp"

namespace truthound {
namespace {

// The reference computes in __float128 where the compiler has it, else long double.
#ifdef __SIZEOF_FLOAT128__
using Wide = __float128;
#else
using Wide = long double;
#endif

struct Reference {
  long double mean, var, skew, kurt;
};

// Two passes in wide precision: mean, then centered sums. Long double alone is not enough for
// 1e9 + 1e-3·noise: its mean is off by ~5e-11, which moves a skewness near 0.009 by 2e-5.
Reference reference(const std::vector<double>& x) {
  Wide s = 0;
  for (double v : x) s += static_cast<Wide>(v) - x[0];
  const Wide n = static_cast<Wide>(x.size());
  const Wide mean = x[0] + s / n;
  Wide m2 = 0, m3 = 0, m4 = 0;
  for (double v : x) {
    const Wide d = v - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  const long double ln = static_cast<long double>(n), l2 = static_cast<long double>(m2);
  return {static_cast<long double>(mean), static_cast<long double>(m2 / n),
          std::sqrt(ln) * static_cast<long double>(m3) / std::pow(l2, 1.5L),
          static_cast<long double>(n * m4 / (m2 * m2)) - 3};
}

double rel(long double got, long double want) {
  return static_cast<double>(std::fabs(got - want) / std::max(std::fabs(want), 1e-300L));
}

std::vector<std::vector<double>> hard_data() {
  std::mt19937_64 g(7);
  std::vector<std::vector<double>> sets;
  std::normal_distribution<double> z(0, 1);
  std::vector<double> a(200000), b(200000), c(300000), d(100001), e(5000);
  for (auto& v : a) v = 1e9 + z(g) * 1e-3;         // large offset, small noise
  for (auto& v : b) v = 1e-7 * (1 + 1e-6 * z(g));  // tiny variance
  std::student_t_distribution<double> t(3);
  for (auto& v : c) v = t(g) * 1e4 + 5;  // heavy tails
  std::lognormal_distribution<double> ln(0, 1.5);
  for (auto& v : d) v = -ln(g);                        // skewed, negative
  for (auto& v : e) v = static_cast<double>(g() % 3);  // small integers
  sets = {a, b, c, d, e};
  return sets;
}

void expect_close(const Moments& m, const std::vector<double>& x, double tol_var,
                  double tol_shape) {
  const Reference r = reference(x);
  EXPECT_EQ(m.n, x.size());
  EXPECT_LE(rel(m.mean, r.mean), 1e-9) << m.mean;
  EXPECT_LE(rel(m.variance_population(), r.var), tol_var);
  EXPECT_LE(rel(m.skewness(), r.skew), tol_shape) << m.skewness() << " vs " << (double)r.skew;
  EXPECT_LE(rel(m.kurtosis(), r.kurt), tol_shape) << m.kurtosis() << " vs " << (double)r.kurt;
}

TEST(Moments, EmptyAndTinyInputsAreNaNLikeScipy) {
  Moments m;
  EXPECT_TRUE(std::isnan(m.variance_population()));
  EXPECT_TRUE(std::isnan(m.variance_sample()));
  EXPECT_TRUE(std::isnan(m.skewness()));
  m.update(5.0);
  EXPECT_EQ(m.variance_population(), 0.0);
  EXPECT_TRUE(std::isnan(m.variance_sample()));
  EXPECT_TRUE(std::isnan(m.skewness()));  // constant data: scipy gives nan
  EXPECT_TRUE(std::isnan(m.kurtosis()));
}

TEST(Moments, MatchesScipyGoldenValues) {
  // scipy.stats.skew / kurtosis(fisher=True, bias=True) of [1, 2, 4, 8, 16.5, -3], scipy 1.17
  const std::vector<double> x = {1, 2, 4, 8, 16.5, -3};
  Moments m;
  m.update(x);
  EXPECT_NEAR(m.skewness(), 0.7800313065795359, 1e-14);
  EXPECT_NEAR(m.kurtosis(), -0.40703474722614574, 1e-14);
  EXPECT_NEAR(m.mean, 28.5 / 6, 1e-15);
  EXPECT_NEAR(m.variance_sample(), m.variance_population() * 6 / 5, 1e-12);
}

TEST(Moments, BlockUpdateMatchesLongDoubleReferenceOnHardData) {
  for (const auto& x : hard_data()) {
    Moments m;
    m.update(x);
    expect_close(m, x, 1e-9, 1e-6);
  }
}

TEST(Moments, SingleUpdatesMatchReference) {
  for (const auto& x : hard_data()) {
    Moments m;
    for (double v : x) m.update(v);
    expect_close(m, x, 1e-9, 1e-6);
  }
}

TEST(Moments, IntegerColumnsConvertOnTheFly) {
  std::mt19937_64 g(3);
  std::vector<int64_t> xi(100003);
  for (auto& v : xi) v = 4000000000LL + static_cast<int64_t>(g() % 1000);
  std::vector<double> xd(xi.begin(), xi.end());
  Moments a, b;
  a.update_values(xi.data(), xi.size());
  b.update(xd);
  EXPECT_EQ(a.n, b.n);
  EXPECT_EQ(a.mean, b.mean);
  EXPECT_EQ(a.m2, b.m2);
  EXPECT_EQ(a.m4, b.m4);
  std::vector<float> xf = {1.5f, 2.5f, -1.0f};
  Moments c;
  c.update_values(xf.data(), xf.size());
  EXPECT_DOUBLE_EQ(c.mean, 1.0);
  std::vector<uint8_t> xu = {0, 255};
  Moments u;
  u.update_values(xu.data(), xu.size());
  EXPECT_DOUBLE_EQ(u.variance_population(), 127.5 * 127.5);
}

TEST(Moments, MergeOfRandomSplitsEqualsWhole) {
  std::mt19937_64 g(11);
  for (const auto& x : hard_data()) {
    Moments whole;
    whole.update(x);
    for (int trial = 0; trial < 10; ++trial) {
      std::vector<size_t> cuts = {0, x.size()};
      for (int p = 0; p < 1 + static_cast<int>(g() % 20); ++p) cuts.push_back(g() % x.size());
      std::sort(cuts.begin(), cuts.end());
      std::vector<Moments> parts;
      for (size_t p = 0; p + 1 < cuts.size(); ++p) {
        Moments m;
        m.update(std::span<const double>(x.data() + cuts[p], cuts[p + 1] - cuts[p]));
        parts.push_back(m);
      }
      std::shuffle(parts.begin(), parts.end(), g);
      Moments merged;
      for (const auto& p : parts) merged.merge(p);
      EXPECT_EQ(merged.n, whole.n);
      EXPECT_LE(rel(merged.mean, whole.mean), 1e-12);
      EXPECT_LE(rel(merged.m2, whole.m2), 1e-9);
      EXPECT_LE(rel(merged.skewness(), whole.skewness()), 1e-6);
      EXPECT_LE(rel(merged.kurtosis(), whole.kurtosis()), 1e-6);
      expect_close(merged, x, 1e-9, 1e-6);
    }
  }
}

TEST(Moments, MergeIsAssociative) {
  const auto sets = hard_data();
  const auto& x = sets[2];
  Moments a, b, c;
  a.update(std::span<const double>(x.data(), 1000));
  b.update(std::span<const double>(x.data() + 1000, 50000));
  c.update(std::span<const double>(x.data() + 51000, x.size() - 51000));
  Moments left = a, bc = b;
  left.merge(b);
  left.merge(c);  // (a + b) + c
  bc.merge(c);
  Moments right = a;
  right.merge(bc);  // a + (b + c)
  EXPECT_EQ(left.n, right.n);
  EXPECT_LE(rel(left.mean, right.mean), 1e-14);
  EXPECT_LE(rel(left.m2, right.m2), 1e-12);
  EXPECT_LE(rel(left.m3, right.m3), 1e-9);
  EXPECT_LE(rel(left.m4, right.m4), 1e-9);
  Moments empty;
  Moments same = a;
  same.merge(empty);
  EXPECT_EQ(same.serialize(), a.serialize());
  empty.merge(a);
  EXPECT_EQ(empty.serialize(), a.serialize());
}

TEST(Moments, SerializeRoundTripAndTruncation) {
  Moments m;
  m.update(hard_data()[3]);
  const auto bytes = m.serialize();
  ASSERT_EQ(bytes.size(), Moments::kSerializedSize);
  const Moments r = Moments::deserialize(bytes.data(), bytes.size());
  EXPECT_EQ(r.n, m.n);
  EXPECT_EQ(r.mean, m.mean);
  EXPECT_EQ(r.mean_lo, m.mean_lo);
  EXPECT_EQ(r.m2, m.m2);
  EXPECT_EQ(r.m3, m.m3);
  EXPECT_EQ(r.m4, m.m4);
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_THROW(Moments::deserialize(bytes.data(), len), CorruptProfileError) << len;
  }
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_THROW(Moments::deserialize(longer.data(), longer.size()), CorruptProfileError);
}

TEST(Moments, RejectsInconsistentFields) {
  auto corrupt_field = [](size_t offset, double value) {
    Moments m;
    m.update(std::vector<double>{1, 2, 3});
    auto bytes = m.serialize();
    std::memcpy(bytes.data() + offset, &value, 8);
    return bytes;
  };
  auto b = corrupt_field(26, -1.0);  // M2 < 0
  EXPECT_THROW(Moments::deserialize(b.data(), b.size()), CorruptProfileError);
  b = corrupt_field(10, std::nan(""));  // mean NaN
  EXPECT_THROW(Moments::deserialize(b.data(), b.size()), CorruptProfileError);
  Moments empty;
  auto e = empty.serialize();
  e[12] = 1;  // mean != 0 with n = 0
  EXPECT_THROW(Moments::deserialize(e.data(), e.size()), CorruptProfileError);
  e = empty.serialize();
  e[0] = 0x43;
  EXPECT_THROW(Moments::deserialize(e.data(), e.size()), CorruptProfileError);
}

// ---- CoMoments ----

long double pearson_reference(const std::vector<double>& x, const std::vector<double>& y) {
  long double sx = 0, sy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sx += x[i];
    sy += y[i];
  }
  const long double mx = sx / x.size(), my = sy / y.size();
  long double xx = 0, yy = 0, xy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    xx += (x[i] - mx) * (x[i] - mx);
    yy += (y[i] - my) * (y[i] - my);
    xy += (x[i] - mx) * (y[i] - my);
  }
  return xy / std::sqrt(xx * yy);
}

std::pair<std::vector<double>, std::vector<double>> correlated(size_t n, double rho,
                                                               double offset) {
  std::mt19937_64 g(5);
  std::normal_distribution<double> z(0, 1);
  std::vector<double> x(n), y(n);
  for (size_t i = 0; i < n; ++i) {
    const double a = z(g), b = z(g);
    x[i] = offset + a;
    y[i] = -offset + rho * a + std::sqrt(1 - rho * rho) * b;
  }
  return {x, y};
}

TEST(CoMoments, PearsonMatchesLongDoubleReference) {
  for (double rho : {0.0, 0.3, -0.8, 0.999}) {
    for (double offset : {0.0, 1e8}) {
      auto [x, y] = correlated(100003, rho, offset);
      CoMoments c;
      c.update(x, y);
      EXPECT_EQ(c.n, x.size());
      EXPECT_NEAR(c.pearson(), static_cast<double>(pearson_reference(x, y)), 1e-9)
          << rho << " " << offset;
    }
  }
}

TEST(CoMoments, UndefinedCasesAreNaNAndLengthsMustMatch) {
  CoMoments c;
  EXPECT_TRUE(std::isnan(c.pearson()));
  std::vector<double> x = {1, 2, 3}, y = {5, 5, 5}, z = {1, 2};
  c.update(x, y);
  EXPECT_TRUE(std::isnan(c.pearson()));  // constant column
  EXPECT_THROW(c.update(x, z), InvalidArgumentError);
  CoMoments perfect;
  perfect.update(x, std::vector<double>{-2, -4, -6});
  EXPECT_DOUBLE_EQ(perfect.pearson(), -1.0);
}

TEST(CoMoments, MergeOfSplitsEqualsWhole) {
  auto [x, y] = correlated(50000, 0.6, 1e6);
  CoMoments whole;
  whole.update(x, y);
  std::mt19937_64 g(9);
  for (int trial = 0; trial < 10; ++trial) {
    std::vector<size_t> cuts = {0, x.size()};
    for (int p = 0; p < 1 + static_cast<int>(g() % 15); ++p) cuts.push_back(g() % x.size());
    std::sort(cuts.begin(), cuts.end());
    CoMoments merged;
    for (size_t p = 0; p + 1 < cuts.size(); ++p) {
      CoMoments part;
      const size_t len = cuts[p + 1] - cuts[p];
      part.update(std::span<const double>(x.data() + cuts[p], len),
                  std::span<const double>(y.data() + cuts[p], len));
      merged.merge(part);
    }
    EXPECT_EQ(merged.n, whole.n);
    EXPECT_NEAR(merged.pearson(), whole.pearson(), 1e-12);
    EXPECT_LE(rel(merged.mean_x, whole.mean_x), 1e-14);
  }
}

TEST(CoMoments, SerializeRoundTripAndTruncation) {
  auto [x, y] = correlated(1000, 0.5, 3);
  CoMoments c;
  c.update(x, y);
  const auto bytes = c.serialize();
  ASSERT_EQ(bytes.size(), CoMoments::kSerializedSize);
  const CoMoments r = CoMoments::deserialize(bytes.data(), bytes.size());
  EXPECT_EQ(r.serialize(), bytes);
  EXPECT_EQ(r.pearson(), c.pearson());
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_THROW(CoMoments::deserialize(bytes.data(), len), CorruptProfileError) << len;
  }
  auto bad = bytes;
  const double huge = 1e300;
  std::memcpy(bad.data() + 42, &huge, 8);  // |C| > sqrt(M2x·M2y)
  EXPECT_THROW(CoMoments::deserialize(bad.data(), bad.size()), CorruptProfileError);
}

}  // namespace
}  // namespace truthound
