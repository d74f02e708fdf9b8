// Template bodies of truthound::FrequentItems (included by frequent_items.hpp).
#pragma once

#include <algorithm>
#include <memory>
#include <string_view>
#include <type_traits>

namespace truthound {

inline void FrequentItems::insert_new(size_t slot, uint64_t hash, uint64_t count,
                                      std::string_view value) {
  // Append first: if it throws, the table is unchanged.
  const uint64_t at = arena_.append(value.data(), value.size());
  occupied_[active_] = static_cast<uint32_t>(slot);
  refs_[active_] = ValueRef{at, value.size()};
  keys_[slot] = Key{hash, count};
  ones_ &= count == 1;
  if (++active_ > insert_limit_) after_insert();
}

template <class ValueAt>
void FrequentItems::update(std::span<const uint64_t> hashes, ValueAt&& value_at) {
  using Fn = std::remove_reference_t<ValueAt>;
  const LazyValues lazy{const_cast<void*>(static_cast<const void*>(std::addressof(value_at))),
                        [](void* fn, uint64_t row, Arena& into) {
                          // Bound to a reference: a value returned by value lives until the copy is
                          // done.
                          const auto& v = (*static_cast<Fn*>(fn))(static_cast<size_t>(row));
                          const std::string_view value(v);
                          return ValueRef{into.append(value.data(), value.size()), value.size()};
                        }};
  const uint64_t* h = hashes.data();
  const size_t size = hashes.size();
  size_t i = 0;
  try {
    // Items [0, lazy_from) own their bytes; those inserted after are lazy until taken below
    // (each purge or growth in between takes the values of the survivors).
    size_t lazy_from = active_;
    // The table only moves when after_insert() grows or purges it: keep its base and mask in
    // registers and reload them after that.
    Key* keys = keys_.data();
    size_t mask = mask_;
    // A counter went above 1 since the last check (ones_ is kept in memory only then).
    bool hit = false;
    for (; i < size; ++i) {
      const uint64_t hash = h[i];
      // A table of many items outgrows the L1/L2 caches: fetch the slot of a hash a few rows
      // ahead so its miss overlaps the work in between.
      if (i + kPrefetchDistance < size) [[likely]]
        __builtin_prefetch(keys + slot_of(h[i + kPrefetchDistance]), 1);
      size_t s = slot_of(hash);
      // One branch for "this item or an empty slot" (an empty slot is {0, 0}), taken almost
      // always at the table's low load; collisions walk on.
      while (!((keys[s].hash == hash) | (keys[s].count == 0))) s = (s + 1) & mask;
      if (keys[s].count != 0) {
        ++keys[s].count;
        hit = true;
        continue;
      }
      // New item: note its row instead of copying its value, which the next purge most likely
      // drops.
      keys[s] = Key{hash, 1};
      occupied_[active_] = static_cast<uint32_t>(s);
      refs_[active_] = ValueRef{0, kLazy | i};
      if (++active_ > insert_limit_) [[unlikely]] {
        ones_ &= !hit;
        hit = false;
        // Rebuilds the table: every item left owns its bytes.
        after_insert(&lazy);
        keys = keys_.data();
        mask = mask_;
        lazy_from = active_;
      }
    }
    ones_ &= !hit;
    // Past the exact regime, a table of at least capacity / 2 counters that are all 1 (an
    // all-distinct stream) is purged now rather than at the next insert beyond capacity: the
    // purge removes at least capacity / 2 for the 1 it adds to the offset, so the bound
    // offset <= 2n / capacity holds as for any purge, and the lazy values need not be copied
    // only to be dropped (that copy cost a string column 10 % of its time).
    if (ones_ && offset_ > 0 && 2 * active_ >= capacity_) {
      offset_ += 1;
      clear_slots();
      arena_.clear();
      lazy_from = 0;
    }
    // The items still lazy take their values now, while the caller's rows are valid.
    for (size_t j = lazy_from; j < active_; ++j) {
      const auto& v = value_at(static_cast<size_t>(refs_[j].size & ~kLazy));
      const std::string_view value(v);
      refs_[j] = ValueRef{arena_.append(value.data(), value.size()), value.size()};
    }
  } catch (...) {
    // Only after_insert() (row i already in the table) and the loop above (i == size) can
    // throw, so rows [0, min(i + 1, size)) are in the table; drop_lazy() then takes out the
    // items without a value and their rows.
    n_ += std::min(i + 1, size);
    drop_lazy();
    throw;
  }
  n_ += size;
  release_scratch();
}

}  // namespace truthound
