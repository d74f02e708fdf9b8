#include "truthound/profile/duplicates.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace truthound {

namespace {

// Sorts 64-bit hashes: one counting pass on the top bits into about n/2 buckets, then each
// bucket on its own (hashes are uniform, so buckets hold a few keys; a crowded bucket falls back
// to std::sort). Equal keys are fine: insertion sort on them does no moves.
void sort_hashes(std::vector<uint64_t>& v) {
  const size_t n = v.size();
  if (n < 256) {
    std::sort(v.begin(), v.end());
    return;
  }
  const int bits = std::min(16, static_cast<int>(std::bit_width(n)) - 2);
  const int shift = 64 - bits;
  const size_t buckets = size_t{1} << bits;
  std::vector<uint32_t> start(buckets + 1, 0);
  for (uint64_t x : v) ++start[(x >> shift) + 1];
  for (size_t b = 1; b <= buckets; ++b) start[b] += start[b - 1];
  std::vector<uint32_t> pos(start.begin(), start.end() - 1);
  std::vector<uint64_t> tmp(n);
  for (uint64_t x : v) tmp[pos[x >> shift]++] = x;
  for (size_t b = 0; b < buckets; ++b) {
    uint64_t* p = tmp.data() + start[b];
    const size_t m = start[b + 1] - start[b];
    if (m <= 1) continue;
    if (m > 32) {
      std::sort(p, p + m);
      continue;
    }
    for (size_t i = 1; i < m; ++i) {
      const uint64_t x = p[i];
      size_t j = i;
      while (j > 0 && p[j - 1] > x) {
        p[j] = p[j - 1];
        --j;
      }
      p[j] = x;
    }
  }
  v.swap(tmp);
}

// Sorted, distinct union of sorted-distinct `a` and sorted `b` (b may repeat).
void union_into(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b,
                std::vector<uint64_t>& out) {
  out.resize(a.size() + b.size());
  uint64_t* o = out.data();
  size_t i = 0, j = 0, k = 0;
  const size_t na = a.size(), nb = b.size();
  bool any = false;
  uint64_t last = 0;
  while (i < na || j < nb) {
    uint64_t x;
    if (j == nb || (i < na && a[i] <= b[j])) {
      x = a[i++];
    } else {
      x = b[j++];
    }
    if (!any || x != last) {
      o[k++] = x;
      last = x;
      any = true;
    }
  }
  out.resize(k);
}

}  // namespace

void DuplicateCounter::update(std::span<const uint64_t> h) {
  rows_ += h.size();
  if (hll_) {
    hll_->update(h);
    return;
  }
  pending_.insert(pending_.end(), h.begin(), h.end());
  if (pending_.size() >= std::max<size_t>(1 << 16, sorted_.size())) compact();
}

std::vector<uint64_t> DuplicateCounter::all_sorted() const {
  std::vector<uint64_t> p = pending_;
  sort_hashes(p);
  std::vector<uint64_t> out;
  union_into(sorted_, p, out);
  return out;
}

void DuplicateCounter::compact() {
  sort_hashes(pending_);
  std::vector<uint64_t> out;
  union_into(sorted_, pending_, out);
  sorted_.swap(out);
  pending_.clear();
  if (sorted_.size() > limit_) to_sketch();
}

void DuplicateCounter::to_sketch() {
  hll_.emplace(precision_);
  hll_->update(sorted_);
  hll_->update(pending_);
  sorted_.clear();
  sorted_.shrink_to_fit();
  pending_.clear();
  pending_.shrink_to_fit();
}

void DuplicateCounter::merge(const DuplicateCounter& o) {
  rows_ += o.rows_;
  if (!hll_ && !o.hll_) {
    pending_.insert(pending_.end(), o.sorted_.begin(), o.sorted_.end());
    pending_.insert(pending_.end(), o.pending_.begin(), o.pending_.end());
    compact();
    return;
  }
  if (!hll_) to_sketch();
  if (o.hll_) {
    hll_->merge(*o.hll_);
  } else {
    hll_->update(o.sorted_);
    hll_->update(o.pending_);
  }
}

DuplicateCounter::Distinct DuplicateCounter::distinct() const {
  if (hll_) {
    return {std::min<uint64_t>(rows_, static_cast<uint64_t>(std::llround(hll_->estimate()))),
            false};
  }
  const auto all = all_sorted();
  if (all.size() <= limit_) return {all.size(), true};
  // Past the limit the answer is the sketch's, whether or not this partial has compacted yet,
  // so the result and its flag do not depend on how the rows were split.
  HyperLogLog h(precision_);
  h.update(all);
  return {std::min<uint64_t>(rows_, static_cast<uint64_t>(std::llround(h.estimate()))), false};
}

uint64_t DuplicateCounter::distinct_rows() const {
  return distinct().count;
}

uint64_t DuplicateCounter::duplicate_rows() const {
  return rows_ - distinct_rows();
}

// Layout: mode u8 (0 exact, 1 sketch) | rows u64 | exact: u64 n + n sorted hashes | sketch: HLL
void DuplicateCounter::serialize(ByteWriter& out) const {
  out.u8(hll_ ? 1 : 0);
  out.u64(rows_);
  if (hll_) {
    hll_->serialize(out);
  } else {
    const auto all = all_sorted();
    out.array<uint64_t>(all);
  }
}

DuplicateCounter DuplicateCounter::deserialize(ByteReader& in, uint64_t exact_limit,
                                               uint8_t precision) {
  DuplicateCounter d(exact_limit, precision);
  const uint8_t mode = in.u8();
  if (mode > 1) in.corrupt("duplicate counter: unknown mode " + std::to_string(mode));
  d.rows_ = in.u64();
  if (mode == 1) {
    d.hll_ = HyperLogLog::deserialize(in);
  } else {
    d.sorted_ = in.array<uint64_t>();
    if (d.sorted_.size() > d.rows_) in.corrupt("duplicate counter: more distinct rows than rows");
    for (size_t i = 1; i < d.sorted_.size(); ++i) {
      if (d.sorted_[i - 1] >= d.sorted_[i]) in.corrupt("duplicate counter: hashes not sorted");
    }
  }
  return d;
}

}  // namespace truthound
