#include "truthound/sketch/frequent_items.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <sstream>

#include "truthound/util/error.hpp"
#include "truthound/util/sorted_codec.hpp"

namespace truthound {

namespace {

constexpr size_t kInitialSlots = 16;

}  // namespace

// Items a table of `slots` slots holds at most. A low load (1/8) while the table is small, so
// that a lookup almost always decides on its first slot (the hot loop's one branch stays
// predictable); from dense_slots_ (kDenseSlots unless a wide profile lowers it) on, a load of
// 1/2, so that the table of a column with many distinct values stays small: 16,384 items fit
// 65,536 slots of 16 bytes (1 MiB, a load of 1/4) instead of 131,072 (2 MiB). Measured on 4M
// distinct values, capacity 16,384, ns per value: 5.1 at 2 MiB, 5.9 at 1 MiB, 7.5 at 512 KiB
// (load 1/2; more probes and branch misses).
size_t FrequentItems::load_limit(size_t slots) const {
  return slots < dense_slots_ ? slots / 8 : slots / 2;
}

// Slots for `items`.
size_t FrequentItems::slots_for(size_t items) const {
  size_t slots = kInitialSlots;
  while (items > load_limit(slots)) slots *= 2;
  return slots;
}

void FrequentItems::set_dense_slots(size_t slots) {
  if (slots < kInitialSlots || slots > kDenseSlots || !std::has_single_bit(slots)) {
    throw InvalidArgumentError("FrequentItems: dense_slots must be a power of two in 16.." +
                               std::to_string(kDenseSlots) + ", got " + std::to_string(slots));
  }
  dense_slots_ = slots;
  // The table keeps its size; only when the next insert grows it changes. Keep the hot path's
  // invariant: room for insert_limit_ + 1 items before after_insert() moves them.
  insert_limit_ = std::min<size_t>(capacity_, load_limit(keys_.size()));
  if (occupied_.size() < insert_limit_ + 1) {
    occupied_.resize(insert_limit_ + 1);
    refs_.resize(insert_limit_ + 1);
  }
}

FrequentItems::FrequentItems(uint32_t capacity) : capacity_(capacity) {
  if (capacity < 1 || capacity > kMaxCapacity) {
    throw InvalidArgumentError("FrequentItems: capacity must be in 1.." +
                               std::to_string(kMaxCapacity) + ", got " + std::to_string(capacity));
  }
  resize_table(kInitialSlots);
}

void FrequentItems::resize_table(size_t slots) {
  keys_.assign(slots, Key{0, 0});
  active_ = 0;
  ones_ = true;
  mask_ = slots - 1;
  shift_ = 64 - std::countr_zero(slots);
  insert_limit_ = std::min<size_t>(capacity_, load_limit(slots));
  // At most insert_limit_ + 1 items before after_insert() moves them.
  occupied_.assign(insert_limit_ + 1, 0);
  refs_.assign(insert_limit_ + 1, ValueRef{0, 0});
}

size_t FrequentItems::find(uint64_t hash) const {
  size_t s = slot_of(hash);
  for (;;) {
    const Key& k = keys_[s];
    if (k.count == 0) return SIZE_MAX;
    if (k.hash == hash) return s;
    s = (s + 1) & mask_;
  }
}

void FrequentItems::Arena::grow(size_t size) {
  buf_.resize(std::max({buf_.size() * 2, used_ + size, size_t{256}}));
}

void FrequentItems::after_insert(const LazyValues* lazy) {
  if (active_ > capacity_) {
    purge(lazy);
  } else if (active_ > load_limit(keys_.size())) {
    // Grow: rebuild into a table twice as large.
    scratch_entries_ = entries();
    rebuild(scratch_entries_, keys_.size() * 2, lazy);
  }
}

std::vector<FrequentItems::Entry> FrequentItems::entries() const {
  std::vector<Entry> out;
  out.reserve(active_);
  for (size_t j = 0; j < active_; ++j) {
    // A lazy value keeps its kLazy | row size (and a harmless data pointer).
    const Key& k = keys_[occupied_[j]];
    out.push_back(Entry{k.hash, k.count, arena_.data() + refs_[j].offset, refs_[j].size});
  }
  return out;
}

void FrequentItems::rebuild(std::span<Entry> entries, size_t slots, const LazyValues* lazy) {
  // The entries may point into arena_: copy the survivors into the spare arena, then swap. The
  // copies come first, before anything changes, since taking a lazy value may throw.
  spare_arena_.clear();
  scratch_offsets_.resize(entries.size());
  for (size_t j = 0; j < entries.size(); ++j) {
    Entry& e = entries[j];
    if (e.size & kLazy) [[unlikely]] {
      const ValueRef r = lazy->append(lazy->value_at, e.size & ~kLazy, spare_arena_);
      scratch_offsets_[j] = r.offset;
      e.size = r.size;
    } else {
      scratch_offsets_[j] = spare_arena_.append(e.data, e.size);
    }
  }
  if (slots != keys_.size()) {
    resize_table(slots);
  } else {
    clear_slots();
  }
  if (entries.size() > occupied_.size()) {
    occupied_.resize(entries.size());
    refs_.resize(entries.size());
  }
  for (size_t j = 0; j < entries.size(); ++j) {
    const Entry& e = entries[j];
    size_t s = slot_of(e.hash);
    while (keys_[s].count != 0) s = (s + 1) & mask_;
    occupied_[j] = static_cast<uint32_t>(s);
    keys_[s] = Key{e.hash, e.count};
    refs_[j] = ValueRef{scratch_offsets_[j], e.size};
  }
  active_ = entries.size();
  ones_ = std::all_of(entries.begin(), entries.end(), [](const Entry& e) { return e.count == 1; });
  arena_.swap(spare_arena_);
}

void FrequentItems::drop_lazy() {
  scratch_entries_.clear();
  for (size_t j = 0; j < active_; ++j) {
    const Key& k = keys_[occupied_[j]];
    if (refs_[j].size & kLazy) {
      n_ -= k.count;
    } else {
      scratch_entries_.push_back(
          Entry{k.hash, k.count, arena_.data() + refs_[j].offset, refs_[j].size});
    }
  }
  rebuild(scratch_entries_, keys_.size(), nullptr);
}

void FrequentItems::release_scratch() {
  std::vector<uint64_t>().swap(scratch_counts_);
  std::vector<uint64_t>().swap(scratch_offsets_);
  std::vector<Entry>().swap(scratch_entries_);
  spare_arena_.release();
}

void FrequentItems::clear_slots() {
  if (active_ * 2 > keys_.size()) {
    std::memset(static_cast<void*>(keys_.data()), 0, keys_.size() * sizeof(Key));
  } else {
    for (size_t j = 0; j < active_; ++j) keys_[occupied_[j]] = Key{0, 0};
  }
  active_ = 0;
  ones_ = true;
}

void FrequentItems::purge(const LazyValues* lazy) {
  // Every counter 1 (an all-distinct stream since the last purge): all of them go, without a
  // pass over the table to find that out.
  if (ones_) {
    offset_ += 1;
    clear_slots();
    arena_.clear();
    return;
  }
  scratch_counts_.resize(active_);
  uint64_t lo = UINT64_MAX, hi = 0;
  for (size_t i = 0; i < active_; ++i) {
    const uint64_t c = keys_[occupied_[i]].count;
    scratch_counts_[i] = c;
    lo = c < lo ? c : lo;
    hi = c > hi ? c : hi;
  }
  // All counters equal (an all-distinct stream): that value is the median and every item goes.
  if (lo == hi) {
    offset_ += lo;
    clear_slots();
    arena_.clear();
    return;
  }
  // The lower median: at least half of the counters are <= it and go. Mostly-distinct streams
  // have more than half of the counters at the minimum, which is then the median.
  const size_t rank = (scratch_counts_.size() - 1) / 2;
  size_t at_lo = 0;
  for (const uint64_t c : scratch_counts_) at_lo += c == lo;
  if (at_lo > rank) {
    subtract_and_rebuild(lo, {}, lazy);
    return;
  }
  auto median = scratch_counts_.begin() + rank;
  std::nth_element(scratch_counts_.begin(), median, scratch_counts_.end());
  subtract_and_rebuild(*median, {}, lazy);
}

void FrequentItems::subtract_and_rebuild(uint64_t amount, std::span<const Entry> extra,
                                         const LazyValues* lazy) {
  // Branch-free compaction: write every entry, keep it by advancing only if it survives. Lazy
  // values go along as kLazy | row: rebuild() takes them for the survivors only.
  scratch_entries_.resize(active_ + extra.size());
  size_t kept = 0;
  for (size_t j = 0; j < active_; ++j) {
    const Key& k = keys_[occupied_[j]];
    scratch_entries_[kept] =
        Entry{k.hash, k.count - amount, arena_.data() + refs_[j].offset, refs_[j].size};
    kept += k.count > amount;
  }
  for (const Entry& e : extra) {
    scratch_entries_[kept] = Entry{e.hash, e.count - amount, e.data, e.size};
    kept += e.count > amount;
  }
  scratch_entries_.resize(kept);
  rebuild(scratch_entries_, std::max(slots_for(kept), keys_.size()), lazy);
  // Only now: if rebuild() threw, the sketch is as before the purge.
  offset_ += amount;
}

uint64_t FrequentItems::compact(size_t max_items, size_t max_bytes) {
  if (is_exact() || active_ == 0) return 0;
  // (count, serialized bytes) of every item: its value, about 7 bytes of coded hash, its
  // counter and length.
  constexpr uint64_t kItemOverhead = 12;
  std::vector<std::pair<uint64_t, uint64_t>> items(active_);
  unsigned __int128 mass = 0;
  uint64_t bytes = 0;
  for (size_t j = 0; j < active_; ++j) {
    items[j] = {keys_[occupied_[j]].count, refs_[j].size + kItemOverhead};
    mass += items[j].first;
    bytes += items[j].second;
  }
  if (active_ <= max_items && bytes <= max_bytes) return 0;
  // The weight purges removed beyond what the offset already accounts for: the room left.
  const unsigned __int128 removed = n_ > mass ? n_ - mass : 0;
  const unsigned __int128 used = static_cast<unsigned __int128>(offset_) * capacity_ / 2;
  if (removed < used) return 0;  // a sketch that does not satisfy the invariant: leave it
  const unsigned __int128 room = removed - used;
  std::sort(items.begin(), items.end());
  // Threshold t = counts[i] drops counters 0..i and removes t from each of the rest: weight
  // removed R(t) = sum(counts[0..i]) + t * (rest). Allowed while t * capacity / 2 <= room + R(t),
  // which holds on an interval [0, t_max] (R is concave, its slope is the number of counters
  // above t).
  uint64_t best = 0;
  unsigned __int128 below = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    below += items[i].first;
    bytes -= items[i].second;
    if (i + 1 < items.size() && items[i + 1].first == items[i].first) continue;
    const uint64_t t = items[i].first;
    const size_t rest = items.size() - i - 1;
    const unsigned __int128 weight_removed = below + static_cast<unsigned __int128>(t) * rest;
    if (static_cast<unsigned __int128>(t) * capacity_ / 2 > room + weight_removed) break;
    best = t;
    if (rest <= max_items && bytes <= max_bytes) break;
  }
  if (best == 0) return 0;
  subtract_and_rebuild(best, {}, nullptr);
  release_scratch();
  return best;
}

void FrequentItems::update(uint64_t hash, std::string_view value, uint64_t weight) {
  if (weight == 0) return;
  size_t s = slot_of(hash);
  for (;;) {
    Key& k = keys_[s];
    if (k.count == 0) {
      insert_new(s, hash, weight, value);
      break;
    }
    if (k.hash == hash) {
      k.count += weight;
      ones_ = false;
      break;
    }
    s = (s + 1) & mask_;
  }
  n_ += weight;
}

void FrequentItems::merge(const FrequentItems& other) {
  if (&other == this) {
    const FrequentItems copy = other;
    merge(copy);
    return;
  }
  if (other.is_empty()) return;
  if (is_empty()) {
    const size_t dense_slots = dense_slots_;
    *this = other;
    set_dense_slots(dense_slots);
    return;
  }
  capacity_ = std::min(capacity_, other.capacity_);
  insert_limit_ = std::min<size_t>(capacity_, load_limit(keys_.size()));
  n_ += other.n_;
  offset_ += other.offset_;
  // Items of both: add the counters in place. Items new to this sketch wait in `fresh`.
  std::vector<Entry> fresh;
  for (const Entry& e : other.entries()) {
    const size_t s = find(e.hash);
    if (s != SIZE_MAX) {
      keys_[s].count += e.count;
      ones_ = false;
    } else {
      fresh.push_back(e);
    }
  }
  const size_t total = active_ + fresh.size();
  if (total <= capacity_) {
    for (const Entry& e : fresh) {
      size_t s = slot_of(e.hash);
      while (keys_[s].count != 0) s = (s + 1) & mask_;
      insert_new(s, e.hash, e.count, std::string_view(e.data, e.size));
    }
    return;
  }
  // Subtract the smallest amount that leaves at most `capacity` counters: the (total -
  // capacity)-th smallest counter. It depends only on the multiset of summed counters, so the
  // result is the same whichever sketch is merged into which.
  scratch_counts_.clear();
  for (size_t j = 0; j < active_; ++j) scratch_counts_.push_back(keys_[occupied_[j]].count);
  for (const Entry& e : fresh) scratch_counts_.push_back(e.count);
  auto kth = scratch_counts_.begin() + (total - capacity_ - 1);
  std::nth_element(scratch_counts_.begin(), kth, scratch_counts_.end());
  subtract_and_rebuild(*kth, fresh, nullptr);
  release_scratch();
}

FrequentItems::Row FrequentItems::row_of(const Entry& e) const {
  return Row{e.hash, std::string(e.data, e.size), e.count + offset_ / 2, e.count,
             e.count + offset_};
}

std::vector<FrequentItems::Row> FrequentItems::ranked(size_t k, bool most, ValueLess less) const {
  std::vector<Entry> items = entries();
  // No false positives: an item whose lower bound does not exceed the maximum error might occur
  // no more often than an item the sketch dropped, so it is not reported. (When exact the
  // maximum error is 0 and every item qualifies.)
  if (most) std::erase_if(items, [&](const Entry& e) { return e.count <= offset_; });
  k = std::min(k, items.size());
  // By count (the lower bound); ties by value (`less`, or the bytes), then by hash, so the order
  // is deterministic.
  std::partial_sort(items.begin(), items.begin() + k, items.end(),
                    [&](const Entry& a, const Entry& b) {
                      if (a.count != b.count) return most ? a.count > b.count : a.count < b.count;
                      const std::string_view va(a.data, a.size), vb(b.data, b.size);
                      if (va != vb) return less ? less(va, vb) : va < vb;
                      return a.hash < b.hash;
                    });
  std::vector<Row> rows;
  rows.reserve(k);
  for (size_t i = 0; i < k; ++i) rows.push_back(row_of(items[i]));
  return rows;
}

std::vector<FrequentItems::Row> FrequentItems::top(size_t k, ValueLess less) const {
  return ranked(k, true, less);
}

std::vector<FrequentItems::Row> FrequentItems::bottom(size_t k, ValueLess less) const {
  if (!is_exact()) return {};
  return ranked(k, false, less);
}

void FrequentItems::serialize(ByteWriter& out) const {
  std::vector<Entry> items = entries();
  std::sort(items.begin(), items.end(),
            [](const Entry& a, const Entry& b) { return a.hash < b.hash; });
  out.u8(kFamilyId);
  out.u8(kFormatVersion);
  out.u32(capacity_);
  out.varint(n_);
  out.varint(offset_);
  std::vector<uint64_t> hashes(items.size());
  for (size_t i = 0; i < items.size(); ++i) hashes[i] = items[i].hash;
  write_sorted_u64(out, hashes);
  for (const Entry& e : items) {
    out.varint(e.count);
    out.varstr(std::string_view(e.data, e.size));
  }
}

std::vector<uint8_t> FrequentItems::serialize() const {
  ByteWriter out;
  serialize(out);
  return out.take();
}

FrequentItems FrequentItems::deserialize(ByteReader& in) {
  const uint8_t family = in.u8();
  if (family != kFamilyId) {
    in.corrupt("expected FrequentItems family id " + std::to_string(kFamilyId) + ", got " +
               std::to_string(family));
  }
  const uint8_t version = in.u8();
  if (version < kFormatVersionU64 || version > kFormatVersion) {
    in.corrupt("expected FrequentItems format version 1.." + std::to_string(kFormatVersion) +
               ", got " + std::to_string(version));
  }
  // Version 1 (partial profiles of format version 3 and older) wrote every number as a u64,
  // versions 1 and 2 a count and every hash as a u64 beside its item.
  const bool v1 = version == kFormatVersionU64;
  const bool coded_hashes = version == kFormatVersion;
  auto number = [&] { return v1 ? in.u64() : in.varint(); };
  const uint32_t capacity = in.u32();
  if (capacity < 1 || capacity > kMaxCapacity) {
    in.corrupt("expected FrequentItems capacity in 1.." + std::to_string(kMaxCapacity) + ", got " +
               std::to_string(capacity));
  }
  const uint64_t n = number();
  const uint64_t offset = number();
  // Each item takes at least 24 (version 1), 10 (version 2) or 2 bytes besides its hash, so the
  // count cannot make us allocate beyond the input.
  std::vector<uint64_t> hashes;
  if (coded_hashes) hashes = read_sorted_u64(in, capacity, true);
  const uint64_t count = coded_hashes ? hashes.size() : number();
  const size_t min_item = v1 ? 24 : coded_hashes ? 2 : 10;
  if (count > capacity) {
    in.corrupt("expected at most capacity = " + std::to_string(capacity) +
               " FrequentItems items, got " + std::to_string(count));
  }
  if (count > in.remaining() / min_item) {
    in.corrupt("truncated, expected " + std::to_string(count) +
               " FrequentItems items of at least " + std::to_string(min_item) + " bytes, got " +
               std::to_string(in.remaining()) + " bytes");
  }
  std::vector<Entry> items;
  items.reserve(count);
  unsigned __int128 sum = 0;
  for (size_t i = 0; i < count; ++i) {
    const uint64_t hash = coded_hashes ? hashes[i] : in.u64();
    const uint64_t c = number();
    const std::string_view value = v1 ? in.str() : in.varstr();
    if (c == 0)
      in.corrupt("expected FrequentItems counters >= 1, got 0 at item " + std::to_string(i));
    if (i > 0 && hash <= items.back().hash) {
      in.corrupt("expected strictly increasing FrequentItems hashes, got " + std::to_string(hash) +
                 " after " + std::to_string(items.back().hash));
    }
    sum += c;
    items.push_back(Entry{hash, c, value.data(), value.size()});
  }
  if (sum > n || (offset == 0 && sum != n)) {
    in.corrupt("expected FrequentItems counters to sum to " +
               std::string(offset == 0 ? "n = " : "at most n = ") + std::to_string(n) + ", got " +
               (sum > UINT64_MAX ? std::string("more than 2^64")
                                 : std::to_string(static_cast<uint64_t>(sum))));
  }
  // Every purge that adds a to the offset removes at least a * capacity / 2 from the counters,
  // and what was removed is n - sum.
  const unsigned __int128 removed = n - sum;
  if (static_cast<unsigned __int128>(offset) * capacity > 2 * removed) {
    in.corrupt("expected FrequentItems offset <= 2 * (n - sum of counters) / capacity = " +
               std::to_string(static_cast<uint64_t>(2 * removed / capacity)) + ", got " +
               std::to_string(offset));
  }
  FrequentItems fi(capacity);
  fi.n_ = n;
  fi.offset_ = offset;
  fi.rebuild(items, fi.slots_for(items.size()), nullptr);
  fi.release_scratch();
  return fi;
}

FrequentItems FrequentItems::deserialize(const void* data, size_t size) {
  ByteReader in(data, size, "FrequentItems");
  FrequentItems fi = deserialize(in);
  in.expect_end();
  return fi;
}

std::string FrequentItems::to_string() const {
  std::ostringstream os;
  os << "FrequentItems(capacity=" << capacity_ << ", n=" << n_ << ", items=" << active_
     << ", maximum_error=" << offset_ << ", " << (is_exact() ? "exact" : "approximate");
  const std::vector<Row> rows = top(3);
  if (!rows.empty()) {
    os << ", top=[";
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i) os << ", ";
      os << std::hex << rows[i].hash << std::dec << ":" << rows[i].estimate;
    }
    os << "]";
  }
  os << ")";
  return os.str();
}

}  // namespace truthound
