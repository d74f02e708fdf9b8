// Moments and CoMoments: mergeable, numerically stable central moments.
//
// Moments keeps n, the mean and the centered sums M2 = Σ(x-mean)², M3 = Σ(x-mean)³,
// M4 = Σ(x-mean)⁴. It never forms the naive Σx² - n·mean²: a block of values (up to 1024) is
// summarized on its own in two passes (its mean, then its centered sums; the small error of the
// block mean is corrected exactly by the shifted-moment formulas) and joined to the running state
// with the pairwise formulas of Chan et al. and Pébay (2008), which are also what merge() uses.
// Data far from zero (1e9 + noise), tiny variances and heavy tails keep about full double
// precision for mean and variance.
//
//   variance_population()  M2 / n                 (numpy.var, ddof = 0)   NaN when n = 0
//   variance_sample()      M2 / (n - 1)           (numpy.var, ddof = 1)   NaN when n < 2
//   skewness()             √n·M3 / M2^1.5         (scipy.stats.skew(bias=True))
//   kurtosis()             n·M4 / M2² - 3         (scipy.stats.kurtosis(fisher=True, bias=True))
// skewness() and kurtosis() are NaN when n = 0 or all values are equal (as in scipy).
//
// CoMoments keeps n, both means, both M2 and the co-moment C = Σ(x-mean_x)(y-mean_y) of a column
// pair, for the Pearson correlation C / √(M2x·M2y) (NaN when n < 2 or a column is constant).
//
// Callers pass finite values (NaN and ±inf are counted apart). update() on pairs of different
// length throws InvalidArgumentError; deserialize() throws CorruptProfileError.
//
// Serialized layout (little-endian):
//
//   Moments, family id 0x4D ('M'), format version 1:
//   offset  size  field
//        0  1     family id = 0x4D
//        1  1     format version = 1
//        2  8     n (u64)
//       10  8     mean (f64)
//       18  8     mean_lo (f64, |mean_lo| <= 2^-50·|mean|)
//       26  8     M2 (f64, >= 0)
//       34  8     M3 (f64)
//       42  8     M4 (f64, >= 0)
//   = 50 bytes. n = 0 requires every field 0; n = 1 requires M2 = M3 = M4 = 0; no field is NaN.
//
//   CoMoments, family id 0x43 ('C'), format version 1:
//   offset  size  field
//        0  1     family id = 0x43
//        1  1     format version = 1
//        2  8     n (u64)
//       10  8     mean_x (f64)
//       18  8     mean_y (f64)
//       26  8     M2x (f64, >= 0)
//       34  8     M2y (f64, >= 0)
//       42  8     C (f64, C² <= M2x·M2y up to rounding)
//   = 50 bytes. n = 0 requires every field 0; no field is NaN.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "truthound/util/bytes.hpp"

namespace truthound {

struct Moments {
  static constexpr uint8_t kFamilyId = 0x4D;
  static constexpr uint8_t kFormatVersion = 1;
  static constexpr size_t kSerializedSize = 50;

  uint64_t n = 0;
  double mean = 0, m2 = 0, m3 = 0, m4 = 0;
  // Low part of the mean: the mean is mean + mean_lo to about 2^-100 relative. It keeps the
  // difference of two partials' means exact when the data sit far from zero (1e9 + 1e-3 noise),
  // where a plain double mean would lose the variance between partials. Read `mean` for the value.
  double mean_lo = 0;

  void update(double x);
  // The hot path: blocks of up to 1024 values, two passes each, merged in pairwise.
  void update(std::span<const double> xs);
  // Same for other arithmetic column types, converted to double block by block (no copy of the
  // column). Instantiated for int8..int64, uint8..uint64, float and double.
  template <class T>
  void update_values(const T* values, size_t count);
  void merge(const Moments& other);

  double variance_population() const;
  double variance_sample() const;
  double skewness() const;
  double kurtosis() const;

  void serialize(ByteWriter& out) const;
  std::vector<uint8_t> serialize() const;
  static Moments deserialize(ByteReader& in);
  static Moments deserialize(const void* data, size_t size);  // exactly `size` bytes
};

struct CoMoments {
  static constexpr uint8_t kFamilyId = 0x43;
  static constexpr uint8_t kFormatVersion = 1;
  static constexpr size_t kSerializedSize = 50;

  uint64_t n = 0;
  double mean_x = 0, mean_y = 0, m2x = 0, m2y = 0, cxy = 0;

  // xs[i] pairs with ys[i]; different lengths -> InvalidArgumentError.
  void update(std::span<const double> xs, std::span<const double> ys);
  void merge(const CoMoments& other);
  // Pearson correlation in [-1, 1]; NaN when n < 2 or either column is constant.
  double pearson() const;

  void serialize(ByteWriter& out) const;
  std::vector<uint8_t> serialize() const;
  static CoMoments deserialize(ByteReader& in);
  static CoMoments deserialize(const void* data, size_t size);  // exactly `size` bytes
};

}  // namespace truthound
