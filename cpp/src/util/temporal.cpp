#include "truthound/util/temporal.hpp"

#include <cstdio>

namespace truthound {

namespace {

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t units_per_second(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kSecond:
      return 1;
    case TimeUnit::kMilli:
      return 1000;
    case TimeUnit::kMicro:
      return 1000000;
    case TimeUnit::kNano:
      return 1000000000;
  }
  return 1;
}

int fraction_digits(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kSecond:
      return 0;
    case TimeUnit::kMilli:
      return 3;
    case TimeUnit::kMicro:
      return 6;
    case TimeUnit::kNano:
      return 9;
  }
  return 0;
}

std::string clock_text(int64_t seconds_of_day, int64_t fraction, TimeUnit unit) {
  char buf[48];
  const int h = static_cast<int>(seconds_of_day / 3600);
  const int m = static_cast<int>((seconds_of_day / 60) % 60);
  const int s = static_cast<int>(seconds_of_day % 60);
  int n = std::snprintf(buf, sizeof(buf), "%02d:%02d:%02d", h, m, s);
  if (fraction != 0) {
    std::snprintf(buf + n, sizeof(buf) - static_cast<size_t>(n), ".%0*lld", fraction_digits(unit),
                  static_cast<long long>(fraction));
  }
  return buf;
}

}  // namespace

// Howard Hinnant's civil_from_days.
std::string format_date(int64_t z) {
  z += 719468;
  const int64_t era = floor_div(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[40];
  std::snprintf(buf, sizeof(buf),
                y >= 0 && y <= 9999 ? "%04lld-%02lld-%02lld" : "%+05lld-%02lld-%02lld",
                static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d));
  return buf;
}

std::string format_timestamp(int64_t value, TimeUnit unit, bool utc) {
  const int64_t per_sec = units_per_second(unit);
  const int64_t secs = floor_div(value, per_sec);
  const int64_t frac = value - secs * per_sec;
  const int64_t days = floor_div(secs, 86400);
  const int64_t sod = secs - days * 86400;
  std::string out = format_date(days);
  out += 'T';
  out += clock_text(sod, frac, unit);
  if (utc) out += 'Z';
  return out;
}

std::string format_time_of_day(int64_t value, TimeUnit unit) {
  const int64_t per_sec = units_per_second(unit);
  const int64_t secs = floor_div(value, per_sec);
  const int64_t frac = value - secs * per_sec;
  return clock_text(((secs % 86400) + 86400) % 86400, frac, unit);
}

bool format_temporal(const DataType& type, int64_t v, std::string& out) {
  switch (type.id) {
    case TypeId::kDate32:
      out = format_date(v);
      return true;
    case TypeId::kDate64:
      out = format_date(floor_div(v, 86400000));
      return true;
    case TypeId::kTimestamp:
      out = format_timestamp(v, type.unit, !type.timezone.empty());
      return true;
    case TypeId::kTime32:
    case TypeId::kTime64:
      out = format_time_of_day(v, type.unit);
      return true;
    default:
      return false;
  }
}

}  // namespace truthound
