// One 64-bit hash per value, shared by distinct counting, top-k and the row hash for duplicates.
//
// Fixed seeds, byte-order independent (values are loaded little-endian), so two machines hash a
// value the same way. Values are canonical before hashing: -0.0 and 0.0 are one value, every NaN
// is one value, and a float that holds an integer hashes as that integer, so 3 (int32), 3 (int64)
// and 3.0 (float64) fall together when partitions of different widths are merged.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "truthound/util/load.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace truthound {

inline constexpr uint64_t kHashSeed = 0x8f1e9a3c5d7b2e41ULL;
inline constexpr uint64_t kNullHash = 0x6a09e667f3bcc908ULL;  // what a null contributes to a row

// splitmix64's finalizer: full avalanche, a few cycles.
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

inline uint64_t hash_int(int64_t v) {
  return mix64(static_cast<uint64_t>(v) ^ kHashSeed);
}

// Unsigned values above INT64_MAX are distinct from every int64, so they take another seed.
inline uint64_t hash_uint(uint64_t v) {
  if (v <= static_cast<uint64_t>(INT64_MAX)) return hash_int(static_cast<int64_t>(v));
  return mix64(v ^ (kHashSeed + 0x51ULL));
}

inline uint64_t hash_double(double d) {
#if defined(__SSE2__)
  // cvttsd2si gives INT64_MIN for NaN and out-of-range values, which never round-trips to d
  // (INT64_MIN itself is exactly -2^63, an integer): no range check needed, and no UB.
  const int64_t i = _mm_cvttsd_si64(_mm_set_sd(d));
  if (static_cast<double>(i) == d) return hash_int(i);  // also folds -0.0 into 0
#else
  if (d >= -9.2233720368547758e18 && d < 9.2233720368547758e18) {
    auto i = static_cast<int64_t>(d);
    if (static_cast<double>(i) == d) return hash_int(i);  // also folds -0.0 into 0
  }
#endif
  if (std::isnan(d)) return mix64(0x7ff8000000000000ULL ^ (kHashSeed + 0x7fULL));
  return mix64(std::bit_cast<uint64_t>(d) ^ (kHashSeed + 0x7fULL));
}

namespace detail {
// 64x64 -> 128 multiply, folded: the mixing step of wyhash-style hashes.
inline uint64_t mum(uint64_t a, uint64_t b) {
  __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}
inline constexpr uint64_t kS1 = 0xa0761d6478bd642fULL;
inline constexpr uint64_t kS2 = 0xe7037ed1a0b428dbULL;
inline constexpr uint64_t kS3 = 0x8ebc6af09c88c6e3ULL;
}  // namespace detail

// Hash of a byte string (utf8 and binary values). Reads only [p, p + n).
inline uint64_t hash_bytes(const void* data, size_t n) {
  using namespace detail;
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t seed = kHashSeed ^ mum(n ^ kS1, kS2);
  uint64_t a, b;
  if (n <= 16) {
    if (n >= 8) {
      a = load_le<uint64_t>(p);
      b = load_le<uint64_t>(p + n - 8);
    } else if (n >= 4) {
      a = (uint64_t{load_le<uint32_t>(p)} << 32) | load_le<uint32_t>(p + n - 4);
      b = 0;
    } else if (n > 0) {
      a = (static_cast<uint64_t>(p[0]) << 16) | (static_cast<uint64_t>(p[n >> 1]) << 8) | p[n - 1];
      b = 0;
    } else {
      a = b = 0;
    }
  } else {
    size_t i = n;
    while (i > 16) {
      seed = mum(load_le<uint64_t>(p) ^ kS1, load_le<uint64_t>(p + 8) ^ seed);
      p += 16;
      i -= 16;
    }
    a = load_le<uint64_t>(p + i - 16);
    b = load_le<uint64_t>(p + i - 8);
  }
  return mum(kS1 ^ n, mum(a ^ kS2, b ^ seed ^ kS3));
}

inline uint64_t hash_string(std::string_view s) {
  return hash_bytes(s.data(), s.size());
}

// Order-dependent combination of column hashes into a row hash, one multiply per column: the
// row is a polynomial in its column hashes with an odd multiplier K, so rows that differ in one
// column always differ, and rows that differ in more collide with probability about 2^-64 for
// independent hashes. The weakest case is two values swapped between columns d apart:
// (a - b)·K^q·(K^d - 1) must vanish mod 2^64, and K^d - 1 has 2 + v2(d) factors of 2 (K = 1
// mod 4), so about 2^-(62 - v2(d)): 2^-56 for columns 64 apart.
// finish_row_hash mixes the polynomial once per row, since the duplicate counter samples rows
// by their top bits.
inline uint64_t combine_hash(uint64_t row, uint64_t value) {
  return (row + value) * 0x9e3779b97f4a7c15ULL;
}

inline uint64_t finish_row_hash(uint64_t row) {
  return mix64(row);
}

}  // namespace truthound
