// The first 8 bytes of a byte string as a big-endian integer, zero-padded: a cheap key for
// ordering strings. a < b implies order_prefix(a) <= order_prefix(b), and order_prefix(a) <
// order_prefix(b) implies a < b (bytes compared unsigned, as std::string_view does for char).
#pragma once

#include <cstdint>
#include <string_view>

#include "truthound/util/load.hpp"

namespace truthound {

// Reads only [v.data(), v.data() + v.size()), with fixed-size loads (a memcpy of a variable
// length below 8 costs a library call).
inline uint64_t order_prefix(std::string_view v) {
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  const size_t n = v.size();
  if (n >= 8) return load_be<uint64_t>(p);
  if (n >= 4) {
    // bytes 0..3, then bytes 4..n-1 from the (overlapping) last four, moved up to follow them
    const uint64_t lo = load_be<uint32_t>(p + n - 4);
    return (uint64_t{load_be<uint32_t>(p)} << 32) | ((lo << (8 * (8 - n))) & 0xffffffffu);
  }
  if (n == 0) return 0;
  // n = 1..3: p[n >> 1] is byte 1 when n >= 2, p[n - 1] byte 2 when n == 3
  return (uint64_t{p[0]} << 56) | (n >= 2 ? uint64_t{p[n >> 1]} << 48 : 0) |
         (n == 3 ? uint64_t{p[n - 1]} << 40 : 0);
}

}  // namespace truthound
