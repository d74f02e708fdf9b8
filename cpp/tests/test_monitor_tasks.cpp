// TaskTable: the lifecycle of tasks, retries, timeouts, the bounded history, threads.
#include "truthound/monitor/task_table.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "truthound/util/error.hpp"

namespace truthound::monitor {
namespace {

TEST(TaskTable, Lifecycle) {
  TaskTable table;
  const uint64_t id = table.submit("profile_partition", 0, 0, 10.0);
  EXPECT_EQ(table.get(id)->state, TaskState::kPending);
  EXPECT_EQ(table.get(id)->duration_seconds(11.0), 0.0);
  table.start(id, "worker-1", 12.0);
  table.update_progress(id, 0.5, 500, 13.0);
  EXPECT_EQ(table.get(id)->rows_processed, 500);
  EXPECT_DOUBLE_EQ(table.get(id)->duration_seconds(14.0), 2.0);
  EXPECT_EQ(table.counts().rows_in_flight, 500);
  EXPECT_EQ(table.counts().running, 1);
  table.complete(id, 1000, -1, 14.5);
  const TaskRecord t = *table.get(id);
  EXPECT_EQ(t.state, TaskState::kCompleted);
  EXPECT_EQ(t.worker_id, "worker-1");
  EXPECT_DOUBLE_EQ(t.duration_seconds(99.0), 2.5);  // ended: now no longer matters
  const TaskCounts c = table.counts();
  EXPECT_EQ(c.completed, 1);
  EXPECT_EQ(c.rows_completed, 1000);
  EXPECT_EQ(c.running, 0);
  EXPECT_DOUBLE_EQ(c.average_duration(), 2.5);
}

TEST(TaskTable, ReportedDurationWins) {
  TaskTable table;
  const uint64_t id = table.submit("t", 0, 0, 0.0);
  table.start(id, "w", 1.0);
  table.complete(id, 10, 0.25, 5.0);
  EXPECT_DOUBLE_EQ(table.get(id)->duration_seconds(5.0), 0.25);
  EXPECT_DOUBLE_EQ(table.counts().completed_seconds, 0.25);
}

TEST(TaskTable, UnknownAndFinishedTasksAreErrors) {
  TaskTable table;
  EXPECT_THROW(table.start(42, "w", 0.0), InvalidArgumentError);
  const uint64_t id = table.submit("t", 0, 0, 0.0);
  table.start(id, "w", 0.0);
  EXPECT_THROW(table.start(id, "w", 0.0), InvalidArgumentError);
  table.complete(id, 1, -1, 1.0);
  try {
    table.complete(id, 1, -1, 1.0);
    FAIL();
  } catch (const InvalidArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("already finished"), std::string::npos);
  }
}

TEST(TaskTable, RetriesStopAtMaxRetries) {
  TaskTableConfig config;
  config.max_retries = 2;
  TaskTable table(config);
  const uint64_t id = table.submit("t", 3, 0, 0.0);
  table.start(id, "w", 0.0);
  table.update_progress(id, 0.4, 400, 1.0);
  EXPECT_TRUE(table.retry(id, "boom", 2.0));
  EXPECT_EQ(table.get(id)->state, TaskState::kRetrying);
  EXPECT_EQ(table.get(id)->rows_processed, 0);  // the next attempt starts over
  EXPECT_EQ(table.get(id)->attempt, 1);
  table.start(id, "w2", 3.0);
  EXPECT_TRUE(table.retry(id, "boom", 4.0));
  table.start(id, "w2", 5.0);
  EXPECT_FALSE(table.retry(id, "boom again", 6.0));
  const uint64_t forced = table.submit("t", 4, 0, 0.0);
  for (int i = 0; i < 4; ++i) {
    table.start(forced, "w", i);
    EXPECT_TRUE(table.retry(forced, "driver retries", i + 0.5, /*force=*/true));
  }
  EXPECT_EQ(table.get(forced)->attempt, 4);
  EXPECT_EQ(table.get(forced)->retry_count, 4);
  const TaskRecord t = *table.get(id);
  EXPECT_EQ(t.state, TaskState::kFailed);
  EXPECT_EQ(t.retry_count, 2);
  EXPECT_EQ(t.error, "boom again");
  const TaskCounts c = table.counts();
  EXPECT_EQ(c.failed, 3 + 4);
  EXPECT_EQ(c.retried, 2 + 4);
  EXPECT_EQ(c.started, 3 + 4);
}

TEST(TaskTable, ResubmitReplacesTheAttemptsRows) {
  TaskTable table;
  const uint64_t id = table.submit("t", 0, 0, 0.0);
  table.start(id, "w", 0.0);
  table.update_progress(id, -1, 700, 1.0);
  table.resubmit(id, 1, 2.0);
  table.start(id, "w", 2.0);
  table.complete(id, 1000, -1, 3.0);
  const TaskCounts c = table.counts();
  EXPECT_EQ(c.rows_completed, 1000);
  EXPECT_EQ(c.retried, 1);
  EXPECT_EQ(table.get(id)->attempt, 1);
}

TEST(TaskTable, HistoryIsBounded) {
  TaskTableConfig config;
  config.max_history_size = 3;
  TaskTable table(config);
  std::vector<uint64_t> evicted;
  for (int i = 0; i < 5; ++i) {
    const uint64_t id = table.submit("t", i, 0, 0.0);
    table.start(id, "w", 0.0);
    for (uint64_t e : table.complete(id, 1, -1, 1.0)) evicted.push_back(e);
  }
  EXPECT_EQ(evicted, (std::vector<uint64_t>{1, 2}));
  const auto history = table.history();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history.front().id, 3u);
  EXPECT_FALSE(table.get(1).has_value());
  EXPECT_EQ(table.counts().completed, 5);  // counts outlive the history
}

TEST(TaskTable, Timeouts) {
  TaskTableConfig config;
  config.timeout_seconds = 10;
  TaskTable table(config);
  const uint64_t slow = table.submit("t", 0, 0, 0.0);
  const uint64_t fast = table.submit("t", 1, 0, 0.0);
  const uint64_t pending = table.submit("t", 2, 0, 0.0);
  table.start(slow, "w", 0.0);
  table.start(fast, "w", 5.0);
  EXPECT_TRUE(table.check_timeouts(10.0).empty());
  EXPECT_EQ(table.check_timeouts(10.5), std::vector<uint64_t>{slow});
  EXPECT_EQ(table.get(slow)->state, TaskState::kTimedOut);
  EXPECT_EQ(table.get(fast)->state, TaskState::kRunning);
  EXPECT_EQ(table.get(pending)->state, TaskState::kPending);  // not started: no timeout
  EXPECT_EQ(table.counts().timed_out, 1);
}

TEST(TaskTable, ManyThreads) {
  TaskTable table;
  constexpr int kThreads = 4, kTasks = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&table, t] {
      for (int i = 0; i < kTasks; ++i) {
        const uint64_t id = table.submit("t", t * kTasks + i, 0, 0.0);
        table.start(id, "w" + std::to_string(t), 0.0);
        table.update_progress(id, 0.5, 5, 0.5);
        table.complete(id, 10, 1.0, 1.0);
      }
    });
  }
  for (auto& th : threads) th.join();
  const TaskCounts c = table.counts();
  EXPECT_EQ(c.submitted, kThreads * kTasks);
  EXPECT_EQ(c.completed, kThreads * kTasks);
  EXPECT_EQ(c.rows_completed, 10 * kThreads * kTasks);
  EXPECT_DOUBLE_EQ(c.completed_seconds, kThreads * kTasks * 1.0);
}

}  // namespace
}  // namespace truthound::monitor
