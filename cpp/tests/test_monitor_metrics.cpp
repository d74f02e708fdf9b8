// MetricsRegistry: percentiles against a sorted reference, counters, the Prometheus text, threads.
#include "truthound/monitor/metrics.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include "truthound/util/error.hpp"

namespace truthound::monitor {
namespace {

// numpy.percentile(x, 100 q) with the default linear method, written out independently
double reference_quantile(std::vector<double> x, double q) {
  std::sort(x.begin(), x.end());
  const double h = (static_cast<double>(x.size()) - 1) * q;
  const double lo = x[static_cast<size_t>(std::floor(h))];
  const double hi = x[static_cast<size_t>(std::ceil(h))];
  return lo + (h - std::floor(h)) * (hi - lo);
}

TEST(Quantile, SmallCases) {
  EXPECT_TRUE(std::isnan(quantile_of_sorted({}, 0.5)));
  EXPECT_EQ(quantile_of_sorted({7}, 0.99), 7);
  EXPECT_EQ(quantile_of_sorted({1, 2, 3, 4}, 0.5), 2.5);
  EXPECT_EQ(quantile_of_sorted({1, 2, 3, 4}, 0.0), 1);
  EXPECT_EQ(quantile_of_sorted({1, 2, 3, 4}, 1.0), 4);
  EXPECT_DOUBLE_EQ(quantile_of_sorted({10, 20}, 0.99), 19.9);
}

TEST(MetricsRegistry, PercentilesMatchASortedReference) {
  MetricsRegistry metrics;
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(0.0, 1.0);
  std::vector<double> all;
  for (int i = 0; i < 5000; ++i) {
    const double v = dist(rng);
    all.push_back(v);
    metrics.record_task_duration(i % 3 ? "profile_partition" : "merge", v);
  }
  const MetricsSnapshot s = metrics.snapshot();
  EXPECT_EQ(s.all.count, 5000);
  ASSERT_EQ(s.all.quantiles.size(), 5u);
  for (const auto& [q, v] : s.all.quantiles) {
    EXPECT_DOUBLE_EQ(v, reference_quantile(all, q)) << "q=" << q;
  }
  EXPECT_DOUBLE_EQ(s.all.max, *std::max_element(all.begin(), all.end()));
  EXPECT_DOUBLE_EQ(s.all.min, *std::min_element(all.begin(), all.end()));
  ASSERT_EQ(s.by_type.size(), 2u);
  EXPECT_EQ(s.by_type[0].task_type, "merge");
  EXPECT_EQ(s.by_type[0].count + s.by_type[1].count, 5000);
  const auto q = metrics.duration_quantiles({0.33});
  EXPECT_DOUBLE_EQ(q[0], reference_quantile(all, 0.33));
}

TEST(MetricsRegistry, PercentilesOverTheLastSamplesOnly) {
  MetricsConfig config;
  config.max_samples = 100;
  config.percentiles = {0.5};
  MetricsRegistry metrics(config);
  for (int i = 0; i < 1000; ++i) metrics.record_task_duration("t", i);
  const MetricsSnapshot s = metrics.snapshot();
  EXPECT_EQ(s.all.count, 1000);                 // exact
  EXPECT_EQ(s.all.min, 0);                      // exact
  EXPECT_EQ(s.all.mean, 499.5);                 // exact
  EXPECT_EQ(s.all.quantiles[0].second, 949.5);  // median of 900..999
}

TEST(MetricsRegistry, BadValues) {
  MetricsRegistry metrics;
  EXPECT_THROW(metrics.record_task_duration("t", -1), InvalidArgumentError);
  EXPECT_THROW(metrics.record_task_duration("t", NAN), InvalidArgumentError);
  EXPECT_THROW(metrics.increment_counter("c", -1), InvalidArgumentError);
  MetricsConfig config;
  config.percentiles = {1.5};
  EXPECT_THROW(MetricsRegistry{config}, InvalidArgumentError);
}

TEST(MetricsRegistry, PrometheusText) {
  MetricsConfig config;
  config.percentiles = {0.5, 0.99};
  config.labels = {{"backend", "local"}};
  MetricsRegistry metrics(config);
  metrics.record_task_duration("profile_partition", 2.5);
  metrics.record_task_duration("profile_partition", 0.5);
  metrics.increment_counter("tasks_completed", 2);
  metrics.increment_counter("rows_processed_total", 1000);
  metrics.set_gauge("rows_per_second", 125.5);
  metrics.record_worker_metric("worker \"1\"", "cpu_percent", 65);
  metrics.record_partition_progress(0, 0.5);
  metrics.record_partition_progress(1, 1.0);
  const std::string text = metrics.export_prometheus();
  const char* expected[] = {
      "# TYPE truthound_task_duration_seconds summary\n",
      "truthound_task_duration_seconds{backend=\"local\",task_type=\"profile_partition\","
      "quantile=\"0.5\"} 1.5\n",
      "truthound_task_duration_seconds_sum{backend=\"local\",task_type=\"profile_partition\"} 3\n",
      "truthound_task_duration_seconds_count{backend=\"local\",task_type=\"profile_partition\"} "
      "2\n",
      "# TYPE truthound_tasks_completed_total counter\n",
      "truthound_tasks_completed_total{backend=\"local\"} 2\n",
      "truthound_rows_processed_total{backend=\"local\"} 1000\n",  // no _total_total
      "# TYPE truthound_rows_per_second gauge\n",
      "truthound_rows_per_second{backend=\"local\"} 125.5\n",
      "truthound_partition_progress_mean_ratio{backend=\"local\"} 0.75\n",
      "truthound_worker_cpu_percent{backend=\"local\",worker=\"worker \\\"1\\\"\"} 65\n",
  };
  for (const char* line : expected) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nin:\n" << text;
  }
  EXPECT_EQ(text.find("_total_total"), std::string::npos);
}

TEST(MetricsRegistry, NamesAndValues) {
  EXPECT_EQ(sanitize_metric_name("cpu-percent.avg"), "cpu_percent_avg");
  EXPECT_EQ(sanitize_metric_name("9lives"), "_9lives");
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(format_sample_value(INFINITY), "+Inf");
  EXPECT_EQ(format_sample_value(-INFINITY), "-Inf");
  EXPECT_EQ(format_sample_value(NAN), "NaN");
  EXPECT_EQ(format_sample_value(0.1), "0.1");
  EXPECT_EQ(format_sample_value(1e21), "1e+21");
}

TEST(MetricsRegistry, ManyThreads) {
  MetricsRegistry metrics;
  constexpr int kThreads = 4, kN = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < kN; ++i) {
        metrics.record_task_duration("t", 1.0);
        metrics.increment_counter("tasks_completed");
        metrics.record_worker_metric("w" + std::to_string(t), "cpu_percent", i);
        if (i % 500 == 0) (void)metrics.export_prometheus();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(metrics.counter("tasks_completed"), kThreads * kN);
  const MetricsSnapshot s = metrics.snapshot();
  EXPECT_EQ(s.all.count, kThreads * kN);
  EXPECT_EQ(s.all.sum, kThreads * kN * 1.0);
  EXPECT_EQ(s.workers.size(), static_cast<size_t>(kThreads));
}

}  // namespace
}  // namespace truthound::monitor
