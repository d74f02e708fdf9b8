// ColumnState: the mergeable statistics of one column over a set of rows.
//
// Three verbs, as Arrow's Consume/MergeFrom/Finalize and DuckDB's Operation/Combine/Finalize:
// `consume` a batch, `merge` another state of the same column, `finalize` to the result model.
// Dispatch on the Arrow type happens once per batch; the loops below it are typed.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "truthound/arrow/c_abi.hpp"
#include "truthound/arrow/data_type.hpp"
#include "truthound/patterns/patterns.hpp"
#include "truthound/profile/alerts.hpp"
#include "truthound/profile/options.hpp"
#include "truthound/sketch/frequent_items.hpp"
#include "truthound/sketch/hll.hpp"
#include "truthound/sketch/kll.hpp"
#include "truthound/stats/moments.hpp"
#include "truthound/util/bytes.hpp"
#include "truthound/util/json.hpp"

namespace truthound {

// How a column's values are represented in min/max and top values.
enum class ValueDomain : uint8_t {
  kNone,     // null type: only counts
  kBool,     // true/false counts
  kInt,      // signed integers up to 64 bits, uint8..uint32, dates, times, timestamps, durations
  kUInt,     // uint64
  kFloat,    // float16/32/64, decimal256 (as double)
  kDecimal,  // decimal32/64/128 (exact, as a 128-bit integer and the scale)
  kBytes,    // strings and binaries
  kList,     // list, large_list, fixed_size_list, map: element-count statistics
  kOther,    // unions, intervals, run-end encoded: only counts
};

ValueDomain domain_of(const DataType& type);

// One leaf column of one record batch, as the kernels see it.
struct BatchColumn {
  const ArrowArray* array = nullptr;
  const DataType* type = nullptr;
  int64_t length = 0;  // rows in the batch
  int64_t offset = 0;  // added to the array's own offset (enclosing structs' offsets)
  const uint8_t* parent_valid = nullptr;  // rows whose enclosing structs are valid (bit i, from 0)
};

// Buffers reused across batches, owned by the caller (one per PartialProfile), so the hot path
// does not allocate.
struct Scratch {
  std::vector<uint64_t> hashes;
  std::vector<double> doubles;
  std::vector<int64_t> positions;
  std::vector<uint8_t> validity;
  std::vector<uint8_t> validity2;
  // dictionary arrays profiled once per entry: rows per entry, the entries used, their row counts
  std::vector<uint64_t> entry_counts;
  std::vector<int64_t> entries;
  std::vector<uint64_t> entry_weights;
  // the rows of a block that go to the frequent-items sketch when some do not (NaN)
  std::vector<uint32_t> kept_rows;
  std::vector<uint64_t> kept_hashes;
};

// Top values keep at most this many bytes of a string or binary value (plus one byte that marks
// a longer value), so a column's exact table of 16,384 values serializes to under 1 MiB.
inline constexpr size_t kTopValueBytes = 48;
inline std::string_view top_value_bytes(std::string_view v) {
  return v.substr(0, kTopValueBytes + 1);
}

// The quantiles a profile reports (and a diff compares), by name and rank.
inline constexpr std::array<std::pair<const char*, double>, 9> kReportedQuantiles{{{"p01", 0.01},
                                                                                   {"p05", 0.05},
                                                                                   {"p10", 0.10},
                                                                                   {"p25", 0.25},
                                                                                   {"p50", 0.50},
                                                                                   {"p75", 0.75},
                                                                                   {"p90", 0.90},
                                                                                   {"p95", 0.95},
                                                                                   {"p99", 0.99}}};

class ColumnState {
 public:
  ColumnState(std::string name, DataType type, const ProfileOptions& options);

  const std::string& name() const { return name_; }
  const DataType& type() const { return type_; }
  ValueDomain domain() const { return domain_; }
  uint64_t row_count() const { return rows_; }
  uint64_t memory_bytes() const { return memory_bytes_; }

  // Consumes every row of `col`. When `row_hashes` is not null, each row's hash is combined with
  // this column's value hash (or kNullHash). Throws ArrowImportError on malformed arrays.
  void consume(const BatchColumn& col, Scratch& scratch, uint64_t* row_hashes);

  // Rows in which the column is absent (schema drift): they count as nulls.
  void add_null_rows(uint64_t n) {
    rows_ += n;
    nulls_ += n;
  }

  // Writes each row's value as a double, NaN for nulls and non-finite values (for correlations).
  void row_doubles(const BatchColumn& col, Scratch& scratch, double* out) const;

  // Whether this column can take part in correlations and in the row hash.
  bool is_numeric() const;
  bool hashes_rows() const {
    return domain_ != ValueDomain::kList && domain_ != ValueDomain::kOther;
  }

  // Throws SchemaError unless values of `type` can be merged into this column.
  void check_mergeable_type(const DataType& type) const;

  // Merges another state of the same column (same rows or other rows). Promotes losslessly
  // compatible types; throws SchemaError otherwise.
  void merge(const ColumnState& other);
  // See FrequentItems::set_dense_slots: a profile of many columns keeps their tables small.
  void set_dense_slots(size_t slots) { freq_.set_dense_slots(slots); }
  // Before the state ships: fewer top-value counters (FrequentItems::compact) and no quantile
  // buffer (KllSketch::flush), within every bound; exact sketches are left as they are.
  void compact_for_transport(size_t max_top_values, size_t max_top_value_bytes) {
    freq_.compact(max_top_values, max_top_value_bytes);
    kll_.flush();
  }

  void serialize(ByteWriter& out) const;
  static ColumnState deserialize(ByteReader& in, const ProfileOptions& options);
  // Bytes serialize() writes, in all and for each sketch (size reports: bench/partial_sizes.py).
  struct SerializedSizes {
    size_t total = 0, distinct = 0, quantiles = 0, top_values = 0;
  };
  SerializedSizes serialized_sizes() const;

  // With `figures`, also what the alert rules read (profile/alerts.hpp): the figures the result
  // reports, worked out once for both.
  void finalize(JsonWriter& out, const ProfileOptions& options,
                ColumnAlertFigures* figures = nullptr) const;

  // What changed from this state (the base) to `current`, a state of the same column over other
  // data, as one JSON object (column_diff.cpp; the fields are listed in profile/diff.hpp).
  // `options` are the base's: its histogram bins are the PSI's bins.
  void diff(JsonWriter& out, const ColumnState& current, const ProfileOptions& options) const;

 private:
  struct DistinctEstimate {
    bool known = true;  // false for types without a distinct count (lists, unions)
    bool approximate = false;
    double value = 0, lower = 0, upper = 0;
  };
  DistinctEstimate distinct_estimate() const;
  // Every non-null value distinct, as far as the estimate tells (the result's is_unique).
  bool is_unique(const DistinctEstimate& e) const;
  ColumnAlertFigures alert_figures(const DistinctEstimate& est, const std::string& inferred) const;
  void note_top_value(ColumnAlertFigures& f, const FrequentItems::Row& top) const;
  // The mean of a numeric column (the exact integer sum over the count for integers).
  double mean_value() const;
  template <typename V, typename Acc>
  void consume_integers(const Acc& acc, size_t n, Scratch& s);
  template <typename Acc>
  void consume_floats(const Acc& acc, size_t n, Scratch& s);
  template <typename Acc>
  void consume_decimals(const Acc& acc, size_t n, Scratch& s);
  // `weight(k)` is how many rows value k stands for (1, or a dictionary entry's row count).
  template <typename Acc, typename Weight>
  void consume_strings(const Acc& acc, size_t n, Scratch& s, bool utf8, Weight weight);
  // Values of `array` at logical positions: the first `n` valid rows (positions in s.positions
  // when `indexed`, else rows base .. base + n). With `weights` (string types only), value k
  // stands for weights[k] rows. Leaves one hash per value in s.hashes.
  void consume_values(const ArrowArray& array, const DataType& type, int64_t base, size_t n,
                      bool indexed, Scratch& s, const uint64_t* weights = nullptr);
  // A dictionary array of strings with at least two valid rows per entry: each used entry is
  // profiled once, weighted by its row count; s.hashes gets one hash per valid row.
  void consume_dictionary_entries(const ArrowArray& dict, const DataType& value_type,
                                  bool row_hashes, Scratch& s);
  void note_patterns(std::string_view v, uint32_t mask, uint64_t weight);
  void promote_to(const DataType& type);
  // A timestamp or duration moving to a finer unit: min, max, sum and the quantile sketch are
  // rescaled; values that do not fit the finer unit throw SchemaError, leaving this unchanged.
  void rescale_time_unit(const DataType& type);
  bool has_quantiles() const;
  void render_value(JsonWriter& out, std::string_view encoded) const;
  void render_top_value(JsonWriter& out, std::string_view encoded) const;
  void render_quantile(JsonWriter& out, double v) const;
  std::string inferred_type(double distinct, bool unique) const;
  bool is_sequential() const;

  std::string name_;
  DataType type_;
  ValueDomain domain_;
  uint32_t pattern_samples_;
  bool detect_patterns_;

  uint64_t rows_ = 0, nulls_ = 0, nan_ = 0, inf_ = 0, zero_ = 0, negative_ = 0, empty_ = 0;
  uint64_t true_ = 0, false_ = 0;
  uint64_t memory_bytes_ = 0;

  bool has_minmax_ = false;
  int64_t imin_ = 0, imax_ = 0;
  uint64_t umin_ = 0, umax_ = 0;
  double fmin_ = 0, fmax_ = 0;
  __int128 dmin_ = 0, dmax_ = 0;
  std::string smin_, smax_;

  uint64_t len_min_ = UINT64_MAX, len_max_ = 0, len_sum_ = 0, len_count_ = 0;

  Moments moments_;
  // Exact sum of the integer values (int and uint domains): the reported mean of an integer column
  // is this over the count, so it does not depend on how rows were split or merged (int64 values
  // beyond 2^53 lose bits on their way into the double moments).
  __int128 isum_ = 0;
  KllSketch kll_;
  HyperLogLog hll_;
  FrequentItems freq_;

  uint64_t pattern_checked_ = 0;
  std::array<uint64_t, kPatternCount> pattern_counts_{};
  std::array<std::vector<std::string>, kPatternCount> pattern_samples_list_;
};

}  // namespace truthound
