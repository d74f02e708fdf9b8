#include "truthound/util/rans.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "truthound/util/bytes.hpp"

namespace truthound {

namespace {

constexpr int kScaleBits = 12;
constexpr uint32_t kTotal = uint32_t{1} << kScaleBits;
constexpr uint32_t kLow = uint32_t{1} << 16;  // states live in [kLow, 2^32)
constexpr size_t kStates = 4;
constexpr size_t kHeaderBytes = 4 * kStates;

// The counts scaled to kTotal: floor(count * kTotal / n), at least 1 for a symbol that occurs,
// the difference to kTotal given to the most frequent (the lowest on ties). With at most 64
// symbols that one stays above the difference (it holds at least kTotal / 64 - 1 before).
struct Model {
  std::array<uint32_t, kRansMaxSymbols> freq{};
  std::array<uint32_t, kRansMaxSymbols> cum{};
};

bool build_model(std::span<const uint64_t> counts, uint64_t n, Model& m) {
  if (counts.size() > kRansMaxSymbols || n == 0) return false;
  uint64_t sum = 0;
  for (uint64_t c : counts) {
    if (c > n - sum) return false;
    sum += c;
  }
  if (sum != n) return false;
  int64_t total = 0;
  size_t top = 0;
  for (size_t s = 0; s < counts.size(); ++s) {
    const auto scaled =
        static_cast<uint32_t>(static_cast<unsigned __int128>(counts[s]) * kTotal / n);
    m.freq[s] = counts[s] == 0 ? 0 : std::max<uint32_t>(1, scaled);
    total += m.freq[s];
    if (m.freq[s] > m.freq[top]) top = s;
  }
  m.freq[top] = static_cast<uint32_t>(static_cast<int64_t>(m.freq[top]) + kTotal - total);
  uint32_t c = 0;
  for (size_t s = 0; s < counts.size(); ++s) {
    m.cum[s] = c;
    c += m.freq[s];
  }
  return true;
}

}  // namespace

std::vector<uint8_t> rans_encode(std::span<const uint8_t> symbols,
                                 std::span<const uint64_t> counts) {
  if (symbols.empty()) return {};
  Model m;
  build_model(counts, symbols.size(), m);
  std::array<uint32_t, kStates> x;
  x.fill(kLow);
  std::vector<uint16_t> words;  // in the order written: the decoder reads them backwards
  words.reserve(symbols.size() / 4 + 16);
  for (size_t i = symbols.size(); i-- > 0;) {
    uint32_t& state = x[i % kStates];
    const uint8_t s = symbols[i];
    const uint32_t f = m.freq[s];
    // Renormalize so the state stays below 2^32 after coding: at most one word, as the state
    // is below 2^32 and f >= 1.
    if (state >= (uint64_t{f} << (32 - kScaleBits))) {
      words.push_back(static_cast<uint16_t>(state));
      state >>= 16;
    }
    state = ((state / f) << kScaleBits) + state % f + m.cum[s];
  }
  std::vector<uint8_t> out(kHeaderBytes + 2 * words.size());
  uint8_t* at = out.data();
  for (uint32_t state : x) {
    const uint32_t v = detail::to_little(state);
    std::memcpy(at, &v, 4);
    at += 4;
  }
  for (size_t w = words.size(); w-- > 0;) {
    const uint16_t v = detail::to_little(words[w]);
    std::memcpy(at, &v, 2);
    at += 2;
  }
  return out;
}

bool rans_decode(std::span<const uint8_t> stream, std::span<const uint64_t> counts,
                 std::span<uint8_t> out) {
  const size_t n = out.size();
  if (n == 0)
    return stream.empty() &&
           std::all_of(counts.begin(), counts.end(), [](uint64_t c) { return c == 0; });
  Model m;
  if (!build_model(counts, n, m)) return false;
  if (stream.size() < kHeaderBytes || (stream.size() - kHeaderBytes) % 2 != 0) return false;
  // One table entry per slot: frequency (13 bits), slot - cum (12 bits), symbol (7 bits).
  std::array<uint32_t, kTotal> table;
  for (size_t s = 0; s < counts.size(); ++s) {
    for (uint32_t k = 0; k < m.freq[s]; ++k) {
      table[m.cum[s] + k] = m.freq[s] | (k << 13) | (static_cast<uint32_t>(s) << 25);
    }
  }
  std::array<uint32_t, kStates> x;
  ByteReader in(stream.data(), stream.size(), "rANS");
  for (uint32_t& state : x) {
    state = in.u32();
    if (state < kLow) return false;
  }
  const size_t num_words = in.remaining() / 2;
  std::vector<uint16_t> words(num_words);
  if (num_words) std::memcpy(words.data(), in.current(), num_words * 2);
  if constexpr (std::endian::native == std::endian::big) {
    for (auto& w : words) w = detail::to_little(w);
  }
  // Locals only: stores to `out` (bytes) may alias anything the compiler cannot prove apart.
  const uint32_t* tab = table.data();
  const uint16_t* w = words.data();
  uint8_t* o = out.data();
  uint32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
  size_t pos = 0, i = 0;
  auto step = [tab](uint32_t& state, uint8_t& sym) {
    const uint32_t e = tab[state & (kTotal - 1)];
    sym = static_cast<uint8_t>(e >> 25);
    state = (e & 0x1FFF) * (state >> kScaleBits) + ((e >> 13) & 0xFFF);
  };
  auto refill = [w, &pos](uint32_t& state) {
    const bool more = state < kLow;
    const uint32_t next = w[pos];
    state = more ? (state << 16) | next : state;
    pos += more;
  };
  // Unchecked while enough words are left for every symbol of a round (each reads at most one).
  for (; i + kStates <= n && num_words - pos >= kStates; i += kStates) {
    uint8_t s0, s1, s2, s3;
    step(x0, s0);
    step(x1, s1);
    step(x2, s2);
    step(x3, s3);
    refill(x0);
    refill(x1);
    refill(x2);
    refill(x3);
    o[i] = s0;
    o[i + 1] = s1;
    o[i + 2] = s2;
    o[i + 3] = s3;
  }
  x = {x0, x1, x2, x3};
  for (; i < n; ++i) {
    uint32_t& state = x[i % kStates];
    uint8_t sym;
    step(state, sym);
    o[i] = sym;
    if (state < kLow) {
      if (pos == num_words) return false;
      state = (state << 16) | w[pos++];
    }
  }
  if (pos != num_words) return false;
  for (uint32_t state : x) {
    if (state != kLow) return false;
  }
  // Four tables, so a run of one symbol does not chain every increment on the one before.
  std::array<std::array<uint32_t, kRansMaxSymbols>, kStates> seen{};
  size_t k = 0;
  for (; k + kStates <= n; k += kStates) {
    for (size_t j = 0; j < kStates; ++j) ++seen[j][o[k + j]];
  }
  for (; k < n; ++k) ++seen[0][o[k]];
  for (size_t sym = 0; sym < kRansMaxSymbols; ++sym) {
    const uint64_t total = uint64_t{seen[0][sym]} + seen[1][sym] + seen[2][sym] + seen[3][sym];
    if (total != (sym < counts.size() ? counts[sym] : 0)) return false;
  }
  return true;
}

}  // namespace truthound
