// Options of a profile. Sketch parameters must agree for two partial profiles to merge; the
// reporting options (top_n, histogram_bins, pattern_threshold, the alert thresholds, ...) are
// applied at finalize and may differ (a merge keeps the first profile's).
#pragma once

#include <cstdint>
#include <string_view>

#include "truthound/profile/alerts.hpp"
#include "truthound/util/bytes.hpp"

namespace truthound {

struct ProfileOptions {
  uint32_t top_n = 10;                       // top and bottom values reported
  uint32_t histogram_bins = 20;              // equal-width bins
  bool patterns = true;                      // pattern detection on string columns
  double pattern_threshold = 0.8;            // share of non-null values a pattern must match
  uint32_t pattern_samples = 5;              // sample matches kept per pattern
  bool correlations = false;                 // Pearson for numeric column pairs
  uint8_t hll_precision = 16;                // 2^p registers
  uint16_t kll_k = 400;                      // quantile sketch accuracy
  uint32_t frequent_items_capacity = 16384;  // exact top values up to this many distinct
  uint64_t duplicate_exact_limit = 131072;   // rows whose hashes are kept for exact duplicates
  AlertThresholds alerts;                    // options "alert_<name>" (profile/alerts.hpp)

  // Parses a flat JSON object; unknown keys and out-of-range values throw InvalidArgumentError
  // naming the option.
  static ProfileOptions from_json(std::string_view json);
  void validate() const;
  // Throws InvalidArgumentError when two profiles' sketch parameters differ.
  void check_mergeable(const ProfileOptions& other) const;

  // The alert thresholds are serialized since partial profile format 5; older bytes load
  // with the default thresholds (`with_alerts` false).
  void serialize(ByteWriter& out) const;
  static ProfileOptions deserialize(ByteReader& in, bool with_alerts = true);
};

}  // namespace truthound
