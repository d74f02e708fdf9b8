// Validity bitmaps: LSB-order bits, as Arrow lays them out.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <vector>

namespace truthound {

inline bool get_bit(const uint8_t* bits, int64_t i) {
  return (bits[i >> 3] >> (i & 7)) & 1;
}

// Number of set bits in [offset, offset + length), a 64-bit word at a time.
inline int64_t count_set_bits(const uint8_t* bits, int64_t offset, int64_t length) {
  int64_t count = 0;
  int64_t i = offset;
  const int64_t end = offset + length;
  while (i < end && (i & 7) != 0) count += get_bit(bits, i++);
  for (; i + 64 <= end; i += 64) {
    uint64_t w;
    std::memcpy(&w, bits + (i >> 3), 8);
    count += std::popcount(w);
  }
  for (; i + 8 <= end; i += 8) count += std::popcount(static_cast<unsigned>(bits[i >> 3]));
  while (i < end) count += get_bit(bits, i++);
  return count;
}

// out = bits[offset, offset + length) shifted to start at bit 0 (ANDed with `mask`, itself
// starting at bit 0, when not null). Either input may be null (all set); returns false, leaving
// `out` untouched, when both are.
inline bool combine_validity(const uint8_t* bits, int64_t offset, const uint8_t* mask,
                             int64_t length, std::vector<uint8_t>& out) {
  if (bits == nullptr && mask == nullptr) return false;
  const size_t nbytes = static_cast<size_t>((length + 7) / 8);
  out.assign(nbytes, 0);
  if (bits == nullptr) {
    std::memcpy(out.data(), mask, nbytes);
  } else if ((offset & 7) == 0) {
    std::memcpy(out.data(), bits + (offset >> 3), nbytes);
    if (mask != nullptr) {
      for (size_t b = 0; b < nbytes; ++b) out[b] &= mask[b];
    }
  } else {
    const int shift = static_cast<int>(offset & 7);
    const uint8_t* src = bits + (offset >> 3);
    const size_t src_bytes = static_cast<size_t>((offset + length + 7) / 8 - (offset >> 3));
    for (size_t b = 0; b < nbytes; ++b) {
      unsigned lo = src[b] >> shift;
      unsigned hi = (b + 1 < src_bytes) ? static_cast<unsigned>(src[b + 1]) << (8 - shift) : 0u;
      out[b] = static_cast<uint8_t>(lo | hi);
      if (mask != nullptr) out[b] &= mask[b];
    }
  }
  // clear the bits past `length` so counting whole bytes stays right
  if (length & 7) out[nbytes - 1] &= static_cast<uint8_t>((1u << (length & 7)) - 1);
  return true;
}

}  // namespace truthound
