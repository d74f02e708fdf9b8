// HealthRules: each rule of health.hpp, transitions (stalled, recovered), overall health, threads.
#include "truthound/monitor/health.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "truthound/util/error.hpp"

namespace truthound::monitor {
namespace {

HealthStatus status(const HealthRules& rules, const std::string& w) {
  return rules.get(w).status;
}

TEST(HealthRules, HealthyWorker) {
  HealthRules rules;
  EXPECT_TRUE(rules.register_worker("w1", 0.0));
  EXPECT_FALSE(rules.register_worker("w1", 0.0));
  rules.heartbeat("w1", 65, 70, 3, 1.0);
  rules.task_finished("w1", 2.5, true, 1.0);
  EXPECT_TRUE(rules.evaluate(1.0).empty());
  const WorkerRecord r = rules.get("w1");
  EXPECT_EQ(r.status, HealthStatus::kHealthy);
  EXPECT_EQ(r.reason, "");
  EXPECT_EQ(r.active_tasks, 3);
  EXPECT_EQ(r.cpu_percent, 65);
  EXPECT_EQ(r.avg_task_seconds, 2.5);
  EXPECT_THROW(rules.get("nobody"), InvalidArgumentError);
}

TEST(HealthRules, MemoryAndCpuThresholds) {
  HealthRules rules;  // memory 80 / 95, cpu 90
  rules.heartbeat("w", 10, 79.9, 0, 0.0);
  rules.evaluate(0.0);
  EXPECT_EQ(status(rules, "w"), HealthStatus::kHealthy);
  rules.heartbeat("w", 10, 80, 0, 1.0);
  auto t = rules.evaluate(1.0);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].to, HealthStatus::kDegraded);
  EXPECT_NE(t[0].reason.find("memory 80.0%"), std::string::npos);
  rules.heartbeat("w", 10, 95, 0, 2.0);
  rules.evaluate(2.0);
  EXPECT_EQ(status(rules, "w"), HealthStatus::kCritical);
  rules.heartbeat("w", 90, 50, 0, 3.0);
  t = rules.evaluate(3.0);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].to, HealthStatus::kDegraded);
  EXPECT_FALSE(t[0].recovered);
  rules.heartbeat("w", 20, 50, 0, 4.0);
  t = rules.evaluate(4.0);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].to, HealthStatus::kHealthy);
  EXPECT_FALSE(t[0].recovered);  // degraded → healthy is not a recovery
}

TEST(HealthRules, ErrorRates) {
  HealthRules rules;  // warning 0.1, critical 0.25, from 3 results, window 20
  rules.task_finished("w", 1, false, 0.0);
  rules.task_finished("w", 1, true, 0.0);
  rules.evaluate(0.0);
  EXPECT_EQ(status(rules, "w"), HealthStatus::kHealthy);  // 2 results: not judged yet
  rules.task_finished("w", 1, true, 0.0);
  rules.evaluate(0.0);
  EXPECT_EQ(status(rules, "w"), HealthStatus::kCritical);  // 1/3
  for (int i = 0; i < 7; ++i) rules.task_finished("w", 1, true, 0.0);
  rules.evaluate(0.0);
  EXPECT_EQ(status(rules, "w"), HealthStatus::kDegraded);  // 1/10
  EXPECT_DOUBLE_EQ(rules.get("w").error_rate, 0.1);
  for (int i = 0; i < 20; ++i) rules.task_finished("w", 1, true, 0.0);
  rules.evaluate(0.0);
  EXPECT_EQ(status(rules, "w"), HealthStatus::kHealthy);  // the failure left the window
  EXPECT_EQ(rules.get("w").tasks_failed, 1);
}

TEST(HealthRules, StalledWorkerAndRecovery) {
  HealthRules rules;  // stall after 60 s without task activity
  rules.register_worker("w", 0.0);
  rules.task_started("w", 0.0);
  for (double now = 10; now <= 60; now += 10) rules.heartbeat("w", 50, 50, 1, now);
  EXPECT_TRUE(rules.evaluate(60.0).empty());  // heartbeats are not progress, but 60 s is the limit
  rules.heartbeat("w", 50, 50, 1, 61.0);
  auto t = rules.evaluate(61.0);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_TRUE(t[0].stalled);
  EXPECT_EQ(t[0].to, HealthStatus::kUnhealthy);
  EXPECT_NE(t[0].reason.find("stalled"), std::string::npos);
  EXPECT_TRUE(rules.evaluate(70.0).empty());  // reported once
  rules.task_progress("w", 71.0);
  t = rules.evaluate(71.0);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_TRUE(t[0].recovered);
  EXPECT_FALSE(rules.get("w").stalled);
}

TEST(HealthRules, IdleWorkerNeverStalls) {
  HealthRules rules;
  rules.task_started("w", 0.0);
  rules.task_finished("w", 1.0, true, 1.0);
  rules.heartbeat("w", 1, 1, 0, 500.0);
  rules.evaluate(500.0);
  EXPECT_EQ(status(rules, "w"), HealthStatus::kHealthy);
}

TEST(HealthRules, HeartbeatTimeoutOnlyForWorkersWithHeartbeats) {
  HealthRules rules;  // 30 s
  rules.heartbeat("beating", 1, 1, 0, 0.0);
  rules.task_started("driver-only", 0.0);
  rules.task_finished("driver-only", 1, true, 1.0);
  rules.evaluate(30.0);
  EXPECT_EQ(status(rules, "beating"), HealthStatus::kHealthy);
  const auto t = rules.evaluate(31.0);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].worker_id, "beating");
  EXPECT_NE(t[0].reason.find("no heartbeat for 31.0 s"), std::string::npos);
  EXPECT_EQ(status(rules, "driver-only"), HealthStatus::kHealthy);
  rules.heartbeat("beating", 1, 1, 0, 32.0);
  const auto back = rules.evaluate(32.0);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_TRUE(back[0].recovered);
}

TEST(HealthRules, SlowWorker) {
  HealthRules rules;  // slower than 3x the median of the others
  for (const char* w : {"a", "b", "c"}) {
    for (int i = 0; i < 3; ++i) rules.task_finished(w, 1.0, true, 0.0);
  }
  for (int i = 0; i < 3; ++i) rules.task_finished("slow", 3.0, true, 0.0);
  rules.evaluate(0.0);
  EXPECT_EQ(status(rules, "slow"), HealthStatus::kHealthy);  // exactly 3x is not slower
  rules.task_finished("slow", 30.0, true, 1.0);              // mean 9.75 s
  const auto t = rules.evaluate(1.0);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].worker_id, "slow");
  EXPECT_EQ(t[0].to, HealthStatus::kDegraded);
  EXPECT_NE(t[0].reason.find("slow: mean task 9.75 s"), std::string::npos);
  EXPECT_EQ(rules.overall(), HealthStatus::kDegraded);
}

TEST(HealthRules, OverallIsTheWorst) {
  HealthRules rules;
  EXPECT_EQ(rules.overall(), HealthStatus::kHealthy);
  rules.heartbeat("a", 1, 1, 0, 0.0);
  rules.heartbeat("b", 1, 99, 0, 0.0);
  rules.evaluate(0.0);
  EXPECT_EQ(rules.overall(), HealthStatus::kCritical);
  EXPECT_TRUE(rules.unregister_worker("b"));
  EXPECT_EQ(rules.overall(), HealthStatus::kHealthy);
}

TEST(HealthRules, BadConfig) {
  HealthConfig config;
  config.memory_warning_percent = 99;
  EXPECT_THROW(HealthRules{config}, InvalidArgumentError);
}

TEST(HealthRules, ManyThreads) {
  HealthRules rules;
  constexpr int kThreads = 4, kTasks = 1000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&rules, t] {
      const std::string w = "w" + std::to_string(t);
      for (int i = 0; i < kTasks; ++i) {
        rules.task_started(w, i);
        rules.heartbeat(w, 10, 10, 1, i);
        rules.task_finished(w, 0.5, i % 50 != 0, i);
        if (i % 100 == 0) rules.evaluate(i);
      }
    });
  }
  for (auto& th : threads) th.join();
  rules.evaluate(kTasks);
  for (const WorkerRecord& r : rules.workers()) {
    EXPECT_EQ(r.tasks_completed + r.tasks_failed, kTasks);
    EXPECT_EQ(r.tasks_failed, kTasks / 50);
  }
}

}  // namespace
}  // namespace truthound::monitor
