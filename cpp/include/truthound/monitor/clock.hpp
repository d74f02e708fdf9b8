// Time in the monitoring core: every call takes `now`, seconds on a monotonic clock chosen by the
// caller, so tests drive time by hand and the Python layer can inject its own clock. Engine
// threads that report without the GIL use monotonic_seconds(), the same clock as Python's
// time.monotonic() on Linux (CLOCK_MONOTONIC).
#pragma once

#include <chrono>
#include <cmath>
#include <limits>

namespace truthound::monitor {

inline double monotonic_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// "Not yet" for a time, "unknown" for a rate or an ETA.
inline constexpr double kNoTime = std::numeric_limits<double>::quiet_NaN();

inline bool has_time(double t) {
  return !std::isnan(t);
}

}  // namespace truthound::monitor
