#include "truthound/monitor/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "truthound/util/error.hpp"

namespace truthound::monitor {

double quantile_of_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  q = std::clamp(q, 0.0, 1.0);
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

std::string sanitize_metric_name(const std::string& name) {
  std::string out;
  out.reserve(name.size() + 1);
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == ':';
    out.push_back(ok ? c : '_');
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out.insert(out.begin(), '_');
  return out;
}

std::string escape_label_value(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string format_sample_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

void MetricsRegistry::Series::add(double v, size_t max_samples) {
  if (count == 0) {
    min = max = v;
  } else {
    min = std::min(min, v);
    max = std::max(max, v);
  }
  ++count;
  sum += v;
  if (max_samples == 0) return;
  window.push_back(v);
  if (window.size() > max_samples) window.pop_front();
}

DurationSummary MetricsRegistry::Series::summary(const std::string& type,
                                                 const std::vector<double>& qs) const {
  DurationSummary s;
  s.task_type = type;
  s.count = count;
  s.sum = sum;
  s.min = min;
  s.max = max;
  s.mean = count > 0 ? sum / static_cast<double>(count) : 0.0;
  if (!qs.empty()) {
    std::vector<double> sorted(window.begin(), window.end());
    std::sort(sorted.begin(), sorted.end());
    for (double q : qs) s.quantiles.emplace_back(q, quantile_of_sorted(sorted, q));
  }
  return s;
}

MetricsRegistry::MetricsRegistry(MetricsConfig config) : config_(std::move(config)) {
  for (double q : config_.percentiles) {
    if (!(q >= 0.0 && q <= 1.0)) {
      throw InvalidArgumentError("percentiles must be in [0, 1], got " + format_sample_value(q));
    }
  }
  std::sort(config_.percentiles.begin(), config_.percentiles.end());
  config_.percentiles.erase(std::unique(config_.percentiles.begin(), config_.percentiles.end()),
                            config_.percentiles.end());
  if (config_.prefix.empty()) throw InvalidArgumentError("the metric prefix must not be empty");
  config_.prefix = sanitize_metric_name(config_.prefix);
}

std::vector<double> MetricsRegistry::configured_quantiles() const {
  return config_.enable_percentiles ? config_.percentiles : std::vector<double>{};
}

void MetricsRegistry::record_task_duration(const std::string& task_type, double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) {
    throw InvalidArgumentError("a task duration must be a finite number >= 0, got " +
                               format_sample_value(seconds));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  all_.add(seconds, config_.max_samples);
  by_type_[task_type].add(seconds, config_.max_samples);
}

void MetricsRegistry::record_partition_progress(int64_t partition, double fraction) {
  std::lock_guard<std::mutex> lock(mutex_);
  partitions_[partition] = std::clamp(fraction, 0.0, 1.0);
}

void MetricsRegistry::record_worker_metric(const std::string& worker, const std::string& name,
                                           double value) {
  std::lock_guard<std::mutex> lock(mutex_);
  workers_[worker][name] = value;
}

void MetricsRegistry::remove_worker(const std::string& worker) {
  std::lock_guard<std::mutex> lock(mutex_);
  workers_.erase(worker);
}

void MetricsRegistry::increment_counter(const std::string& name, double by) {
  if (!(by >= 0)) throw InvalidArgumentError("a counter only goes up: increment by a value >= 0");
  std::lock_guard<std::mutex> lock(mutex_);
  counters_[name] += by;
}

void MetricsRegistry::set_gauge(const std::string& name, double value) {
  std::lock_guard<std::mutex> lock(mutex_);
  gauges_[name] = value;
}

double MetricsRegistry::counter(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = counters_.find(name);
  return it == counters_.end() ? 0.0 : it->second;
}

void MetricsRegistry::reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  all_ = Series{};
  by_type_.clear();
  counters_.clear();
  gauges_.clear();
  workers_.clear();
  partitions_.clear();
}

MetricsSnapshot MetricsRegistry::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  MetricsSnapshot s;
  const std::vector<double> qs = configured_quantiles();
  s.counters.assign(counters_.begin(), counters_.end());
  s.gauges.assign(gauges_.begin(), gauges_.end());
  s.all = all_.summary("", qs);
  for (const auto& [type, series] : by_type_) s.by_type.push_back(series.summary(type, qs));
  for (const auto& [worker, metrics] : workers_) {
    s.workers.emplace_back(
        worker, std::vector<std::pair<std::string, double>>(metrics.begin(), metrics.end()));
  }
  s.partition_progress.assign(partitions_.begin(), partitions_.end());
  return s;
}

std::vector<double> MetricsRegistry::duration_quantiles(const std::vector<double>& qs) const {
  std::vector<double> sorted;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    sorted.assign(all_.window.begin(), all_.window.end());
  }
  std::sort(sorted.begin(), sorted.end());
  std::vector<double> out;
  out.reserve(qs.size());
  for (double q : qs) out.push_back(quantile_of_sorted(sorted, q));
  return out;
}

namespace {

// Writes one metric family of the text format.
class Exposition {
 public:
  Exposition(const std::string& prefix,
             const std::vector<std::pair<std::string, std::string>>& labels)
      : prefix_(prefix) {
    for (const auto& [k, v] : labels) {
      const_labels_ += sanitize_metric_name(k) + "=\"" + escape_label_value(v) + "\",";
    }
  }

  void family(const std::string& name, const char* type, const std::string& help) {
    out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }

  void sample(const std::string& name,
              const std::vector<std::pair<std::string, std::string>>& labels, double value) {
    // appends only: GCC 12 warns (-Wrestrict, bug 105329) on `"{" + text + "}"`
    out_ += name;
    std::string text = const_labels_;
    for (const auto& [k, v] : labels) {
      text += k;
      text += "=\"";
      text += escape_label_value(v);
      text += "\",";
    }
    if (!text.empty()) {
      text.back() = '}';
      out_ += '{';
      out_ += text;
    }
    out_ += ' ';
    out_ += format_sample_value(value);
    out_ += '\n';
  }

  std::string name(const std::string& base) const { return prefix_ + "_" + base; }
  std::string take() { return std::move(out_); }

 private:
  std::string prefix_;
  std::string const_labels_;
  std::string out_;
};

std::string strip_suffix(std::string s, const std::string& suffix) {
  if (s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0) {
    s.resize(s.size() - suffix.size());
  }
  return s;
}

}  // namespace

std::string MetricsRegistry::export_prometheus() const {
  const MetricsSnapshot s = snapshot();
  Exposition e(config_.prefix, config_.labels);

  if (!s.by_type.empty()) {
    const std::string name = e.name("task_duration_seconds");
    e.family(name, "summary", "Duration of finished tasks, by task type.");
    for (const DurationSummary& d : s.by_type) {
      for (const auto& [q, v] : d.quantiles) {
        e.sample(name, {{"task_type", d.task_type}, {"quantile", format_sample_value(q)}}, v);
      }
      e.sample(name + "_sum", {{"task_type", d.task_type}}, d.sum);
      e.sample(name + "_count", {{"task_type", d.task_type}}, static_cast<double>(d.count));
    }
  }
  for (const auto& [raw, value] : s.counters) {
    const std::string name = e.name(strip_suffix(sanitize_metric_name(raw), "_total") + "_total");
    e.family(name, "counter", "Count of " + sanitize_metric_name(raw) + ".");
    e.sample(name, {}, value);
  }
  for (const auto& [raw, value] : s.gauges) {
    const std::string name = e.name(sanitize_metric_name(raw));
    e.family(name, "gauge", "Current " + sanitize_metric_name(raw) + ".");
    e.sample(name, {}, value);
  }
  if (!s.partition_progress.empty()) {
    double sum = 0;
    for (const auto& [p, f] : s.partition_progress) sum += f;
    const std::string name = e.name("partition_progress_mean_ratio");
    e.family(name, "gauge", "Mean progress (0..1) of the partitions reported so far.");
    e.sample(name, {}, sum / static_cast<double>(s.partition_progress.size()));
  }
  // per-worker gauges, one family per metric name
  std::map<std::string, std::vector<std::pair<std::string, double>>> by_metric;
  for (const auto& [worker, metrics] : s.workers) {
    for (const auto& [metric, value] : metrics) by_metric[metric].emplace_back(worker, value);
  }
  for (const auto& [metric, values] : by_metric) {
    const std::string name = e.name("worker_" + sanitize_metric_name(metric));
    e.family(name, "gauge", "Last reported " + sanitize_metric_name(metric) + " of each worker.");
    for (const auto& [worker, value] : values) e.sample(name, {{"worker", worker}}, value);
  }
  return e.take();
}

}  // namespace truthound::monitor
