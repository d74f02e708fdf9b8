// DuplicateCounter: how many rows repeat an earlier row, from 64-bit row hashes.
//
// Distinct sampling (Gibbons, VLDB 2001): the counter keeps every row hash whose top `level`
// bits are zero, with how often it occurred. All copies of a row share one hash, so a duplicate
// pair is kept or dropped as a whole and, scaled by 2^level, the sample's duplicates estimate the
// table's without bias; a table without duplicates is reported as having none, at any size.
//
// At level 0 it keeps every hash: the count is exact (up to 64-bit hash collisions, about
// n^2 / 2^65). When more than `exact_limit` distinct hashes are kept, the level goes up by one
// and the hashes that no longer qualify are dropped (about half). The relative standard error of
// an estimate with D duplicates in the sample is about 1/sqrt(D).
//
// Mergeable: two counters merge at the higher of their levels, with the same result whatever
// the order.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "truthound/util/bytes.hpp"

namespace truthound {

class DuplicateCounter {
 public:
  explicit DuplicateCounter(uint64_t exact_limit = 1'000'000);

  void update(std::span<const uint64_t> row_hashes);
  void merge(const DuplicateCounter& other);

  uint64_t rows() const { return rows_; }
  bool is_exact() const { return level_ == 0; }
  uint32_t level() const { return level_; }
  // Estimated distinct rows and duplicate rows (rows - distinct); exact at level 0.
  uint64_t distinct_rows() const;
  uint64_t duplicate_rows() const;

  // Layout: level u8 | rows u64 | the n kept hashes ascending, as Rice-coded gaps
  // (util/sorted_codec.hpp) | n x varint count, in the order of the hashes. `coded` false reads
  // the layout of partial profile format 4 and older: level u8 | rows u64 | n u64 |
  // n x (hash u64, count u64).
  void serialize(ByteWriter& out) const;
  static DuplicateCounter deserialize(ByteReader& in, uint64_t exact_limit, bool coded = true);

 private:
  bool qualifies(uint64_t h) const { return level_ == 0 || (h >> (64 - level_)) == 0; }
  void insert(uint64_t h, uint64_t count);
  void grow();
  void raise_level();

  uint64_t limit_;
  uint32_t level_ = 0;
  uint64_t rows_ = 0;
  uint64_t sampled_rows_ = 0;  // sum of the kept counts
  // open addressing, linear probing; key 0 marks an empty slot, the zero hash is kept apart
  std::vector<uint64_t> keys_;
  std::vector<uint64_t> counts_;
  uint64_t mask_ = 0;
  uint64_t size_ = 0;  // distinct hashes kept, including the zero hash
  uint64_t zero_count_ = 0;
};

}  // namespace truthound
