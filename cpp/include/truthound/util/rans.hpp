// An entropy coder for sequences of small symbols whose exact counts travel with them:
// HyperLogLog registers, which after many values concentrate on a few values around
// log2(n / m) (about 2.8 bits of information each instead of the 4 or 8 bits they are stored
// in).
//
// rANS (Duda, "Asymmetric numeral systems", 2013) with a static model, in the 32-bit,
// 16-bit-word, interleaved form of Fabian Giesen's ryg_rans: four coder states take the symbols
// in turn (symbol i goes to state i mod 4), so a decoder's four dependency chains overlap. The
// model is the symbol counts scaled to a total of 2^12 (every symbol that occurs keeps a
// frequency of at least 1): the coded size is within about 0.1 % of the entropy of the counts
// for HyperLogLog registers.
//
// Stream layout (little-endian):
//
//   size      field
//   --------  -----------------------------------------------------------------------------
//   16        the four coder states the decoder starts from, u32 each, each in [2^16, 2^32)
//   2 * w     w u16 words, in the order the decoder reads them
//
// rans_decode accepts exactly the streams rans_encode writes: it checks that the states start
// in range, that the decoded symbols have exactly the given counts, that every state ends where
// the encoder began and that every word was read. Its decoding and the encoding are inverse
// step by step, so a stream that passes is the encoding of what it decoded, byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace truthound {

inline constexpr size_t kRansMaxSymbols = 64;

// `counts[s]` is how often symbol s occurs in `symbols` (counts.size() <= kRansMaxSymbols, every
// symbol below counts.size()); the caller guarantees it.
std::vector<uint8_t> rans_encode(std::span<const uint8_t> symbols,
                                 std::span<const uint64_t> counts);

// Decodes out.size() symbols, whose counts must be `counts` (summing to out.size(), at most
// kRansMaxSymbols of them). False when `stream` is not what rans_encode writes for them.
bool rans_decode(std::span<const uint8_t> stream, std::span<const uint64_t> counts,
                 std::span<uint8_t> out);

}  // namespace truthound
