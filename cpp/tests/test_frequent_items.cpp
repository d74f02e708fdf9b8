// Specification of truthound::FrequentItems (cpp/include/truthound/sketch/frequent_items.hpp).
#include "truthound/sketch/frequent_items.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "truthound/util/error.hpp"
#include "truthound/util/hash.hpp"
#include "truthound/util/sorted_codec.hpp"

namespace truthound {
namespace {

std::string name_of(uint64_t id) {
  return "item-" + std::to_string(id);
}

// A stream of item ids with its exact counts, fed to sketches as (hash, value) pairs.
struct Stream {
  std::vector<uint64_t> ids;
  std::vector<uint64_t> hashes;
  std::vector<std::string> values;
  std::unordered_map<uint64_t, uint64_t> counts;  // hash -> true count

  explicit Stream(std::vector<uint64_t> item_ids) : ids(std::move(item_ids)) {
    hashes.reserve(ids.size());
    values.reserve(ids.size());
    for (uint64_t id : ids) {
      hashes.push_back(hash_int(static_cast<int64_t>(id)));
      values.push_back(name_of(id));
      ++counts[hashes.back()];
    }
  }
  size_t size() const { return ids.size(); }
  // Feeds [begin, end) in blocks through the span update.
  void feed(FrequentItems& fi, size_t begin = 0, size_t end = SIZE_MAX) const {
    end = std::min(end, ids.size());
    const size_t block = 4096;
    for (size_t b = begin; b < end; b += block) {
      const size_t len = std::min(block, end - b);
      fi.update(std::span<const uint64_t>(hashes).subspan(b, len),
                [&](size_t i) -> const std::string& { return values[b + i]; });
    }
  }
  // The true top k: (count desc, value asc).
  std::vector<uint64_t> true_top(size_t k) const {
    std::vector<std::pair<uint64_t, uint64_t>> v(counts.begin(), counts.end());
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second > b.second; });
    std::vector<uint64_t> out;
    for (size_t i = 0; i < std::min(k, v.size()); ++i) out.push_back(v[i].first);
    return out;
  }
};

Stream uniform_stream(size_t n, uint64_t distinct, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> ids(n);
  for (auto& id : ids) id = rng() % distinct;
  return Stream(std::move(ids));
}

// Zipf(s) over 1..universe by inverse CDF.
Stream zipf_stream(size_t n, uint64_t universe, double s, uint64_t seed) {
  std::vector<double> cdf(universe);
  double total = 0;
  for (uint64_t k = 0; k < universe; ++k) cdf[k] = total += 1.0 / std::pow(double(k + 1), s);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, total);
  std::vector<uint64_t> ids(n);
  for (auto& id : ids) {
    id = static_cast<uint64_t>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
    // Scatter the ranks so the most frequent items are not the smallest ids.
    id = mix64(id + seed * 1000003);
  }
  return Stream(std::move(ids));
}

FrequentItems sketch_of(const Stream& s, uint32_t capacity, size_t begin = 0,
                        size_t end = SIZE_MAX) {
  FrequentItems fi(capacity);
  s.feed(fi, begin, end);
  return fi;
}

// Every listed item is a guaranteed heavy hitter (lower bound above the maximum error) whose
// true count lies within its bounds; an item that is not listed occurs at most twice the
// maximum error, so every item above 4n / capacity is listed; the maximum error respects its
// documented bound.
void expect_within_bounds(const FrequentItems& fi,
                          const std::unordered_map<uint64_t, uint64_t>& truth) {
  uint64_t n = 0;
  for (auto& [h, c] : truth) n += c;
  ASSERT_EQ(fi.n(), n);
  EXPECT_LE(fi.maximum_error() * fi.capacity(), 2 * fi.n());
  EXPECT_LE(fi.num_items(), fi.capacity());
  std::unordered_map<uint64_t, FrequentItems::Row> rows;
  for (auto& r : fi.top(SIZE_MAX)) rows.emplace(r.hash, r);
  for (auto& [h, c] : truth) {
    auto it = rows.find(h);
    if (it == rows.end()) {
      EXPECT_LE(c, 2 * fi.maximum_error()) << "a heavy hitter is not listed";
      EXPECT_LE(c * fi.capacity(), 4 * fi.n()) << "a heavy hitter is not listed";
      continue;
    }
    const auto& r = it->second;
    EXPECT_GT(r.lower_bound, fi.maximum_error()) << "listed an item that is not guaranteed";
    EXPECT_LE(r.lower_bound, c);
    EXPECT_GE(r.upper_bound, c);
    EXPECT_EQ(r.upper_bound - r.lower_bound, fi.maximum_error());
    EXPECT_LE(r.lower_bound, r.estimate);
    EXPECT_LE(r.estimate, r.upper_bound);
  }
  for (auto& [h, r] : rows) EXPECT_TRUE(truth.count(h)) << "reported an item never seen";
}

std::set<uint64_t> hashes_of(const std::vector<FrequentItems::Row>& rows) {
  std::set<uint64_t> out;
  for (auto& r : rows) out.insert(r.hash);
  return out;
}

// ---- empty, one item ----

TEST(FrequentItems, EmptySketch) {
  FrequentItems fi;
  EXPECT_TRUE(fi.is_empty());
  EXPECT_TRUE(fi.is_exact());
  EXPECT_EQ(fi.n(), 0u);
  EXPECT_EQ(fi.maximum_error(), 0u);
  EXPECT_EQ(fi.capacity(), 16384u);
  EXPECT_TRUE(fi.top(10).empty());
  EXPECT_TRUE(fi.bottom(10).empty());
  fi.update(std::span<const uint64_t>(), [](size_t) { return std::string_view(); });
  EXPECT_TRUE(fi.is_empty());
  auto bytes = fi.serialize();
  EXPECT_EQ(bytes.size(), 9u);  // family, version, capacity, and three varints of 0
  EXPECT_TRUE(FrequentItems::deserialize(bytes.data(), bytes.size()).is_empty());
}

TEST(FrequentItems, RejectsCapacityOutsideRange) {
  EXPECT_THROW(FrequentItems(0), InvalidArgumentError);
  EXPECT_THROW(FrequentItems(FrequentItems::kMaxCapacity + 1), InvalidArgumentError);
  EXPECT_NO_THROW(FrequentItems(1));
}

TEST(FrequentItems, OneItem) {
  FrequentItems fi;
  fi.update(0, "zero-hash", 3);  // the hash 0 is an ordinary key
  fi.update(0, "ignored: not new", 2);
  fi.update(7, "never counted", 0);
  EXPECT_EQ(fi.n(), 5u);
  auto top = fi.top(5);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0], (FrequentItems::Row{0, "zero-hash", 5, 5, 5}));
}

// ---- exact mode ----

TEST(FrequentItems, ExactModeEqualsAnExactCount) {
  const Stream s = uniform_stream(200000, 1000, 1);
  FrequentItems fi(1024);
  s.feed(fi, 0, 100000);
  for (size_t i = 100000; i < s.size(); ++i) fi.update(s.hashes[i], s.values[i]);
  EXPECT_TRUE(fi.is_exact());
  EXPECT_EQ(fi.n(), s.size());
  EXPECT_EQ(fi.num_items(), s.counts.size());
  const auto rows = fi.top(SIZE_MAX);
  ASSERT_EQ(rows.size(), s.counts.size());
  for (const auto& r : rows) {
    EXPECT_EQ(r.estimate, s.counts.at(r.hash));
    EXPECT_EQ(r.lower_bound, r.estimate);
    EXPECT_EQ(r.upper_bound, r.estimate);
    EXPECT_EQ(hash_int(std::stoll(r.value.substr(5))), r.hash) << "value belongs to its hash";
  }
  EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end(), [](auto& a, auto& b) {
    return a.estimate > b.estimate || (a.estimate == b.estimate && a.value < b.value);
  }));
  const auto bottom = fi.bottom(SIZE_MAX);
  ASSERT_EQ(bottom.size(), rows.size());
  EXPECT_TRUE(std::is_sorted(bottom.begin(), bottom.end(), [](auto& a, auto& b) {
    return a.estimate < b.estimate || (a.estimate == b.estimate && a.value < b.value);
  }));
  EXPECT_EQ(fi.bottom(1)[0].estimate, bottom[0].estimate);
  EXPECT_EQ(fi.top(3).size(), 3u);
}

TEST(FrequentItems, ValueAtIsCalledOnlyForItemsNewToTheSketch) {
  const Stream s = uniform_stream(50000, 300, 2);
  FrequentItems fi(1024);
  size_t calls = 0;
  fi.update(s.hashes, [&](size_t i) {
    ++calls;
    return std::string_view(s.values[i]);
  });
  EXPECT_EQ(calls, s.counts.size());
}

TEST(FrequentItems, TiesAreBrokenByValueBytes) {
  FrequentItems fi;
  fi.update(hash_string("b"), "b", 2);
  fi.update(hash_string("a"), "a", 2);
  fi.update(hash_string("\xff"), "\xff", 2);  // bytes compare unsigned
  fi.update(hash_string("c"), "c", 1);
  fi.update(hash_string("z"), "z", 3);
  std::vector<std::string> top, bottom;
  for (auto& r : fi.top(10)) top.push_back(r.value);
  for (auto& r : fi.bottom(10)) bottom.push_back(r.value);
  EXPECT_EQ(top, (std::vector<std::string>{"z", "a", "b", "\xff", "c"}));
  EXPECT_EQ(bottom, (std::vector<std::string>{"c", "a", "b", "\xff", "z"}));
}

TEST(FrequentItems, LongValuesAreKeptWhole) {
  const std::string long_value(100000, 'x');
  FrequentItems fi(4);
  fi.update(1, long_value, 1000);
  for (uint64_t h = 2; h < 100; ++h) fi.update(h, std::string(h, 'y'));  // purges, compacts
  fi.update(1, "not new: ignored", 1000);
  EXPECT_TRUE(fi.top(1)[0].value == long_value);
  auto bytes = fi.serialize();
  EXPECT_TRUE(FrequentItems::deserialize(bytes.data(), bytes.size()).top(1)[0].value == long_value);
}

TEST(FrequentItems, ThrowingValueAtLeavesAConsistentSketch) {
  // The values of new items are taken at the end of the call (or at a purge or growth): the
  // items whose value was not yet taken go, with their rows; the rest stay, owning their bytes.
  FrequentItems fi;
  for (uint64_t h = 100; h < 108; ++h) fi.update(h, "w");  // grown: no growth below
  const std::vector<uint64_t> hashes = {1, 1, 2, 1, 3, 4};
  EXPECT_THROW(fi.update(hashes,
                         [](size_t i) -> std::string_view {
                           if (i == 4) throw std::runtime_error("no value");
                           return "v";
                         }),
               std::runtime_error);
  EXPECT_EQ(fi.n(), 8u + 4u);  // items 1 and 2 and their rows stay; 3 and 4 go
  EXPECT_EQ(fi.num_items(), 8u + 2u);
  EXPECT_TRUE(fi.is_exact());
  for (const auto& r : fi.top(SIZE_MAX)) {
    EXPECT_EQ(r.value, r.hash >= 100 ? "w" : "v");
    EXPECT_EQ(r.estimate, r.hash == 1 ? 3u : 1u);
  }
  auto bytes = fi.serialize();
  EXPECT_NO_THROW(FrequentItems::deserialize(bytes.data(), bytes.size()));

  // A throw while the table grows: it is left as before the growth, minus the new items.
  FrequentItems small;
  EXPECT_THROW(small.update(hashes,
                            [](size_t i) -> std::string_view {
                              if (i == 4) throw std::runtime_error("no value");
                              return "v";
                            }),
               std::runtime_error);
  EXPECT_TRUE(small.is_exact());
  uint64_t sum = 0;
  for (const auto& r : small.top(SIZE_MAX)) sum += r.estimate;
  EXPECT_EQ(small.n(), sum);
  bytes = small.serialize();
  EXPECT_NO_THROW(FrequentItems::deserialize(bytes.data(), bytes.size()));
  small.update(hashes, [](size_t) { return std::string_view("v"); });
  EXPECT_EQ(small.n(), sum + hashes.size());
}

// ---- approximate mode ----

TEST(FrequentItems, BecomesApproximateBeyondCapacity) {
  FrequentItems fi(4);
  for (uint64_t h = 1; h <= 4; ++h) fi.update(h, "v", h);
  EXPECT_TRUE(fi.is_exact());
  fi.update(5, "v");
  EXPECT_FALSE(fi.is_exact());
  EXPECT_GT(fi.maximum_error(), 0u);
  EXPECT_LE(fi.num_items(), 4u);
  EXPECT_TRUE(fi.bottom(3).empty());
}

TEST(FrequentItems, ZipfCountsLieWithinBoundsAndTheTopTenIsFound) {
  for (uint64_t seed : {1u, 2u, 3u, 4u}) {
    for (double skew : {0.8, 1.1}) {
      const Stream s = zipf_stream(400000, 100000, skew, seed);
      const FrequentItems fi = sketch_of(s, 1024);
      SCOPED_TRACE("seed " + std::to_string(seed) + " skew " + std::to_string(skew));
      EXPECT_FALSE(fi.is_exact());
      expect_within_bounds(fi, s.counts);
      const auto truth = s.true_top(10);
      const auto reported = hashes_of(fi.top(10));
      for (uint64_t h : truth) EXPECT_TRUE(reported.count(h)) << "true top-10 item missing";
    }
  }
}

TEST(FrequentItems, AllDistinctStreamKeepsItsErrorBound) {
  std::vector<uint64_t> ids(200000);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = i;
  const Stream s(std::move(ids));
  const FrequentItems fi = sketch_of(s, 64);
  expect_within_bounds(fi, s.counts);
  EXPECT_GT(fi.maximum_error(), 0u);
}

TEST(FrequentItems, HeavyItemsSurviveAnAllDistinctBackground) {
  std::vector<uint64_t> ids;
  for (uint64_t i = 0; i < 300000; ++i) ids.push_back(i % 10 == 0 ? i % 3 : 1000 + i);
  const Stream s(std::move(ids));
  const FrequentItems fi = sketch_of(s, 128);
  expect_within_bounds(fi, s.counts);
  EXPECT_EQ(hashes_of(fi.top(3)), (std::set<uint64_t>{hash_int(0), hash_int(1), hash_int(2)}));
}

// ---- merge ----

TEST(FrequentItems, MergeOfExactPartsStaysExactAndEqualsTheWhole) {
  const Stream s = uniform_stream(100000, 900, 5);
  FrequentItems m = sketch_of(s, 1024, 0, 30000);
  m.merge(sketch_of(s, 1024, 30000));
  EXPECT_TRUE(m.is_exact());
  EXPECT_EQ(m.serialize(), sketch_of(s, 1024).serialize());
}

// The table's load is a memory/speed choice, not part of the sketch: any dense_slots gives the
// same sketch, exact or approximate, fed directly or merged.
TEST(FrequentItems, DenseSlotsChangeNoResult) {
  for (uint64_t seed : {7u, 8u}) {
    const Stream exact = uniform_stream(50000, 3000, seed);
    const Stream zipf = zipf_stream(200000, 50000, 1.0, seed);
    for (const Stream* s : {&exact, &zipf}) {
      const FrequentItems reference = sketch_of(*s, 4096);
      for (size_t slots : {size_t{16}, size_t{1024}, FrequentItems::kDenseSlots}) {
        FrequentItems a(4096), b(4096);
        a.set_dense_slots(slots);
        b.set_dense_slots(slots);
        s->feed(a, 0, 70000);
        s->feed(b, 70000, SIZE_MAX);
        a.merge(b);
        FrequentItems whole(4096);
        whole.set_dense_slots(slots);
        s->feed(whole, 0, SIZE_MAX);
        EXPECT_EQ(whole.serialize(), reference.serialize()) << slots;
        FrequentItems ref_merged = sketch_of(*s, 4096, 0, 70000);
        ref_merged.merge(sketch_of(*s, 4096, 70000));
        EXPECT_EQ(a.serialize(), ref_merged.serialize()) << slots;
      }
    }
  }
}

TEST(FrequentItems, RejectsDenseSlotsOutsideRange) {
  FrequentItems fi(64);
  for (size_t bad : {size_t{0}, size_t{8}, size_t{1000}, FrequentItems::kDenseSlots * 2}) {
    EXPECT_THROW(fi.set_dense_slots(bad), InvalidArgumentError) << bad;
  }
  EXPECT_NO_THROW(fi.set_dense_slots(16));
}

TEST(FrequentItems, MergeIsCommutative) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    const Stream s = zipf_stream(200000, 50000, 1.0, seed);
    for (size_t cut : {size_t{20000}, size_t{100000}}) {
      const FrequentItems a = sketch_of(s, 256, 0, cut);
      const FrequentItems b = sketch_of(s, 256, cut);
      FrequentItems ab = a, ba = b;
      ab.merge(b);
      ba.merge(a);
      EXPECT_EQ(ab.top(SIZE_MAX), ba.top(SIZE_MAX));
      EXPECT_EQ(ab.serialize(), ba.serialize());
      expect_within_bounds(ab, s.counts);
    }
  }
}

TEST(FrequentItems, MergeIsAssociativeWithinBounds) {
  for (uint64_t seed : {7u, 8u}) {
    const Stream s = zipf_stream(300000, 50000, 1.1, seed);
    const FrequentItems a = sketch_of(s, 256, 0, 100000);
    const FrequentItems b = sketch_of(s, 256, 100000, 150000);
    const FrequentItems c = sketch_of(s, 256, 150000);
    FrequentItems left = a;
    left.merge(b);
    left.merge(c);
    FrequentItems bc = b;
    bc.merge(c);
    FrequentItems right = a;
    right.merge(bc);
    expect_within_bounds(left, s.counts);
    expect_within_bounds(right, s.counts);
    const auto truth = s.true_top(10);
    EXPECT_EQ(hashes_of(left.top(10)), std::set<uint64_t>(truth.begin(), truth.end()));
    EXPECT_EQ(hashes_of(right.top(10)), std::set<uint64_t>(truth.begin(), truth.end()));
  }
}

TEST(FrequentItems, MergeOfManyPartitionsKeepsTheBounds) {
  const Stream s = zipf_stream(400000, 100000, 1.05, 11);
  FrequentItems total(256);
  for (size_t p = 0; p < 16; ++p) total.merge(sketch_of(s, 256, p * 25000, (p + 1) * 25000));
  expect_within_bounds(total, s.counts);
  const auto truth = s.true_top(10);
  EXPECT_EQ(hashes_of(total.top(10)), std::set<uint64_t>(truth.begin(), truth.end()));
}

// compact() before shipping: exact sketches are untouched; compacted parts of Zipf and
// near-distinct streams, merged, keep every bound (offset <= 2n/C, heavy hitters above 4n/C
// listed, intervals hold the true counts), over many seeds and 200 parts.
TEST(FrequentItems, CompactLeavesExactSketchesAlone) {
  const Stream s = uniform_stream(20000, 500, 4);
  FrequentItems fi = sketch_of(s, 1024);
  const auto before = fi.serialize();
  EXPECT_EQ(fi.compact(16), 0u);
  EXPECT_EQ(fi.serialize(), before);
}

TEST(FrequentItems, CompactedPartsMergeWithinBounds) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    const Stream zipf = zipf_stream(400000, 200000, 1.05, seed);
    const Stream flat = uniform_stream(400000, 150000, seed);
    for (const Stream* s : {&zipf, &flat}) {
      FrequentItems total(1024), plain(1024);
      size_t shipped_items = 0, unshipped_items = 0;
      const size_t parts = 200, step = 2000;
      for (size_t p = 0; p < parts; ++p) {
        FrequentItems part = sketch_of(*s, 1024, p * step, (p + 1) * step);
        plain.merge(part);
        unshipped_items += part.num_items();
        part.compact(64);
        EXPECT_LE(part.maximum_error() * part.capacity(), 2 * part.n());
        expect_within_bounds(part, Stream(std::vector<uint64_t>(s->ids.begin() + p * step,
                                                                s->ids.begin() + (p + 1) * step))
                                       .counts);
        shipped_items += part.num_items();
        total.merge(part);
      }
      expect_within_bounds(total, s->counts);
      EXPECT_LT(shipped_items, unshipped_items);
      // the heaviest items are listed by both
      const auto truth = s->true_top(3);
      if (s == &zipf) {
        EXPECT_EQ(hashes_of(total.top(3)), std::set<uint64_t>(truth.begin(), truth.end()));
      }
    }
  }
}

// A byte budget: long values (40 bytes) of a near-distinct stream compact to about the budget,
// within the bounds.
TEST(FrequentItems, CompactKeepsItemsWithinAByteBudgetWhereTheBoundAllows) {
  const Stream s = uniform_stream(400000, 150000, 8);
  FrequentItems fi(1024);
  for (size_t i = 0; i < s.size(); ++i) {
    fi.update(s.hashes[i], std::string(40, static_cast<char>('a' + s.ids[i] % 26)));
  }
  ASSERT_FALSE(fi.is_exact());
  FrequentItems by_count = fi;
  by_count.compact(512);
  fi.compact(512, 4096);
  EXPECT_LT(fi.num_items(), by_count.num_items());
  EXPECT_LE(fi.num_items() * (40 + 12), 4096u);
  EXPECT_LT(fi.serialize().size(), 4096u + 64);
  EXPECT_LE(fi.maximum_error() * fi.capacity(), 2 * fi.n());
  expect_within_bounds(fi, s.counts);
}

TEST(FrequentItems, MergeWithEmptyIsIdentity) {
  const Stream s = zipf_stream(50000, 10000, 1.0, 3);
  for (uint32_t cap : {64u, 4096u}) {
    const FrequentItems x = sketch_of(s, cap);
    FrequentItems e;
    e.merge(x);
    FrequentItems x2 = x;
    x2.merge(FrequentItems(8));
    EXPECT_EQ(e.serialize(), x.serialize());
    EXPECT_EQ(x2.serialize(), x.serialize());
  }
}

TEST(FrequentItems, MergeWithItselfDoublesEveryCount) {
  const Stream s = uniform_stream(10000, 100, 4);
  FrequentItems fi = sketch_of(s, 1024);
  fi.merge(fi);
  EXPECT_EQ(fi.n(), 20000u);
  for (auto& r : fi.top(SIZE_MAX)) EXPECT_EQ(r.estimate, 2 * s.counts.at(r.hash));
}

TEST(FrequentItems, MergeKeepsTheSmallerCapacity) {
  const Stream s = uniform_stream(10000, 100, 4);
  FrequentItems big = sketch_of(s, 1024, 0, 5000);
  FrequentItems small = sketch_of(s, 16, 5000);
  FrequentItems bs = big, sb = small;
  bs.merge(small);
  sb.merge(big);
  EXPECT_EQ(bs.capacity(), 16u);
  EXPECT_EQ(bs.serialize(), sb.serialize());
  expect_within_bounds(bs, s.counts);
}

// ---- serialize / deserialize ----

TEST(FrequentItems, SerializeRoundTrip) {
  const Stream s = zipf_stream(100000, 20000, 1.1, 9);
  for (uint32_t cap : {32u, 1024u, 100000u}) {
    FrequentItems fi = sketch_of(s, cap, 0, 50000);
    const auto bytes = fi.serialize();
    EXPECT_EQ(bytes[0], FrequentItems::kFamilyId);
    EXPECT_EQ(bytes[1], FrequentItems::kFormatVersion);
    FrequentItems back = FrequentItems::deserialize(bytes.data(), bytes.size());
    EXPECT_EQ(back.serialize(), bytes);
    EXPECT_EQ(back.top(SIZE_MAX), fi.top(SIZE_MAX));
    EXPECT_EQ(back.n(), fi.n());
    EXPECT_EQ(back.maximum_error(), fi.maximum_error());
    // The restored sketch keeps working like the original.
    s.feed(fi, 50000);
    s.feed(back, 50000);
    EXPECT_EQ(back.serialize(), fi.serialize());
  }
}

TEST(FrequentItems, ReadsOneSketchFromALongerStream) {
  ByteWriter w;
  sketch_of(uniform_stream(100, 10, 1), 16).serialize(w);
  sketch_of(uniform_stream(100, 50, 2), 16).serialize(w);
  w.u8(0xab);
  const auto& buf = w.buffer();
  ByteReader r(buf.data(), buf.size(), "test");
  EXPECT_TRUE(FrequentItems::deserialize(r).is_exact());
  EXPECT_FALSE(FrequentItems::deserialize(r).is_exact());
  EXPECT_EQ(r.u8(), 0xab);
}

TEST(FrequentItems, TruncatedBytesAreRejected) {
  for (const auto& bytes : {sketch_of(uniform_stream(0, 1, 1), 8).serialize(),
                            sketch_of(uniform_stream(1000, 50, 1), 64).serialize(),
                            sketch_of(zipf_stream(20000, 5000, 1.0, 1), 32).serialize()}) {
    for (size_t len = 0; len < bytes.size(); ++len) {
      EXPECT_THROW(FrequentItems::deserialize(bytes.data(), len), CorruptProfileError) << len;
    }
  }
}

TEST(FrequentItems, TrailingBytesAreRejected) {
  auto bytes = sketch_of(uniform_stream(100, 10, 1), 16).serialize();
  bytes.push_back(0);
  EXPECT_THROW(FrequentItems::deserialize(bytes.data(), bytes.size()), CorruptProfileError);
}

// Version 3 bytes, field by field (to forge what the writer never writes).
std::vector<uint8_t> fi_bytes(uint32_t capacity, uint64_t n, uint64_t offset,
                              const std::vector<uint64_t>& hashes,
                              const std::vector<std::pair<uint64_t, std::string>>& items,
                              uint8_t family = FrequentItems::kFamilyId,
                              uint8_t version = FrequentItems::kFormatVersion) {
  ByteWriter w;
  w.u8(family);
  w.u8(version);
  w.u32(capacity);
  w.varint(n);
  w.varint(offset);
  write_sorted_u64(w, hashes);
  for (const auto& [count, value] : items) {
    w.varint(count);
    w.varstr(value);
  }
  return w.take();
}

TEST(FrequentItems, InvalidFieldsAreRejected) {
  // Exact: 3 items "a" x2, "b" x1, "c" x1 (n = 4).
  FrequentItems fi(8);
  fi.update(10, "a", 2);
  fi.update(20, "b");
  fi.update(30, "c");
  const std::vector<uint64_t> hashes = {10, 20, 30};
  const std::vector<std::pair<uint64_t, std::string>> items = {{2, "a"}, {1, "b"}, {1, "c"}};
  const auto good = fi.serialize();
  ASSERT_EQ(fi_bytes(8, 4, 0, hashes, items), good);
  ASSERT_NO_THROW(FrequentItems::deserialize(good.data(), good.size()));
  auto reject = [&](const std::vector<uint8_t>& b, const char* what) {
    EXPECT_THROW(FrequentItems::deserialize(b.data(), b.size()), CorruptProfileError) << what;
  };
  reject(fi_bytes(8, 4, 0, hashes, items, 0x48), "family");
  reject(fi_bytes(8, 4, 0, hashes, items, FrequentItems::kFamilyId, 9), "version");
  reject(fi_bytes(0, 4, 0, hashes, items), "capacity 0");
  reject(fi_bytes(FrequentItems::kMaxCapacity + 1, 4, 0, hashes, items), "capacity too large");
  reject(fi_bytes(2, 4, 0, hashes, items), "more items than capacity");
  reject(fi_bytes(8, 5, 0, hashes, items), "exact counters do not sum to n");
  reject(fi_bytes(8, 3, 0, hashes, items), "counters exceed n");
  reject(fi_bytes(8, 4, 1, hashes, items), "offset with nothing removed");
  reject(fi_bytes(8, 4, 0, {10, 20, 30, 40}, items), "more hashes than items in the bytes");
  reject(fi_bytes(8, 4, 0, {10, 10, 30}, items), "repeated hash");
  reject(fi_bytes(8, 4, 0, hashes, {{2, "a"}, {0, "b"}, {2, "c"}}), "zero counter");
  reject(std::vector<uint8_t>(good.begin(), good.end() - 1), "value length beyond the bytes");
  auto long_value = good;
  long_value[long_value.size() - 2] = 0x81;  // the last length runs into the value
  reject(long_value, "value length varint running into the value");
}

// Version 2 (partial profiles of format version 4) wrote the item count and each item's hash
// as a u64 beside it: it still loads, into the same sketch.
TEST(FrequentItems, ReadsFormatVersion2) {
  FrequentItems fi(8);
  fi.update(10, "a", 2);
  fi.update(20, "b");
  fi.update(30, "c");
  ByteWriter v2;
  v2.u8(FrequentItems::kFamilyId);
  v2.u8(2);
  v2.u32(8);
  v2.varint(4);  // n
  v2.varint(0);  // offset
  v2.varint(3);  // items
  for (auto [hash, count, value] : {std::tuple{10, 2, "a"}, {20, 1, "b"}, {30, 1, "c"}}) {
    v2.u64(static_cast<uint64_t>(hash));
    v2.varint(static_cast<uint64_t>(count));
    v2.varstr(value);
  }
  const auto& bytes = v2.buffer();
  const FrequentItems back = FrequentItems::deserialize(bytes.data(), bytes.size());
  EXPECT_EQ(back.serialize(), fi.serialize());
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_THROW(FrequentItems::deserialize(bytes.data(), len), CorruptProfileError) << len;
  }
  auto unsorted = bytes;  // hashes 10 and 20 swapped: not strictly increasing
  std::swap(unsorted[9], unsorted[20]);
  EXPECT_THROW(FrequentItems::deserialize(unsorted.data(), unsorted.size()), CorruptProfileError);
}

// Version 1 (partial profiles of format version 3 and before) wrote u64 where version 2 writes
// varints: it still loads, into the same sketch.
TEST(FrequentItems, ReadsFormatVersion1) {
  FrequentItems fi(8);
  fi.update(10, "a", 2);
  fi.update(20, "b");
  fi.update(30, "c");
  ByteWriter v1;
  v1.u8(FrequentItems::kFamilyId);
  v1.u8(1);
  v1.u32(8);
  v1.u64(4);  // n
  v1.u64(0);  // offset
  v1.u64(3);  // items
  for (auto [hash, count, value] : {std::tuple{10, 2, "a"}, {20, 1, "b"}, {30, 1, "c"}}) {
    v1.u64(static_cast<uint64_t>(hash));
    v1.u64(static_cast<uint64_t>(count));
    v1.str(value);
  }
  const auto& bytes = v1.buffer();
  const FrequentItems back = FrequentItems::deserialize(bytes.data(), bytes.size());
  EXPECT_EQ(back.serialize(), fi.serialize());
  EXPECT_EQ(back.top(3), fi.top(3));
  // Truncated version-1 bytes are rejected at every length.
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_THROW(FrequentItems::deserialize(bytes.data(), len), CorruptProfileError) << len;
  }
}

TEST(ByteReader, VarintsRoundTripAndRejectNonCanonicalBytes) {
  ByteWriter w;
  const std::vector<uint64_t> values = {
      0, 1, 127, 128, 16383, 16384, uint64_t{1} << 35, UINT64_MAX - 1, UINT64_MAX};
  for (uint64_t v : values) w.varint(v);
  ByteReader r(w.buffer().data(), w.size(), "test");
  for (uint64_t v : values) EXPECT_EQ(r.varint(), v);
  r.expect_end();
  EXPECT_EQ(ByteWriter().size(), 0u);
  auto rejects = [](std::vector<uint8_t> b, const char* what) {
    ByteReader in(b.data(), b.size(), "test");
    EXPECT_THROW(in.varint(), CorruptProfileError) << what;
  };
  rejects({}, "empty");
  rejects({0x80}, "unterminated");
  rejects({0x80, 0x00}, "redundant trailing zero");
  rejects({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, "beyond 64 bits");
  rejects({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00}, "11 bytes");
}

TEST(FrequentItems, RandomCorruptionsAreRejectedOrYieldAValidSketch) {
  std::mt19937_64 rng(99);
  const std::vector<std::vector<uint8_t>> originals = {
      sketch_of(uniform_stream(1000, 20, 1), 64).serialize(),
      sketch_of(zipf_stream(20000, 5000, 1.0, 2), 16).serialize()};
  int rejected = 0, accepted = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<uint8_t> b = originals[trial % originals.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      const size_t at = (rng() % 2) ? rng() % std::min<size_t>(b.size(), 40) : rng() % b.size();
      b[at] = (rng() % 2) ? static_cast<uint8_t>(rng()) : b[at] ^ (1u << (rng() % 8));
    }
    if (rng() % 8 == 0) b.resize(rng() % (b.size() + 1));
    try {
      FrequentItems fi = FrequentItems::deserialize(b.data(), b.size());
      ++accepted;
      EXPECT_EQ(fi.serialize(), b);  // canonical form
      EXPECT_LE(fi.num_items(), fi.capacity());
      for (const auto& r : fi.top(SIZE_MAX)) EXPECT_LE(r.lower_bound, r.upper_bound);
      EXPECT_FALSE(fi.to_string().empty());
      // Still usable: update, purge and merge work on it.
      for (uint64_t h = 0; h < 100; ++h) fi.update(mix64(h), "x");
      fi.merge(FrequentItems::deserialize(originals[0].data(), originals[0].size()));
    } catch (const CorruptProfileError&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_GT(accepted, 0);
}

// ---- golden outputs ----

// FNV-1a 64 of a byte string.
uint64_t fnv64(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ULL;
  return h;
}

// Value bytes of lengths 0..70, so every copy path of the arena is taken.
std::string golden_value(uint64_t id) {
  std::string v(mix64(id ^ 0x5bd1e995) % 71, '\0');
  uint64_t x = id;
  for (size_t k = 0; k < v.size(); ++k) {
    x = mix64(x + k);
    v[k] = static_cast<char>('a' + x % 26);
  }
  return v;
}

// Feeds ids through the span update in blocks of varying sizes (cycling over `blocks`). With
// `reuse`, value_at returns a view into one buffer that the next call overwrites, as the numeric
// columns do.
void feed_golden(FrequentItems& fi, const std::vector<uint64_t>& ids,
                 std::initializer_list<size_t> blocks, bool reuse) {
  std::vector<uint64_t> hashes;
  std::vector<std::string> values;
  for (uint64_t id : ids) {
    hashes.push_back(hash_int(static_cast<int64_t>(id)));
    values.push_back(golden_value(id));
  }
  std::string buf;
  auto block = blocks.begin();
  for (size_t b = 0; b < ids.size();) {
    const size_t len = std::min(*block, ids.size() - b);
    if (++block == blocks.end()) block = blocks.begin();
    fi.update(std::span<const uint64_t>(hashes).subspan(b, len), [&](size_t i) {
      if (!reuse) return std::string_view(values[b + i]);
      buf = values[b + i];
      return std::string_view(buf);
    });
    b += len;
  }
}

std::vector<uint64_t> random_ids(size_t n, uint64_t distinct, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> ids(n);
  for (auto& id : ids) id = rng() % distinct;
  return ids;
}

// The serialized bytes of sketches fed deterministic streams, checked against FNV-1a hashes:
// any change to which items survive, their counters or their value bytes changes these. (The
// states are those the implementation produced before values were captured lazily; format
// version 2 changed only their encoding, checked by writing them as version 1 once, and top()
// listing only guaranteed heavy hitters changed "merge-top"; purging a table of all-1 counters
// at the end of a call, past the exact regime, changed "distinct" and the merges of it.)
TEST(FrequentItems, GoldenSerializedBytes) {
  std::vector<std::pair<std::string, uint64_t>> got;
  auto record = [&](const std::string& name, const FrequentItems& fi) {
    got.emplace_back(name, fnv64(fi.serialize()));
  };
  // High cardinality: almost every row is a new item, purges every few hundred rows.
  const auto distinct = random_ids(300000, UINT64_MAX, 1);
  {
    FrequentItems fi(1024);
    feed_golden(fi, distinct, {2048}, true);
    record("distinct", fi);
  }
  // Skewed streams: many survivors per purge.
  std::vector<uint64_t> zipf_a, zipf_b;
  for (auto [out, skew, seed] :
       {std::tuple{&zipf_a, 1.1, uint64_t{2}}, std::tuple{&zipf_b, 0.8, uint64_t{3}}}) {
    const Stream s = zipf_stream(300000, 200000, skew, seed);
    *out = s.ids;
  }
  {
    FrequentItems fi(1024);
    feed_golden(fi, zipf_a, {2048}, false);
    record("zipf-1.1", fi);
  }
  {
    FrequentItems fi(64);
    feed_golden(fi, zipf_b, {1, 777, 5000, 64, 2048, 3}, true);
    record("zipf-0.8-cap64", fi);
  }
  // Mixed: heavy items in a distinct background, span and single-item updates interleaved.
  std::vector<uint64_t> mixed;
  {
    std::mt19937_64 rng(4);
    for (size_t i = 0; i < 200000; ++i) mixed.push_back(rng() % 10 == 0 ? rng() % 7 : rng());
  }
  {
    FrequentItems fi(128);
    for (size_t b = 0; b < mixed.size(); b += 10000) {
      const size_t end = std::min(mixed.size(), b + 10000);
      feed_golden(fi, std::vector<uint64_t>(mixed.begin() + b, mixed.begin() + end), {500, 2048, 1},
                  (b / 10000) % 2 == 0);
      for (uint64_t k = 0; k < 20; ++k) {
        const uint64_t id = mixed[b + k] + k % 3;
        fi.update(hash_int(static_cast<int64_t>(id)), golden_value(id), 1 + k % 4);
      }
    }
    record("mixed-cap128", fi);
  }
  // Exact: fewer distinct items than the capacity; also the bottom rows.
  {
    FrequentItems fi(1024);
    feed_golden(fi, random_ids(50000, 900, 5), {2048, 100}, true);
    record("exact", fi);
    std::vector<uint8_t> rows;
    for (const auto& r : fi.bottom(SIZE_MAX)) {
      rows.insert(rows.end(), r.value.begin(), r.value.end());
      rows.push_back(static_cast<uint8_t>(r.estimate));
    }
    got.emplace_back("exact-bottom", fnv64(rows));
  }
  // Merges of sketches that went through purges.
  {
    FrequentItems a(1024), b(256), c(1024);
    feed_golden(a, std::vector<uint64_t>(zipf_a.begin(), zipf_a.begin() + 150000), {2048}, true);
    feed_golden(b, std::vector<uint64_t>(zipf_a.begin() + 150000, zipf_a.end()), {2048}, false);
    feed_golden(c, std::vector<uint64_t>(distinct.begin(), distinct.begin() + 50000), {4096},
                false);
    a.merge(c);
    record("merge-ac", a);
    a.merge(b);
    record("merge-acb", a);
    std::vector<uint8_t> rows;
    for (const auto& r : a.top(50)) {
      rows.insert(rows.end(), r.value.begin(), r.value.end());
      for (uint64_t x : {r.hash, r.estimate, r.lower_bound, r.upper_bound})
        for (int k = 0; k < 8; ++k) rows.push_back(static_cast<uint8_t>(x >> (8 * k)));
    }
    got.emplace_back("merge-top", fnv64(rows));
  }
  const std::vector<std::pair<std::string, uint64_t>> expected = {
      {"distinct", 0xd5d9435e4073b818ULL},       {"zipf-1.1", 0x938e5f660036ce19ULL},
      {"zipf-0.8-cap64", 0xb4e386c8e8d72aa5ULL}, {"mixed-cap128", 0x013442a6d108be45ULL},
      {"exact", 0xe1870697a5fa026bULL},          {"exact-bottom", 0x12bd6604768655d5ULL},
      {"merge-ac", 0x4c55c068d8b1100cULL},       {"merge-acb", 0x77ba47597f47c0c3ULL},
      {"merge-top", 0x9696cd71355c8102ULL},
  };
  EXPECT_EQ(got, expected);
}

// ---- lazy values: the sketch never keeps the caller's memory ----

// One batch of ids with its values packed into a single heap buffer, as an Arrow string array
// holds them; value_at returns views into that buffer.
struct PackedBatch {
  std::vector<uint64_t> hashes;
  std::string data;
  std::vector<size_t> offsets{0};
  explicit PackedBatch(std::span<const uint64_t> ids) {
    for (uint64_t id : ids) {
      hashes.push_back(hash_int(static_cast<int64_t>(id)));
      data += golden_value(id);
      offsets.push_back(data.size());
    }
  }
  std::string_view at(size_t i) const {
    return std::string_view(data).substr(offsets[i], offsets[i + 1] - offsets[i]);
  }
  // Overwrites the values and frees the buffer: a reference kept into it reads garbage (and
  // ASan reports the use after free).
  void scribble() {
    std::fill(data.begin(), data.end(), '#');
    std::string().swap(data);
  }
};

// Every reported row carries the value of its hash.
void expect_values_of_ids(const FrequentItems& fi, const std::vector<uint64_t>& ids) {
  std::unordered_map<uint64_t, uint64_t> id_of;
  for (uint64_t id : ids) id_of.emplace(hash_int(static_cast<int64_t>(id)), id);
  for (const auto& r : fi.top(SIZE_MAX)) {
    ASSERT_TRUE(id_of.count(r.hash));
    EXPECT_EQ(r.value, golden_value(id_of[r.hash]));
  }
}

TEST(FrequentItems, ValuesOutliveTheCallersBuffers) {
  const auto zipf = zipf_stream(200000, 100000, 1.0, 6).ids;
  const auto distinct = random_ids(100000, UINT64_MAX, 7);
  const auto exact = random_ids(30000, 700, 8);
  for (const auto* ids : {&zipf, &distinct, &exact}) {
    for (uint32_t cap : {64u, 1024u}) {
      for (size_t block : {size_t{1}, size_t{100}, size_t{2048}, size_t{30000}}) {
        if (block == 1 && ids->size() > 50000) continue;  // slow, and covered by the others
        FrequentItems fi(cap), by_value(cap);
        for (size_t b = 0; b < ids->size(); b += block) {
          const size_t len = std::min(block, ids->size() - b);
          auto batch = std::make_unique<PackedBatch>(std::span(*ids).subspan(b, len));
          fi.update(batch->hashes, [&](size_t i) { return batch->at(i); });
          // value_at may also return a std::string by value.
          by_value.update(batch->hashes, [&](size_t i) { return std::string(batch->at(i)); });
          batch->scribble();
          batch.reset();
        }
        SCOPED_TRACE("cap " + std::to_string(cap) + " block " + std::to_string(block));
        expect_values_of_ids(fi, *ids);
        FrequentItems stable(cap);
        feed_golden(stable, *ids, {block}, false);
        EXPECT_EQ(fi.serialize(), stable.serialize());
        EXPECT_EQ(by_value.serialize(), stable.serialize());
      }
    }
  }
}

TEST(FrequentItems, ValueAtIsCalledAtMostOncePerRowAndOnlyForKeptItems) {
  for (const auto& ids :
       {random_ids(100000, UINT64_MAX, 9), zipf_stream(100000, 50000, 1.0, 9).ids}) {
    FrequentItems fi(64);
    size_t calls = 0, blocks = 0;
    for (size_t b = 0; b < ids.size(); b += 4096, ++blocks) {
      const PackedBatch batch(
          std::span<const uint64_t>(ids).subspan(b, std::min<size_t>(4096, ids.size() - b)));
      std::vector<int> called(batch.hashes.size());
      fi.update(batch.hashes, [&](size_t i) {
        EXPECT_EQ(called[i]++, 0) << "row " << i << " asked twice";
        ++calls;
        return batch.at(i);
      });
    }
    expect_values_of_ids(fi, ids);
    // Purges drop almost every new item before its value is needed.
    EXPECT_LT(calls, ids.size() / 4);
  }
}

TEST(FrequentItems, ThrowingValueAtAfterPurgesLeavesAValidSketch) {
  std::vector<uint64_t> ids;
  std::mt19937_64 rng(10);
  for (size_t i = 0; i < 60000; ++i) ids.push_back(rng() % 5 == 0 ? rng() % 20 : rng());
  std::unordered_map<uint64_t, uint64_t> truth;  // over the whole stream
  for (uint64_t id : ids) ++truth[hash_int(static_cast<int64_t>(id))];
  for (uint32_t cap : {16u, 64u, 1024u}) {
    // Throws at the first value asked for at or after row `from` of the second batch: in a
    // purge's rebuild or in the end of the call, depending on the row.
    for (size_t from : {size_t{0}, size_t{300}, size_t{9000}, size_t{19990}}) {
      SCOPED_TRACE("cap " + std::to_string(cap) + " from " + std::to_string(from));
      FrequentItems fi(cap);
      auto first = std::make_unique<PackedBatch>(std::span(ids).subspan(0, 20000));
      fi.update(first->hashes, [&](size_t i) { return first->at(i); });
      first->scribble();
      const uint64_t max_error_before = fi.maximum_error();
      auto second = std::make_unique<PackedBatch>(std::span(ids).subspan(20000, 20000));
      size_t calls = 0;
      bool threw = false;
      try {
        fi.update(second->hashes, [&](size_t i) {
          if (i >= from) throw std::runtime_error("no value");
          ++calls;
          return second->at(i);
        });
      } catch (const std::runtime_error&) {
        threw = true;
      }
      // It throws, unless the end of the call purged a table of all-1 counters (then no value
      // was asked for at the end, and the table is empty).
      EXPECT_TRUE(threw || fi.num_items() == 0);
      second->scribble();
      if (cap < 1024 && from > 0) {
        EXPECT_GT(fi.maximum_error(), max_error_before) << "no purge in the batch";
      }
      // Valid: the invariants deserialize checks hold, every value is owned and right, no
      // counter exceeds its true count.
      EXPECT_LE(fi.num_items(), fi.capacity());
      EXPECT_LE(fi.n(), 40000u);
      EXPECT_GE(fi.n(), 20000u);
      const auto bytes = fi.serialize();
      ASSERT_NO_THROW(FrequentItems::deserialize(bytes.data(), bytes.size()));
      expect_values_of_ids(fi, ids);
      for (const auto& r : fi.top(SIZE_MAX)) EXPECT_LE(r.lower_bound, truth.at(r.hash));
      // And it keeps working.
      auto third = std::make_unique<PackedBatch>(std::span(ids).subspan(40000));
      fi.update(third->hashes, [&](size_t i) { return third->at(i); });
      third->scribble();
      expect_values_of_ids(fi, ids);
      const auto after = fi.serialize();
      EXPECT_NO_THROW(FrequentItems::deserialize(after.data(), after.size()));
      EXPECT_EQ(FrequentItems::deserialize(bytes.data(), bytes.size()).n() + 20000, fi.n());
    }
  }
}

TEST(FrequentItems, ToStringSummarizes) {
  const auto text = sketch_of(uniform_stream(1000, 20, 1), 64).to_string();
  EXPECT_NE(text.find("n=1000"), std::string::npos);
  EXPECT_NE(text.find("exact"), std::string::npos);
}

}  // namespace
}  // namespace truthound
