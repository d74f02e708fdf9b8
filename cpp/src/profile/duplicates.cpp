#include "truthound/profile/duplicates.hpp"

#include <algorithm>
#include <cmath>

namespace truthound {

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
  std::sort(p.begin(), p.end());
  p.erase(std::unique(p.begin(), p.end()), p.end());
  std::vector<uint64_t> out;
  out.reserve(sorted_.size() + p.size());
  std::set_union(sorted_.begin(), sorted_.end(), p.begin(), p.end(), std::back_inserter(out));
  return out;
}

void DuplicateCounter::compact() {
  sorted_ = all_sorted();
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

uint64_t DuplicateCounter::distinct_rows() const {
  if (hll_) return std::min<uint64_t>(rows_, static_cast<uint64_t>(std::llround(hll_->estimate())));
  return all_sorted().size();
}

uint64_t DuplicateCounter::duplicate_rows() const { return rows_ - distinct_rows(); }

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

DuplicateCounter DuplicateCounter::deserialize(ByteReader& in, uint64_t exact_limit, uint8_t precision) {
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
