// Template bodies of truthound::FrequentItems (included by frequent_items.hpp).
#pragma once

#include <string_view>

namespace truthound {

inline void FrequentItems::insert_new(size_t slot, uint64_t hash, uint64_t count,
                                      std::string_view value) {
  // Append first: if it throws, the table is unchanged.
  const uint64_t at = arena_.append(value.data(), value.size());
  occupied_[active_] = static_cast<uint32_t>(slot);
  refs_[active_] = ValueRef{at, value.size()};
  keys_[slot] = Key{hash, count};
  if (++active_ > insert_limit_) after_insert();
}

template <class ValueAt>
void FrequentItems::update(std::span<const uint64_t> hashes, ValueAt&& value_at) {
  const uint64_t* h = hashes.data();
  const size_t size = hashes.size();
  size_t i = 0;
  // n_ counts exactly the items counted so far, even if value_at throws part way.
  struct CountOnExit {
    uint64_t& n;
    const size_t& done;
    ~CountOnExit() { n += done; }
  } count_on_exit{n_, i};
  // The table only moves when after_insert() grows or purges it: keep its base and mask in
  // registers and reload them after that.
  Key* keys = keys_.data();
  size_t mask = mask_;
  for (; i < size; ++i) {
    const uint64_t hash = h[i];
    size_t s = slot_of(hash);
    // One branch for "this item or an empty slot" (an empty slot is {0, 0}), taken almost always
    // at the table's low load; collisions walk on.
    while (!((keys[s].hash == hash) | (keys[s].count == 0))) s = (s + 1) & mask;
    if (keys[s].count != 0) {
      ++keys[s].count;
      continue;
    }
    // New item. Value first: if value_at or the arena throws, the table is unchanged.
    const std::string_view value(value_at(i));
    const uint64_t at = arena_.append(value.data(), value.size());
    keys[s] = Key{hash, 1};
    occupied_[active_] = static_cast<uint32_t>(s);
    refs_[active_] = ValueRef{at, value.size()};
    if (++active_ > insert_limit_) [[unlikely]] {
      after_insert();
      keys = keys_.data();
      mask = mask_;
    }
  }
}

}  // namespace truthound
