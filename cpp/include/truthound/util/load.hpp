// Unaligned loads and stores of fixed-width integers in a stated byte order, whatever the
// machine's: the formats (snappy, Parquet, the hashes) are little-endian, and order keys are
// big-endian.
#pragma once

#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>

namespace truthound {

template <std::unsigned_integral T>
inline T byteswap_if(bool swap, T v) {
  if (!swap) return v;
  if constexpr (sizeof(T) == 8) return __builtin_bswap64(v);
  if constexpr (sizeof(T) == 4) return __builtin_bswap32(v);
  if constexpr (sizeof(T) == 2) return __builtin_bswap16(v);
  return v;
}

template <std::unsigned_integral T>
inline T load_le(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return byteswap_if(std::endian::native == std::endian::big, v);
}

template <std::unsigned_integral T>
inline T load_be(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return byteswap_if(std::endian::native == std::endian::little, v);
}

template <std::unsigned_integral T>
inline void store_le(void* p, T v) {
  v = byteswap_if(std::endian::native == std::endian::big, v);
  std::memcpy(p, &v, sizeof v);
}

}  // namespace truthound
