// ISO-8601 text for Arrow's temporal values (proleptic Gregorian calendar, UTC).
#pragma once

#include <cstdint>
#include <string>

#include "truthound/arrow/data_type.hpp"

namespace truthound {

std::string format_date(int64_t days_since_epoch);                     // 2024-02-29
std::string format_timestamp(int64_t value, TimeUnit unit, bool utc);  // 2024-02-29T13:05:00[.123]Z
std::string format_time_of_day(int64_t value, TimeUnit unit);          // 13:05:00[.123456]
// Renders an Int-domain value of a temporal type; returns false for non-temporal types.
bool format_temporal(const DataType& type, int64_t value, std::string& out);

// Timestamps and durations carry a unit; a column whose parts differ in unit merges in the finer
// one (s -> ms -> us -> ns). These say how a value moves between units.
inline bool has_time_unit(const DataType& type) {
  return type.id == TypeId::kTimestamp || type.id == TypeId::kDuration;
}

// A value in the coarsest unit that holds it exactly: 1500 ms stays (1500, ms), 2000 ms is
// (2, s). Equal instants in different units have one canonical form: the profile hashes (distinct
// values, top values, duplicate rows) and keeps top values in it, so parts of a column read in
// different units merge without counting an instant twice.
struct CanonicalTime {
  int64_t value;
  TimeUnit unit;
};
inline CanonicalTime canonical_time(int64_t value, TimeUnit unit) {
  auto u = static_cast<int>(unit);
  while (u > 0 && value % 1000 == 0) {
    value /= 1000;
    --u;
  }
  return {value, static_cast<TimeUnit>(u)};
}

// 1000^(to - from); `to` must not be coarser than `from`.
inline int64_t time_unit_factor(TimeUnit from, TimeUnit to) {
  int64_t f = 1;
  for (int u = static_cast<int>(from); u < static_cast<int>(to); ++u) f *= 1000;
  return f;
}

// `value` (in `from`) expressed in the finer or equal unit `to`; false when it does not fit
// in int64 (timestamp[ns] holds about 1677-09-21 to 2262-04-11) or `to` is coarser.
inline bool rescale_time(int64_t value, TimeUnit from, TimeUnit to, int64_t& out) {
  if (to < from) return false;
  return !__builtin_mul_overflow(value, time_unit_factor(from, to), &out);
}

}  // namespace truthound
