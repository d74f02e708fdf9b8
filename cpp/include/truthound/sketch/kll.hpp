// KllSketch: a mergeable quantile sketch over doubles (Karnin, Lang, Liberty 2016).
//
// What it answers
//   quantile(rank), quantiles(ranks), rank(value), histogram(lo, hi, bins), min(), max(), n().
//
// Exact mode
//   While the sketch still holds every item with weight 1 (fewer than max(4096, 2k) items, also
//   after merging small partials) every answer is exact: quantile() interpolates linearly between
//   order statistics exactly like numpy.quantile(x, q, method="linear"), rank() and histogram()
//   count the items themselves. is_exact() tells which mode answered; normalized_rank_error() is 0.
//
// Estimation mode
//   Items live in levels; an item at level h stands for 2^h input items. Levels are sorted; an
//   over-full level is compacted (every other item, random offset, goes up one level). New items
//   are collected in an unsorted buffer that is radix-sorted and compacted in bulk. Once the
//   stream is long (n >= 2·k², at least 65,536), a sampler keeps one uniformly chosen item out of
//   every block of 2^s consecutive items (2^s <= n / (2·k²)) and inserts it at level s: only 1/2^s
//   of the values are touched and the sampler's own rank error stays at or below 0.35/k standard
//   deviation, half of the compactors'. Compaction offsets alternate in pairs per level (random,
//   then the opposite), which cancels much of the compaction error. The unfinished block keeps its
//   chosen item and its count, so retained weights always sum to n exactly. quantile(r) returns the
//   retained item at normalized rank r (r = 0 -> min, r = 1 -> max); rank(v) sums retained weights
//   of items <= v; histogram() sums retained weights per bin. normalized_rank_error() is the
//   99%-confidence bound of one rank or quantile query: |estimated rank - true rank| / n <= 1.8 / k
//   (0.45% for k = 400), measured over many seeds and inputs (uniform, normal, sorted, reversed,
//   few distinct values) at 10^7 items. min() and max() are always exact.
//
// Inputs and failures
//   Callers never pass NaN or ±inf (they count those apart). k outside [8, 65535], a rank outside
//   [0, 1], a bad histogram range and merging sketches of different k throw InvalidArgumentError.
//   Queries on an empty sketch return NaN (histogram: all zero). deserialize() throws
//   CorruptProfileError on anything that is not a sketch this code could have written.
//
// Randomness
//   A splitmix64 generator seeded from `seed` and the first values the sketch is given (up to 64)
//   lives in the object, so sketches of different parts of a column draw independent coins
//   (identical coins made merged partials' errors add up); the same calls in the same order give
//   the same sketch, bytes included. The generator state is serialized, so a deserialized sketch
//   continues exactly like the original.
//
// Serialized layout (little-endian), family id 0x4B ('K'), format version 2:
//
//   offset  size      field
//   ------  --------  --------------------------------------------------------------
//        0  1         family id = 0x4B
//        1  1         format version = 2 (1 still loads, see below)
//        2  2         k (u16, 8..65535)
//        4  1         H = number of levels (u8, 1..kMaxLevels)
//        5  1         s = sampler shift (u8, s < 64)
//        6  2         reserved = 0
//        8  8         n (u64)
//       16  8         seed (u64)
//       24  8         generator state (u64)
//       32  8         min (f64; 0 when n = 0)
//       40  8         max (f64; 0 when n = 0)
//       48  8         pending block count c (u64, c < 2^s)
//       56  8         pending next replacement position (u64, > c when c > 0, else 0)
//       64  8         pending item (f64; 0 when c = 0)
//       72  8         coin state: bit h set = the next compaction at level h takes the opposite
//                     of the last offset (u64)
//       80  8         last offsets: bit h = the last offset drawn at level h (u64)
//       88  …         H levels, each its sorted items as order-preserving keys (double_key),
//                     Rice-coded gaps (util/sorted_codec.hpp): at most capacity(h, H) items;
//                     about 45 bits an item of random doubles, far fewer for integer values
//        …  1..10     varint buffer count b (b < buffer capacity); buffer items have weight 2^s
//        …  8·b       buffer items (f64, unsorted, in the sketch's order)
//   Version 1 stored H + 1 u32 level offsets, a u32 buffer count, then every item as f64.
//   Checked on read: ids, k, H, s, every count against the capacity and the bytes left, levels
//   sorted, items finite and within [min, max], min <= max, and Σ |level h|·2^h + b·2^s + c = n
//   without overflow.
//
// A partial that ships calls flush() first: the buffer (up to 4,095 items, 32 KiB) joins the
// levels, so what travels is at most about 3k sorted items.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "truthound/util/bytes.hpp"

namespace truthound {

class KllSketch {
 public:
  static constexpr uint16_t kDefaultK = 400;
  static constexpr uint16_t kMinK = 8;
  static constexpr uint64_t kDefaultSeed = 0x6b6c6c5f73656564ULL;  // "kll_seed"
  static constexpr uint8_t kFamilyId = 0x4B;
  static constexpr uint8_t kFormatVersion = 2;
  static constexpr uint8_t kFormatVersionRaw = 1;
  static constexpr uint32_t kMaxLevels = 64;

  // k in [8, 65535], else InvalidArgumentError. Larger k: more accurate, more memory (~3k + 4096
  // retained doubles at most).
  explicit KllSketch(uint16_t k = kDefaultK, uint64_t seed = kDefaultSeed);

  void update(double v);
  // The hot path: feed blocks of values (about 1-64K at a time).
  void update(std::span<const double> values);
  // Adds another sketch's items. Different k -> InvalidArgumentError. Merging an empty sketch
  // changes nothing.
  void merge(const KllSketch& other);
  // Multiplies every item by `factor` (finite, > 0, and keeping min() and max() finite), so the
  // sketch answers for the scaled stream: a column whose time unit becomes finer (seconds to
  // milliseconds: factor 1000). Order is kept, so every rank and bound stays as it was; each
  // item is rounded once, as the scaled input itself would be. Otherwise InvalidArgumentError.
  void scale(double factor);
  // Sorts the buffered items into the levels and compacts what overflows, as when the buffer
  // fills (the error bound is that of any compaction): the sketch then holds only its levels.
  // An exact sketch is left as it is, so its answers stay exact.
  void flush();

  bool is_empty() const { return n_ == 0; }
  uint64_t n() const { return n_; }
  // True while the sketch holds every item with weight 1; answers are then exact.
  bool is_exact() const;
  uint16_t k() const { return k_; }
  // Number of items the sketch currently keeps (levels, buffer and the pending sampled item).
  size_t num_retained() const;

  double min() const;  // exact; NaN when empty
  double max() const;  // exact; NaN when empty

  // rank in [0, 1] else InvalidArgumentError; NaN when empty.
  double quantile(double rank) const;
  std::vector<double> quantiles(std::span<const double> ranks) const;
  // Estimated fraction of items <= value; NaN when empty.
  double rank(double value) const;
  // Equal-width bins over [lo, hi], bin i = [lo + i·w, lo + (i+1)·w), the last bin closed.
  // Items below lo count in the first bin, items above hi in the last, so counts sum to n()
  // exactly (callers pass min() and max()). When lo == hi everything lands in the first bin.
  // lo > hi, a non-finite bound or bins == 0 -> InvalidArgumentError.
  std::vector<uint64_t> histogram(double lo, double hi, uint32_t bins) const;
  // 99%-confidence bound on the normalized rank error of one query; 0 when exact.
  double normalized_rank_error() const;
  // The same bound for a given k (what the sketch reports once in estimation mode).
  static double normalized_rank_error_for(uint16_t k);
  // The two-sample Kolmogorov-Smirnov statistic sup_x |F_a(x) - F_b(x)| between the empirical
  // distributions the sketches stand for, evaluated at every retained item (where the step
  // functions change). Exact (equal to scipy.stats.ks_2samp's statistic) when both sketches are
  // exact; otherwise within a.normalized_rank_error() + b.normalized_rank_error() of the
  // statistic of the full streams, as each side's rank estimates are. NaN when either is empty.
  static double ks_statistic(const KllSketch& a, const KllSketch& b);

  void serialize(ByteWriter& out) const;
  std::vector<uint8_t> serialize() const;
  static KllSketch deserialize(ByteReader& in);
  // Reads exactly `size` bytes (trailing bytes are an error).
  static KllSketch deserialize(const void* data, size_t size);
  std::string to_string() const;

 private:
  struct WeightedItem {
    double value;
    uint64_t weight;
  };

  uint64_t next_random();
  uint64_t next_skip(uint64_t position);
  uint32_t buffer_capacity() const;
  uint32_t level_capacity(size_t level, size_t num_levels) const;
  uint8_t desired_shift(uint64_t n) const;
  uint64_t shift_limit(uint8_t s) const;
  void emit_sample(double v);
  void maybe_raise_shift();
  void flush_buffer();
  void merge_into_level(size_t level, std::span<const double> sorted);
  void compress();
  void compact(size_t level);
  void ensure_levels(size_t count);
  std::vector<double> exact_sorted() const;
  std::vector<WeightedItem> weighted_sorted() const;

  uint16_t k_;
  uint8_t shift_ = 0;  // sampler shift s; the buffer holds items of weight 2^s
  uint64_t seed_;
  uint64_t rng_state_;
  uint64_t n_ = 0;
  double min_ = 0;
  double max_ = 0;
  uint64_t pending_count_ = 0;               // items seen in the unfinished sampler block
  uint64_t pending_next_ = 0;                // 1-based position of the next reservoir replacement
  double pending_item_ = 0;                  // uniform choice among the pending_count_ items seen
  std::vector<std::vector<double>> levels_;  // levels_[h]: sorted, weight 2^h
  std::vector<double> buffer_;               // unsorted, weight 2^shift_
  uint64_t coin_pending_ = 0;     // bit h: the next compaction at level h takes the opposite offset
  uint64_t coin_last_ = 0;        // bit h: the last offset drawn at level h
  std::vector<double> scratch_;   // reused by merges
  std::vector<double> sort_tmp_;  // reused by the buffer sort
  std::vector<uint32_t> sort_ids_;
};

}  // namespace truthound
