// The rANS coder of small symbols (util/rans.hpp): round trips over random contents and counts,
// sizes near the entropy, and streams that are not the encoder's output refused.
#include "truthound/util/rans.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace truthound {
namespace {

std::vector<uint64_t> counts_of(const std::vector<uint8_t>& s, size_t alphabet) {
  std::vector<uint64_t> c(alphabet, 0);
  for (uint8_t x : s) ++c[x];
  return c;
}

double entropy_bytes(const std::vector<uint64_t>& counts, size_t n) {
  double bits = 0;
  for (uint64_t c : counts) {
    if (c) bits -= static_cast<double>(c) * std::log2(static_cast<double>(c) / n);
  }
  return bits / 8;
}

// Symbols with a geometric-like law (as HyperLogLog registers), or uniform, or a single one.
std::vector<uint8_t> random_symbols(std::mt19937_64& rng, size_t n, size_t alphabet, int shape) {
  std::vector<uint8_t> s(n);
  for (auto& x : s) {
    if (shape == 0) {
      x = static_cast<uint8_t>(rng() % alphabet);
    } else if (shape == 1) {
      x = static_cast<uint8_t>(
          std::min<size_t>(std::countr_zero(rng() | (uint64_t{1} << 62)), alphabet - 1));
    } else {
      x = static_cast<uint8_t>(alphabet - 1);
    }
  }
  return s;
}

TEST(Rans, RoundTripsRandomContents) {
  std::mt19937_64 rng(1);
  for (int trial = 0; trial < 300; ++trial) {
    const size_t n = trial < 20 ? static_cast<size_t>(trial) : 1 + rng() % 70000;
    const size_t alphabet = 1 + rng() % kRansMaxSymbols;
    const auto s = random_symbols(rng, n, alphabet, trial % 3);
    const auto counts = counts_of(s, alphabet);
    const auto coded = rans_encode(s, counts);
    std::vector<uint8_t> back(n);
    ASSERT_TRUE(rans_decode(coded, counts, back)) << trial;
    EXPECT_EQ(back, s) << trial;
  }
}

TEST(Rans, SizeIsNearTheEntropy) {
  std::mt19937_64 rng(2);
  for (int shape : {0, 1}) {
    const auto s = random_symbols(rng, 65536, 50, shape);
    const auto counts = counts_of(s, 50);
    const auto coded = rans_encode(s, counts);
    EXPECT_LT(static_cast<double>(coded.size()), entropy_bytes(counts, s.size()) * 1.01 + 32)
        << shape;
  }
}

TEST(Rans, RejectsWrongCountsTruncationsAndCorruptions) {
  std::mt19937_64 rng(3);
  const auto s = random_symbols(rng, 5000, 12, 1);
  const auto counts = counts_of(s, 12);
  const auto coded = rans_encode(s, counts);
  std::vector<uint8_t> out(s.size());
  ASSERT_TRUE(rans_decode(coded, counts, out));
  auto other = counts;
  ++other[0];
  --other[1];
  EXPECT_FALSE(rans_decode(coded, other, out));
  for (size_t len = 0; len < coded.size(); ++len) {
    EXPECT_FALSE(rans_decode(std::span(coded).first(len), counts, out)) << len;
  }
  auto longer = coded;
  longer.push_back(0);
  longer.push_back(0);
  EXPECT_FALSE(rans_decode(longer, counts, out));
  int accepted = 0;
  for (int trial = 0; trial < 5000; ++trial) {
    auto b = coded;
    b[rng() % b.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    if (rans_decode(b, counts, out)) {
      ++accepted;
      EXPECT_EQ(rans_encode(out, counts), b);  // then it is the encoding of what it decoded
    }
  }
  EXPECT_LT(accepted, 50);
}

}  // namespace
}  // namespace truthound
