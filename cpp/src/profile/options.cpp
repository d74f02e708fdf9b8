#include "truthound/profile/options.hpp"

#include <cmath>
#include <string>

#include "truthound/util/error.hpp"
#include "truthound/util/json.hpp"

namespace truthound {

namespace {

[[noreturn]] void bad_option(const std::string& name, const std::string& why) {
  throw InvalidArgumentError("option '" + name + "' " + why);
}

double as_number(const std::string& name, const JsonScalar& v) {
  if (const double* d = std::get_if<double>(&v)) return *d;
  bad_option(name, "must be a number");
}

uint64_t as_count(const std::string& name, const JsonScalar& v, uint64_t lo, uint64_t hi) {
  double d = as_number(name, v);
  if (d != std::floor(d) || d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
    bad_option(name, "must be a whole number from " + std::to_string(lo) + " to " +
                         std::to_string(hi) + ", got " + std::to_string(d));
  }
  return static_cast<uint64_t>(d);
}

bool as_bool(const std::string& name, const JsonScalar& v) {
  if (const bool* b = std::get_if<bool>(&v)) return *b;
  bad_option(name, "must be true or false");
}

}  // namespace

ProfileOptions ProfileOptions::from_json(std::string_view json) {
  ProfileOptions o;
  for (const auto& [k, v] : parse_flat_json_object(json)) {
    if (k == "top_n") {
      o.top_n = static_cast<uint32_t>(as_count(k, v, 0, 100000));
    } else if (k == "histogram_bins") {
      o.histogram_bins = static_cast<uint32_t>(as_count(k, v, 1, 100000));
    } else if (k == "patterns") {
      o.patterns = as_bool(k, v);
    } else if (k == "pattern_threshold") {
      o.pattern_threshold = as_number(k, v);
    } else if (k == "pattern_samples") {
      o.pattern_samples = static_cast<uint32_t>(as_count(k, v, 0, 1000));
    } else if (k == "correlations") {
      o.correlations = as_bool(k, v);
    } else if (k == "hll_precision") {
      o.hll_precision = static_cast<uint8_t>(as_count(k, v, 4, 18));
    } else if (k == "kll_k") {
      o.kll_k = static_cast<uint16_t>(as_count(k, v, 8, 65535));
    } else if (k == "frequent_items_capacity") {
      o.frequent_items_capacity = static_cast<uint32_t>(as_count(k, v, 16, 1u << 22));
    } else if (k == "duplicate_exact_limit") {
      o.duplicate_exact_limit = as_count(k, v, 0, uint64_t{1} << 40);
    } else if (AlertThresholds::is_option(k)) {
      o.alerts.set(k, as_number(k, v));
    } else {
      throw InvalidArgumentError("unknown option '" + k + "'");
    }
  }
  o.validate();
  return o;
}

void ProfileOptions::validate() const {
  if (!(pattern_threshold > 0.0 && pattern_threshold <= 1.0)) {
    bad_option("pattern_threshold", "must be in (0, 1], got " + std::to_string(pattern_threshold));
  }
  if (hll_precision < 4 || hll_precision > 18) bad_option("hll_precision", "must be from 4 to 18");
  if (kll_k < 8) bad_option("kll_k", "must be at least 8");
  alerts.validate();
  if (top_n > frequent_items_capacity) {
    bad_option("top_n", "must not exceed frequent_items_capacity (" +
                            std::to_string(frequent_items_capacity) + ")");
  }
}

void ProfileOptions::check_mergeable(const ProfileOptions& o) const {
  auto differ = [](const char* name, uint64_t a, uint64_t b) {
    throw InvalidArgumentError(std::string("cannot merge profiles made with different '") + name +
                               "' (" + std::to_string(a) + " and " + std::to_string(b) + ")");
  };
  if (hll_precision != o.hll_precision) differ("hll_precision", hll_precision, o.hll_precision);
  if (kll_k != o.kll_k) differ("kll_k", kll_k, o.kll_k);
  if (frequent_items_capacity != o.frequent_items_capacity) {
    differ("frequent_items_capacity", frequent_items_capacity, o.frequent_items_capacity);
  }
  if (duplicate_exact_limit != o.duplicate_exact_limit) {
    differ("duplicate_exact_limit", duplicate_exact_limit, o.duplicate_exact_limit);
  }
  if (patterns != o.patterns) differ("patterns", patterns, o.patterns);
  if (correlations != o.correlations) differ("correlations", correlations, o.correlations);
}

void ProfileOptions::serialize(ByteWriter& out) const {
  out.u32(top_n);
  out.u32(histogram_bins);
  out.u8(patterns ? 1 : 0);
  out.f64(pattern_threshold);
  out.u32(pattern_samples);
  out.u8(correlations ? 1 : 0);
  out.u8(hll_precision);
  out.put<uint16_t>(kll_k);
  out.u32(frequent_items_capacity);
  out.u64(duplicate_exact_limit);
  alerts.serialize(out);
}

ProfileOptions ProfileOptions::deserialize(ByteReader& in, bool with_alerts) {
  ProfileOptions o;
  o.top_n = in.u32();
  o.histogram_bins = in.u32();
  o.patterns = in.u8() != 0;
  o.pattern_threshold = in.f64();
  o.pattern_samples = in.u32();
  o.correlations = in.u8() != 0;
  o.hll_precision = in.u8();
  o.kll_k = in.get<uint16_t>();
  o.frequent_items_capacity = in.u32();
  o.duplicate_exact_limit = in.u64();
  if (with_alerts) o.alerts = AlertThresholds::deserialize(in);
  if (o.histogram_bins == 0 || o.histogram_bins > 100000 || o.top_n > 100000 ||
      o.pattern_samples > 1000 || o.frequent_items_capacity < 16 ||
      o.frequent_items_capacity > (1u << 22) || o.duplicate_exact_limit > (uint64_t{1} << 40) ||
      !(o.pattern_threshold > 0.0 && o.pattern_threshold <= 1.0)) {
    in.corrupt("options out of range");
  }
  try {
    o.validate();
  } catch (const InvalidArgumentError& e) {
    in.corrupt(e.what());
  }
  return o;
}

}  // namespace truthound
