#include "truthound/monitor/task_table.hpp"

#include <algorithm>
#include <cmath>

#include "truthound/util/error.hpp"

namespace truthound::monitor {

const char* to_string(TaskState state) {
  switch (state) {
    case TaskState::kPending:
      return "pending";
    case TaskState::kRunning:
      return "running";
    case TaskState::kRetrying:
      return "retrying";
    case TaskState::kCompleted:
      return "completed";
    case TaskState::kFailed:
      return "failed";
    case TaskState::kTimedOut:
      return "timed_out";
    case TaskState::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

double TaskRecord::duration_seconds(double now) const {
  if (has_time(reported_duration)) return reported_duration;
  if (!has_time(started_at)) return 0.0;
  const double end = has_time(ended_at) ? ended_at : now;
  return std::max(0.0, end - started_at);
}

TaskTable::TaskTable(TaskTableConfig config) : config_(config) {
  if (config_.max_retries < 0) throw InvalidArgumentError("max_retries must be >= 0");
}

TaskRecord& TaskTable::find(uint64_t id) {
  auto it = active_.find(id);
  if (it == active_.end()) {
    const bool finished = std::any_of(history_.begin(), history_.end(),
                                      [id](const TaskRecord& t) { return t.id == id; });
    throw InvalidArgumentError("task " + std::to_string(id) +
                               (finished ? " has already finished" : " is unknown"));
  }
  return it->second;
}

uint64_t TaskTable::submit(const std::string& task_type, int64_t partition_id, int64_t attempt,
                           double now) {
  std::lock_guard<std::mutex> lock(mutex_);
  TaskRecord t;
  t.id = next_id_++;
  t.task_type = task_type;
  t.partition_id = partition_id;
  t.attempt = attempt;
  t.submitted_at = now;
  active_.emplace(t.id, std::move(t));
  ++counts_.submitted;
  return next_id_ - 1;
}

void TaskTable::start(uint64_t id, const std::string& worker_id, double now) {
  std::lock_guard<std::mutex> lock(mutex_);
  TaskRecord& t = find(id);
  if (t.state == TaskState::kRunning) {
    throw InvalidArgumentError("task " + std::to_string(id) + " is already running");
  }
  t.state = TaskState::kRunning;
  t.worker_id = worker_id;
  t.started_at = now;
  t.ended_at = kNoTime;
  t.progress = 0.0;
  t.rows_processed = 0;
  ++counts_.started;
}

void TaskTable::update_progress(uint64_t id, double progress, int64_t rows, double /*now*/) {
  std::lock_guard<std::mutex> lock(mutex_);
  TaskRecord& t = find(id);
  if (!config_.enable_progress_tracking) return;
  if (progress >= 0.0 && !std::isnan(progress)) t.progress = std::min(progress, 1.0);
  if (rows >= 0) t.rows_processed = rows;
}

std::vector<uint64_t> TaskTable::finish(uint64_t id, double now) {
  auto node = active_.extract(id);
  TaskRecord& t = node.mapped();
  t.ended_at = now;
  std::vector<uint64_t> evicted;
  if (config_.max_history_size == 0) {
    evicted.push_back(t.id);
    return evicted;
  }
  history_.push_back(std::move(t));
  while (history_.size() > config_.max_history_size) {
    evicted.push_back(history_.front().id);
    history_.pop_front();
  }
  return evicted;
}

std::vector<uint64_t> TaskTable::complete(uint64_t id, int64_t rows, double duration, double now) {
  std::lock_guard<std::mutex> lock(mutex_);
  TaskRecord& t = find(id);
  if (!has_time(t.started_at)) t.started_at = now;  // a report that skipped start()
  t.state = TaskState::kCompleted;
  t.progress = 1.0;
  if (rows >= 0) t.rows_processed = rows;
  if (duration >= 0.0 && !std::isnan(duration)) t.reported_duration = duration;
  t.ended_at = now;
  ++counts_.completed;
  counts_.completed_seconds += t.duration_seconds(now);
  counts_.rows_completed += t.rows_processed;
  return finish(id, now);
}

std::vector<uint64_t> TaskTable::fail(uint64_t id, const std::string& error, double now) {
  std::lock_guard<std::mutex> lock(mutex_);
  TaskRecord& t = find(id);
  t.state = TaskState::kFailed;
  t.error = error;
  ++counts_.failed;
  return finish(id, now);
}

bool TaskTable::retry(uint64_t id, const std::string& error, double now, bool force) {
  std::lock_guard<std::mutex> lock(mutex_);
  TaskRecord& t = find(id);
  t.error = error;
  ++counts_.failed;
  if (!force && t.retry_count >= config_.max_retries) {
    t.state = TaskState::kFailed;
    finish(id, now);
    return false;
  }
  ++t.retry_count;
  ++t.attempt;
  ++counts_.retried;
  t.state = TaskState::kRetrying;
  t.ended_at = now;
  t.progress = 0.0;
  t.rows_processed = 0;
  return true;
}

void TaskTable::resubmit(uint64_t id, int64_t attempt, double /*now*/) {
  std::lock_guard<std::mutex> lock(mutex_);
  TaskRecord& t = find(id);
  if (t.state != TaskState::kRetrying) {  // else retry() counted it already
    ++counts_.retried;
    ++t.retry_count;
  }
  t.attempt = attempt;
  t.state = TaskState::kPending;
  t.progress = 0.0;
  t.rows_processed = 0;
  t.reported_duration = kNoTime;
}

std::vector<uint64_t> TaskTable::cancel(uint64_t id, double now) {
  std::lock_guard<std::mutex> lock(mutex_);
  TaskRecord& t = find(id);
  t.state = TaskState::kCancelled;
  ++counts_.cancelled;
  return finish(id, now);
}

std::vector<uint64_t> TaskTable::check_timeouts(double now) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<uint64_t> timed_out;
  if (config_.timeout_seconds <= 0) return timed_out;
  for (auto& [id, t] : active_) {
    if (t.state == TaskState::kRunning && now - t.started_at > config_.timeout_seconds) {
      timed_out.push_back(id);
    }
  }
  std::sort(timed_out.begin(), timed_out.end());
  for (uint64_t id : timed_out) {
    TaskRecord& t = active_.at(id);
    t.state = TaskState::kTimedOut;
    t.error = "timed out after " + std::to_string(config_.timeout_seconds) + " s";
    ++counts_.timed_out;
    finish(id, now);
  }
  return timed_out;
}

std::optional<TaskRecord> TaskTable::get(uint64_t id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = active_.find(id); it != active_.end()) return it->second;
  for (const TaskRecord& t : history_) {
    if (t.id == id) return t;
  }
  return std::nullopt;
}

std::vector<TaskRecord> TaskTable::active() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<TaskRecord> out;
  out.reserve(active_.size());
  for (const auto& [id, t] : active_) out.push_back(t);
  std::sort(out.begin(), out.end(),
            [](const TaskRecord& a, const TaskRecord& b) { return a.id < b.id; });
  return out;
}

std::vector<TaskRecord> TaskTable::history() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {history_.begin(), history_.end()};
}

TaskCounts TaskTable::counts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  TaskCounts c = counts_;
  for (const auto& [id, t] : active_) {
    if (t.state == TaskState::kRunning) {
      ++c.running;
      c.rows_in_flight += t.rows_processed;
    } else {
      ++c.pending;
    }
  }
  return c;
}

}  // namespace truthound::monitor
