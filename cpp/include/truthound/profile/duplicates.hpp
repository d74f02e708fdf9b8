// DuplicateCounter: how many rows repeat an earlier row, from 64-bit row hashes.
//
// Exact (up to 64-bit hash collisions, ~n^2/2^65) while at most `exact_limit` distinct row
// hashes have been seen: it keeps them sorted. Beyond that it switches to a HyperLogLog of the
// row hashes and the count becomes an estimate, flagged as such.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "truthound/sketch/hll.hpp"
#include "truthound/util/bytes.hpp"

namespace truthound {

class DuplicateCounter {
 public:
  explicit DuplicateCounter(uint64_t exact_limit = 1'000'000, uint8_t precision = 16)
      : limit_(exact_limit), precision_(precision) {}

  void update(std::span<const uint64_t> row_hashes);
  void merge(const DuplicateCounter& other);
  uint64_t rows() const { return rows_; }
  struct Distinct {
    uint64_t count;
    bool exact;
  };
  // Distinct rows, exact while at most `exact_limit` of them (then the HyperLogLog estimate).
  Distinct distinct() const;
  uint64_t distinct_rows() const;
  uint64_t duplicate_rows() const;

  void serialize(ByteWriter& out) const;
  static DuplicateCounter deserialize(ByteReader& in, uint64_t exact_limit, uint8_t precision);

 private:
  void compact();
  std::vector<uint64_t> all_sorted() const;
  void to_sketch();

  uint64_t limit_;
  uint8_t precision_;
  uint64_t rows_ = 0;
  std::vector<uint64_t> sorted_;   // distinct, ascending
  std::vector<uint64_t> pending_;  // not yet merged into sorted_
  std::optional<HyperLogLog> hll_;
};

}  // namespace truthound
