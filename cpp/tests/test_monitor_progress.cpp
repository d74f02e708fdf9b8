// ProgressAggregator: sums over partitions, the smoothed rate and ETA, retries, milestones,
// interpolation, threads.
#include "truthound/monitor/progress.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

namespace truthound::monitor {
namespace {

TEST(ProgressAggregator, Empty) {
  ProgressAggregator agg;
  const ProgressSnapshot s = agg.snapshot(5.0);
  EXPECT_EQ(s.total_partitions, 0);
  EXPECT_EQ(s.percent, 0.0);
  EXPECT_TRUE(std::isnan(s.estimated_remaining_seconds));
}

TEST(ProgressAggregator, ConstantRateGivesExactRateAndEta) {
  ProgressAggregator agg;
  agg.set_total_partitions(2);
  agg.start_partition(0, 0, 1000, 0.0);
  for (int t = 1; t <= 5; ++t) agg.update_partition(0, 0, -1, 100 * t, -1, t);
  const ProgressSnapshot s = agg.snapshot(5.0);
  EXPECT_EQ(s.rows_processed, 500);
  EXPECT_DOUBLE_EQ(s.fraction, 0.25);  // half of one of two partitions
  EXPECT_DOUBLE_EQ(s.rows_per_second, 100.0);
  EXPECT_DOUBLE_EQ(s.average_rows_per_second, 100.0);
  // 0.05 of the run per second, 0.75 left
  EXPECT_NEAR(s.estimated_remaining_seconds, 15.0, 1e-9);
  EXPECT_EQ(s.total_rows, -1);  // partition 1 has not said its rows
}

TEST(ProgressAggregator, RateIsAnExponentialMovingAverage) {
  ProgressConfig config;
  config.smoothing = 0.3;
  ProgressAggregator agg(config);
  agg.start_partition(0, 0, -1, 0.0);
  int64_t rows = 0;
  for (int t = 1; t <= 60; ++t) agg.update_partition(0, 0, 0.001 * t, rows += 100, -1, t);
  agg.update_partition(0, 0, 0.5, rows += 200, -1, 61.0);
  // ema_rows / ema_time after a long run at 100/s and one second at 200/s
  const double w = std::pow(0.7, 60);
  const double ema_rows = 0.3 * 200 + 0.7 * 100 * (1 - w);
  const double ema_time = 0.3 * 1 + 0.7 * (1 - w);
  EXPECT_NEAR(agg.snapshot(61.0).rows_per_second, ema_rows / ema_time, 1e-9);
  EXPECT_GT(agg.snapshot(61.0).rows_per_second, 100.0);
  EXPECT_LT(agg.snapshot(61.0).rows_per_second, 200.0);
}

TEST(ProgressAggregator, SameInstantReportsFoldIntoTheNextSample) {
  ProgressAggregator agg;
  agg.start_partition(0, 0, 1000, 0.0);
  agg.update_partition(0, 0, -1, 50, -1, 1.0);
  agg.update_partition(0, 0, -1, 100, -1, 1.0);  // dt = 0: no sample, no division by zero
  agg.update_partition(0, 0, -1, 200, -1, 2.0);
  EXPECT_TRUE(std::isfinite(agg.snapshot(2.0).rows_per_second));
  // samples (dn 50, dt 1) and (dn 150, dt 1): the second carries the folded report's rows
  const double ema_rows = 0.3 * 150 + 0.7 * (0.3 * 50), ema_time = 0.3 * 1 + 0.7 * (0.3 * 1);
  EXPECT_NEAR(agg.snapshot(2.0).rows_per_second, ema_rows / ema_time, 1e-9);
}

TEST(ProgressAggregator, RetryReplacesRowsAndStaleAttemptsAreIgnored) {
  ProgressAggregator agg;
  agg.set_total_partitions(2);
  agg.start_partition(0, 0, 1000, 0.0);
  agg.update_partition(0, 0, -1, 700, -1, 1.0);
  agg.fail_partition(0, 0, 2.0);
  EXPECT_EQ(agg.snapshot(2.0).rows_processed, 0);
  EXPECT_EQ(agg.snapshot(2.0).failed_partitions, 1);
  EXPECT_TRUE(agg.start_partition(0, 1, 1000, 3.0).accepted);
  EXPECT_FALSE(agg.update_partition(0, 0, -1, 900, -1, 3.5).accepted);  // attempt 0 is stale
  agg.update_partition(0, 1, -1, 400, -1, 4.0);
  agg.complete_partition(0, 1, 1000, 5.0);
  agg.start_partition(1, 0, 500, 5.0);
  agg.complete_partition(1, 0, 500, 6.0);
  const ProgressSnapshot s = agg.snapshot(6.0);
  EXPECT_EQ(s.rows_processed, 1500);
  EXPECT_EQ(s.total_rows, 1500);
  EXPECT_EQ(s.completed_partitions, 2);
  EXPECT_EQ(s.failed_partitions, 0);
  EXPECT_EQ(s.percent, 100.0);
  EXPECT_EQ(s.estimated_remaining_seconds, 0.0);
  EXPECT_GE(s.rows_per_second, 0.0);
}

TEST(ProgressAggregator, CompletedAttemptReplacedBySpeculativeOne) {
  ProgressAggregator agg;
  agg.start_partition(0, 0, 10, 0.0);
  agg.complete_partition(0, 0, 10, 1.0);
  agg.start_partition(0, 1, 10, 1.5);
  agg.complete_partition(0, 1, 10, 2.0);
  EXPECT_EQ(agg.snapshot(2.0).rows_processed, 10);
  EXPECT_EQ(agg.snapshot(2.0).completed_partitions, 1);
}

TEST(ProgressAggregator, MilestonesOncePerRun) {
  ProgressConfig config;
  config.milestone_interval = 25;
  ProgressAggregator agg(config);
  agg.set_total_partitions(4);
  std::vector<double> seen;
  for (int p = 0; p < 4; ++p) {
    agg.start_partition(p, 0, 10, p);
    for (double m : agg.complete_partition(p, 0, 10, p + 0.5).milestones) seen.push_back(m);
  }
  EXPECT_EQ(seen, (std::vector<double>{25, 50, 75, 100}));
  agg.start_partition(0, 1, 10, 9);  // a retry lowers the percent...
  EXPECT_TRUE(agg.complete_partition(0, 1, 10, 10).milestones.empty());  // ...no repeat
}

TEST(ProgressAggregator, OneReportCanCrossSeveralMilestones) {
  ProgressAggregator agg;  // every 10 %
  agg.set_total_partitions(1);
  agg.start_partition(0, 0, 100, 0.0);
  const auto update = agg.update_partition(0, 0, -1, 61, -1, 1.0);
  EXPECT_EQ(update.milestones, (std::vector<double>{10, 20, 30, 40, 50, 60}));
}

TEST(ProgressAggregator, RunningPartitionNeverReachesOne) {
  ProgressAggregator agg;
  agg.set_total_partitions(1);
  agg.start_partition(0, 0, 100, 0.0);
  agg.update_partition(0, 0, -1, 100, -1, 1.0);
  EXPECT_LT(agg.snapshot(1.0).percent, 100.0);
  agg.complete_partition(0, 0, 100, 2.0);
  EXPECT_EQ(agg.snapshot(2.0).percent, 100.0);
}

TEST(ProgressAggregator, InterpolationMovesForwardWithinBounds) {
  ProgressAggregator agg;
  agg.set_total_partitions(2);
  agg.start_partition(0, 0, 1000, 0.0);
  for (int t = 1; t <= 4; ++t) agg.update_partition(0, 0, -1, 100 * t, -1, t);
  const ProgressSnapshot real = agg.snapshot(4.5);
  const ProgressSnapshot half = agg.interpolate(4.5);
  EXPECT_TRUE(half.interpolated);
  EXPECT_EQ(half.rows_processed, 450);  // 100 rows/s for half a second
  EXPECT_GT(half.fraction, real.fraction);
  EXPECT_NEAR(half.estimated_remaining_seconds, real.estimated_remaining_seconds - 0.5, 1e-9);
  // an hour later: never past what the running partition can reach
  const ProgressSnapshot late = agg.interpolate(3600.0);
  EXPECT_EQ(late.rows_processed, 1000);
  EXPECT_LT(late.fraction, 0.5);
  EXPECT_GE(late.fraction, real.fraction);
}

TEST(ProgressAggregator, ManyThreads) {
  ProgressAggregator agg;
  constexpr int kThreads = 4, kPartitions = 50, kSteps = 20;
  agg.set_total_partitions(kThreads * kPartitions);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&agg, t] {
      for (int i = 0; i < kPartitions; ++i) {
        const int64_t p = t * kPartitions + i;
        agg.start_partition(p, 0, kSteps * 10, monotonic_seconds());
        for (int s = 1; s <= kSteps; ++s) {
          agg.update_partition(p, 0, -1, s * 10, -1, monotonic_seconds());
        }
        agg.complete_partition(p, 0, kSteps * 10, monotonic_seconds());
      }
    });
  }
  for (auto& th : threads) th.join();
  const ProgressSnapshot s = agg.snapshot(monotonic_seconds());
  EXPECT_EQ(s.rows_processed, kThreads * kPartitions * kSteps * 10);
  EXPECT_EQ(s.completed_partitions, kThreads * kPartitions);
  EXPECT_EQ(s.percent, 100.0);
}

}  // namespace
}  // namespace truthound::monitor
