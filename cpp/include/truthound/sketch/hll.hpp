// HyperLogLog: distinct counting over 64-bit hashes, exact while the distinct hashes are few.
//
// The caller hashes values (truthound/util/hash.hpp); the sketch only sees 64-bit hashes, so it
// never knows the column type, and one hash per value is shared with top-k and duplicate rows.
//
// Two modes:
//   - exact: the sketch keeps the distinct hashes themselves (an open-addressing table) while there
//     are at most `exact_limit` of them. estimate() is then the exact count of distinct hashes and
//     the serialized form ships just those hashes, so small columns and small partials stay small.
//   - dense: 2^p one-byte registers. Register i = hash >> (64 - p) holds the largest
//     rank = (leading zeros of the remaining 64 - p bits) + 1 seen, at most 64 - p + 1.
//     The estimate is Ertl's improved estimator ("New cardinality estimation algorithms for
//     HyperLogLog sketches", 2017, the tau/sigma corrections): unbiased from 0 to far beyond 2^64
//     without bias tables or a linear-counting switch. Relative standard error 1.04 / sqrt(2^p):
//     about 0.41 % at the default p = 16.
// The sketch turns dense the first time the number of distinct hashes exceeds `exact_limit` and
// never goes back.
//
// Merge is the union of the two hash sets: exact + exact stays exact if the union fits; otherwise
// registers are combined by element-wise max. The result does not depend on the order of merges
// (associative and commutative: same bytes). An empty sketch adopts the configuration of the
// other; otherwise the result keeps the smaller exact_limit of the two, so a.merge(b) and
// b.merge(a) agree. Different precisions cannot be merged (InvalidArgumentError).
//
// Serialized layout (little-endian). Deserialize checks every field against the bytes and throws
// CorruptProfileError ("expected X, got Y"), never reads out of bounds; what loads is in the one
// canonical form serialize writes, so equal sketches have equal bytes:
//
//   offset  size        field
//   ------  ----------  --------------------------------------------------------------------
//   0       1           family id  = 0x48 ('H')
//   1       1           format version = 3 (1 and 2 still load, see below)
//   2       1           precision p, 4..18
//   3       1           mode: 0 = exact, 1 = dense
//   4       4           u32 exact_limit, <= kMaxExactLimit
//   exact mode:
//   8       ...         the c <= exact_limit distinct hashes, strictly increasing, as Rice-coded
//                       gaps (util/sorted_codec.hpp; about 64 - log2(c) + 1.5 bits a hash)
//   dense mode:
//   8       1           lo: the smallest register
//   9       1           hi: the largest register, lo <= hi <= 64 - p + 1, hi >= 1
//   10      ...         hi - lo + 1 varints: how many registers hold lo, lo + 1, .., hi (those of
//                       lo and hi >= 1; they sum to 2^p)
//   .       1..10       varint S, bytes of the coded registers (0 when lo = hi)
//   .       S           the 2^p registers minus lo, in register order, entropy-coded against
//                       those counts (util/rans.hpp): about 2.8 bits a register once the sketch
//                       has seen a few times 2^p values, 23 KiB at p = 16 instead of 64 KiB
//   (the same registers as in memory, so the same estimates to the last digit)
//
// Older versions: version 2 (exact: u64 count and 8 bytes a hash; dense: the 4-bit packing of
// DataSketches' HLL_4, a base and exceptions) and version 1 (dense: one byte a register) load into
// the same sketch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "truthound/util/bytes.hpp"

namespace truthound {

class HyperLogLog {
 public:
  static constexpr uint8_t kFamilyId = 0x48;  // 'H'
  static constexpr uint8_t kFormatVersion = 3;
  static constexpr uint8_t kMinPrecision = 4;
  static constexpr uint8_t kMaxPrecision = 18;
  static constexpr uint8_t kDefaultPrecision = 16;
  static constexpr uint32_t kDefaultExactLimit = 4096;
  // Beyond this, the exact table would cost more than any dense register array.
  static constexpr uint32_t kMaxExactLimit = 1u << 20;

  // precision outside 4..18 or exact_limit > kMaxExactLimit -> InvalidArgumentError.
  // exact_limit = 0 makes the sketch dense from the start.
  explicit HyperLogLog(uint8_t precision = kDefaultPrecision,
                       uint32_t exact_limit = kDefaultExactLimit);

  void update(uint64_t hash);
  // The hot path: call it with a block of hashes (a batch of a column).
  void update(std::span<const uint64_t> hashes);
  // Union. Different precision -> InvalidArgumentError. Merging a sketch with itself is a no-op.
  void merge(const HyperLogLog& other);

  bool is_empty() const;
  // True while the sketch holds the distinct hashes themselves; estimate() is then exact.
  bool is_exact() const { return registers_.empty(); }
  uint8_t precision() const { return precision_; }
  // The 2^p registers in dense mode (register i holds the largest rank of the hashes whose top
  // p bits are i); empty while exact.
  std::span<const uint8_t> registers() const { return registers_; }
  uint32_t exact_limit() const { return exact_limit_; }

  // Number of distinct hashes: exact while is_exact(), else Ertl's improved estimate.
  double estimate() const;
  // estimate() -/+ num_std_dev standard errors; equal to estimate() when exact. The lower bound
  // is never below 0 (nor, when the sketch is not empty, below 1). num_std_dev < 0 ->
  // InvalidArgumentError.
  double lower_bound(int num_std_dev) const;
  double upper_bound(int num_std_dev) const;
  // 1.04 / sqrt(2^p) in dense mode, 0 when exact.
  double relative_standard_error() const;

  void serialize(ByteWriter& out) const;
  std::vector<uint8_t> serialize() const;
  // Reads one sketch from the reader (which may hold more data after it).
  static HyperLogLog deserialize(ByteReader& in);
  // Reads a buffer that holds exactly one sketch (trailing bytes are an error).
  static HyperLogLog deserialize(const void* data, size_t size);

  std::string to_string() const;

 private:
  void insert_exact(uint64_t hash);
  void grow_table();
  void convert_to_dense();
  void update_dense(std::span<const uint64_t> hashes);
  // Visits the exact hashes in no particular order.
  template <class F>
  void for_each_exact(F&& f) const;
  std::vector<uint64_t> sorted_exact() const;

  uint8_t precision_;
  uint32_t exact_limit_;
  // Exact mode: open addressing with linear probing, 0 marks an empty slot, so the hash 0
  // itself is kept aside in has_zero_. Grows by doubling, load <= 1/2.
  std::vector<uint64_t> table_;
  uint64_t table_mask_ = 0;
  int table_shift_ = 64;
  uint32_t exact_count_ = 0;  // distinct hashes held, including the zero hash
  bool has_zero_ = false;
  // Dense mode: 2^p registers; empty while exact.
  std::vector<uint8_t> registers_;
};

}  // namespace truthound
