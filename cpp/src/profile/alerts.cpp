#include "truthound/profile/alerts.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "truthound/util/error.hpp"

namespace truthound {

namespace {

constexpr std::string_view kPrefix = "alert_";
constexpr double kUnbounded = std::numeric_limits<double>::infinity();

// Whether `v` is in the range [0, max] of an option (finite even when max is unbounded).
bool in_range(double v, double max) {
  return std::isfinite(v) && v >= 0 && v <= max;
}

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// 12.5 % (tiny shares keep two significant digits rather than reading 0.0 %)
std::string percent(double ratio) {
  const double p = ratio * 100;
  return format(p != 0 && std::abs(p) < 0.1 ? "%.2g" : "%.1f", p) + " %";
}

// A threshold as given: 5 %, 12.5 %, 0 %.
std::string threshold_percent(double ratio) {
  return format("%.6g", ratio * 100) + " %";
}

// 1,234,567
std::string count(uint64_t n) {
  std::string digits = std::to_string(n);
  for (size_t i = digits.size(); i > 3; i -= 3) digits.insert(i - 3, 1, ',');
  return digits;
}

// A value in a message: quoted, at most 40 bytes of it (not splitting a UTF-8 character).
std::string quoted(const std::string& v) {
  constexpr size_t kMax = 40;
  size_t end = v.size();
  if (end > kMax) {
    end = kMax;
    while (end > 0 && (static_cast<unsigned char>(v[end]) & 0xC0) == 0x80) --end;
  }
  std::string out(1, '\'');
  out.append(v, 0, end);
  if (end < v.size()) out.append("\xE2\x80\xA6");
  out.push_back('\'');
  return out;
}

Alert column_alert(AlertKind kind, const ColumnAlertFigures& c, double value,
                   std::optional<double> threshold, const std::string& what) {
  return Alert{kind, c.name, std::nullopt, value, threshold, c.name + ": " + what};
}

}  // namespace

const std::array<AlertThresholds::Option, 8>& AlertThresholds::options() {
  static const std::array<Option, 8> kOptions{{
      {"high_null_ratio", &AlertThresholds::high_null_ratio, 1, "share of rows that are null"},
      {"high_cardinality", &AlertThresholds::high_cardinality, 1,
       "distinct / non-null values of a free-text column that is not unique"},
      {"imbalance", &AlertThresholds::imbalance, 1,
       "share of non-null values of a text or boolean column held by its top value"},
      {"skewness", &AlertThresholds::skewness, kUnbounded, "|skewness| of a numeric column"},
      {"zeros", &AlertThresholds::zeros, 1,
       "share of a numeric column's non-null values that are 0"},
      {"mixed_types", &AlertThresholds::mixed_types, 1,
       "floor of the share of a text column's values that read as one type, under 90 %"},
      {"duplicate_rows", &AlertThresholds::duplicate_rows, 1,
       "share of rows that repeat an earlier row"},
      {"correlation", &AlertThresholds::correlation, 1,
       "|Pearson| of two numeric columns, with correlations on"},
  }};
  return kOptions;
}

namespace {

const AlertThresholds::Option* find_option(std::string_view key) {
  if (!key.starts_with(kPrefix)) return nullptr;
  for (const auto& o : AlertThresholds::options()) {
    if (key.substr(kPrefix.size()) == o.name) return &o;
  }
  return nullptr;
}

void check_range(const AlertThresholds::Option& o, double value) {
  if (!in_range(value, o.max)) {
    throw InvalidArgumentError(
        "option '" + std::string(kPrefix) + o.name + "' must be a number " +
        (o.max == kUnbounded ? std::string(">= 0") : "from 0 to " + format("%g", o.max)) +
        ", got " + format("%g", value));
  }
}

}  // namespace

bool AlertThresholds::is_option(std::string_view key) {
  return find_option(key) != nullptr;
}

void AlertThresholds::set(std::string_view key, double value) {
  const Option* o = find_option(key);
  if (o == nullptr) throw InvalidArgumentError("unknown option '" + std::string(key) + "'");
  check_range(*o, value);
  this->*o->field = value;
}

void AlertThresholds::validate() const {
  for (const Option& o : options()) check_range(o, this->*o.field);
}

void AlertThresholds::serialize(ByteWriter& out) const {
  for (const Option& o : options()) out.f64(this->*o.field);
}

AlertThresholds AlertThresholds::deserialize(ByteReader& in) {
  AlertThresholds t;
  for (const Option& o : options()) {
    const double v = in.f64();
    if (!in_range(v, o.max)) {
      in.corrupt(std::string("alert threshold '") + o.name + "' is out of range");
    }
    t.*o.field = v;
  }
  return t;
}

const char* alert_kind_name(AlertKind kind) {
  switch (kind) {
    case AlertKind::kDuplicateRows:
      return "duplicate_rows";
    case AlertKind::kAllNull:
      return "all_null";
    case AlertKind::kConstant:
      return "constant";
    case AlertKind::kHighNullRatio:
      return "high_null_ratio";
    case AlertKind::kUnique:
      return "unique";
    case AlertKind::kHighCardinality:
      return "high_cardinality";
    case AlertKind::kImbalanced:
      return "imbalanced";
    case AlertKind::kMixedTypes:
      return "mixed_types";
    case AlertKind::kSkewed:
      return "skewed";
    case AlertKind::kZeros:
      return "zeros";
    case AlertKind::kInfinite:
      return "infinite";
    case AlertKind::kHighCorrelation:
      return "high_correlation";
  }
  return "unknown";
}

void table_alerts(uint64_t rows, std::optional<uint64_t> duplicate_rows, bool approximate,
                  const AlertThresholds& t, std::vector<Alert>& out) {
  if (!duplicate_rows || rows == 0) return;
  const double ratio = static_cast<double>(*duplicate_rows) / static_cast<double>(rows);
  if (ratio > t.duplicate_rows) {
    out.push_back(Alert{AlertKind::kDuplicateRows, std::nullopt, std::nullopt, ratio,
                        t.duplicate_rows,
                        "table: " + std::string(approximate ? "about " : "") +
                            count(*duplicate_rows) + " duplicate rows, " + percent(ratio) +
                            " of rows (threshold " + threshold_percent(t.duplicate_rows) + ")"});
  }
}

void column_alerts(const ColumnAlertFigures& c, const AlertThresholds& t, std::vector<Alert>& out) {
  if (c.rows == 0) return;
  const uint64_t non_null = c.rows - c.nulls;
  if (non_null == 0) {
    out.push_back(column_alert(AlertKind::kAllNull, c, 1.0, std::nullopt,
                               "all " + count(c.rows) + " values are null"));
    return;  // every other figure is empty
  }
  const double n = static_cast<double>(non_null);
  const bool constant = c.distinct_known && c.distinct == 1;
  if (constant) {
    const std::string which = c.top_value ? " (" + quoted(*c.top_value) + ")" : "";
    out.push_back(column_alert(
        AlertKind::kConstant, c, 1.0, std::nullopt,
        "constant, one distinct value" + which + " in " + count(non_null) + " non-null values"));
  }
  const double null_ratio = static_cast<double>(c.nulls) / static_cast<double>(c.rows);
  if (null_ratio > t.high_null_ratio) {
    out.push_back(column_alert(
        AlertKind::kHighNullRatio, c, null_ratio, t.high_null_ratio,
        percent(null_ratio) + " nulls (threshold " + threshold_percent(t.high_null_ratio) + ")"));
  }
  if (c.inferred_type == "identifier") {
    out.push_back(column_alert(AlertKind::kUnique, c, c.distinct / n, std::nullopt,
                               "an identifier, " + count(static_cast<uint64_t>(c.distinct)) +
                                   " distinct values in " + count(non_null) + " non-null values"));
  } else if (c.free_text && non_null >= kMinRowsForCardinality && c.distinct_known &&
             c.distinct / n > t.high_cardinality) {
    const double ratio = c.distinct / n;
    out.push_back(column_alert(AlertKind::kHighCardinality, c, ratio, t.high_cardinality,
                               count(static_cast<uint64_t>(c.distinct)) + " distinct values, " +
                                   percent(ratio) + " of non-null values (threshold " +
                                   threshold_percent(t.high_cardinality) + ")"));
  }
  if (c.categorical_kind && !constant && c.top_value) {
    const double share = static_cast<double>(c.top_count_lower) / n;
    if (share > t.imbalance) {
      out.push_back(column_alert(AlertKind::kImbalanced, c, share, t.imbalance,
                                 quoted(*c.top_value) + " is " + percent(share) +
                                     " of non-null values (threshold " +
                                     threshold_percent(t.imbalance) + ")"));
    }
  }
  if (c.likeliest_type && c.likeliest_share < kInferredTypeShare &&
      c.likeliest_share > t.mixed_types) {
    out.push_back(column_alert(AlertKind::kMixedTypes, c, c.likeliest_share, t.mixed_types,
                               percent(c.likeliest_share) + " of non-null values read as " +
                                   *c.likeliest_type + ", the rest do not (floor " +
                                   threshold_percent(t.mixed_types) + ", a type needs " +
                                   threshold_percent(kInferredTypeShare) + ")"));
  }
  if (c.skewness && std::abs(*c.skewness) > t.skewness) {
    out.push_back(column_alert(AlertKind::kSkewed, c, *c.skewness, t.skewness,
                               "skewness " + format("%.4g", *c.skewness) + " (threshold |" +
                                   format("%g", t.skewness) + "|)"));
  }
  if (c.zeros && !constant) {
    const double share = static_cast<double>(*c.zeros) / n;
    if (share > t.zeros) {
      out.push_back(column_alert(AlertKind::kZeros, c, share, t.zeros,
                                 count(*c.zeros) + " zeros, " + percent(share) +
                                     " of non-null values (threshold " +
                                     threshold_percent(t.zeros) + ")"));
    }
  }
  if (c.infinite && *c.infinite > 0) {
    out.push_back(column_alert(AlertKind::kInfinite, c, static_cast<double>(*c.infinite),
                               std::nullopt,
                               count(*c.infinite) + " infinite values (any is alerted)"));
  }
}

void correlation_alerts(const std::string& a, const std::string& b, double pearson,
                        const AlertThresholds& t, std::vector<Alert>& out) {
  if (std::isfinite(pearson) && std::abs(pearson) > t.correlation) {
    out.push_back(Alert{AlertKind::kHighCorrelation, a, b, pearson, t.correlation,
                        a + " and " + b + ": Pearson correlation " + format("%.4g", pearson) +
                            " (threshold |" + format("%g", t.correlation) + "|)"});
  }
}

void write_alerts(JsonWriter& w, const std::vector<Alert>& alerts) {
  w.begin_array();
  for (const Alert& a : alerts) {
    w.begin_object();
    w.field_string("kind", alert_kind_name(a.kind));
    if (a.column) {
      w.field_string("column", *a.column);
    } else {
      w.field_null("column");
    }
    if (a.other_column) {
      w.field_string("other_column", *a.other_column);
    } else {
      w.field_null("other_column");
    }
    w.field("value", a.value);
    if (a.threshold) {
      w.field("threshold", *a.threshold);
    } else {
      w.field_null("threshold");
    }
    w.field_string("message", a.message);
    w.end_object();
  }
  w.end_array();
}

}  // namespace truthound
