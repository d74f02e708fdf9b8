// Rice-coded sorted sequences (util/sorted_codec.hpp): round trips over the shapes the sketches
// store, sizes near the information they carry, and corrupted or truncated bytes rejected with
// CorruptProfileError only (whatever loads is the canonical encoding of what it loaded).
#include "truthound/util/sorted_codec.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "truthound/util/error.hpp"
#include "truthound/util/hash.hpp"

namespace truthound {
namespace {

std::vector<uint8_t> encode(const std::vector<uint64_t>& v) {
  ByteWriter w;
  write_sorted_u64(w, v);
  return w.take();
}

std::vector<uint64_t> decode(const std::vector<uint8_t>& b, bool strict,
                             uint64_t max_count = UINT64_MAX) {
  ByteReader r(b.data(), b.size(), "test");
  auto v = read_sorted_u64(r, max_count, strict);
  r.expect_end();
  return v;
}

std::vector<uint64_t> sorted_hashes(size_t n, uint64_t seed) {
  std::vector<uint64_t> v;
  for (size_t i = 0; i < n; ++i) v.push_back(mix64(seed * 1000003 + i));
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::vector<uint64_t> keys_of(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  std::vector<uint64_t> k;
  for (double d : x) k.push_back(double_key(d));
  return k;
}

// Shapes: empty, one, two, hashes, repeats, integers as doubles, random doubles, extremes.
std::vector<std::vector<uint64_t>> shapes() {
  std::mt19937_64 rng(3);
  std::vector<std::vector<uint64_t>> out = {{},           {42},         {0, UINT64_MAX},
                                            {UINT64_MAX}, {7, 7, 7, 7}, sorted_hashes(1000, 1)};
  std::vector<double> ints, reals, mixed;
  for (int i = 0; i < 400; ++i) {
    ints.push_back(static_cast<double>(rng() % 1000000));
    reals.push_back(std::ldexp(static_cast<double>(rng() >> 11), -53) * 100.0 - 50.0);
    mixed.push_back(i % 3 == 0 ? -1e300 : i % 3 == 1 ? 1e-300 : static_cast<double>(i));
  }
  out.push_back(keys_of(ints));
  out.push_back(keys_of(reals));
  out.push_back(keys_of(mixed));
  std::vector<uint64_t> wide = {0, 1, uint64_t{1} << 63, UINT64_MAX - 1, UINT64_MAX};
  out.push_back(wide);
  std::vector<uint64_t> steps;  // gaps that share 20 trailing zero bits, one far outlier
  for (uint64_t i = 0; i < 300; ++i) steps.push_back(i * (uint64_t{3} << 20));
  steps.push_back(uint64_t{1} << 62);
  out.push_back(steps);
  return out;
}

TEST(SortedCodec, RoundTripsEveryShape) {
  for (const auto& v : shapes()) {
    const auto bytes = encode(v);
    EXPECT_EQ(decode(bytes, false), v);
    const bool strict = std::adjacent_find(v.begin(), v.end()) == v.end();
    if (strict) {
      EXPECT_EQ(decode(bytes, true), v);
    } else {
      EXPECT_THROW(decode(bytes, true), CorruptProfileError);
    }
  }
}

TEST(SortedCodec, RandomSequencesRoundTrip) {
  std::mt19937_64 rng(17);
  for (int trial = 0; trial < 500; ++trial) {
    const size_t n = rng() % 300;
    const int bits = static_cast<int>(rng() % 65);
    std::vector<uint64_t> v(n);
    for (auto& x : v) x = bits == 0 ? 0 : (rng() >> (64 - bits)) << (rng() % 4);
    std::sort(v.begin(), v.end());
    EXPECT_EQ(decode(encode(v), false), v) << trial;
  }
}

TEST(SortedCodec, SizesAreNearTheInformation) {
  // 4,096 uniform hashes: about 64 - 12 + 1.5 bits each, against 64.
  const auto h = sorted_hashes(4096, 2);
  EXPECT_LT(encode(h).size(), h.size() * 54 / 8 + 32);
  // Sorted integers 1..1,000,000 sampled 1 in 2,500 (as doubles): about 13 bits each.
  std::vector<double> ids;
  for (int i = 1; i <= 400; ++i) ids.push_back(i * 2500.0);
  EXPECT_LT(encode(keys_of(ids)).size(), 400u * 2);
  // Repeats cost a bit each.
  EXPECT_LT(encode(std::vector<uint64_t>(8000, 5)).size(), 1000u + 32);
}

TEST(SortedCodec, DoubleKeysPreserveOrderAndRoundTrip) {
  const std::vector<double> v = {-std::numeric_limits<double>::max(),       -1.5, -0.0, 0.0,
                                 std::numeric_limits<double>::denorm_min(), 1.0,  1e308};
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(std::bit_cast<uint64_t>(key_double(double_key(v[i]))), std::bit_cast<uint64_t>(v[i]));
    if (i > 0) {
      EXPECT_LT(double_key(v[i - 1]), double_key(v[i]));
    }
  }
}

TEST(SortedCodec, EveryTruncationThrows) {
  for (const auto& v : shapes()) {
    const auto bytes = encode(v);
    for (size_t len = 0; len < bytes.size(); ++len) {
      const std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(len));
      EXPECT_THROW(decode(cut, false), CorruptProfileError) << len;
    }
  }
}

TEST(SortedCodec, MaxCountIsEnforced) {
  const auto bytes = encode(sorted_hashes(100, 4));
  EXPECT_EQ(decode(bytes, true, 100).size(), 100u);
  EXPECT_THROW(decode(bytes, true, 99), CorruptProfileError);
}

TEST(SortedCodec, CorruptionsThrowOrDecodeToTheirCanonicalBytes) {
  std::mt19937_64 rng(5);
  const auto originals = shapes();
  int rejected = 0, accepted = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    std::vector<uint8_t> b = encode(originals[trial % originals.size()]);
    if (b.empty()) continue;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) {
      const size_t at = rng() % b.size();
      b[at] = (rng() % 2) ? static_cast<uint8_t>(rng()) : b[at] ^ (1u << (rng() % 8));
    }
    if (rng() % 8 == 0) b.resize(rng() % (b.size() + 1));
    try {
      const auto v = decode(b, false);
      ++accepted;
      EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
      EXPECT_EQ(encode(v), b);
    } catch (const CorruptProfileError&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace truthound
