// Template bodies of truthound::FrequentItems (included by frequent_items.hpp).
#pragma once

#include <string_view>

namespace truthound {

inline void FrequentItems::insert_new(size_t slot, uint64_t hash, uint64_t count,
                                      std::string_view value) {
  // Append first: if it throws, the table is unchanged.
  const uint64_t at = arena_.append(value.data(), value.size());
  occupied_.push_back(static_cast<uint32_t>(slot));
  keys_[slot] = Key{hash, count};
  refs_[slot] = ValueRef{at, value.size()};
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
  // The table only moves when insert_new() grows or purges it: keep its base and mask in
  // registers and reload them after an insert.
  Key* keys = keys_.data();
  size_t mask = mask_;
  for (; i < size; ++i) {
    const uint64_t hash = h[i];
    size_t s = slot_of(hash);
    for (;;) {
      Key& k = keys[s];
      if (k.count == 0) {
        insert_new(s, hash, 1, std::string_view(value_at(i)));
        keys = keys_.data();
        mask = mask_;
        break;
      }
      if (k.hash == hash) {
        ++k.count;
        break;
      }
      s = (s + 1) & mask;
    }
  }
}

}  // namespace truthound
