// PartialProfile: the mergeable state of a set of columns over a set of rows (DESIGN.md §2).
//
//   PartialProfile p(options);
//   p.consume_stream(stream);          // or consume_batch(schema, array) per record batch
//   q.merge(p);                        // rows of another partition (or columns,
//   MergeMode::kColumns) auto bytes = p.serialize();        // ship it;
//   PartialProfile::deserialize(bytes) on the driver std::string json = p.finalize_json();
//
// Not thread-safe: each worker owns its partial; merge once at the end.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "truthound/arrow/c_abi.hpp"
#include "truthound/profile/column_state.hpp"
#include "truthound/profile/duplicates.hpp"
#include "truthound/profile/options.hpp"
#include "truthound/stats/moments.hpp"

namespace truthound {

enum class MergeMode : uint8_t {
  kRows,     // the other partial holds other rows of the same table (columns missing on one side
             // count as null there; types promote losslessly or raise SchemaError)
  kColumns,  // the other partial holds other columns of the same rows (disjoint column sets)
};

class PartialProfile {
 public:
  // 2: exact integer sums; 3: row hashes combined by multiplication (duplicates); 4: timestamps
  // and durations hash by instant, whatever their unit (canonical_time); 5: packed sketches
  // (HyperLogLog registers entropy-coded, sorted hashes and quantile items as Rice-coded gaps,
  // each sketch with its own format version), a packed duplicate-row counter, and the options
  // carry the alert thresholds. Version 4 bytes load into the same state, with the default alert
  // thresholds. Version 2 bytes still load, with duplicate rows unavailable (null), since their
  // row hashes differ. Versions 2 and 3 load unless they hold a timestamp or duration column
  // finer than seconds, whose hashes differ (CorruptProfileError saying to profile again).
  static constexpr uint8_t kFormatVersion = 5;
  static constexpr uint8_t kFormatVersionUnpacked = 4;
  static constexpr uint8_t kFormatVersionRawTimeHashes = 3;
  static constexpr uint8_t kFormatVersionOldRowHashes = 2;

  explicit PartialProfile(ProfileOptions options = {});

  const ProfileOptions& options() const { return options_; }
  uint64_t row_count() const { return rows_; }
  std::vector<std::string> column_names() const;
  const std::vector<ColumnState>& columns() const { return columns_; }
  // The state of column `name`, or nullptr.
  const ColumnState* find_column(const std::string& name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : &columns_[it->second];
  }
  const std::vector<std::string>& sources() const { return sources_; }
  void add_source(std::string source);

  // One record batch: `array` is the struct array exported with `schema`. Struct columns are
  // flattened to parent.child leaves. Neither is released here.
  void consume_batch(const ArrowSchema& schema, const ArrowArray& array);
  // Every batch of the stream; the stream is not released here.
  void consume_stream(ArrowArrayStream& stream);

  void merge(const PartialProfile& other, MergeMode mode = MergeMode::kRows);

  // Framed, little-endian, checksummed bytes (layout in partial.cpp).
  std::vector<uint8_t> serialize() const;
  // Before a partial ships to the process that merges it: the frequent-items sketches of
  // columns past their exact regime keep at most 1/16 of their capacity in counters where the
  // error bound allows, their items within about 12 KiB (FrequentItems::compact), so a column
  // in the sketch regime ships in at most 48 KiB, and the quantile sketches past theirs move
  // their buffered items into their levels (KllSketch::flush); exact sketches are untouched.
  // The bounds hold.
  void compact_for_transport();
  // Bytes of the table-wide duplicate-row counter in serialize()'s output (size reports).
  size_t duplicate_counter_bytes() const;
  // Throws CorruptProfileError on truncated, corrupted or unknown bytes.
  static PartialProfile deserialize(const void* data, size_t size);

  std::string finalize_json() const;
  // What the result's "alerts" lists: table level, then each column in order, then column pairs
  // (profile/alerts.hpp), under options().alerts. (It finalizes to find them.)
  std::vector<Alert> alerts() const;

  // The 64-bit hash of each row of a record batch over the leaf columns `keys`, in that order:
  // the engine's value hash (the one distinct counts, top values and duplicate rows use, so
  // 3, 3.0 and int32 3 hash alike and every partition and machine agrees), combined per row as
  // duplicate rows combine it. For hash partitioning. Throws InvalidArgumentError naming a key
  // that is not a column, UnsupportedTypeError for list, map and union columns (they have no
  // value hash).
  static std::vector<uint64_t> row_hashes(const ArrowSchema& schema, const ArrowArray& array,
                                          const std::vector<std::string>& keys);

 private:
  struct Leaf {
    std::string name;
    const DataType* type;
    const ArrowArray* array;
    int64_t offset;
    const uint8_t* parent_valid;
  };
  void flatten(const Field& field, const ArrowArray& array, const std::string& prefix,
               int64_t offset, int64_t length, const uint8_t* parent_valid, std::vector<Leaf>& out,
               int depth);
  std::string finalize_json(std::vector<Alert>* alerts) const;
  ColumnState& column_for(const std::string& name, const DataType& type);
  // Sets the columns' frequent-items tables to fit kTopValueTableBudget together (called when
  // the number of columns changes).
  void fit_tables();
  void add_null_rows(ColumnState& c, uint64_t n);

  ProfileOptions options_;
  uint64_t rows_ = 0;
  size_t dense_slots_ = FrequentItems::kDenseSlots;
  std::vector<ColumnState> columns_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<std::string> sources_;
  DuplicateCounter duplicates_;
  bool duplicates_available_ = true;
  std::map<std::pair<std::string, std::string>, CoMoments> correlations_;

  // reused across batches
  Scratch scratch_;
  std::vector<uint64_t> row_hashes_;
  std::vector<std::unique_ptr<std::vector<uint8_t>>> masks_;
  std::vector<std::vector<double>> corr_values_;
};

}  // namespace truthound
