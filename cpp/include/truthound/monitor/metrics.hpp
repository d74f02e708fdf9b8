// Metric series of a run: task durations (by task type, with percentiles), counters, gauges,
// per-worker gauges and partition progress, exported in the Prometheus text format (0.0.4).
// Thread-safe (one mutex, nothing called outside while it is held).
//
// Durations keep exact count, sum, min and max over every sample; percentiles are exact over
// the last `max_samples` samples of each series (linear interpolation between the two closest
// ranks, as numpy's default). Exported names: `<prefix>_` + the name, counters end in `_total`,
// durations in `_seconds`; labels are the worker and the task type, never a value or a file.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace truthound::monitor {

struct MetricsConfig {
  std::vector<double> percentiles{0.5, 0.75, 0.9, 0.95, 0.99};  // each in [0, 1]
  bool enable_percentiles = true;
  size_t max_samples = 10000;  // kept per duration series for percentiles
  std::string prefix = "truthound";
  std::vector<std::pair<std::string, std::string>> labels;  // added to every exported sample
};

struct DurationSummary {
  std::string task_type;  // "" for all types together
  int64_t count = 0;
  double sum = 0.0;
  double min = 0.0;
  double max = 0.0;
  double mean = 0.0;
  std::vector<std::pair<double, double>> quantiles;  // (q, seconds) for the configured q
};

struct MetricsSnapshot {
  std::vector<std::pair<std::string, double>> counters;  // by name
  std::vector<std::pair<std::string, double>> gauges;    // by name
  DurationSummary all;                                   // every task type together
  std::vector<DurationSummary> by_type;                  // by task type
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, double>>>> workers;
  std::vector<std::pair<int64_t, double>> partition_progress;  // by partition
};

// The q-quantile of sorted values, linear between the closest ranks; NaN when empty.
double quantile_of_sorted(const std::vector<double>& sorted, double q);

class MetricsRegistry {
 public:
  explicit MetricsRegistry(MetricsConfig config = {});

  void record_task_duration(const std::string& task_type, double seconds);
  void record_partition_progress(int64_t partition, double fraction);
  void record_worker_metric(const std::string& worker, const std::string& name, double value);
  void remove_worker(const std::string& worker);
  void increment_counter(const std::string& name, double by = 1.0);
  void set_gauge(const std::string& name, double value);
  double counter(const std::string& name) const;  // 0 when never incremented
  void reset();

  MetricsSnapshot snapshot() const;
  std::string export_prometheus() const;
  // Quantiles of every duration recorded so far (all types), for any q, not only the configured.
  std::vector<double> duration_quantiles(const std::vector<double>& qs) const;
  const MetricsConfig& config() const { return config_; }

 private:
  struct Series {
    int64_t count = 0;
    double sum = 0.0;
    double min = 0.0;
    double max = 0.0;
    std::deque<double> window;
    void add(double v, size_t max_samples);
    DurationSummary summary(const std::string& type, const std::vector<double>& qs) const;
  };
  std::vector<double> configured_quantiles() const;

  MetricsConfig config_;
  mutable std::mutex mutex_;
  Series all_;
  std::map<std::string, Series> by_type_;
  std::map<std::string, double> counters_;
  std::map<std::string, double> gauges_;
  std::map<std::string, std::map<std::string, double>> workers_;
  std::map<int64_t, double> partitions_;
};

// A metric name made of [a-zA-Z0-9_:] (others become '_'; a leading digit gets a '_' before it).
std::string sanitize_metric_name(const std::string& name);
// A label value escaped for the text format (backslash, double quote, newline).
std::string escape_label_value(const std::string& value);
// A sample value as the text format writes it: shortest round-trip, NaN, +Inf, -Inf.
std::string format_sample_value(double v);

}  // namespace truthound::monitor
