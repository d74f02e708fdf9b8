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

}  // namespace truthound
