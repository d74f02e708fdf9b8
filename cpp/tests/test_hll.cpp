// Specification of truthound::HyperLogLog (cpp/include/truthound/sketch/hll.hpp).
#include "truthound/sketch/hll.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "truthound/util/error.hpp"
#include "truthound/util/hash.hpp"
#include "truthound/util/rans.hpp"
#include "truthound/util/sorted_codec.hpp"

namespace truthound {
namespace {

// n distinct hashes: mix64 is a bijection, so distinct inputs give distinct hashes.
std::vector<uint64_t> distinct_hashes(uint64_t n, uint64_t seed) {
  std::vector<uint64_t> out(n);
  for (uint64_t i = 0; i < n; ++i) out[i] = mix64((seed << 40) + i + 1);
  return out;
}

HyperLogLog sketch_of(const std::vector<uint64_t>& hashes, uint8_t p = 16, uint32_t limit = 4096) {
  HyperLogLog hll(p, limit);
  hll.update(hashes);
  return hll;
}

std::vector<uint64_t> concat(std::vector<uint64_t> a, const std::vector<uint64_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<uint8_t> bytes_of(const HyperLogLog& hll) {
  return hll.serialize();
}

// ---- empty ----

TEST(HyperLogLog, EmptySketch) {
  HyperLogLog hll;
  EXPECT_TRUE(hll.is_empty());
  EXPECT_TRUE(hll.is_exact());
  EXPECT_EQ(hll.estimate(), 0.0);
  EXPECT_EQ(hll.lower_bound(2), 0.0);
  EXPECT_EQ(hll.upper_bound(2), 0.0);
  EXPECT_EQ(hll.relative_standard_error(), 0.0);
  EXPECT_EQ(hll.precision(), 16);
  hll.update(std::span<const uint64_t>());
  EXPECT_TRUE(hll.is_empty());
  auto bytes = hll.serialize();
  EXPECT_EQ(bytes.size(), 9u);  // header + a zero count
  HyperLogLog back = HyperLogLog::deserialize(bytes.data(), bytes.size());
  EXPECT_TRUE(back.is_empty());
}

TEST(HyperLogLog, RejectsPrecisionOutsideFourToEighteen) {
  EXPECT_THROW(HyperLogLog(3), InvalidArgumentError);
  EXPECT_THROW(HyperLogLog(19), InvalidArgumentError);
  EXPECT_THROW(HyperLogLog(16, HyperLogLog::kMaxExactLimit + 1), InvalidArgumentError);
  EXPECT_NO_THROW(HyperLogLog(4));
  EXPECT_NO_THROW(HyperLogLog(18));
}

TEST(HyperLogLog, NegativeStdDevIsRejected) {
  HyperLogLog hll;
  EXPECT_THROW((void)hll.lower_bound(-1), InvalidArgumentError);
  EXPECT_THROW((void)hll.upper_bound(-1), InvalidArgumentError);
}

// ---- exact mode ----

TEST(HyperLogLog, ExactModeCountsDistinctHashesExactly) {
  auto base = distinct_hashes(1000, 7);
  base.push_back(0);  // the zero hash is a value like any other
  std::vector<uint64_t> stream;
  for (int rep = 0; rep < 5; ++rep) stream.insert(stream.end(), base.begin(), base.end());
  std::shuffle(stream.begin(), stream.end(), std::mt19937_64(1));
  HyperLogLog hll;
  hll.update(std::span<const uint64_t>(stream).first(2000));
  for (size_t i = 2000; i < stream.size(); ++i) hll.update(stream[i]);
  EXPECT_TRUE(hll.is_exact());
  EXPECT_FALSE(hll.is_empty());
  EXPECT_EQ(hll.estimate(), 1001.0);
  EXPECT_EQ(hll.lower_bound(3), 1001.0);
  EXPECT_EQ(hll.upper_bound(3), 1001.0);
  EXPECT_EQ(hll.relative_standard_error(), 0.0);
}

TEST(HyperLogLog, StaysExactUpToTheLimitThenTurnsDense) {
  auto hashes = distinct_hashes(101, 3);
  HyperLogLog hll(12, 100);
  hll.update(std::span<const uint64_t>(hashes).first(100));
  hll.update(std::span<const uint64_t>(hashes).first(100));  // repeats do not count
  EXPECT_TRUE(hll.is_exact());
  EXPECT_EQ(hll.estimate(), 100.0);
  hll.update(hashes[100]);
  EXPECT_FALSE(hll.is_exact());
  EXPECT_NEAR(hll.estimate(), 101.0, 3.0);
  EXPECT_DOUBLE_EQ(hll.relative_standard_error(), 1.04 / 64.0);
}

TEST(HyperLogLog, ZeroExactLimitIsDenseFromTheFirstHash) {
  HyperLogLog hll(12, 0);
  EXPECT_TRUE(hll.is_empty());
  hll.update(42);
  EXPECT_FALSE(hll.is_exact());
  EXPECT_FALSE(hll.is_empty());
  EXPECT_NEAR(hll.estimate(), 1.0, 0.01);
  EXPECT_GE(hll.lower_bound(3), 1.0);
}

TEST(HyperLogLog, DenseFromExactEqualsDenseFromStart) {
  // Turning dense replays the kept hashes into the registers: no information is lost.
  auto hashes = distinct_hashes(5000, 11);
  EXPECT_EQ(bytes_of(sketch_of(hashes, 14, 4096)).size(),
            bytes_of(sketch_of(hashes, 14, 0)).size());
  auto a = bytes_of(sketch_of(hashes, 14, 4096));
  auto b = bytes_of(sketch_of(hashes, 14, 0));
  // Only the exact_limit field (bytes 4..7) differs.
  std::fill(a.begin() + 4, a.begin() + 8, 0);
  std::fill(b.begin() + 4, b.begin() + 8, 0);
  EXPECT_EQ(a, b);
}

TEST(HyperLogLog, SmallPartialsSerializeSmall) {
  HyperLogLog hll;
  hll.update(distinct_hashes(10, 1));
  // header, count, the first hash, then about 64 - log2(10) bits a hash
  EXPECT_LE(hll.serialize().size(), 8u + 1 + 8 + 3 + 9 * 8);
  HyperLogLog dense(16, 0);
  dense.update(1);
  // header, lo, hi, 49 counts (hash 1 has rank 48; 65,535 registers at 0 take 3 bytes), the
  // stream's length and the stream: four coder states and the words of one rare register
  EXPECT_LE(dense.serialize().size(), 8u + 2 + 3 + 48 + 1 + 16 + 2 * 4);
}

// ---- accuracy ----

// Relative error of the dense estimator over `seeds` streams of n distinct hashes.
std::vector<double> relative_errors(uint8_t p, uint64_t n, int seeds, uint64_t seed_base) {
  std::vector<double> errs;
  std::vector<uint64_t> block(1 << 16);
  for (int s = 0; s < seeds; ++s) {
    HyperLogLog hll(p, 0);
    const uint64_t seed = seed_base + s;
    for (uint64_t done = 0; done < n;) {
      const uint64_t len = std::min<uint64_t>(block.size(), n - done);
      for (uint64_t i = 0; i < len; ++i) block[i] = mix64((seed << 40) + done + i + 1);
      hll.update(std::span<const uint64_t>(block).first(len));
      done += len;
    }
    errs.push_back(hll.estimate() / static_cast<double>(n) - 1.0);
  }
  return errs;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

TEST(HyperLogLog, ErrorWithinThreeStandardErrorsFromThousandToTenMillion) {
  const double rse = 1.04 / 256.0;
  struct Case {
    uint64_t n;
    int seeds;
  };
  for (Case c :
       {Case{1000, 20}, Case{10000, 20}, Case{100000, 20}, Case{1000000, 20}, Case{10000000, 3}}) {
    auto errs = relative_errors(16, c.n, c.seeds, 1000 + c.n);
    for (double e : errs) EXPECT_LE(std::abs(e), 3 * rse) << "n=" << c.n;
    // No bias: the mean of `seeds` errors has standard error rse / sqrt(seeds).
    EXPECT_LE(std::abs(mean(errs)), 3 * rse / std::sqrt(c.seeds)) << "n=" << c.n;
  }
}

TEST(HyperLogLog, UnbiasedThroughTheSmallAndMidRange) {
  // Raw HLL is biased by several percent between m/10 and 5m, where classic implementations
  // switch to linear counting with bias tables; Ertl's estimator must not be. p = 10 makes the
  // range cheap to cover with many seeds.
  const uint8_t p = 10;
  const double rse = 1.04 / 32.0;
  const int seeds = 100;
  for (uint64_t n : {10u, 100u, 500u, 1000u, 2000u, 3000u, 5000u, 10000u, 50000u}) {
    auto errs = relative_errors(p, n, seeds, 77 + n);
    for (double e : errs) EXPECT_LE(std::abs(e), 4 * rse) << "n=" << n;
    EXPECT_LE(std::abs(mean(errs)), 3.5 * rse / std::sqrt(seeds)) << "n=" << n;
  }
}

TEST(HyperLogLog, BoundsBracketTheEstimateAndNeverGoBelowZero) {
  HyperLogLog hll(4, 0);  // rse 26 %: 4 sd would reach below zero without the clamp
  hll.update(distinct_hashes(3, 5));
  const double est = hll.estimate();
  EXPECT_LE(hll.lower_bound(1), est);
  EXPECT_GE(hll.upper_bound(1), est);
  EXPECT_GE(hll.lower_bound(10), 1.0);
  EXPECT_LE(hll.lower_bound(2), hll.lower_bound(1));
  EXPECT_GE(hll.upper_bound(2), hll.upper_bound(1));
  EXPECT_EQ(hll.lower_bound(0), est);
}

// ---- merge ----

TEST(HyperLogLog, MergeEqualsSketchOfTheUnion) {
  auto a = distinct_hashes(30000, 1);
  auto b = distinct_hashes(20000, 2);
  b.insert(b.end(), a.begin(), a.begin() + 5000);  // overlap
  HyperLogLog m = sketch_of(a);
  m.merge(sketch_of(b));
  EXPECT_EQ(bytes_of(m), bytes_of(sketch_of(concat(a, b))));
}

TEST(HyperLogLog, MergeOfExactPartsStaysExactWhenTheUnionFits) {
  auto a = distinct_hashes(2000, 1);
  auto b = distinct_hashes(2000, 2);
  b.insert(b.end(), a.begin(), a.begin() + 1000);
  HyperLogLog m = sketch_of(a);
  m.merge(sketch_of(b));
  EXPECT_TRUE(m.is_exact());
  EXPECT_EQ(m.estimate(), 4000.0);
  m.merge(sketch_of(distinct_hashes(96, 3)));
  EXPECT_TRUE(m.is_exact());
  EXPECT_EQ(m.estimate(), 4096.0);
  m.merge(sketch_of(distinct_hashes(1, 4)));
  EXPECT_FALSE(m.is_exact());
  EXPECT_NEAR(m.estimate(), 4097.0, 4097.0 * 3 * m.relative_standard_error());
}

TEST(HyperLogLog, MergeIsCommutative) {
  const std::vector<std::vector<uint64_t>> parts = {
      distinct_hashes(100, 1), distinct_hashes(3000, 2), distinct_hashes(50000, 3)};
  for (const auto& x : parts) {
    for (const auto& y : parts) {
      HyperLogLog ab = sketch_of(x);
      ab.merge(sketch_of(y));
      HyperLogLog ba = sketch_of(y);
      ba.merge(sketch_of(x));
      EXPECT_EQ(bytes_of(ab), bytes_of(ba)) << x.size() << " + " << y.size();
    }
  }
}

TEST(HyperLogLog, MergeIsAssociative) {
  // Exact + exact crossing the limit, exact + dense, dense + dense.
  auto a = sketch_of(distinct_hashes(2500, 1));
  auto b = sketch_of(distinct_hashes(2500, 2));
  auto c = sketch_of(distinct_hashes(40000, 3));
  HyperLogLog left = a;  // (a + b) + c
  left.merge(b);
  left.merge(c);
  HyperLogLog bc = b;  // a + (b + c)
  bc.merge(c);
  HyperLogLog right = a;
  right.merge(bc);
  EXPECT_EQ(bytes_of(left), bytes_of(right));
  HyperLogLog ca = c;  // (c + a) + b
  ca.merge(a);
  ca.merge(b);
  EXPECT_EQ(bytes_of(left), bytes_of(ca));
}

TEST(HyperLogLog, MergeWithEmptyIsIdentity) {
  for (uint64_t n : {0u, 10u, 100000u}) {
    HyperLogLog x = sketch_of(distinct_hashes(n, 9));
    HyperLogLog e1;
    e1.merge(x);
    HyperLogLog x2 = x;
    x2.merge(HyperLogLog());
    EXPECT_EQ(bytes_of(e1), bytes_of(x));
    EXPECT_EQ(bytes_of(x2), bytes_of(x));
  }
}

TEST(HyperLogLog, MergeWithItselfChangesNothing) {
  HyperLogLog x = sketch_of(distinct_hashes(5000, 9));
  const auto before = bytes_of(x);
  x.merge(x);
  EXPECT_EQ(bytes_of(x), before);
}

TEST(HyperLogLog, MergeKeepsTheSmallerExactLimitWhateverTheOrder) {
  auto h = distinct_hashes(300, 4);
  HyperLogLog small(16, 100), large(16, 1000);
  small.update(std::span<const uint64_t>(h).first(50));
  large.update(std::span<const uint64_t>(h).subspan(150));
  HyperLogLog sl = small, ls = large;
  sl.merge(large);
  ls.merge(small);
  EXPECT_FALSE(sl.is_exact());
  EXPECT_EQ(bytes_of(sl), bytes_of(ls));
  EXPECT_EQ(sl.exact_limit(), 100u);
}

TEST(HyperLogLog, MergeRejectsDifferentPrecision) {
  HyperLogLog a(12), b(14);
  b.update(1);
  EXPECT_THROW(a.merge(b), InvalidArgumentError);
}

// ---- serialize / deserialize ----

TEST(HyperLogLog, SerializeRoundTrip) {
  for (uint64_t n : {0u, 1u, 4096u, 4097u, 1000000u}) {
    HyperLogLog hll = sketch_of(distinct_hashes(n, 21));
    const auto bytes = hll.serialize();
    EXPECT_EQ(bytes[0], HyperLogLog::kFamilyId);
    EXPECT_EQ(bytes[1], HyperLogLog::kFormatVersion);
    HyperLogLog back = HyperLogLog::deserialize(bytes.data(), bytes.size());
    EXPECT_EQ(back.estimate(), hll.estimate()) << n;
    EXPECT_EQ(back.is_exact(), hll.is_exact());
    EXPECT_EQ(back.serialize(), bytes);
    // The restored sketch keeps working like the original.
    auto more = distinct_hashes(3000, 22);
    back.update(more);
    hll.update(more);
    EXPECT_EQ(back.serialize(), hll.serialize());
  }
}

TEST(HyperLogLog, SerializedBytesDoNotDependOnInsertionOrder) {
  auto h = distinct_hashes(1000, 5);
  auto r = h;
  std::reverse(r.begin(), r.end());
  EXPECT_EQ(bytes_of(sketch_of(h)), bytes_of(sketch_of(r)));
}

TEST(HyperLogLog, ReadsOneSketchFromALongerStream) {
  ByteWriter w;
  sketch_of(distinct_hashes(10, 1)).serialize(w);
  sketch_of(distinct_hashes(20, 2), 10, 0).serialize(w);
  w.u8(0xab);
  const auto& buf = w.buffer();
  ByteReader r(buf.data(), buf.size(), "test");
  EXPECT_EQ(HyperLogLog::deserialize(r).estimate(), 10.0);
  EXPECT_FALSE(HyperLogLog::deserialize(r).is_exact());
  EXPECT_EQ(r.u8(), 0xab);
}

void expect_every_truncation_rejected(const std::vector<uint8_t>& bytes) {
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_THROW(HyperLogLog::deserialize(bytes.data(), len), CorruptProfileError) << len;
  }
}

TEST(HyperLogLog, TruncatedBytesAreRejected) {
  expect_every_truncation_rejected(sketch_of({}).serialize());
  expect_every_truncation_rejected(sketch_of(distinct_hashes(300, 1)).serialize());
  expect_every_truncation_rejected(sketch_of(distinct_hashes(300, 1), 10, 0).serialize());
  // p = 16: all header/boundary lengths and a stride through the registers.
  const auto big = sketch_of(distinct_hashes(10000, 1)).serialize();
  for (size_t len = 0; len < big.size(); len += (len < 64 || len > big.size() - 64) ? 1 : 997) {
    EXPECT_THROW(HyperLogLog::deserialize(big.data(), len), CorruptProfileError) << len;
  }
}

TEST(HyperLogLog, TrailingBytesAreRejected) {
  auto bytes = sketch_of(distinct_hashes(5, 1)).serialize();
  bytes.push_back(0);
  EXPECT_THROW(HyperLogLog::deserialize(bytes.data(), bytes.size()), CorruptProfileError);
}

// ---- the formats byte by byte ----

// The header of a sketch: family, version, p, mode, exact_limit.
std::vector<uint8_t> header(uint8_t version, uint8_t p, uint8_t mode, uint32_t limit) {
  ByteWriter w;
  w.u8(HyperLogLog::kFamilyId);
  w.u8(version);
  w.u8(p);
  w.u8(mode);
  w.u32(limit);
  return w.take();
}

// Version 1: one byte a register.
std::vector<uint8_t> v1_bytes(uint8_t p, const std::vector<uint8_t>& regs) {
  auto b = header(1, p, 1, 0);
  b.insert(b.end(), regs.begin(), regs.end());
  return b;
}

// Version 2 (what the previous release wrote): base, 4-bit registers, exceptions.
std::vector<uint8_t> v2_bytes(uint8_t p, const std::vector<uint8_t>& regs) {
  ByteWriter w;
  for (uint8_t b : header(2, p, 1, 0)) w.u8(b);
  const uint8_t base = *std::min_element(regs.begin(), regs.end());
  w.u8(base);
  std::vector<uint8_t> nibbles(regs.size() / 2, 0);
  uint64_t exceptions = 0;
  for (size_t i = 0; i < regs.size(); ++i) {
    const uint8_t v = static_cast<uint8_t>(std::min(regs[i] - base, 15));
    exceptions += v == 15;
    nibbles[i / 2] |= static_cast<uint8_t>(v << (4 * (i % 2)));
  }
  w.raw(nibbles.data(), nibbles.size());
  w.varint(exceptions);
  size_t next = 0;
  for (size_t i = 0; i < regs.size(); ++i) {
    if (regs[i] - base >= 15) {
      w.varint(i - next);
      w.u8(regs[i]);
      next = i + 1;
    }
  }
  return w.take();
}

// Version 3's dense body, field by field (to forge bodies the writer never writes).
std::vector<uint8_t> v3_dense(uint8_t p, uint8_t lo, uint8_t hi,
                              const std::vector<uint64_t>& counts,
                              const std::vector<uint8_t>& stream) {
  ByteWriter w;
  for (uint8_t b : header(3, p, 1, 0)) w.u8(b);
  w.u8(lo);
  w.u8(hi);
  for (uint64_t c : counts) w.varint(c);
  w.varint(stream.size());
  w.raw(stream.data(), stream.size());
  return w.take();
}

HyperLogLog load(const std::vector<uint8_t>& b) {
  return HyperLogLog::deserialize(b.data(), b.size());
}

void expect_rejected(const std::vector<uint8_t>& b, const std::string& what) {
  EXPECT_THROW(load(b), CorruptProfileError) << what;
}

TEST(HyperLogLog, InvalidHeaderAndExactFieldsAreRejected) {
  const auto exact = sketch_of(distinct_hashes(5, 1)).serialize();
  auto reject = [](std::vector<uint8_t> b, size_t at, uint8_t value) {
    b[at] = value;
    EXPECT_THROW(HyperLogLog::deserialize(b.data(), b.size()), CorruptProfileError)
        << "byte " << at << " = " << int{value};
  };
  reject(exact, 0, 0x46);  // family
  reject(exact, 1, 0);     // version
  reject(exact, 1, 4);
  reject(exact, 2, 3);  // precision
  reject(exact, 2, 19);
  reject(exact, 3, 2);     // mode
  reject(exact, 7, 0xff);  // exact_limit > max
  reject(exact, 5, 0);     // exact_limit 4096 -> 0 < count
  // A repeated hash (a zero gap) is not a set of distinct hashes.
  ByteWriter repeated;
  for (uint8_t b : header(3, 16, 0, 4096)) repeated.u8(b);
  write_sorted_u64(repeated, std::vector<uint64_t>{1, 1, 2});
  expect_rejected(repeated.take(), "repeated hash");
  // Version 2 exact mode (u64 count, u64 hashes) loads; unsorted or repeated hashes do not.
  std::vector<uint8_t> v2 = header(2, 16, 0, 4096);
  ByteWriter body;
  body.array<uint64_t>(std::vector<uint64_t>{3, 9, 20});
  v2.insert(v2.end(), body.buffer().begin(), body.buffer().end());
  EXPECT_EQ(load(v2).estimate(), 3.0);
  auto swapped = v2;
  std::swap_ranges(swapped.begin() + 16, swapped.begin() + 24, swapped.begin() + 24);
  expect_rejected(swapped, "unsorted v2 hashes");
  auto again = v2;
  std::copy(again.begin() + 16, again.begin() + 24, again.begin() + 24);
  expect_rejected(again, "repeated v2 hashes");
}

TEST(HyperLogLog, InvalidCodedRegistersAreRejected) {
  // p = 8: registers 5 and 9 hold ranks 57 (the largest) and 56, every other register 0.
  HyperLogLog top(8, 0);
  top.update(uint64_t{5} << 56);
  top.update(uint64_t{9} << 56 | 1);
  const auto coded = top.serialize();
  ASSERT_EQ(coded[8], 0);   // lo
  ASSERT_EQ(coded[9], 57);  // hi
  EXPECT_EQ(load(coded).serialize(), coded);
  std::vector<uint64_t> counts(58, 0);
  counts[0] = 254;
  counts[56] = 1;
  counts[57] = 1;
  std::vector<uint8_t> symbols(256, 0);
  symbols[5] = 57;
  symbols[9] = 56;
  const auto stream = rans_encode(symbols, counts);
  ASSERT_EQ(v3_dense(8, 0, 57, counts, stream), coded);
  // hi above the largest rank, lo above hi, every register 0.
  expect_rejected(v3_dense(8, 0, 58, counts, stream), "hi above the largest rank");
  expect_rejected(v3_dense(8, 58, 57, counts, stream), "lo above hi");
  expect_rejected(v3_dense(8, 0, 0, {256}, {}), "all registers 0");
  // Counts that do not sum to 2^p, or that say no register holds lo or hi (not canonical).
  auto more = counts;
  ++more[0];
  expect_rejected(v3_dense(8, 0, 57, more, stream), "counts sum to 257");
  std::vector<uint64_t> shifted(counts.begin(), counts.end());
  shifted.push_back(0);
  expect_rejected(v3_dense(8, 0, 58, shifted, stream), "no register at hi");
  // The stream decodes to other counts than it claims.
  auto moved = counts;
  --moved[0];
  ++moved[1];
  expect_rejected(v3_dense(8, 0, 57, moved, stream), "counts of other registers");
  // One value everywhere needs no stream; two need one.
  const auto flat = v3_dense(8, 3, 3, {256}, {});
  const HyperLogLog all3 = load(flat);
  EXPECT_EQ(all3.registers()[0], 3);
  EXPECT_EQ(all3.serialize(), flat);
  expect_rejected(v3_dense(8, 3, 3, {256}, {0, 0, 1, 0}), "a stream for one value");
  expect_rejected(v3_dense(8, 0, 57, counts, {}), "no stream for many values");
  // Version 1: a register above the largest rank is rejected.
  std::vector<uint8_t> regs(256, 0);
  regs[5] = 57;
  regs[9] = 56;
  EXPECT_EQ(load(v1_bytes(8, regs)).serialize(), coded);
  regs[5] = 58;
  expect_rejected(v1_bytes(8, regs), "v1 register above the largest rank");
}

TEST(HyperLogLog, Version2PackedRegistersLoadAndTheirInvalidFieldsAreRejected) {
  // p = 8: base at 8, 128 bytes of nibbles at 9, the exception count at 137, then (gap, value)
  // per exception. Register 5 holds the largest rank, 57: an exception.
  std::vector<uint8_t> regs(256, 0);
  regs[5] = 57;
  regs[9] = 56;
  const auto packed = v2_bytes(8, regs);
  const HyperLogLog back = load(packed);
  EXPECT_EQ(std::vector<uint8_t>(back.registers().begin(), back.registers().end()), regs);
  ASSERT_EQ(packed[8], 0);                // base: most registers are 0
  ASSERT_EQ(packed[9 + 5 / 2] >> 4, 15);  // register 5 (high nibble of byte 2) is marked
  ASSERT_EQ(packed[137], 2);              // two exceptions (registers 5 and 9)
  ASSERT_EQ(packed[138], 5);              // gap to register 5
  ASSERT_EQ(packed[139], 64 - 8 + 1);     // its value, the largest rank
  auto reject = [&](size_t at, uint8_t value, const char* what) {
    auto b = packed;
    b[at] = value;
    expect_rejected(b, what);
  };
  reject(139, 64 - 8 + 2, "an exception above the largest rank");
  reject(139, 14, "an exception below base + 15");
  reject(137, 1, "fewer exceptions than marked registers");
  reject(137, 3, "more");
  reject(138, 200, "gap beyond the last register");
  reject(8, 58, "base above the largest rank");
  std::vector<uint8_t> no_base = packed;  // no register equals the base: not canonical
  for (size_t i = 9; i < 137; ++i) {
    for (int half = 0; half < 2; ++half) {
      const int shift = 4 * half;
      if (((no_base[i] >> shift) & 0xF) != 15)
        no_base[i] = static_cast<uint8_t>((no_base[i] & ~(0xF << shift)) | (1 << shift));
    }
  }
  expect_rejected(no_base, "no register at the base");
  std::vector<uint8_t> all_zero(packed.begin(), packed.begin() + 138);
  std::fill(all_zero.begin() + 8, all_zero.end(), 0);  // every register 0, no exceptions
  expect_rejected(all_zero, "every register 0");
}

// ---- packed against unpacked: random register contents ----

// Registers of one of several laws: as n hashes leave them (geometric around log2(n / m)),
// uniform over every rank, one value everywhere, or zero but for the largest rank.
std::vector<uint8_t> random_registers(std::mt19937_64& rng, uint8_t p, int law) {
  const size_t m = size_t{1} << p;
  const uint8_t max_rank = static_cast<uint8_t>(64 - p + 1);
  std::vector<uint8_t> regs(m, 0);
  const double lambda = std::pow(10.0, static_cast<double>(rng() % 1400) / 100.0 - 4.0);
  const uint8_t one_value = static_cast<uint8_t>(1 + rng() % max_rank);
  for (auto& r : regs) {
    switch (law) {
      case 0: {  // the rank a register reaches after Poisson(lambda) hashes
        const double u = static_cast<double>((rng() >> 11) + 1) * 0x1.0p-53;
        const double k = std::ceil(std::log2(lambda / -std::log(u)));
        r = static_cast<uint8_t>(std::clamp(k, 0.0, static_cast<double>(max_rank)));
        break;
      }
      case 1:
        r = static_cast<uint8_t>(rng() % (max_rank + 1));
        break;
      case 2:
        r = one_value;
        break;
      default:
        break;
    }
  }
  if (law == 3 || std::all_of(regs.begin(), regs.end(), [](uint8_t r) { return r == 0; })) {
    regs[rng() % m] = max_rank;
  }
  return regs;
}

TEST(HyperLogLog, PackedRegistersRoundTripAndMergeLikeUnpackedOnes) {
  std::mt19937_64 rng(2024);
  for (int trial = 0; trial < 400; ++trial) {
    const uint8_t p = static_cast<uint8_t>(4 + rng() % 15);
    const auto regs_a = random_registers(rng, p, trial % 4);
    const auto regs_b = random_registers(rng, p, static_cast<int>(rng() % 4));
    // Unpacked: loaded from one byte a register; packed: through today's format.
    const HyperLogLog a = load(v1_bytes(p, regs_a));
    const HyperLogLog b = load(v1_bytes(p, regs_b));
    const auto bytes = a.serialize();
    ASSERT_EQ(bytes[1], HyperLogLog::kFormatVersion);
    const HyperLogLog a_packed = load(bytes);
    ASSERT_EQ(std::vector<uint8_t>(a_packed.registers().begin(), a_packed.registers().end()),
              regs_a)
        << "p=" << int{p} << " trial " << trial;
    EXPECT_EQ(a_packed.estimate(), a.estimate());  // to the last digit
    EXPECT_EQ(a_packed.upper_bound(2), a.upper_bound(2));
    EXPECT_EQ(a_packed.serialize(), bytes);
    // Version 2 of the same registers loads to the same sketch too.
    EXPECT_EQ(load(v2_bytes(p, regs_a)).serialize(), bytes);
    // Merging packed sketches gives what merging unpacked ones gives.
    HyperLogLog unpacked_merge = a;
    unpacked_merge.merge(b);
    HyperLogLog packed_merge = a_packed;
    packed_merge.merge(load(b.serialize()));
    EXPECT_EQ(packed_merge.estimate(), unpacked_merge.estimate());
    EXPECT_EQ(packed_merge.serialize(), unpacked_merge.serialize());
    // Packed much below one byte a register once registers spread over few values.
    if (trial % 4 == 0 && p >= 12) {
      EXPECT_LT(bytes.size(), (size_t{1} << p) * 6 / 10) << "p=" << int{p};
    }
  }
}

TEST(HyperLogLog, DefaultPrecisionPacksToUnder24KiBAfterManyValues) {
  // p = 16 after 1M and 10M distinct values: the registers' entropy is about 2.83 bits.
  for (uint64_t n : {1000000u, 10000000u}) {
    const auto bytes = sketch_of(distinct_hashes(n, 9)).serialize();
    EXPECT_LT(bytes.size(), 24u * 1024) << n;
    EXPECT_GT(bytes.size(), 22u * 1024) << n;
  }
}

TEST(HyperLogLog, RandomCorruptionsAreRejectedOrYieldAValidSketch) {
  std::mt19937_64 rng(12345);
  const std::vector<std::vector<uint8_t>> originals = {
      sketch_of(distinct_hashes(40, 1)).serialize(),
      sketch_of(distinct_hashes(5000, 2), 8, 4096).serialize(),
      sketch_of(distinct_hashes(200000, 4), 12, 4096).serialize(),
      sketch_of(distinct_hashes(0, 2)).serialize()};
  int rejected = 0, accepted = 0;
  for (int trial = 0; trial < 6000; ++trial) {
    std::vector<uint8_t> b = originals[trial % originals.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      // Bias towards the header, where most of the structure is.
      const size_t at = (rng() % 2) ? rng() % std::min<size_t>(b.size(), 24) : rng() % b.size();
      b[at] = (rng() % 2) ? static_cast<uint8_t>(rng()) : b[at] ^ (1u << (rng() % 8));
    }
    if (rng() % 8 == 0) b.resize(rng() % (b.size() + 1));
    try {
      HyperLogLog hll = HyperLogLog::deserialize(b.data(), b.size());
      ++accepted;
      // Whatever was accepted is a well-formed sketch ...
      const double est = hll.estimate();
      EXPECT_TRUE(std::isfinite(est) && est >= 0);
      EXPECT_LE(hll.lower_bound(2), est);
      EXPECT_GE(hll.upper_bound(2), est);
      // ... in canonical form (bytes of an older version re-serialize as today's, to the same
      // sketch)
      const auto again = hll.serialize();
      if (b[1] == HyperLogLog::kFormatVersion) {
        EXPECT_EQ(again, b);
      } else {
        EXPECT_EQ(load(again).serialize(), again);
      }
      EXPECT_FALSE(hll.to_string().empty());
      hll.update(distinct_hashes(10, 3));
    } catch (const CorruptProfileError&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_GT(accepted, 0);
}

TEST(HyperLogLog, ToStringNamesModeAndEstimate) {
  EXPECT_NE(sketch_of(distinct_hashes(3, 1)).to_string().find("exact"), std::string::npos);
  EXPECT_NE(sketch_of(distinct_hashes(5000, 1)).to_string().find("dense"), std::string::npos);
}

}  // namespace
}  // namespace truthound
