#include "truthound/stats/moments.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "truthound/util/error.hpp"

namespace truthound {

namespace {

constexpr size_t kBlock = 1024;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// mean + lo as a normalized pair: |lo| <= ulp(mean) / 2.
void add_to_mean(double& mean, double& lo, double inc) {
  const double s = mean + inc;
  const double bb = s - mean;
  const double err = (mean - (s - bb)) + (inc - bb);
  lo += err;
  const double t = s + lo;
  lo -= t - s;
  mean = t;
}

// One block summarized on its own: mean c from the first pass, centered sums about c in the
// second (four independent lanes each, so the compiler vectorizes and no division per value),
// then the moments about the exact block mean c + δ by the shifted-moment identities.
Moments centered_block(const double* x, size_t n, double c);

Moments block_moments(const double* x, size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i];
    s1 += x[i + 1];
    s2 += x[i + 2];
    s3 += x[i + 3];
  }
  for (; i < n; ++i) s0 += x[i];
  return centered_block(x, n, ((s0 + s1) + (s2 + s3)) / static_cast<double>(n));
}

// Second pass: centered sums about c, then the moments about the exact block mean.
Moments centered_block(const double* x, size_t n, double c) {
  const double nb = static_cast<double>(n);

  double a1[4] = {0, 0, 0, 0}, a2[4] = {0, 0, 0, 0}, a3[4] = {0, 0, 0, 0}, a4[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int j = 0; j < 4; ++j) {
      const double d = x[i + j] - c;
      const double q = d * d;
      a1[j] += d;
      a2[j] += q;
      a3[j] += q * d;
      a4[j] += q * q;
    }
  }
  for (; i < n; ++i) {
    const double d = x[i] - c;
    const double q = d * d;
    a1[0] += d;
    a2[0] += q;
    a3[0] += q * d;
    a4[0] += q * q;
  }
  const double S1 = (a1[0] + a1[1]) + (a1[2] + a1[3]);
  const double S2 = (a2[0] + a2[1]) + (a2[2] + a2[3]);
  const double S3 = (a3[0] + a3[1]) + (a3[2] + a3[3]);
  const double S4 = (a4[0] + a4[1]) + (a4[2] + a4[3]);
  const double delta = S1 / nb;  // exact mean = c + delta
  const double d2 = delta * delta;
  Moments m;
  m.n = n;
  m.mean = c;
  add_to_mean(m.mean, m.mean_lo, delta);
  m.m2 = std::max(0.0, S2 - S1 * delta);
  m.m3 = S3 - 3 * delta * S2 + 2 * nb * d2 * delta;
  m.m4 = std::max(0.0, S4 - 4 * delta * S3 + 6 * d2 * S2 - 3 * nb * d2 * d2);
  return m;
}

struct PairBlock {
  uint64_t n;
  double mean_x, mean_y, m2x, m2y, cxy;
};

PairBlock block_comoments(const double* x, const double* y, size_t n) {
  double sx[4] = {0, 0, 0, 0}, sy[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int j = 0; j < 4; ++j) {
      sx[j] += x[i + j];
      sy[j] += y[i + j];
    }
  }
  for (; i < n; ++i) {
    sx[0] += x[i];
    sy[0] += y[i];
  }
  const double nb = static_cast<double>(n);
  const double cx = ((sx[0] + sx[1]) + (sx[2] + sx[3])) / nb;
  const double cy = ((sy[0] + sy[1]) + (sy[2] + sy[3])) / nb;
  double ax[4] = {0, 0, 0, 0}, ay[4] = {0, 0, 0, 0}, axx[4] = {0, 0, 0, 0}, ayy[4] = {0, 0, 0, 0},
         axy[4] = {0, 0, 0, 0};
  i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int j = 0; j < 4; ++j) {
      const double dx = x[i + j] - cx, dy = y[i + j] - cy;
      ax[j] += dx;
      ay[j] += dy;
      axx[j] += dx * dx;
      ayy[j] += dy * dy;
      axy[j] += dx * dy;
    }
  }
  for (; i < n; ++i) {
    const double dx = x[i] - cx, dy = y[i] - cy;
    ax[0] += dx;
    ay[0] += dy;
    axx[0] += dx * dx;
    ayy[0] += dy * dy;
    axy[0] += dx * dy;
  }
  auto sum4 = [](const double* a) { return (a[0] + a[1]) + (a[2] + a[3]); };
  const double dx = sum4(ax) / nb, dy = sum4(ay) / nb;
  return {n,
          cx + dx,
          cy + dy,
          std::max(0.0, sum4(axx) - sum4(ax) * dx),
          std::max(0.0, sum4(ayy) - sum4(ay) * dy),
          sum4(axy) - sum4(ax) * dy};
}

[[noreturn]] void corrupt(ByteReader& in, const std::string& what) {
  in.corrupt(what);
}

void check_header(ByteReader& in, uint8_t family, uint8_t version) {
  const uint8_t f = in.u8();
  if (f != family) {
    corrupt(in, "expected family id " + std::to_string(family) + ", got " + std::to_string(f));
  }
  const uint8_t v = in.u8();
  if (v != version) {
    corrupt(in,
            "expected format version " + std::to_string(version) + ", got " + std::to_string(v));
  }
}

}  // namespace

// ---- Moments ----

void Moments::update(double x) {
  const double n1 = static_cast<double>(n);
  ++n;
  const double nn = static_cast<double>(n);
  const double delta = (x - mean) - mean_lo;
  const double delta_n = delta / nn;
  const double delta_n2 = delta_n * delta_n;
  const double term1 = delta * delta_n * n1;
  add_to_mean(mean, mean_lo, delta_n);
  m4 += term1 * delta_n2 * (nn * nn - 3 * nn + 3) + 6 * delta_n2 * m2 - 4 * delta_n * m3;
  m3 += term1 * delta_n * (nn - 2) - 3 * delta_n * m2;
  m2 += term1;
}

void Moments::update(std::span<const double> xs) {
  for (size_t i = 0; i < xs.size(); i += kBlock) {
    merge(block_moments(xs.data() + i, std::min(kBlock, xs.size() - i)));
  }
}

template <class T>
void Moments::update_values(const T* values, size_t count) {
  if constexpr (std::is_same_v<T, double>) {
    update(std::span<const double>(values, count));
  } else {
    // First pass converts and sums at once; the second runs on the L1-resident block.
    double block[kBlock];
    for (size_t i = 0; i < count; i += kBlock) {
      const size_t m = std::min(kBlock, count - i);
      const T* in = values + i;
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      size_t j = 0;
      for (; j + 4 <= m; j += 4) {
        s0 += block[j] = static_cast<double>(in[j]);
        s1 += block[j + 1] = static_cast<double>(in[j + 1]);
        s2 += block[j + 2] = static_cast<double>(in[j + 2]);
        s3 += block[j + 3] = static_cast<double>(in[j + 3]);
      }
      for (; j < m; ++j) s0 += block[j] = static_cast<double>(in[j]);
      merge(centered_block(block, m, ((s0 + s1) + (s2 + s3)) / static_cast<double>(m)));
    }
  }
}

template void Moments::update_values<int8_t>(const int8_t*, size_t);
template void Moments::update_values<int16_t>(const int16_t*, size_t);
template void Moments::update_values<int32_t>(const int32_t*, size_t);
template void Moments::update_values<int64_t>(const int64_t*, size_t);
template void Moments::update_values<uint8_t>(const uint8_t*, size_t);
template void Moments::update_values<uint16_t>(const uint16_t*, size_t);
template void Moments::update_values<uint32_t>(const uint32_t*, size_t);
template void Moments::update_values<uint64_t>(const uint64_t*, size_t);
template void Moments::update_values<float>(const float*, size_t);
template void Moments::update_values<double>(const double*, size_t);

// Pébay (2008), eq. 3.1 with p = 2, 3, 4.
void Moments::merge(const Moments& o) {
  if (o.n == 0) return;
  if (n == 0) {
    *this = o;
    return;
  }
  const double na = static_cast<double>(n), nb = static_cast<double>(o.n);
  const double nn = na + nb;
  const double delta = (o.mean - mean) + (o.mean_lo - mean_lo);
  const double dn = delta / nn;
  const double dn2 = dn * dn;
  const double nanb = na * nb;
  const double new_m2 = m2 + o.m2 + delta * dn * nanb;
  const double new_m3 = m3 + o.m3 + delta * dn2 * nanb * (na - nb) + 3 * dn * (na * o.m2 - nb * m2);
  const double new_m4 = m4 + o.m4 + delta * dn2 * dn * nanb * (na * na - nanb + nb * nb) +
                        6 * dn2 * (na * na * o.m2 + nb * nb * m2) + 4 * dn * (na * o.m3 - nb * m3);
  add_to_mean(mean, mean_lo, nb * dn);
  m2 = new_m2;
  m3 = new_m3;
  m4 = new_m4;
  n += o.n;
}

double Moments::variance_population() const {
  return n == 0 ? kNaN : m2 / static_cast<double>(n);
}

double Moments::variance_sample() const {
  return n < 2 ? kNaN : m2 / static_cast<double>(n - 1);
}

double Moments::skewness() const {
  if (n == 0 || !(m2 > 0)) return kNaN;
  return std::sqrt(static_cast<double>(n)) * m3 / (m2 * std::sqrt(m2));
}

double Moments::kurtosis() const {
  if (n == 0 || !(m2 > 0)) return kNaN;
  return static_cast<double>(n) * m4 / (m2 * m2) - 3.0;
}

void Moments::serialize(ByteWriter& out) const {
  out.u8(kFamilyId);
  out.u8(kFormatVersion);
  out.u64(n);
  out.f64(mean);
  out.f64(mean_lo);
  out.f64(m2);
  out.f64(m3);
  out.f64(m4);
}

std::vector<uint8_t> Moments::serialize() const {
  ByteWriter w;
  serialize(w);
  return w.take();
}

Moments Moments::deserialize(ByteReader& in) {
  check_header(in, kFamilyId, kFormatVersion);
  Moments m;
  m.n = in.u64();
  m.mean = in.f64();
  m.mean_lo = in.f64();
  m.m2 = in.f64();
  m.m3 = in.f64();
  m.m4 = in.f64();
  if (!(std::abs(m.mean_lo) <= std::abs(m.mean) * 0x1p-50)) {
    corrupt(in, "expected the low part of the mean below 2^-50 of the mean, got " +
                    std::to_string(m.mean_lo));
  }
  if (std::isnan(m.mean) || std::isnan(m.m2) || std::isnan(m.m3) || std::isnan(m.m4)) {
    corrupt(in, "expected moments that are not NaN");
  }
  if (!(m.m2 >= 0) || !(m.m4 >= 0)) {
    corrupt(in, "expected M2 >= 0 and M4 >= 0, got M2 " + std::to_string(m.m2) + ", M4 " +
                    std::to_string(m.m4));
  }
  if (m.n == 0 && (m.mean != 0 || m.m2 != 0 || m.m3 != 0 || m.m4 != 0)) {
    corrupt(in, "expected all moments 0 when n = 0");
  }
  if (m.n == 1 && (m.m2 != 0 || m.m3 != 0 || m.m4 != 0)) {
    corrupt(in, "expected M2 = M3 = M4 = 0 when n = 1");
  }
  return m;
}

Moments Moments::deserialize(const void* data, size_t size) {
  ByteReader r(data, size, "Moments");
  Moments m = deserialize(r);
  r.expect_end();
  return m;
}

// ---- CoMoments ----

void CoMoments::update(std::span<const double> xs, std::span<const double> ys) {
  if (xs.size() != ys.size()) {
    throw InvalidArgumentError("CoMoments::update: columns of different length (" +
                               std::to_string(xs.size()) + " and " + std::to_string(ys.size()) +
                               ")");
  }
  for (size_t i = 0; i < xs.size(); i += kBlock) {
    const PairBlock b =
        block_comoments(xs.data() + i, ys.data() + i, std::min(kBlock, xs.size() - i));
    merge(CoMoments{b.n, b.mean_x, b.mean_y, b.m2x, b.m2y, b.cxy});
  }
}

void CoMoments::merge(const CoMoments& o) {
  if (o.n == 0) return;
  if (n == 0) {
    *this = o;
    return;
  }
  const double na = static_cast<double>(n), nb = static_cast<double>(o.n);
  const double nn = na + nb;
  const double dx = o.mean_x - mean_x, dy = o.mean_y - mean_y;
  const double f = na * nb / nn;
  m2x += o.m2x + dx * dx * f;
  m2y += o.m2y + dy * dy * f;
  cxy += o.cxy + dx * dy * f;
  mean_x += dx * (nb / nn);
  mean_y += dy * (nb / nn);
  n += o.n;
}

double CoMoments::pearson() const {
  if (n < 2 || !(m2x > 0) || !(m2y > 0)) return kNaN;
  const double r = cxy / (std::sqrt(m2x) * std::sqrt(m2y));
  return std::clamp(r, -1.0, 1.0);
}

void CoMoments::serialize(ByteWriter& out) const {
  out.u8(kFamilyId);
  out.u8(kFormatVersion);
  out.u64(n);
  out.f64(mean_x);
  out.f64(mean_y);
  out.f64(m2x);
  out.f64(m2y);
  out.f64(cxy);
}

std::vector<uint8_t> CoMoments::serialize() const {
  ByteWriter w;
  serialize(w);
  return w.take();
}

CoMoments CoMoments::deserialize(ByteReader& in) {
  check_header(in, kFamilyId, kFormatVersion);
  CoMoments c;
  c.n = in.u64();
  c.mean_x = in.f64();
  c.mean_y = in.f64();
  c.m2x = in.f64();
  c.m2y = in.f64();
  c.cxy = in.f64();
  if (std::isnan(c.mean_x) || std::isnan(c.mean_y) || std::isnan(c.m2x) || std::isnan(c.m2y) ||
      std::isnan(c.cxy)) {
    corrupt(in, "expected co-moments that are not NaN");
  }
  if (!(c.m2x >= 0) || !(c.m2y >= 0)) {
    corrupt(in, "expected M2x >= 0 and M2y >= 0, got " + std::to_string(c.m2x) + ", " +
                    std::to_string(c.m2y));
  }
  if (c.n == 0 && (c.mean_x != 0 || c.mean_y != 0 || c.m2x != 0 || c.m2y != 0 || c.cxy != 0)) {
    corrupt(in, "expected all co-moments 0 when n = 0");
  }
  // Cauchy-Schwarz, with room for rounding.
  if (c.cxy * c.cxy > c.m2x * c.m2y * (1 + 1e-9) + 1e-300) {
    corrupt(in, "expected C² <= M2x·M2y");
  }
  return c;
}

CoMoments CoMoments::deserialize(const void* data, size_t size) {
  ByteReader r(data, size, "CoMoments");
  CoMoments c = deserialize(r);
  r.expect_end();
  return c;
}

}  // namespace truthound
