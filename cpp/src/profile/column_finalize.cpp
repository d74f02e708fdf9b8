// ColumnState::finalize: the result model of one column, as JSON (docs/engine-interface.md).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>

#include "truthound/profile/column_state.hpp"
#include "truthound/util/temporal.hpp"

namespace truthound {

namespace {

const DataType& value_type(const DataType& t) {
  return t.id == TypeId::kDictionary && !t.children.empty() ? t.children[0].type : t;
}

// sum / n from an exact integer sum: the integer quotient plus the remainder's fraction.
double exact_mean(__int128 sum, uint64_t n) {
  const auto d = static_cast<__int128>(n);
  return static_cast<double>(sum / d) + static_cast<double>(sum % d) / static_cast<double>(n);
}

std::string decimal_text(__int128 v, int scale) {
  const bool neg = v < 0;
  unsigned __int128 u =
      neg ? static_cast<unsigned __int128>(-(v + 1)) + 1 : static_cast<unsigned __int128>(v);
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  } while (u != 0);
  std::reverse(digits.begin(), digits.end());
  if (scale > 0) {
    if (digits.size() <= static_cast<size_t>(scale))
      digits.insert(0, static_cast<size_t>(scale) - digits.size() + 1, '0');
    digits.insert(digits.size() - static_cast<size_t>(scale), 1, '.');
  } else if (scale < 0) {
    digits.append(static_cast<size_t>(-scale), '0');
  }
  return neg ? "-" + digits : digits;
}

std::string hex_text(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  const size_t n = std::min<size_t>(bytes.size(), 256);
  out.reserve(2 * n + 3);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  if (bytes.size() > n) out += "...";
  return out;
}

void float_value(JsonWriter& w, double v) {
  if (std::isnan(v)) {
    w.string("NaN");
  } else if (std::isinf(v)) {
    w.string(v > 0 ? "inf" : "-inf");
  } else {
    w.number(v);
  }
}

}  // namespace

bool ColumnState::has_quantiles() const {
  const DataType& vt = value_type(type_);
  return !kll_.is_empty() &&
         (is_numeric() || vt.id == TypeId::kDate32 || vt.id == TypeId::kDate64 ||
          vt.id == TypeId::kTimestamp || vt.id == TypeId::kTime32 || vt.id == TypeId::kTime64 ||
          vt.id == TypeId::kDuration);
}

// Orders the sketch's encodings of numbers (a tag byte, then the value's bytes) by value, so
// equal counts list 1, 2, 3 rather than the order of little-endian bytes.
namespace {
bool encoded_number_less(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty() || a[0] != b[0] || a.size() != b.size()) return a < b;
  auto load = [](std::string_view e, auto v) {
    std::memcpy(&v, e.data() + 1, sizeof v);
    return v;
  };
  switch (a[0]) {
    case 'i':
      if (a.size() == 9) return load(a, int64_t{}) < load(b, int64_t{});
      break;
    case 'u':
      if (a.size() == 9) return load(a, uint64_t{}) < load(b, uint64_t{});
      break;
    case 'f':
      if (a.size() == 9) return load(a, 0.0) < load(b, 0.0);
      break;
    case 'd':
      if (a.size() == 17) return load(a, __int128{}) < load(b, __int128{});
      break;
    case 't':  // canonical times: unit byte, then the value; compared in nanoseconds
      if (a.size() == 10 && static_cast<uint8_t>(a[1]) <= 3 && static_cast<uint8_t>(b[1]) <= 3) {
        auto nanos = [](std::string_view e) {
          __int128 v;
          int64_t raw;
          std::memcpy(&raw, e.data() + 2, 8);
          v = raw;
          for (int u = static_cast<uint8_t>(e[1]); u < 3; ++u) v *= 1000;
          return v;
        };
        return nanos(a) < nanos(b);
      }
      break;
  }
  return a < b;
}
}  // namespace

// A top or bottom value: a string or binary value longer than kTopValueBytes was kept as its
// first kTopValueBytes + 1 bytes; it is shown cut to at most kTopValueBytes (on a UTF-8
// character boundary) and marked with "…".
void ColumnState::render_top_value(JsonWriter& w, std::string_view enc) const {
  if (domain_ != ValueDomain::kBytes || enc.size() <= kTopValueBytes) return render_value(w, enc);
  const DataType& vt = value_type(type_);
  std::string_view cut = enc.substr(0, kTopValueBytes);
  if (vt.is_utf8()) {
    size_t end = cut.size();
    // Back off over continuation bytes to the start of the character that the cut split.
    while (end > 0 && (static_cast<uint8_t>(enc[end]) & 0xC0) == 0x80) --end;
    cut = cut.substr(0, end);
    w.string(std::string(cut) + "\xE2\x80\xA6");
  } else {
    w.string(hex_text(cut) + "\xE2\x80\xA6");
  }
}

void ColumnState::render_value(JsonWriter& w, std::string_view enc) const {
  const DataType& vt = value_type(type_);
  if (domain_ == ValueDomain::kBytes) {
    if (vt.is_utf8()) {
      w.string(enc);
    } else {
      w.string(hex_text(enc));
    }
    return;
  }
  if (enc.empty()) {
    w.null();
    return;
  }
  switch (enc[0]) {
    case 'i': {
      int64_t v;
      std::memcpy(&v, enc.data() + 1, 8);
      std::string text;
      if (format_temporal(vt, v, text)) {
        w.string(text);
      } else {
        w.number(v);
      }
      return;
    }
    case 't': {  // a timestamp or duration in canonical form (canonical_time), shown in ours
      int64_t v = 0, ours = 0;
      if (enc.size() == 10) std::memcpy(&v, enc.data() + 2, 8);
      std::string text;
      if (enc.size() != 10 || !rescale_time(v, static_cast<TimeUnit>(enc[1]), vt.unit, ours)) {
        w.null();
      } else if (format_temporal(vt, ours, text)) {
        w.string(text);
      } else {
        w.number(ours);
      }
      return;
    }
    case 'u': {
      uint64_t v;
      std::memcpy(&v, enc.data() + 1, 8);
      w.number(v);
      return;
    }
    case 'f': {
      double v;
      std::memcpy(&v, enc.data() + 1, 8);
      float_value(w, v);
      return;
    }
    case 'd': {
      __int128 v;
      std::memcpy(&v, enc.data() + 1, 16);
      w.string(decimal_text(v, vt.scale));
      return;
    }
    default:
      w.null();
  }
}

void ColumnState::render_quantile(JsonWriter& w, double v) const {
  std::string text;
  if (!is_numeric() && std::isfinite(v) &&
      format_temporal(value_type(type_), std::llround(v), text)) {
    w.string(text);
  } else {
    w.number(v);
  }
}

// Integers that fill their range min..max exactly once each, as far as the counts can tell: the
// range holds as many integers as the column has values and the distinct count's upper bound
// reaches that many. Past the exact distinct limit (4,096 values) `unique` is never proven, so an
// id column 1..n would otherwise be a plain integer; a column with a few repeats and as many gaps
// can pass too, which is fine for a type hint (is_unique stays what the sketch can prove).
bool ColumnState::is_sequential() const {
  const uint64_t non_null = rows_ - nulls_;
  if (!has_minmax_ || non_null == 0) return false;
  unsigned __int128 span = 0;  // max - min, exact for every int64/uint64 pair
  if (domain_ == ValueDomain::kInt) {
    span = static_cast<unsigned __int128>(static_cast<__int128>(imax_) - imin_);
  } else if (domain_ == ValueDomain::kUInt) {
    span = umax_ - umin_;
  } else {
    return false;
  }
  if (span != non_null - 1) return false;
  return hll_.is_exact() ? std::round(hll_.estimate()) == static_cast<double>(non_null)
                         : std::ceil(hll_.upper_bound(3)) >= static_cast<double>(non_null);
}

namespace {

// The types a text column's values can read as, by the patterns they match: a column is
// inferred the first one at least 90 % of its values match (kInferredTypeShare). The first
// kValueTypeRules are value types (what a CSV reader would type the column as); the others are
// semantic patterns.
struct TypeRule {
  const char* name;
  uint32_t mask;
};
using P = Pattern;
constexpr TypeRule kTypeRules[] = {
    {"boolean", pattern_bit(P::kBooleanString)},
    {"integer", pattern_bit(P::kIntegerString)},
    {"float", pattern_bit(P::kIntegerString) | pattern_bit(P::kFloatString)},
    {"date", pattern_bit(P::kIsoDate)},
    {"datetime", pattern_bit(P::kIsoDatetime)},
    {"uuid", pattern_bit(P::kUuid)},
    {"email", pattern_bit(P::kEmail)},
    {"url", pattern_bit(P::kUrl)},
    {"ip_address", pattern_bit(P::kIpv4) | pattern_bit(P::kIpv6)},
    {"phone", pattern_bit(P::kPhone)},
    {"korean_phone", pattern_bit(P::kKoreanPhone)},
    {"json", pattern_bit(P::kJson)},
    {"currency", pattern_bit(P::kCurrencyString)},
    {"percentage", pattern_bit(P::kPercentageString)},
    {"credit_card", pattern_bit(P::kCreditCard)},
    {"korean_rrn", pattern_bit(P::kKoreanRrn)},
    {"korean_business_number", pattern_bit(P::kKoreanBusinessNumber)},
};
constexpr size_t kValueTypeRules = 5;

using PatternCounts = std::array<uint64_t, kPatternCount>;

// The share of `checked` values that match any pattern of `mask`.
double pattern_share(const PatternCounts& counts, uint64_t checked, uint32_t mask) {
  uint64_t c = 0;
  for (size_t p = 0; p < kPatternCount; ++p) {
    if (mask & (1u << p)) c += counts[p];
  }
  return static_cast<double>(c) / static_cast<double>(checked);
}

// The first rule that at least `share` of the checked values match, or nullptr.
const TypeRule* pattern_type(const PatternCounts& counts, uint64_t checked, double share) {
  if (checked == 0) return nullptr;
  for (const auto& rule : kTypeRules) {
    if (pattern_share(counts, checked, rule.mask) >= share) return &rule;
  }
  return nullptr;
}

}  // namespace

std::string ColumnState::inferred_type(double distinct, bool unique) const {
  const DataType& vt = value_type(type_);
  const uint64_t non_null = rows_ - nulls_;
  if (non_null == 0) return "null";
  switch (vt.id) {
    case TypeId::kBool:
      return "boolean";
    case TypeId::kDate32:
    case TypeId::kDate64:
      return "date";
    case TypeId::kTimestamp:
      return "datetime";
    case TypeId::kTime32:
    case TypeId::kTime64:
      return "time";
    case TypeId::kDuration:
      return "duration";
    case TypeId::kDecimal:
      return "decimal";
    case TypeId::kFloat16:
    case TypeId::kFloat32:
    case TypeId::kFloat64:
      return "float";
    case TypeId::kList:
    case TypeId::kLargeList:
    case TypeId::kFixedSizeList:
      return "list";
    case TypeId::kMap:
      return "map";
    case TypeId::kOther:
      return "other";
    default:
      break;
  }
  if (vt.is_integer()) {
    return non_null >= kMinRowsForCardinality && (unique || is_sequential()) ? "identifier"
                                                                             : "integer";
  }
  if (!vt.is_utf8()) return "binary";
  if (const TypeRule* rule = pattern_type(pattern_counts_, pattern_checked_, kInferredTypeShare)) {
    return rule->name;
  }
  if (unique && non_null >= kMinRowsForCardinality) return "identifier";
  if (distinct / static_cast<double>(non_null) <= 0.05) return "categorical";
  return "string";
}

ColumnState::DistinctEstimate ColumnState::distinct_estimate() const {
  const uint64_t non_null = rows_ - nulls_;
  const bool sketched = domain_ == ValueDomain::kInt || domain_ == ValueDomain::kUInt ||
                        domain_ == ValueDomain::kFloat || domain_ == ValueDomain::kDecimal ||
                        domain_ == ValueDomain::kBytes;
  DistinctEstimate e;
  if (domain_ == ValueDomain::kBool) {
    e.value = e.lower = e.upper = (true_ > 0) + (false_ > 0);
  } else if (sketched) {
    e.approximate = !hll_.is_exact();
    e.value = std::min(std::round(hll_.estimate()), static_cast<double>(non_null));
    e.lower = std::min(std::floor(hll_.lower_bound(3)), e.value);
    e.upper = std::min(std::ceil(hll_.upper_bound(3)), static_cast<double>(non_null));
    e.upper = std::max(e.upper, e.value);
    if (non_null > 0) e.lower = std::max(e.lower, 1.0);
  } else if (domain_ != ValueDomain::kNone) {
    e.known = false;
  }
  return e;
}

bool ColumnState::is_unique(const DistinctEstimate& e) const {
  const uint64_t non_null = rows_ - nulls_;
  return e.known && non_null > 0 && e.value == static_cast<double>(non_null);
}

// The figures finalize has not already worked out (which are the distinct estimate, the
// inferred type and the top value: finalize passes them).
ColumnAlertFigures ColumnState::alert_figures(const DistinctEstimate& est,
                                              const std::string& inferred) const {
  const DataType& vt = value_type(type_);
  ColumnAlertFigures f;
  f.name = name_;
  f.rows = rows_;
  f.nulls = nulls_;
  f.distinct_known = est.known;
  f.distinct = est.value;
  f.inferred_type = inferred;
  const bool text = vt.is_utf8();
  f.free_text = text && inferred == "string";
  f.categorical_kind = text || domain_ == ValueDomain::kBool;
  if (is_numeric()) {
    f.zeros = zero_;
    const double skew = moments_.n > 0 ? moments_.skewness() : std::nan("");
    if (std::isfinite(skew)) f.skewness = skew;
  }
  if (domain_ == ValueDomain::kFloat) f.infinite = inf_;
  if (domain_ == ValueDomain::kBool && (true_ > 0 || false_ > 0)) {
    f.top_value = true_ >= false_ ? "true" : "false";
    f.top_count_lower = std::max(true_, false_);
  }
  // A text column that did not get a type from its patterns: which value type most of it reads
  // as (mixed types when that share is above the floor but under the 90 % that makes a type).
  const bool untyped =
      inferred == "string" || inferred == "categorical" || inferred == "identifier";
  if (text && untyped && pattern_checked_ > 0) {
    for (size_t i = 0; i < kValueTypeRules; ++i) {
      const double share = pattern_share(pattern_counts_, pattern_checked_, kTypeRules[i].mask);
      if (!f.likeliest_type || share > f.likeliest_share) {
        f.likeliest_type = kTypeRules[i].name;
        f.likeliest_share = share;
      }
    }
  }
  return f;
}

// The most frequent value of a sketched column as an alert message shows it: text as it is,
// numbers, dates and hex as the result writes them (without JSON quotes).
void ColumnState::note_top_value(ColumnAlertFigures& f, const FrequentItems::Row& top) const {
  if (value_type(type_).is_utf8()) {
    f.top_value = top.value;
  } else {
    JsonWriter w;
    render_top_value(w, top.value);
    std::string v = w.take();
    f.top_value = v.size() >= 2 && v.front() == '"' ? v.substr(1, v.size() - 2) : v;
  }
  f.top_count_lower = top.lower_bound;
}

double ColumnState::mean_value() const {
  return domain_ == ValueDomain::kInt || domain_ == ValueDomain::kUInt
             ? exact_mean(isum_, moments_.n)
             : moments_.mean;
}

void ColumnState::finalize(JsonWriter& w, const ProfileOptions& o,
                           ColumnAlertFigures* figures) const {
  const DataType& vt = value_type(type_);
  const uint64_t non_null = rows_ - nulls_;
  const bool sketched = domain_ == ValueDomain::kInt || domain_ == ValueDomain::kUInt ||
                        domain_ == ValueDomain::kFloat || domain_ == ValueDomain::kDecimal ||
                        domain_ == ValueDomain::kBytes;
  const bool temporal = vt.is_temporal();

  // distinct counts
  const DistinctEstimate est = distinct_estimate();
  const bool distinct_known = est.known, distinct_approx = est.approximate;
  const double distinct = est.value, lower = est.lower, upper = est.upper;
  const bool unique = is_unique(est);
  const std::string inferred = inferred_type(distinct, unique);
  if (figures != nullptr) *figures = alert_figures(est, inferred);

  w.begin_object();
  w.field_string("name", name_);
  w.field_string("physical_type", type_.to_string());
  w.field_string("inferred_type", inferred);
  w.field("row_count", rows_);
  w.field("null_count", nulls_);
  w.field("null_ratio", rows_ ? static_cast<double>(nulls_) / static_cast<double>(rows_) : 0.0);
  auto count_or_null = [&](const char* k, bool applies, uint64_t v) {
    if (applies) {
      w.field(k, v);
    } else {
      w.field_null(k);
    }
  };
  count_or_null("empty_string_count", domain_ == ValueDomain::kBytes, empty_);
  count_or_null("nan_count", domain_ == ValueDomain::kFloat, nan_);
  count_or_null("inf_count", domain_ == ValueDomain::kFloat, inf_);
  count_or_null("zero_count", is_numeric(), zero_);
  count_or_null("negative_count", is_numeric(), negative_);

  if (distinct_known) {
    w.field("distinct_count", static_cast<uint64_t>(distinct));
    w.field("distinct_count_lower", static_cast<uint64_t>(lower));
    w.field("distinct_count_upper", static_cast<uint64_t>(upper));
    w.field("distinct_approximate", distinct_approx);
    if (non_null > 0) {
      w.field("unique_ratio", distinct / static_cast<double>(non_null));
    } else {
      w.field_null("unique_ratio");
    }
    w.field("is_unique", unique);
    w.field("is_constant", non_null > 0 && nulls_ == 0 && distinct == 1);
  } else {
    for (const char* k : {"distinct_count", "distinct_count_lower", "distinct_count_upper",
                          "distinct_approximate", "unique_ratio", "is_unique", "is_constant"}) {
      w.field_null(k);
    }
  }

  // moments
  if (is_numeric() && moments_.n > 0) {
    w.field("mean", mean_value());
    const double var = moments_.variance_sample();
    w.field("std", std::sqrt(var));
    w.field("variance", var);
    w.field("skewness", moments_.skewness());
    w.field("kurtosis", moments_.kurtosis());
  } else {
    for (const char* k : {"mean", "std", "variance", "skewness", "kurtosis"}) w.field_null(k);
  }

  // min / max
  auto minmax = [&](const char* k, bool is_min) {
    w.key(k);
    if (domain_ == ValueDomain::kBool) {
      if (non_null == 0) {
        w.null();
      } else {
        w.boolean(is_min ? false_ == 0 : true_ > 0);
      }
      return;
    }
    if (!has_minmax_) {
      w.null();
      return;
    }
    char buf[17];
    switch (domain_) {
      case ValueDomain::kInt: {
        buf[0] = 'i';
        const int64_t v = is_min ? imin_ : imax_;
        std::memcpy(buf + 1, &v, 8);
        return render_value(w, std::string_view(buf, 9));
      }
      case ValueDomain::kUInt:
        return (void)w.number(is_min ? umin_ : umax_);
      case ValueDomain::kFloat:
        return (void)w.number(is_min ? fmin_ : fmax_);
      case ValueDomain::kDecimal:
        return (void)w.string(decimal_text(is_min ? dmin_ : dmax_, vt.scale));
      case ValueDomain::kBytes:
        return render_value(w, is_min ? smin_ : smax_);
      default:
        w.null();
    }
  };
  minmax("min", true);
  minmax("max", false);

  // quantiles and histogram
  if (has_quantiles()) {
    w.key("median");
    render_quantile(w, kll_.quantile(0.5));
    w.key("q1");
    render_quantile(w, kll_.quantile(0.25));
    w.key("q3");
    render_quantile(w, kll_.quantile(0.75));
    w.key("quantiles").begin_object();
    for (const auto& [name, rank] : kReportedQuantiles) {
      w.key(name);
      render_quantile(w, kll_.quantile(rank));
    }
    w.end_object();
    w.field("quantiles_approximate", !kll_.is_exact());
    w.field("quantile_rank_error", kll_.normalized_rank_error());
  } else {
    for (const char* k :
         {"median", "q1", "q3", "quantiles", "quantiles_approximate", "quantile_rank_error"}) {
      w.field_null(k);
    }
  }
  // Numeric and temporal columns: temporal edges are values of the column (ISO 8601 text, rounded
  // to its unit), as its quantiles are.
  if (has_quantiles()) {
    const double lo = kll_.min(), hi = kll_.max();
    const uint32_t bins = lo == hi ? 1 : o.histogram_bins;
    const auto counts = kll_.histogram(lo, hi, bins);
    w.key("histogram").begin_object();
    w.key("edges").begin_array();
    for (uint32_t i = 0; i <= bins; ++i) {
      render_quantile(w, i == bins ? hi : lo + (hi - lo) * static_cast<double>(i) / bins);
    }
    w.end_array();
    w.key("counts").begin_array();
    for (uint64_t c : counts) w.number(c);
    w.end_array();
    w.field("approximate", !kll_.is_exact());
    w.end_object();
  } else {
    w.field_null("histogram");
  }

  // top and bottom values
  auto value_row = [&](auto render, uint64_t count, uint64_t lo, uint64_t hi) {
    w.begin_object();
    w.key("value");
    render();
    w.field("count", count);
    w.field("ratio", non_null ? static_cast<double>(count) / static_cast<double>(non_null) : 0.0);
    w.field("count_lower", lo);
    w.field("count_upper", hi);
    w.end_object();
  };
  if (domain_ == ValueDomain::kBool) {
    std::vector<std::pair<bool, uint64_t>> rows;
    if (true_ > 0) rows.emplace_back(true, true_);
    if (false_ > 0) rows.emplace_back(false, false_);
    std::stable_sort(rows.begin(), rows.end(),
                     [](auto& a, auto& b) { return a.second > b.second; });
    if (rows.size() > o.top_n) rows.resize(o.top_n);
    w.key("top_values").begin_array();
    for (auto& [v, c] : rows) value_row([&] { w.boolean(v); }, c, c, c);
    w.end_array();
    w.field("top_values_approximate", false);
    w.key("bottom_values").begin_array();
    for (auto it = rows.rbegin(); it != rows.rend(); ++it)
      value_row([&] { w.boolean(it->first); }, it->second, it->second, it->second);
    w.end_array();
    w.field_null("top_values_note");
  } else if (sketched) {
    w.key("top_values").begin_array();
    const FrequentItems::ValueLess less =
        domain_ == ValueDomain::kBytes ? nullptr : encoded_number_less;
    // The alerts want the top value even when no top values are reported.
    auto top = freq_.top(std::max<size_t>(o.top_n, figures != nullptr ? 1 : 0), less);
    if (figures != nullptr && !top.empty()) note_top_value(*figures, top[0]);
    if (top.size() > o.top_n) top.resize(o.top_n);
    for (const auto& r : top) {
      value_row([&] { render_top_value(w, r.value); }, r.estimate, r.lower_bound, r.upper_bound);
    }
    w.end_array();
    w.field("top_values_approximate", !freq_.is_exact());
    if (freq_.is_exact()) {
      w.key("bottom_values").begin_array();
      for (const auto& r : freq_.bottom(o.top_n, less)) {
        value_row([&] { render_top_value(w, r.value); }, r.estimate, r.lower_bound, r.upper_bound);
      }
      w.end_array();
    } else {
      w.field_null("bottom_values");
    }
    if (!freq_.is_exact() && top.size() < o.top_n) {
      // Fewer values than asked for are guaranteed heavy hitters: say what the others can be.
      const uint64_t most = 2 * freq_.maximum_error();
      std::string note = top.empty() ? "no value is certain to occur more than "
                                     : "only these values are certain to occur more than ";
      note += std::to_string(freq_.maximum_error()) + " times; every other value occurs at most " +
              std::to_string(most) + " times";
      w.field_string("top_values_note", note);
    } else {
      w.field_null("top_values_note");
    }
  } else {
    for (const char* k :
         {"top_values", "top_values_approximate", "bottom_values", "top_values_note"})
      w.field_null(k);
  }

  // lengths (characters for strings, bytes for binaries, elements for lists)
  if ((domain_ == ValueDomain::kBytes || domain_ == ValueDomain::kList) && len_count_ > 0) {
    w.field("min_length", len_min_);
    w.field("max_length", len_max_);
    w.field("avg_length", static_cast<double>(len_sum_) / static_cast<double>(len_count_));
  } else {
    for (const char* k : {"min_length", "max_length", "avg_length"}) w.field_null(k);
  }
  count_or_null("true_count", domain_ == ValueDomain::kBool, true_);
  count_or_null("false_count", domain_ == ValueDomain::kBool, false_);

  const bool dated =
      vt.id == TypeId::kDate32 || vt.id == TypeId::kDate64 || vt.id == TypeId::kTimestamp;
  if (dated && has_minmax_) {
    std::string a, b;
    format_temporal(vt, imin_, a);
    format_temporal(vt, imax_, b);
    w.field_string("min_date", a);
    w.field_string("max_date", b);
  } else {
    w.field_null("min_date");
    w.field_null("max_date");
  }
  (void)temporal;

  // patterns
  if (vt.is_utf8() && detect_patterns_) {
    std::vector<size_t> found;
    for (size_t p = 0; p < kPatternCount; ++p) {
      if (pattern_checked_ > 0 && static_cast<double>(pattern_counts_[p]) >=
                                      o.pattern_threshold * static_cast<double>(pattern_checked_)) {
        found.push_back(p);
      }
    }
    std::stable_sort(found.begin(), found.end(),
                     [&](size_t a, size_t b) { return pattern_counts_[a] > pattern_counts_[b]; });
    w.key("detected_patterns").begin_array();
    for (size_t p : found) {
      w.begin_object();
      w.field_string("name", pattern_name(static_cast<Pattern>(p)));
      w.field("match_ratio",
              static_cast<double>(pattern_counts_[p]) / static_cast<double>(pattern_checked_));
      w.field("match_count", pattern_counts_[p]);
      w.key("samples").begin_array();
      for (const auto& s : pattern_samples_list_[p]) w.string(s);
      w.end_array();
      w.end_object();
    }
    w.end_array();
  } else {
    w.field_null("detected_patterns");
  }
  w.end_object();
}

}  // namespace truthound
