// Worker health: heartbeats (CPU, memory, active tasks) and task results per worker, judged by
// fixed rules. Thread-safe (one mutex, nothing called outside while it is held).
//
// The rules, worst wins:
//   CRITICAL   memory >= memory_critical_percent, or error rate >= error_rate_critical
//   UNHEALTHY  stalled: tasks active and no task activity (start, progress, result) for
//              stall_threshold_seconds; or heartbeats stopped: the worker sent heartbeats and
//              the last is older than heartbeat_timeout_seconds
//   DEGRADED   memory >= memory_warning_percent, cpu >= cpu_warning_percent, error rate >=
//              error_rate_warning, or slow: mean task duration > slow_task_factor x the median
//              of the other workers' means (each with at least one task)
//   HEALTHY    otherwise
// The error rate is over the last `error_window` task results, judged from
// `error_rate_min_tasks` results on. A worker that never sent a heartbeat is not judged by the
// heartbeat rule (its tasks may report through the driver alone).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "truthound/monitor/clock.hpp"

namespace truthound::monitor {

enum class HealthStatus : uint8_t { kHealthy, kDegraded, kUnhealthy, kCritical };
const char* to_string(HealthStatus status);

struct HealthConfig {
  double heartbeat_timeout_seconds = 30;
  double stall_threshold_seconds = 60;
  double memory_warning_percent = 80;
  double memory_critical_percent = 95;
  double cpu_warning_percent = 90;
  double error_rate_warning = 0.1;
  double error_rate_critical = 0.25;
  int error_window = 20;
  int error_rate_min_tasks = 3;
  double slow_task_factor = 3.0;  // <= 0: no slow rule
};

struct WorkerRecord {
  std::string worker_id;
  HealthStatus status = HealthStatus::kHealthy;
  std::string reason;  // why it is not healthy ("" when healthy)
  bool stalled = false;
  double registered_at = kNoTime;
  double last_heartbeat = kNoTime;
  double last_activity = kNoTime;
  double cpu_percent = kNoTime;     // NaN: never reported
  double memory_percent = kNoTime;  // NaN: never reported
  int64_t active_tasks = 0;         // the larger of the heartbeat's count and started - finished
  int64_t tasks_completed = 0;
  int64_t tasks_failed = 0;
  double total_task_seconds = 0.0;  // of completed tasks
  double error_rate = 0.0;          // over the window
  double avg_task_seconds = 0.0;    // of completed tasks
};

struct HealthTransition {
  std::string worker_id;
  HealthStatus from = HealthStatus::kHealthy;
  HealthStatus to = HealthStatus::kHealthy;
  bool stalled = false;    // became stalled with this transition
  bool recovered = false;  // back to HEALTHY from UNHEALTHY or CRITICAL
  std::string reason;
};

class HealthRules {
 public:
  explicit HealthRules(HealthConfig config = {});

  // false when the worker was known already
  bool register_worker(const std::string& worker, double now);
  bool unregister_worker(const std::string& worker);
  // Registers unknown workers. cpu/memory < 0 or NaN: not measured; active_tasks < 0: unknown.
  void heartbeat(const std::string& worker, double cpu_percent, double memory_percent,
                 int64_t active_tasks, double now);
  void task_started(const std::string& worker, double now);
  void task_progress(const std::string& worker, double now);
  void task_finished(const std::string& worker, double duration_seconds, bool success, double now);

  // Judges every worker at `now`; returns the status changes since the last evaluation.
  std::vector<HealthTransition> evaluate(double now);
  WorkerRecord get(const std::string& worker) const;  // throws InvalidArgumentError when unknown
  bool contains(const std::string& worker) const;
  std::vector<WorkerRecord> workers() const;  // by id
  // The worst status among the workers (HEALTHY with none); as of the last evaluation.
  HealthStatus overall() const;
  const HealthConfig& config() const { return config_; }

 private:
  struct Worker {
    WorkerRecord record;
    int64_t running = 0;            // started - finished through task events
    int64_t heartbeat_active = -1;  // the last heartbeat's count
    std::deque<bool> results;       // last error_window results, true = failed
  };
  Worker& touch(const std::string& worker, double now);
  void judge(Worker& w, double now, double median_others) const;

  HealthConfig config_;
  mutable std::mutex mutex_;
  std::map<std::string, Worker> workers_;
};

}  // namespace truthound::monitor
