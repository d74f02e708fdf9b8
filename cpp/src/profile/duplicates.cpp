#include "truthound/profile/duplicates.hpp"

#include <algorithm>
#include <utility>

#include "truthound/util/sorted_codec.hpp"

namespace truthound {

namespace {
constexpr uint64_t kInitialSlots = 1024;
}

DuplicateCounter::DuplicateCounter(uint64_t exact_limit)
    : limit_(std::max<uint64_t>(exact_limit, 1)),
      keys_(kInitialSlots, 0),
      counts_(kInitialSlots, 0),
      mask_(kInitialSlots - 1) {}

void DuplicateCounter::insert(uint64_t h, uint64_t count) {
  sampled_rows_ += count;
  if (h == 0) {
    size_ += zero_count_ == 0;
    zero_count_ += count;
    return;
  }
  uint64_t i = h & mask_;
  while (keys_[i] != 0) {
    if (keys_[i] == h) {
      counts_[i] += count;
      return;
    }
    i = (i + 1) & mask_;
  }
  keys_[i] = h;
  counts_[i] = count;
  if (++size_ * 2 > keys_.size()) grow();
  while (size_ > limit_) raise_level();
}

void DuplicateCounter::grow() {
  std::vector<uint64_t> keys(keys_.size() * 2, 0), counts(keys_.size() * 2, 0);
  const uint64_t mask = keys.size() - 1;
  for (size_t s = 0; s < keys_.size(); ++s) {
    if (keys_[s] == 0) continue;
    uint64_t i = keys_[s] & mask;
    while (keys[i] != 0) i = (i + 1) & mask;
    keys[i] = keys_[s];
    counts[i] = counts_[s];
  }
  keys_ = std::move(keys);
  counts_ = std::move(counts);
  mask_ = mask;
}

void DuplicateCounter::raise_level() {
  ++level_;
  std::vector<std::pair<uint64_t, uint64_t>> kept;
  kept.reserve(size_);
  for (size_t s = 0; s < keys_.size(); ++s) {
    if (keys_[s] != 0 && qualifies(keys_[s])) kept.emplace_back(keys_[s], counts_[s]);
  }
  const uint64_t zero = zero_count_;  // 0 qualifies at every level
  std::fill(keys_.begin(), keys_.end(), 0);
  size_ = 0;
  sampled_rows_ = 0;
  zero_count_ = 0;
  if (zero) insert(0, zero);
  for (const auto& [h, c] : kept) insert(h, c);
}

void DuplicateCounter::update(std::span<const uint64_t> row_hashes) {
  rows_ += row_hashes.size();
  for (uint64_t h : row_hashes) {
    if (qualifies(h)) insert(h, 1);
  }
}

void DuplicateCounter::merge(const DuplicateCounter& o) {
  while (level_ < o.level_) raise_level();
  rows_ += o.rows_;
  if (o.zero_count_ && qualifies(0)) insert(0, o.zero_count_);
  for (size_t s = 0; s < o.keys_.size(); ++s) {
    if (o.keys_[s] != 0 && qualifies(o.keys_[s])) insert(o.keys_[s], o.counts_[s]);
  }
}

uint64_t DuplicateCounter::distinct_rows() const {
  if (level_ == 0) return size_;
  const uint64_t dups_sampled = sampled_rows_ - size_;
  const uint64_t dups = std::min<uint64_t>(rows_, dups_sampled << std::min<uint32_t>(level_, 63));
  return rows_ - dups;
}

uint64_t DuplicateCounter::duplicate_rows() const {
  return rows_ - distinct_rows();
}

void DuplicateCounter::serialize(ByteWriter& out) const {
  std::vector<std::pair<uint64_t, uint64_t>> entries;
  entries.reserve(size_);
  if (zero_count_) entries.emplace_back(0, zero_count_);
  for (size_t s = 0; s < keys_.size(); ++s) {
    if (keys_[s] != 0) entries.emplace_back(keys_[s], counts_[s]);
  }
  std::sort(entries.begin(), entries.end());
  out.u8(static_cast<uint8_t>(level_));
  out.u64(rows_);
  std::vector<uint64_t> hashes(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) hashes[i] = entries[i].first;
  write_sorted_u64(out, hashes);
  for (const auto& e : entries) out.varint(e.second);
}

DuplicateCounter DuplicateCounter::deserialize(ByteReader& in, uint64_t exact_limit, bool coded) {
  DuplicateCounter d(exact_limit);
  const uint8_t level = in.u8();
  if (level > 63) in.corrupt("duplicate counter: level " + std::to_string(level) + " out of range");
  d.level_ = level;
  d.rows_ = in.u64();
  std::vector<uint64_t> hashes;
  if (coded) hashes = read_sorted_u64(in, d.limit_, true);
  // Each entry takes at least 16 bytes uncoded, or a byte for its count coded.
  const size_t n = coded ? hashes.size() : in.count(16);
  if (n > d.limit_) in.corrupt("duplicate counter: more hashes than its limit");
  if (coded && n > in.remaining()) in.corrupt("duplicate counter: truncated counts");
  uint64_t previous = 0, total = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t h = coded ? hashes[i] : in.u64();
    const uint64_t c = coded ? in.varint() : in.u64();
    if (i > 0 && h <= previous) in.corrupt("duplicate counter: hashes not ascending");
    if (c == 0 || c > d.rows_ - total) in.corrupt("duplicate counter: counts exceed the rows");
    if (!d.qualifies(h)) in.corrupt("duplicate counter: a hash does not belong to its level");
    previous = h;
    total += c;
    d.insert(h, c);
  }
  if (d.level_ != level) in.corrupt("duplicate counter: more hashes than its limit");
  return d;
}

}  // namespace truthound
