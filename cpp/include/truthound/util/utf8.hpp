// Character counting for UTF-8 strings without decoding.
//
// The length of a string is its number of code points: the number of bytes that are not UTF-8
// continuation bytes (10xxxxxx). Invalid UTF-8 is counted by the same rule (a stray continuation
// byte counts 0, a truncated sequence counts 1, any other byte 1) and never crashes, so the
// result is always between 0 and n and equals the code point count for valid UTF-8.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace truthound {

namespace detail {

// One in the low bit of every byte of the word that is a continuation byte (bit 7 set, bit 6
// clear): (w << 1) moves bit 6 of each byte onto bit 7 of the same byte.
inline uint64_t utf8_continuation_flags(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return ((w & ~(w << 1)) >> 7) & 0x0101010101010101ULL;
}

}  // namespace detail

// Number of characters (code points) in data[0, n). Works 8 bytes at a time (SWAR), without a
// popcount instruction: per-byte flags are summed in byte lanes (at most 255 words per lane
// before flushing), then the lanes are added with one multiply.
// True when no byte of [data, data + n) has its high bit set (the common case: ASCII text).
inline bool is_ascii(const char* data, size_t n) {
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, data + i, 8);
    acc |= w;
  }
  if (n >= 8) {
    uint64_t w;
    std::memcpy(&w, data + n - 8, 8);  // the tail, overlapping what was read
    acc |= w;
  } else if (n >= 4) {  // two overlapping 4-byte loads cover it
    uint32_t a, b;
    std::memcpy(&a, data, 4);
    std::memcpy(&b, data + n - 4, 4);
    acc = a | b;
  } else if (n > 0) {  // bytes 0, n / 2 and n - 1 cover n = 1..3
    acc = static_cast<unsigned char>(data[0]) | static_cast<unsigned char>(data[n >> 1]) |
          static_cast<unsigned char>(data[n - 1]);
  }
  return (acc & 0x8080808080808080ULL) == 0;
}

inline size_t utf8_length(const char* data, size_t n) {
  if (is_ascii(data, n)) return n;
  size_t continuation = 0;
  size_t i = 0;
  while (i + 8 <= n) {
    uint64_t lanes = 0;
    const size_t words = std::min<size_t>((n - i) / 8, 255);
    for (size_t k = 0; k < words; ++k, i += 8) lanes += detail::utf8_continuation_flags(data + i);
    // Sum the eight byte lanes (each <= 255): widen to 16-bit lanes, then multiply-add.
    const uint64_t pairs = (lanes & 0x00FF00FF00FF00FFULL) + ((lanes >> 8) & 0x00FF00FF00FF00FFULL);
    continuation += static_cast<size_t>((pairs * 0x0001000100010001ULL) >> 48);
  }
  for (; i < n; ++i) {
    continuation += (static_cast<unsigned char>(data[i]) & 0xC0u) == 0x80u;
  }
  return n - continuation;
}

inline size_t utf8_length(std::string_view s) {
  return utf8_length(s.data(), s.size());
}

}  // namespace truthound
