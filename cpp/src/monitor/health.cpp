#include "truthound/monitor/health.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "truthound/util/error.hpp"

namespace truthound::monitor {

const char* to_string(HealthStatus status) {
  switch (status) {
    case HealthStatus::kHealthy:
      return "healthy";
    case HealthStatus::kDegraded:
      return "degraded";
    case HealthStatus::kUnhealthy:
      return "unhealthy";
    case HealthStatus::kCritical:
      return "critical";
  }
  return "unknown";
}

HealthRules::HealthRules(HealthConfig config) : config_(config) {
  if (config_.error_window < 1) throw InvalidArgumentError("error_window must be >= 1");
  if (config_.memory_warning_percent > config_.memory_critical_percent) {
    throw InvalidArgumentError("memory_warning_percent must be <= memory_critical_percent");
  }
  if (config_.error_rate_warning > config_.error_rate_critical) {
    throw InvalidArgumentError("error_rate_warning must be <= error_rate_critical");
  }
}

HealthRules::Worker& HealthRules::touch(const std::string& worker, double now) {
  auto [it, inserted] = workers_.try_emplace(worker);
  if (inserted) {
    it->second.record.worker_id = worker;
    it->second.record.registered_at = now;
    it->second.record.last_activity = now;
  }
  return it->second;
}

bool HealthRules::register_worker(const std::string& worker, double now) {
  std::lock_guard<std::mutex> lock(mutex_);
  const bool known = workers_.count(worker) > 0;
  touch(worker, now);
  return !known;
}

bool HealthRules::unregister_worker(const std::string& worker) {
  std::lock_guard<std::mutex> lock(mutex_);
  return workers_.erase(worker) > 0;
}

void HealthRules::heartbeat(const std::string& worker, double cpu_percent, double memory_percent,
                            int64_t active_tasks, double now) {
  std::lock_guard<std::mutex> lock(mutex_);
  Worker& w = touch(worker, now);
  w.record.last_heartbeat = now;
  if (cpu_percent >= 0) w.record.cpu_percent = cpu_percent;
  if (memory_percent >= 0) w.record.memory_percent = memory_percent;
  if (active_tasks >= 0) {
    // a worker that goes from idle to busy has just shown activity
    if (w.heartbeat_active <= 0 && active_tasks > 0 && w.running == 0) w.record.last_activity = now;
    w.heartbeat_active = active_tasks;
  }
}

void HealthRules::task_started(const std::string& worker, double now) {
  std::lock_guard<std::mutex> lock(mutex_);
  Worker& w = touch(worker, now);
  ++w.running;
  w.record.last_activity = now;
}

void HealthRules::task_progress(const std::string& worker, double now) {
  std::lock_guard<std::mutex> lock(mutex_);
  touch(worker, now).record.last_activity = now;
}

void HealthRules::task_finished(const std::string& worker, double duration_seconds, bool success,
                                double now) {
  std::lock_guard<std::mutex> lock(mutex_);
  Worker& w = touch(worker, now);
  w.running = std::max<int64_t>(0, w.running - 1);
  w.record.last_activity = now;
  if (success) {
    ++w.record.tasks_completed;
    if (duration_seconds > 0 && std::isfinite(duration_seconds)) {
      w.record.total_task_seconds += duration_seconds;
    }
  } else {
    ++w.record.tasks_failed;
  }
  w.results.push_back(!success);
  while (w.results.size() > static_cast<size_t>(config_.error_window)) w.results.pop_front();
}

namespace {

std::string format(const char* fmt, double a, double b = 0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, fmt, a, b);
  return buf;
}

void worsen(HealthStatus& status, std::string& reason, HealthStatus to, std::string why) {
  if (to > status) {
    status = to;
    reason = std::move(why);
  } else if (to == status && to != HealthStatus::kHealthy) {
    reason += "; " + why;
  }
}

}  // namespace

void HealthRules::judge(Worker& w, double now, double median_others) const {
  WorkerRecord& r = w.record;
  r.active_tasks = std::max(w.running, w.heartbeat_active);
  const int64_t failed = std::count(w.results.begin(), w.results.end(), true);
  r.error_rate =
      w.results.empty() ? 0.0 : static_cast<double>(failed) / static_cast<double>(w.results.size());
  r.avg_task_seconds =
      r.tasks_completed > 0 ? r.total_task_seconds / static_cast<double>(r.tasks_completed) : 0.0;
  HealthStatus status = HealthStatus::kHealthy;
  std::string reason;
  const double idle = now - r.last_activity;
  r.stalled = r.active_tasks > 0 && idle > config_.stall_threshold_seconds;
  if (r.stalled) {
    worsen(status, reason, HealthStatus::kUnhealthy,
           "stalled: " + std::to_string(r.active_tasks) + " active task(s), no progress for " +
               format("%.1f s", idle));
  }
  if (has_time(r.last_heartbeat) && now - r.last_heartbeat > config_.heartbeat_timeout_seconds) {
    worsen(status, reason, HealthStatus::kUnhealthy,
           format("no heartbeat for %.1f s", now - r.last_heartbeat));
  }
  if (has_time(r.memory_percent)) {
    if (r.memory_percent >= config_.memory_critical_percent) {
      worsen(status, reason, HealthStatus::kCritical,
             format("memory %.1f%% >= %.1f%%", r.memory_percent, config_.memory_critical_percent));
    } else if (r.memory_percent >= config_.memory_warning_percent) {
      worsen(status, reason, HealthStatus::kDegraded,
             format("memory %.1f%% >= %.1f%%", r.memory_percent, config_.memory_warning_percent));
    }
  }
  if (has_time(r.cpu_percent) && r.cpu_percent >= config_.cpu_warning_percent) {
    worsen(status, reason, HealthStatus::kDegraded,
           format("cpu %.1f%% >= %.1f%%", r.cpu_percent, config_.cpu_warning_percent));
  }
  if (static_cast<int64_t>(w.results.size()) >= config_.error_rate_min_tasks) {
    if (r.error_rate >= config_.error_rate_critical) {
      worsen(status, reason, HealthStatus::kCritical,
             format("error rate %.0f%% >= %.0f%%", r.error_rate * 100,
                    config_.error_rate_critical * 100));
    } else if (r.error_rate >= config_.error_rate_warning) {
      worsen(status, reason, HealthStatus::kDegraded,
             format("error rate %.0f%% >= %.0f%%", r.error_rate * 100,
                    config_.error_rate_warning * 100));
    }
  }
  if (config_.slow_task_factor > 0 && median_others > 0 && r.tasks_completed > 0 &&
      r.avg_task_seconds > config_.slow_task_factor * median_others) {
    worsen(status, reason, HealthStatus::kDegraded,
           format("slow: mean task %.2f s, %.1fx the other workers' median", r.avg_task_seconds,
                  r.avg_task_seconds / median_others));
  }
  r.status = status;
  r.reason = std::move(reason);
}

std::vector<HealthTransition> HealthRules::evaluate(double now) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::pair<std::string, double>> means;
  for (const auto& [id, w] : workers_) {
    if (w.record.tasks_completed > 0) {
      means.emplace_back(
          id, w.record.total_task_seconds / static_cast<double>(w.record.tasks_completed));
    }
  }
  std::vector<HealthTransition> transitions;
  std::vector<double> others;
  for (auto& [id, w] : workers_) {
    others.clear();
    for (const auto& [other, mean] : means) {
      if (other != id) others.push_back(mean);
    }
    double median = 0.0;
    if (!others.empty()) {
      std::sort(others.begin(), others.end());
      const size_t n = others.size();
      median = n % 2 ? others[n / 2] : (others[n / 2 - 1] + others[n / 2]) / 2;
    }
    const HealthStatus before = w.record.status;
    const bool was_stalled = w.record.stalled;
    judge(w, now, median);
    if (before != w.record.status || was_stalled != w.record.stalled) {
      HealthTransition t;
      t.worker_id = id;
      t.from = before;
      t.to = w.record.status;
      t.stalled = w.record.stalled && !was_stalled;
      t.recovered = w.record.status == HealthStatus::kHealthy &&
                    (before >= HealthStatus::kUnhealthy || was_stalled);
      t.reason = w.record.reason;
      transitions.push_back(std::move(t));
    }
  }
  return transitions;
}

WorkerRecord HealthRules::get(const std::string& worker) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = workers_.find(worker);
  if (it == workers_.end()) throw InvalidArgumentError("unknown worker '" + worker + "'");
  return it->second.record;
}

bool HealthRules::contains(const std::string& worker) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return workers_.count(worker) > 0;
}

std::vector<WorkerRecord> HealthRules::workers() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<WorkerRecord> out;
  out.reserve(workers_.size());
  for (const auto& [id, w] : workers_) out.push_back(w.record);
  return out;
}

HealthStatus HealthRules::overall() const {
  std::lock_guard<std::mutex> lock(mutex_);
  HealthStatus worst = HealthStatus::kHealthy;
  for (const auto& [id, w] : workers_) worst = std::max(worst, w.record.status);
  return worst;
}

}  // namespace truthound::monitor
