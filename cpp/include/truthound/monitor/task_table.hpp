// The task table: every task of a run (a partition attempt, usually) with its state, worker,
// timings, progress and rows. Thread-safe: every method takes one internal mutex and calls nothing
// outside the table while holding it, so engine threads may report without the GIL.
//
// Finished tasks move to a history bounded by `max_history_size` (oldest dropped first); a
// dropped task is unknown afterwards. A task that runs again (a retry) keeps its id: its new
// attempt replaces the earlier one's progress and rows, so rows never count twice.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "truthound/monitor/clock.hpp"

namespace truthound::monitor {

enum class TaskState : uint8_t {
  kPending,    // submitted, not started
  kRunning,    // started on a worker
  kRetrying,   // failed, will run again (the next start moves it to kRunning)
  kCompleted,  // finished with a result
  kFailed,     // failed for good
  kTimedOut,   // ran longer than timeout_seconds
  kCancelled,  // withdrawn before it finished
};

const char* to_string(TaskState state);
inline bool is_finished(TaskState s) {
  return s == TaskState::kCompleted || s == TaskState::kFailed || s == TaskState::kTimedOut ||
         s == TaskState::kCancelled;
}

struct TaskTableConfig {
  size_t max_history_size = 1000;  // finished tasks kept; 0 keeps none
  double timeout_seconds = 3600;   // running longer than this: timed out (<= 0: never)
  int max_retries = 3;             // retry() refuses beyond this many retries
  bool enable_progress_tracking = true;
};

struct TaskRecord {
  uint64_t id = 0;
  std::string task_type;
  int64_t partition_id = -1;
  int64_t attempt = 0;
  std::string worker_id;
  TaskState state = TaskState::kPending;
  double submitted_at = kNoTime;
  double started_at = kNoTime;
  double ended_at = kNoTime;
  double progress = 0.0;  // 0..1
  int64_t rows_processed = 0;
  int retry_count = 0;
  std::string error;
  double reported_duration = kNoTime;  // the duration the worker measured, when it said

  // The worker's own measure when given, else started → ended (or → now while running); 0
  // before it starts.
  double duration_seconds(double now) const;
};

struct TaskCounts {
  int64_t submitted = 0;
  int64_t started = 0;  // starts, retries included
  int64_t completed = 0;
  int64_t failed = 0;  // failed attempts, retried or not
  int64_t retried = 0;
  int64_t timed_out = 0;
  int64_t cancelled = 0;
  int64_t pending = 0;             // now pending or retrying
  int64_t running = 0;             // now running
  double completed_seconds = 0.0;  // summed durations of completed tasks
  int64_t rows_completed = 0;      // rows of completed tasks
  int64_t rows_in_flight = 0;      // rows of running tasks' current attempts

  double average_duration() const {
    return completed > 0 ? completed_seconds / static_cast<double>(completed) : 0.0;
  }
};

class TaskTable {
 public:
  explicit TaskTable(TaskTableConfig config = {});

  // A new pending task; returns its id (ids start at 1 and never repeat).
  uint64_t submit(const std::string& task_type, int64_t partition_id, int64_t attempt, double now);
  // Pending or retrying → running on `worker_id`.
  void start(uint64_t id, const std::string& worker_id, double now);
  // Progress of the running attempt: `progress` in [0, 1] (< 0: keep), `rows` cumulative (< 0:
  // keep).
  void update_progress(uint64_t id, double progress, int64_t rows, double now);
  // Finished with a result. `rows` < 0 keeps the last reported rows; `duration` >= 0 is the
  // worker's own measure. Returns the ids dropped from the history.
  std::vector<uint64_t> complete(uint64_t id, int64_t rows, double duration, double now);
  // The attempt failed for good. Returns the ids dropped from the history.
  std::vector<uint64_t> fail(uint64_t id, const std::string& error, double now);
  // The attempt failed and the task runs again: true and kRetrying when fewer than max_retries
  // retries happened (or `force`: the executor already decided), else false and kFailed.
  bool retry(uint64_t id, const std::string& error, double now, bool force = false);
  // The executor already decided to run attempt `attempt` (driver retries): always recorded,
  // whatever max_retries says. Progress and rows restart from zero.
  void resubmit(uint64_t id, int64_t attempt, double now);
  std::vector<uint64_t> cancel(uint64_t id, double now);
  // Running tasks older than timeout_seconds become kTimedOut; returns their ids.
  std::vector<uint64_t> check_timeouts(double now);

  std::optional<TaskRecord> get(uint64_t id) const;
  std::vector<TaskRecord> active() const;   // pending, running, retrying; by id
  std::vector<TaskRecord> history() const;  // finished, oldest first
  TaskCounts counts() const;
  const TaskTableConfig& config() const { return config_; }

 private:
  TaskRecord& find(uint64_t id);  // active tasks only; throws InvalidArgumentError
  std::vector<uint64_t> finish(uint64_t id, double now);  // active → history, returns evicted

  TaskTableConfig config_;
  mutable std::mutex mutex_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, TaskRecord> active_;
  std::deque<TaskRecord> history_;
  TaskCounts counts_;
};

}  // namespace truthound::monitor
