// Nondecreasing sequences of 64-bit integers, stored as Rice-coded gaps: sorted hashes (the exact
// distinct set, the frequent items, the duplicate-row sample) and sorted quantile items (as
// order-preserving keys). A gap between n sorted uniform hashes costs about 64 - log2(n) + 1.5
// bits instead of 64; doubles that are integers (ids, dates, timestamps) share trailing zero bits
// in their gaps, which are shifted out first.
//
// Layout (little-endian):
//
//   size      field
//   --------  -----------------------------------------------------------------------------
//   1..10     varint c
//   8         u64 first value (when c >= 1)
//   when c >= 2:
//   1         t: the gaps' common trailing zero bits (the smallest over non-zero gaps; 0 when
//             every gap is 0)
//   1         r: the Rice parameter near log2 of the mean q that codes the gaps in the fewest
//             bits (the lowest on ties)
//   1..10     varint B, bytes of the bit stream
//   B         c - 1 codes of q = gap >> t, bits least significant first:
//               q >> r < 16: (q >> r) one bits, a zero bit, the r low bits of q
//               otherwise:   16 one bits, 6 bits w - 1, the w bits of q (w = bit width of q)
//             then zero bits up to the byte boundary
//
// The reader checks every field against the bytes and the one canonical form the writer
// produces (t and r recomputed from the gaps, the escape used exactly when needed, no overflow,
// zero padding, no spare byte), so a payload that loads re-serializes to the same bytes. It
// throws CorruptProfileError through the ByteReader ("expected X, got Y"), never reads out of
// bounds.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "truthound/util/bytes.hpp"

namespace truthound {

// `values` must be nondecreasing (strictly increasing when the reader asks for that).
void write_sorted_u64(ByteWriter& out, std::span<const uint64_t> values);

// At most `max_count` values; `strict`: they must be strictly increasing.
std::vector<uint64_t> read_sorted_u64(ByteReader& in, uint64_t max_count, bool strict);

// Order-preserving maps between doubles and uint64 (a < b iff key(a) < key(b) for non-NaN
// doubles, -0.0 just below +0.0), so sorted doubles are sorted keys.
uint64_t double_key(double d);
double key_double(uint64_t key);

}  // namespace truthound
