// ColumnState::diff: what changed in one column between two profiles (profile/diff.hpp).
#include <algorithm>
#include <array>
#include <cmath>
#include <unordered_map>
#include <utility>
#include <vector>

#include "truthound/profile/column_state.hpp"

namespace truthound {

namespace {

// The share a bin must at least have in the PSI, so an empty bin on one side gives a large but
// finite term (the usual smoothing; ln(0.5 / 1e-4) = 8.5).
constexpr double kPsiFloor = 1e-4;

double ratio(uint64_t part, uint64_t whole) {
  return whole ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

// {"base", "current", "change", "relative_change"}: relative_change is change / |base|, null
// when base is 0.
void change_object(JsonWriter& w, std::string_view key, double base, double current,
                   bool relative) {
  w.key(key).begin_object();
  w.field("base", base);
  w.field("current", current);
  w.field("change", current - base);
  if (relative) {
    if (base != 0) {
      w.field("relative_change", (current - base) / std::abs(base));
    } else {
      w.field_null("relative_change");
    }
  }
  w.end_object();
}

}  // namespace

void ColumnState::diff(JsonWriter& w, const ColumnState& cur, const ProfileOptions& o) const {
  const uint64_t base_non_null = rows_ - nulls_, cur_non_null = cur.rows_ - cur.nulls_;
  w.begin_object();
  w.field_string("name", name_);
  const std::string base_type = type_.to_string(), cur_type = cur.type_.to_string();
  w.field_string("base_type", base_type);
  w.field_string("current_type", cur_type);
  w.field("type_changed", base_type != cur_type);
  change_object(w, "null_ratio", ratio(nulls_, rows_), ratio(cur.nulls_, cur.rows_), false);

  // distinct counts: "beyond_bounds" when each estimate lies outside the other's bounds, so
  // sketch noise alone cannot explain the change
  const DistinctEstimate db = distinct_estimate(), dc = cur.distinct_estimate();
  if (db.known && dc.known) {
    w.key("distinct_count").begin_object();
    w.field("base", static_cast<uint64_t>(db.value));
    w.field("base_lower", static_cast<uint64_t>(db.lower));
    w.field("base_upper", static_cast<uint64_t>(db.upper));
    w.field("current", static_cast<uint64_t>(dc.value));
    w.field("current_lower", static_cast<uint64_t>(dc.lower));
    w.field("current_upper", static_cast<uint64_t>(dc.upper));
    w.field("change", dc.value - db.value);
    if (db.value != 0) {
      w.field("relative_change", (dc.value - db.value) / db.value);
    } else {
      w.field_null("relative_change");
    }
    w.field("beyond_bounds", (dc.value < db.lower || dc.value > db.upper) &&
                                 (db.value < dc.lower || db.value > dc.upper));
    w.end_object();
  } else {
    w.field_null("distinct_count");
  }

  const bool numeric = is_numeric() && cur.is_numeric();
  if (numeric && moments_.n > 0 && cur.moments_.n > 0) {
    change_object(w, "mean", mean_value(), cur.mean_value(), true);
    change_object(w, "std", std::sqrt(moments_.variance_sample()),
                  std::sqrt(cur.moments_.variance_sample()), true);
  } else {
    w.field_null("mean");
    w.field_null("std");
  }

  // Temporal columns of one type compare their distributions too (their sketches hold values
  // in the same unit), but not their quantiles, which would be raw ticks of that unit.
  const bool temporal_alike = !numeric && base_type == cur_type && has_quantiles();
  if ((numeric || temporal_alike) && !kll_.is_empty() && !cur.kll_.is_empty()) {
    if (numeric) {
      w.key("quantiles").begin_object();
      for (const auto& [name, rank] : kReportedQuantiles) {
        change_object(w, name, kll_.quantile(rank), cur.kll_.quantile(rank), false);
      }
      w.end_object();
    } else {
      w.field_null("quantiles");
    }
    // PSI over the base histogram's bins: current values beyond the base's range count in
    // the end bins (KllSketch::histogram), so a shifted column fills them.
    const double lo = kll_.min(), hi = kll_.max();
    const uint32_t bins = lo == hi ? 1 : o.histogram_bins;
    const auto hb = kll_.histogram(lo, hi, bins), hc = cur.kll_.histogram(lo, hi, bins);
    double psi = 0;
    for (uint32_t i = 0; i < bins; ++i) {
      const double pb = std::max(ratio(hb[i], kll_.n()), kPsiFloor);
      const double pc = std::max(ratio(hc[i], cur.kll_.n()), kPsiFloor);
      psi += (pc - pb) * std::log(pc / pb);
    }
    w.field("psi", psi);
    w.field("psi_bins", bins);
    w.key("ks").begin_object();
    w.field("statistic", KllSketch::ks_statistic(kll_, cur.kll_));
    w.field("bound", kll_.normalized_rank_error() + cur.kll_.normalized_rank_error());
    w.field("exact", kll_.is_exact() && cur.kll_.is_exact());
    w.end_object();
  } else {
    for (const char* k : {"quantiles", "psi", "psi_bins", "ks"}) w.field_null(k);
  }

  // top-value shares: every value in either side's top_n, with its share of non-null values on
  // both sides (0 where a side's sketch does not hold it)
  double top_change = 0;
  w.key("top_values").begin_array();
  auto share_row = [&](auto render, double pb, double pc) {
    w.begin_object();
    w.key("value");
    render();
    w.field("base_ratio", pb);
    w.field("current_ratio", pc);
    w.field("change", pc - pb);
    w.end_object();
    top_change = std::max(top_change, std::abs(pc - pb));
  };
  if (domain_ == ValueDomain::kBool && cur.domain_ == ValueDomain::kBool) {
    share_row([&] { w.boolean(true); }, ratio(true_, base_non_null),
              ratio(cur.true_, cur_non_null));
    share_row([&] { w.boolean(false); }, ratio(false_, base_non_null),
              ratio(cur.false_, cur_non_null));
  } else if (domain_ == cur.domain_ && !freq_.is_empty() && !cur.freq_.is_empty() &&
             domain_ != ValueDomain::kList && domain_ != ValueDomain::kOther) {
    const auto all_b = freq_.top(freq_.num_items()), all_c = cur.freq_.top(cur.freq_.num_items());
    std::unordered_map<uint64_t, uint64_t> count_b, count_c;
    for (const auto& r : all_b) count_b.emplace(r.hash, r.estimate);
    for (const auto& r : all_c) count_c.emplace(r.hash, r.estimate);
    std::unordered_map<uint64_t, bool> seen;
    auto emit = [&](const FrequentItems::Row& r, const ColumnState& owner) {
      if (!seen.emplace(r.hash, true).second) return;
      const auto b = count_b.find(r.hash);
      const auto c = count_c.find(r.hash);
      share_row([&] { owner.render_top_value(w, r.value); },
                ratio(b == count_b.end() ? 0 : b->second, base_non_null),
                ratio(c == count_c.end() ? 0 : c->second, cur_non_null));
    };
    for (size_t i = 0; i < all_b.size() && i < o.top_n; ++i) emit(all_b[i], *this);
    for (size_t i = 0; i < all_c.size() && i < o.top_n; ++i) emit(all_c[i], cur);
  }
  w.end_array();
  w.field("top_share_change", top_change);

  // pattern match ratios: every pattern that matched on either side
  double pattern_change = 0;
  w.key("patterns").begin_array();
  for (size_t p = 0; p < kPatternCount; ++p) {
    if (pattern_counts_[p] == 0 && cur.pattern_counts_[p] == 0) continue;
    const double pb = ratio(pattern_counts_[p], pattern_checked_);
    const double pc = ratio(cur.pattern_counts_[p], cur.pattern_checked_);
    w.begin_object();
    w.field_string("name", pattern_name(static_cast<Pattern>(p)));
    w.field("base_ratio", pb);
    w.field("current_ratio", pc);
    w.field("change", pc - pb);
    w.end_object();
    pattern_change = std::max(pattern_change, std::abs(pc - pb));
  }
  w.end_array();
  w.field("pattern_change", pattern_change);
  w.end_object();
}

}  // namespace truthound
