#include "truthound/monitor/progress.hpp"

#include <algorithm>
#include <cmath>

#include "truthound/util/error.hpp"

namespace truthound::monitor {

const char* to_string(PartitionState state) {
  switch (state) {
    case PartitionState::kPending:
      return "pending";
    case PartitionState::kRunning:
      return "running";
    case PartitionState::kCompleted:
      return "completed";
    case PartitionState::kFailed:
      return "failed";
  }
  return "unknown";
}

ProgressAggregator::ProgressAggregator(ProgressConfig config) : config_(config) {
  if (!(config_.smoothing > 0.0 && config_.smoothing <= 1.0)) {
    throw InvalidArgumentError("smoothing must be in (0, 1]");
  }
  reset();
}

void ProgressAggregator::reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  partitions_.clear();
  total_partitions_ = 0;
  started_at_ = kNoTime;
  rows_ = 0;
  fraction_sum_ = 0.0;
  last_sample_at_ = kNoTime;
  sampled_rows_ = sampled_fraction_ = 0.0;
  ema_rows_ = ema_fraction_ = ema_time_ = 0.0;
  next_milestone_ = config_.milestone_interval;
}

void ProgressAggregator::set_total_partitions(int64_t n) {
  if (n < 0) throw InvalidArgumentError("total_partitions must be >= 0");
  std::lock_guard<std::mutex> lock(mutex_);
  total_partitions_ = n;
}

void ProgressAggregator::start(double now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!has_time(started_at_)) {
    started_at_ = now;
    last_sample_at_ = now;
  }
}

namespace {

double progress_of(const PartitionProgress& p) {
  if (p.state == PartitionState::kCompleted) return 1.0;
  if (p.state == PartitionState::kFailed) return 0.0;
  return p.progress;
}

}  // namespace

void ProgressAggregator::remove_rows(const PartitionProgress& p) {
  // The baseline moves with the sums, so the next rate sample sees only new work.
  rows_ -= p.rows;
  sampled_rows_ -= static_cast<double>(p.rows);
  const double f = progress_of(p);
  fraction_sum_ -= f;
  sampled_fraction_ -= f / static_cast<double>(std::max<int64_t>(
                               1, std::max<int64_t>(total_partitions_, partitions_.size())));
}

PartitionProgress* ProgressAggregator::accept(int64_t partition, int64_t attempt, double now) {
  if (!has_time(started_at_)) {
    started_at_ = now;
    last_sample_at_ = now;
  }
  auto [it, inserted] = partitions_.try_emplace(partition);
  PartitionProgress& p = it->second;
  if (inserted) {
    p.partition = partition;
    p.attempt = attempt;
    return &p;
  }
  if (attempt < p.attempt) return nullptr;  // a stale attempt
  if (attempt > p.attempt) {                // a retry replaces the earlier attempt
    remove_rows(p);
    p = PartitionProgress{};
    p.partition = partition;
    p.attempt = attempt;
  }
  return &p;
}

void ProgressAggregator::sample(double now, ProgressUpdate& update) {
  const double total = static_cast<double>(
      std::max<int64_t>(1, std::max<int64_t>(total_partitions_, partitions_.size())));
  const double fraction = std::clamp(fraction_sum_ / total, 0.0, 1.0);
  const double dt = now - last_sample_at_;
  if (dt > 0.0) {  // same-instant reports fold into the next sample
    const double a = config_.smoothing;
    ema_rows_ = a * (static_cast<double>(rows_) - sampled_rows_) + (1 - a) * ema_rows_;
    ema_fraction_ = a * (fraction - sampled_fraction_) + (1 - a) * ema_fraction_;
    ema_time_ = a * dt + (1 - a) * ema_time_;
    sampled_rows_ = static_cast<double>(rows_);
    sampled_fraction_ = fraction;
    last_sample_at_ = now;
  }
  if (config_.milestone_interval > 0.0) {
    const double percent = fraction * 100.0;
    while (next_milestone_ <= 100.0 + 1e-9 && percent + 1e-9 >= next_milestone_) {
      update.milestones.push_back(next_milestone_);
      next_milestone_ += config_.milestone_interval;
    }
  }
}

ProgressUpdate ProgressAggregator::start_partition(int64_t partition, int64_t attempt,
                                                   int64_t total_rows, double now) {
  std::lock_guard<std::mutex> lock(mutex_);
  ProgressUpdate update;
  PartitionProgress* p = accept(partition, attempt, now);
  if (p == nullptr) return update;
  update.accepted = true;
  if (p->state == PartitionState::kRunning || p->state == PartitionState::kCompleted) {
    return update;  // a repeated start of the same attempt changes nothing
  }
  p->state = PartitionState::kRunning;
  if (total_rows >= 0) p->total_rows = total_rows;
  p->started_at = p->updated_at = now;
  sample(now, update);
  return update;
}

ProgressUpdate ProgressAggregator::update_partition(int64_t partition, int64_t attempt,
                                                    double progress, int64_t rows,
                                                    int64_t total_rows, double now) {
  std::lock_guard<std::mutex> lock(mutex_);
  ProgressUpdate update;
  PartitionProgress* p = accept(partition, attempt, now);
  if (p == nullptr) return update;
  update.accepted = true;
  if (p->state == PartitionState::kCompleted || p->state == PartitionState::kFailed) {
    return update;  // late reports of a finished attempt
  }
  if (p->state == PartitionState::kPending) {
    p->state = PartitionState::kRunning;
    p->started_at = now;
  }
  if (total_rows >= 0) p->total_rows = total_rows;
  const double old_progress = p->progress;
  if (rows >= 0) {
    rows_ += rows - p->rows;
    p->rows = rows;
  }
  double next = old_progress;
  if (progress >= 0.0 && !std::isnan(progress)) {
    next = progress;
  } else if (p->total_rows > 0) {
    next = static_cast<double>(p->rows) / static_cast<double>(p->total_rows);
  }
  // A running partition is never done: only complete_partition says so.
  next = std::clamp(next, 0.0, 0.999);
  fraction_sum_ += next - old_progress;
  p->progress = next;
  p->updated_at = now;
  sample(now, update);
  return update;
}

ProgressUpdate ProgressAggregator::complete_partition(int64_t partition, int64_t attempt,
                                                      int64_t rows, double now) {
  std::lock_guard<std::mutex> lock(mutex_);
  ProgressUpdate update;
  PartitionProgress* p = accept(partition, attempt, now);
  if (p == nullptr) return update;
  update.accepted = true;
  if (p->state == PartitionState::kCompleted) return update;
  fraction_sum_ -= progress_of(*p);
  if (rows >= 0) {
    rows_ += rows - p->rows;
    p->rows = rows;
  }
  if (!has_time(p->started_at)) p->started_at = now;
  p->state = PartitionState::kCompleted;
  p->progress = 1.0;
  if (p->total_rows < 0) p->total_rows = p->rows;
  p->updated_at = p->ended_at = now;
  fraction_sum_ += 1.0;
  sample(now, update);
  return update;
}

ProgressUpdate ProgressAggregator::fail_partition(int64_t partition, int64_t attempt, double now) {
  std::lock_guard<std::mutex> lock(mutex_);
  ProgressUpdate update;
  PartitionProgress* p = accept(partition, attempt, now);
  if (p == nullptr) return update;
  update.accepted = true;
  if (p->state == PartitionState::kFailed) return update;
  remove_rows(*p);
  p->rows = 0;
  p->progress = 0.0;
  p->state = PartitionState::kFailed;
  p->updated_at = p->ended_at = now;
  sample(now, update);
  return update;
}

ProgressSnapshot ProgressAggregator::snapshot_locked(double now) const {
  ProgressSnapshot s;
  s.total_partitions = std::max<int64_t>(total_partitions_, partitions_.size());
  bool totals_known = static_cast<int64_t>(partitions_.size()) == s.total_partitions;
  int64_t total_rows = 0;
  for (const auto& [id, p] : partitions_) {
    switch (p.state) {
      case PartitionState::kCompleted:
        ++s.completed_partitions;
        break;
      case PartitionState::kFailed:
        ++s.failed_partitions;
        break;
      case PartitionState::kRunning:
        ++s.running_partitions;
        break;
      case PartitionState::kPending:
        break;
    }
    if (p.total_rows < 0) totals_known = false;
    total_rows += std::max<int64_t>(p.total_rows, 0);
  }
  s.total_rows = totals_known ? total_rows : -1;
  s.rows_processed = rows_;
  if (s.total_partitions > 0 && s.completed_partitions == s.total_partitions) {
    s.fraction = 1.0;  // exact, whatever the rounding of the running sum
  } else if (s.total_partitions > 0) {
    s.fraction = std::clamp(fraction_sum_ / static_cast<double>(s.total_partitions), 0.0, 1.0);
  }
  s.percent = s.fraction * 100.0;
  s.elapsed_seconds = has_time(started_at_) ? std::max(0.0, now - started_at_) : 0.0;
  s.average_rows_per_second =
      s.elapsed_seconds > 0 ? static_cast<double>(rows_) / s.elapsed_seconds : 0.0;
  s.rows_per_second = ema_time_ > 0 ? std::max(0.0, ema_rows_ / ema_time_) : 0.0;
  if (s.fraction >= 1.0) {
    s.estimated_remaining_seconds = 0.0;
  } else if (ema_time_ > 0 && ema_fraction_ > 0) {
    s.estimated_remaining_seconds = (1.0 - s.fraction) / (ema_fraction_ / ema_time_);
  }
  return s;
}

ProgressSnapshot ProgressAggregator::snapshot(double now) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return snapshot_locked(now);
}

ProgressSnapshot ProgressAggregator::interpolate(double now) const {
  std::lock_guard<std::mutex> lock(mutex_);
  ProgressSnapshot s = snapshot_locked(now);
  if (!has_time(last_sample_at_) || ema_time_ <= 0 || s.fraction >= 1.0) return s;
  const double since = std::max(0.0, now - last_sample_at_);
  if (since <= 0.0 || s.running_partitions == 0) return s;
  s.interpolated = true;
  // the running partitions can at most finish: the estimate stays below that
  const double reachable = static_cast<double>(s.completed_partitions + s.running_partitions) /
                           static_cast<double>(std::max<int64_t>(1, s.total_partitions));
  const double cap = std::max(s.fraction, std::min(reachable, 1.0) - 1e-3);
  const double fraction_rate = std::max(0.0, ema_fraction_ / ema_time_);
  s.fraction = std::clamp(s.fraction + fraction_rate * since, s.fraction, cap);
  s.percent = s.fraction * 100.0;
  int64_t rows_cap = 0;
  bool rows_bounded = true;
  for (const auto& [id, p] : partitions_) {
    if (p.state == PartitionState::kRunning && p.total_rows < 0) rows_bounded = false;
    if (p.state == PartitionState::kRunning || p.state == PartitionState::kCompleted) {
      rows_cap += std::max<int64_t>(p.total_rows, p.rows);
    }
  }
  double rows = static_cast<double>(s.rows_processed) + s.rows_per_second * since;
  if (rows_bounded) rows = std::min(rows, static_cast<double>(rows_cap));
  s.rows_processed = std::max(s.rows_processed, static_cast<int64_t>(rows));
  if (has_time(s.estimated_remaining_seconds)) {
    s.estimated_remaining_seconds = std::max(0.0, s.estimated_remaining_seconds - since);
  }
  return s;
}

std::optional<PartitionProgress> ProgressAggregator::partition(int64_t partition) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = partitions_.find(partition); it != partitions_.end()) return it->second;
  return std::nullopt;
}

std::vector<PartitionProgress> ProgressAggregator::partitions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<PartitionProgress> out;
  out.reserve(partitions_.size());
  for (const auto& [id, p] : partitions_) out.push_back(p);
  return out;
}

}  // namespace truthound::monitor
