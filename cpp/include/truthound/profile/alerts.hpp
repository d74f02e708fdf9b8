// Alerts: what in a finalized profile is worth a look (a constant column, mostly nulls, an
// identifier, a skewed distribution, duplicate rows, two columns that move together, ...).
//
// Found at finalize from the same figures the result reports, under thresholds that are
// reporting options: they change no accumulated state, so two partial profiles made with
// different thresholds still merge (the merged profile reports with the first one's).
//
//   std::vector<Alert> out;
//   table_alerts(rows, duplicates, approximate, thresholds, out);  // table level first,
//   column_alerts(figures, thresholds, out);  // then each column in order (ColumnState::finalize
//                                             // works the figures out as it writes the column),
//   correlation_alerts(a, b, pearson, thresholds, out);       // pairs last
//   write_alerts(json, out);
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "truthound/util/bytes.hpp"
#include "truthound/util/json.hpp"

namespace truthound {

// Each threshold is the engine option "alert_" + its name (AlertThresholds::options()). A rule
// fires when its figure is strictly above its threshold, so a ratio threshold of 1 turns the
// rule off and 0 makes any occurrence fire.
struct AlertThresholds {
  double high_null_ratio = 0.5;   // nulls / rows
  double high_cardinality = 0.5;  // distinct / non-null values of a free-text column
  double imbalance = 0.9;         // top value's count (lower bound) / non-null values
  double skewness = 20;           // |skewness| of a numeric column
  double zeros = 0.1;             // zeros / non-null values of a numeric column
  double mixed_types = 0.5;       // floor of the share of a text column's likeliest type
  double duplicate_rows = 0;      // duplicate rows / rows
  double correlation = 0.9;       // |Pearson| of a numeric column pair

  struct Option {
    const char* name;  // without the "alert_" prefix
    double AlertThresholds::* field;
    double max;  // the range is [0, max] (max infinite: any finite number >= 0)
    const char* meaning;
  };
  static const std::array<Option, 8>& options();

  // Whether `key` names an alert threshold option ("alert_<name>").
  static bool is_option(std::string_view key);
  // Sets the option `key`; throws InvalidArgumentError naming it when it is not an alert option
  // or `value` is out of range.
  void set(std::string_view key, double value);
  void validate() const;

  void serialize(ByteWriter& out) const;
  static AlertThresholds deserialize(ByteReader& in);  // CorruptProfileError when out of range
};

enum class AlertKind : uint8_t {
  kDuplicateRows,
  kAllNull,
  kConstant,
  kHighNullRatio,
  kUnique,
  kHighCardinality,
  kImbalanced,
  kMixedTypes,
  kSkewed,
  kZeros,
  kInfinite,
  kHighCorrelation,
};

// "duplicate_rows", "all_null", "constant", "high_null_ratio", ... (the result's `kind`).
const char* alert_kind_name(AlertKind kind);

struct Alert {
  AlertKind kind;
  std::optional<std::string> column;        // none for the table
  std::optional<std::string> other_column;  // the second column of a pair
  double value = 0;                         // the figure that fired
  std::optional<double> threshold;          // none for rules without one (all null, constant)
  std::string message;                      // names the column, the figure and the threshold
};

// What the column rules read from a finalized column (ColumnState::finalize): the figures
// its result reports, and which rules apply to its type.
struct ColumnAlertFigures {
  std::string name;
  uint64_t rows = 0;
  uint64_t nulls = 0;
  bool distinct_known = false;       // false for lists, unions, the null type
  double distinct = 0;               // the reported distinct_count
  std::string inferred_type;         // "identifier": the unique alert
  bool free_text = false;            // a text column inferred "string" (no type, no pattern)
  bool categorical_kind = false;     // text and booleans: where one dominant value is imbalance
  std::optional<double> skewness;    // numeric columns with a finite skewness
  std::optional<uint64_t> zeros;     // numeric columns
  std::optional<uint64_t> infinite;  // floating-point columns
  // The most frequent value (its text and the lower bound of its count), when there is one.
  std::optional<std::string> top_value;
  uint64_t top_count_lower = 0;
  // Text columns with pattern detection: the likeliest type among boolean, integer, float, date
  // and datetime, and the share of non-null values that read as it.
  std::optional<std::string> likeliest_type;
  double likeliest_share = 0;
};

// The share of non-null values at which a text column's values make its inferred type.
inline constexpr double kInferredTypeShare = 0.9;
// Columns with fewer non-null values are too small to call identifiers or of high cardinality.
inline constexpr uint64_t kMinRowsForCardinality = 10;

// `duplicate_rows`: none when the profile cannot count them; `approximate` when estimated.
void table_alerts(uint64_t rows, std::optional<uint64_t> duplicate_rows, bool approximate,
                  const AlertThresholds& t, std::vector<Alert>& out);
void column_alerts(const ColumnAlertFigures& c, const AlertThresholds& t, std::vector<Alert>& out);
void correlation_alerts(const std::string& a, const std::string& b, double pearson,
                        const AlertThresholds& t, std::vector<Alert>& out);

// The "alerts" array of the result.
void write_alerts(JsonWriter& out, const std::vector<Alert>& alerts);

}  // namespace truthound
