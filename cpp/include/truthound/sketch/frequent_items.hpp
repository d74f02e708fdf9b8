// FrequentItems: top-k and bottom-k values of a column, keyed by the values' 64-bit hashes.
//
// The Misra-Gries / Space-Saving family, as in Apache DataSketches' frequent_items: a map from
// hash to counter holds at most `capacity` items. When a new item would make it hold more, the
// sketch purges: it subtracts the median of the counters from every counter, drops those that
// reach zero (at least half of them, so purges cost amortized O(1) per update) and adds what it
// subtracted to a running total, the offset. Hence, for every item:
//
//   counter  <=  true count  <=  counter + offset         (an untracked item: 0 <= true <= offset)
//   offset = maximum_error()  <=  2 * n() / capacity
//
// so an item whose true count exceeds maximum_error() is always tracked. Rows report
// lower_bound = counter, upper_bound = counter + offset and estimate = counter + offset / 2
// (the midpoint: off by at most offset / 2). While no purge has happened (at most `capacity`
// distinct items seen) the offset is 0 and every count is exact: is_exact().
//
// Reporting follows DataSketches' NO_FALSE_POSITIVES rule: top() lists only items whose lower
// bound exceeds maximum_error(), the guaranteed heavy hitters, ranked by lower bound. An item
// with a true count t > 2 * offset has a counter > offset, so it is always listed; since
// offset <= 2n / capacity, every item with t > 4n / capacity is listed (capacity 16,384: every
// item in more than 0.0245 % of the stream). An item that is not listed occurs at most
// 2 * offset times.
//
// Each tracked item keeps a representative value as bytes (the caller's canonical encoding: the
// 8 bytes of an int64, the UTF-8 of a string, possibly truncated by the caller). The caller
// supplies it only when the hash is new to the map, so the hot path for items already present
// does no allocation and no copy. Values live in one arena, not one heap block per item.
//
// Lazy values: on a high-cardinality column nearly every row is a new item and nearly all of
// them are dropped by the next purge, so the batch update() does not take a new item's value
// when it inserts it: it notes the row and asks for the bytes only for the items that outlive a
// purge (copied straight into the rebuilt arena) or that are still tracked when the call ends.
// Between calls every item owns its bytes; nothing refers to the caller's memory.
//
// Merge: the counters of the two sketches are added item by item and the offsets are added;
// if more than `capacity` items result, the smallest counter value that brings them down to
// `capacity` is subtracted from all (and added to the offset). The result depends only on the
// two inputs, not on which one is merged into which: a.merge(b) and b.merge(a) give the same
// rows. Merges are associative within the bounds above. An empty sketch adopts the other's
// capacity; otherwise the result keeps the smaller capacity of the two.
//
// Serialized layout (little-endian). Deserialize checks every field against the bytes and the
// invariants above and throws CorruptProfileError ("expected X, got Y"), never reads out of
// bounds:
//
//   offset  size        field
//   ------  ----------  --------------------------------------------------------------------
//   0       1           family id = 0x46 ('F')
//   1       1           format version = 3 (versions 1 and 2 still load, see below)
//   2       4           u32 capacity, 1..kMaxCapacity
//   6       1..10       varint n: total weight seen
//   .       1..10       varint offset (maximum_error); offset * capacity <= 2 * n
//   .       ...         the c <= capacity items' hashes, strictly increasing (canonical: same
//                       state, same bytes), as Rice-coded gaps (util/sorted_codec.hpp)
//   .       ...         c items, in the order of their hashes:
//                         1..10  varint counter, >= 1 (sum <= n, == n when offset is 0)
//                         1..10  varint value length L
//                         L      value bytes
//
// Version 2 wrote a varint c, then per item a u64 hash before its counter; version 1 wrote
// every varint as a u64.
// (varint: unsigned LEB128, minimal, see ByteWriter::varint.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "truthound/util/bytes.hpp"

namespace truthound {

class FrequentItems {
 public:
  static constexpr uint8_t kFamilyId = 0x46;  // 'F'
  static constexpr uint8_t kFormatVersion = 3;
  static constexpr uint8_t kFormatVersionU64 = 1;
  static constexpr uint32_t kDefaultCapacity = 16384;
  static constexpr uint32_t kMaxCapacity = 1u << 22;

  // Tables of at least this many slots are filled to 1/2, smaller ones to 1/8 (see
  // set_dense_slots).
  static constexpr size_t kDenseSlots = 65536;

  // capacity outside 1..kMaxCapacity -> InvalidArgumentError.
  explicit FrequentItems(uint32_t capacity = kDefaultCapacity);

  // From `slots` slots on (a power of two, 16..kDenseSlots), the table is filled to 1/2 instead
  // of 1/8: fewer bytes per item for more probes. A profile of many columns sets it lower so its
  // columns' tables stay small; it takes effect when the table next grows or is rebuilt. Not
  // part of the sketch's state (not serialized, not compared).
  void set_dense_slots(size_t slots);

  // The hot path: counts each hash once. value_at(i) returns the value bytes of row i (anything
  // convertible to std::string_view, including a std::string by value). It is called at most
  // once per row, only for a row whose hash was new to the map and only if that item is still
  // tracked at the next purge or at the end of the call, so it may be called after later rows
  // were counted: it must return row i's value whenever called during this update(). The bytes
  // need only stay valid until the next call of value_at (it may reuse one buffer).
  //
  // If value_at throws, the items whose value was not yet taken (first seen in this call since
  // its last purge or table growth) are dropped together with their counts, which n() then
  // leaves out; the rows of every other item are counted, and every item left owns its bytes.
  // The sketch stays valid: its bounds hold for the stream without those rows.
  template <class ValueAt>
  void update(std::span<const uint64_t> hashes, ValueAt&& value_at);
  // Counts `hash` with `weight` (0 is ignored). `value` is stored only if the hash is new.
  void update(uint64_t hash, std::string_view value, uint64_t weight = 1);
  void merge(const FrequentItems& other);

  // Sketch regime only (an exact sketch is left as it is): before a partial ships, drops the
  // counters at or below a threshold t and lowers the others by t (the offset grows by t), as a
  // purge does, choosing the smallest t that leaves at most `max_items` counters whose items
  // serialize to at most about `max_bytes`, or the largest t the bound allows. The bound's
  // invariant, offset * capacity / 2 <= n - (sum of counters) (every purge removed at least that
  // much weight), is kept, so offset <= 2n / capacity holds here and after any merge. Returns
  // the t applied (0: nothing dropped).
  uint64_t compact(size_t max_items, size_t max_bytes = SIZE_MAX);

  bool is_empty() const { return n_ == 0; }
  // Total weight seen.
  uint64_t n() const { return n_; }
  // No purge has happened: every count is exact and every distinct item is present.
  bool is_exact() const { return offset_ == 0; }
  // The offset: how far any counter may be below the true count.
  uint64_t maximum_error() const { return offset_; }
  uint32_t capacity() const { return capacity_; }
  // Number of items tracked.
  size_t num_items() const { return active_; }

  struct Row {
    uint64_t hash;
    std::string value;
    uint64_t estimate, lower_bound, upper_bound;
    bool operator==(const Row&) const = default;
  };
  // Orders two value byte strings (the caller's encoding) for ties between equal counts;
  // nullptr orders by bytes.
  using ValueLess = bool (*)(std::string_view, std::string_view);
  // The k most frequent guaranteed heavy hitters (lower bound > maximum_error(); every item
  // while exact), by lower bound descending, ties by value ascending (`less`, then hash), so
  // the order is deterministic.
  std::vector<Row> top(size_t k, ValueLess less = nullptr) const;
  // The k least frequent items, by count ascending, ties by value ascending. Only meaningful
  // when is_exact(); returns an empty vector otherwise.
  std::vector<Row> bottom(size_t k, ValueLess less = nullptr) const;

  void serialize(ByteWriter& out) const;
  std::vector<uint8_t> serialize() const;
  // Reads one sketch from the reader (which may hold more data after it).
  static FrequentItems deserialize(ByteReader& in);
  // Reads a buffer that holds exactly one sketch (trailing bytes are an error).
  static FrequentItems deserialize(const void* data, size_t size);

  std::string to_string() const;

 private:
  // A slot of the open-addressing table (linear probing). count == 0 marks an empty slot,
  // whose hash is then 0 too.
  struct Key {
    uint64_t hash;
    uint64_t count;
  };
  // Value bytes of all items, back to back; dropped values are reclaimed when a purge rebuilds.
  class Arena {
   public:
    // Spare bytes past used_ that put() may overwrite with its fixed-size copies.
    static constexpr size_t kSlack = 32;
    // Makes room for `size` bytes at used_ (plus the slack for put()).
    void reserve(size_t size) {
      if (size + kSlack > buf_.size() - used_) [[unlikely]]
        grow(size + kSlack);
    }
    // Copies the value to used_ without keeping it: commit() keeps it. Needs reserve(size).
    void put(const char* data, size_t size) {
      char* dst = buf_.data() + used_;
      if (size == 9) {
        // A tag byte and 8 value bytes (numbers), just written by the caller as two stores:
        // copy them as such, since a load spanning both stores would stall store forwarding.
        uint64_t b;
        std::memcpy(&b, data + 1, 8);
        dst[0] = data[0];
        std::memcpy(dst + 1, &b, 8);
      } else if (size >= 8 && size <= 16) {  // short values: two fixed-size copies
        uint64_t a, b;
        std::memcpy(&a, data, 8);
        std::memcpy(&b, data + size - 8, 8);
        std::memcpy(dst, &a, 8);
        std::memcpy(dst + size - 8, &b, 8);
      } else if (size > 16 && size <= 32) {
        char a[16], b[16];
        std::memcpy(a, data, 16);
        std::memcpy(b, data + size - 16, 16);
        std::memcpy(dst, a, 16);
        std::memcpy(dst + size - 16, b, 16);
      } else if (size != 0) {
        std::memcpy(dst, data, size);
      }
    }
    void commit(size_t size) { used_ += size; }
    uint64_t append(const char* data, size_t size) {
      reserve(size);
      put(data, size);
      const uint64_t at = used_;
      used_ += size;
      return at;
    }
    const char* data() const { return buf_.data(); }
    uint64_t size() const { return used_; }
    void clear() { used_ = 0; }
    void release() {
      std::vector<char>().swap(buf_);
      used_ = 0;
    }
    void swap(Arena& other) noexcept {
      buf_.swap(other.buf_);
      std::swap(used_, other.used_);
    }

   private:
    void grow(size_t size);
    std::vector<char> buf_;
    size_t used_ = 0;
  };
  // A size with this bit set marks a lazy value (see the top of the file): the other bits are
  // the row of the current update() call whose value_at gives the bytes. Real sizes are far
  // below it. Only update(span, value_at) creates lazy values and none outlive it.
  static constexpr uint64_t kLazy = uint64_t{1} << 63;
  // Where an item's value bytes are in the arena, or {0, kLazy | row}.
  struct ValueRef {
    uint64_t offset;
    uint64_t size;
  };
  // An item on its way into a rebuilt table; data points into some arena or buffer, or size is
  // kLazy | row.
  struct Entry {
    uint64_t hash;
    uint64_t count;
    const char* data;
    uint64_t size;
  };
  // The value_at of the current update() call, type-erased so that purges (compiled once, in
  // the .cpp) can take the values of lazy survivors. append() copies row's value into the
  // arena at once: value_at's bytes may not outlive its next call.
  struct LazyValues {
    void* value_at;
    ValueRef (*append)(void* value_at, uint64_t row, Arena& into);
  };

  // Rows ahead whose slot the batch update prefetches.
  static constexpr size_t kPrefetchDistance = 16;
  size_t slot_of(uint64_t hash) const {
    return static_cast<size_t>((hash * 0x9e3779b97f4a7c15ULL) >> shift_);
  }
  size_t find(uint64_t hash) const;  // slot index or SIZE_MAX
  // Puts a new item into the empty `slot` (inline: the all-distinct stream lives here), then
  // purges or grows the table when needed, which moves every slot.
  void insert_new(size_t slot, uint64_t hash, uint64_t count, std::string_view value);
  // `lazy` (null outside the batch update) gives the values of lazy items.
  void after_insert(const LazyValues* lazy = nullptr);
  void resize_table(size_t slots);
  void purge(const LazyValues* lazy);
  // Drops counters <= amount, subtracts it from the rest, adds it to the offset, then rebuilds
  // table and arena from the survivors plus `extra` (minus amount too).
  void subtract_and_rebuild(uint64_t amount, std::span<const Entry> extra, const LazyValues* lazy);
  // Makes the table `slots` slots large, holding exactly `entries`, each owning its bytes in a
  // fresh arena. All values are taken first (lazy ones from `lazy`), so if value_at throws, the
  // sketch is unchanged. Rewrites the entries' sizes.
  void rebuild(std::span<Entry> entries, size_t slots, const LazyValues* lazy);
  // After value_at threw: drops the lazy items and their counts from the table and n_.
  void drop_lazy();
  // Frees the buffers only purges and merges use (about 1 MiB at 16,384 counters), so a wide
  // table's columns do not each keep theirs between batches.
  void release_scratch();
  // Empties every slot (active_ = 0); leaves the arena alone.
  void clear_slots();
  std::vector<Entry> entries() const;
  Row row_of(const Entry& e) const;
  // top() (`most`: heavy hitters, counts descending) and bottom() (counts ascending): the k
  // entries are chosen among the cheap Entry views, and only they are copied into Rows.
  std::vector<Row> ranked(size_t k, bool most, ValueLess less) const;

  size_t load_limit(size_t slots) const;
  size_t slots_for(size_t items) const;

  uint32_t capacity_;
  size_t dense_slots_ = kDenseSlots;
  uint64_t n_ = 0;
  uint64_t offset_ = 0;
  size_t active_ = 0;
  // Every tracked counter is 1: a purge then drops them all without looking.
  bool ones_ = true;
  std::vector<Key> keys_;
  // Item j (0 <= j < active_, in insertion order) sits in slot occupied_[j] and its value in
  // refs_[j]. Both have one entry per slot, so the hot path writes them before it knows whether
  // the item is new. Purges and iteration walk these instead of every slot, which avoids a
  // hard-to-predict branch per slot.
  std::vector<uint32_t> occupied_;
  std::vector<ValueRef> refs_;
  int shift_ = 64;
  size_t mask_ = 0;
  // Insert beyond this many items calls after_insert(): min(capacity, the load limit).
  size_t insert_limit_ = 0;
  Arena arena_;
  // Scratch space reused across purges so the steady state does not allocate.
  Arena spare_arena_;
  std::vector<uint64_t> scratch_counts_;
  std::vector<uint64_t> scratch_offsets_;
  std::vector<Entry> scratch_entries_;
};

}  // namespace truthound

#include "truthound/sketch/frequent_items_impl.hpp"
