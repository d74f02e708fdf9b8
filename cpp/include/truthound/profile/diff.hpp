// diff_profiles: what changed between two partial profiles of the same table (a base, say
// yesterday's data, and the current one), computed from their mergeable state.
//
// The result is one JSON object:
//   base_rows, current_rows, added_columns [names], removed_columns [names],
//   columns: one object per column present on both sides, in the base's order:
//     name, base_type, current_type, type_changed,
//     null_ratio {base, current, change},
//     distinct_count {base, base_lower, base_upper, current, current_lower, current_upper,
//                     change, relative_change, beyond_bounds} (null for types without one),
//     mean, std {base, current, change, relative_change} (numeric columns, else null),
//     quantiles {p01 .. p99: {base, current, change}} (numeric columns, else null),
//     psi: the population stability index over the base histogram's equal-width bins
//          (histogram_bins of the base's options; shares floored at 1e-4), psi_bins
//          (psi and ks: numeric columns, and temporal columns of the same type on both sides;
//          else null),
//     ks {statistic, bound, exact}: the two-sample Kolmogorov-Smirnov statistic between the two
//          quantile sketches; |statistic - exact statistic| <= bound (the sum of the sketches'
//          normalized rank errors; 0 and exact while both sketches hold every value),
//     top_values [{value, base_ratio, current_ratio, change}]: every value in either side's
//          top_n, shares of non-null values; top_share_change: the largest |change|,
//     patterns [{name, base_ratio, current_ratio, change}]; pattern_change: the largest |change|.
// The relative changes are change / |base| (null when base is 0).
#pragma once

#include <string>

#include "truthound/profile/partial.hpp"

namespace truthound {

std::string diff_profiles(const PartialProfile& base, const PartialProfile& current);

}  // namespace truthound
