// Progress of a run aggregated over its partitions: completed/total partitions, rows, percent,
// a smoothed rate and an ETA. Thread-safe (one mutex, nothing called outside while it is held).
//
// Each partition reports under an attempt number; a newer attempt replaces the older one's rows
// and progress (rows never count twice) and reports of an older attempt are ignored.
//
// The rate shown to people is smoothed like tqdm's: exponential moving averages of the row delta
// and the time delta between reports (weight `smoothing` for the newest), rate = ema_rows /
// ema_time. The ETA is (1 - fraction) / (ema_fraction / ema_time): it uses the fraction done, so it
// works when row totals are unknown. Milestones are the multiples of `milestone_interval` percent
// crossed by a report, each reported once per run.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "truthound/monitor/clock.hpp"

namespace truthound::monitor {

struct ProgressConfig {
  double milestone_interval = 10.0;  // percent; <= 0: no milestones
  double smoothing = 0.3;            // weight of the newest report in the moving averages, (0, 1]
};

enum class PartitionState : uint8_t { kPending, kRunning, kCompleted, kFailed };
const char* to_string(PartitionState state);

struct PartitionProgress {
  int64_t partition = 0;
  int64_t attempt = 0;
  PartitionState state = PartitionState::kPending;
  int64_t total_rows = -1;  // -1: unknown
  int64_t rows = 0;
  double progress = 0.0;  // 0..1: rows / total_rows when known, else as reported
  double started_at = kNoTime;
  double updated_at = kNoTime;
  double ended_at = kNoTime;
};

struct ProgressSnapshot {
  int64_t total_partitions = 0;
  int64_t completed_partitions = 0;
  int64_t failed_partitions = 0;
  int64_t running_partitions = 0;
  int64_t rows_processed = 0;
  int64_t total_rows = -1;               // -1: not known for every partition
  double fraction = 0.0;                 // 0..1
  double percent = 0.0;                  // 0..100
  double rows_per_second = 0.0;          // smoothed
  double average_rows_per_second = 0.0;  // rows / elapsed
  double elapsed_seconds = 0.0;
  double estimated_remaining_seconds = kNoTime;  // NaN: unknown
  bool interpolated = false;  // estimated between reports from the smoothed rates
};

struct ProgressUpdate {
  bool accepted = false;           // false: a stale attempt's report, ignored
  std::vector<double> milestones;  // percents crossed by this report
};

class ProgressAggregator {
 public:
  explicit ProgressAggregator(ProgressConfig config = {});

  // Forget everything (a new run).
  void reset();
  void set_total_partitions(int64_t n);
  // The run's clock starts (also at the first partition report).
  void start(double now);

  ProgressUpdate start_partition(int64_t partition, int64_t attempt, int64_t total_rows,
                                 double now);
  // `progress` in [0, 1] (< 0: from rows / total_rows); `rows` cumulative (< 0: keep);
  // `total_rows` (< 0: keep).
  ProgressUpdate update_partition(int64_t partition, int64_t attempt, double progress, int64_t rows,
                                  int64_t total_rows, double now);
  // `rows` < 0 keeps the last reported rows.
  ProgressUpdate complete_partition(int64_t partition, int64_t attempt, int64_t rows, double now);
  // The attempt's rows are dropped (they are in no result); a retry starts the partition again.
  ProgressUpdate fail_partition(int64_t partition, int64_t attempt, double now);

  ProgressSnapshot snapshot(double now) const;
  // Between reports: rows and fraction moved forward by the smoothed rates since the last report,
  // never past what the running partitions can reach, never backwards.
  ProgressSnapshot interpolate(double now) const;

  std::optional<PartitionProgress> partition(int64_t partition) const;
  std::vector<PartitionProgress> partitions() const;

 private:
  PartitionProgress* accept(int64_t partition, int64_t attempt, double now);
  void sample(double now, ProgressUpdate& update);
  ProgressSnapshot snapshot_locked(double now) const;
  void remove_rows(const PartitionProgress& p);

  ProgressConfig config_;
  mutable std::mutex mutex_;
  std::map<int64_t, PartitionProgress> partitions_;
  int64_t total_partitions_ = 0;
  double started_at_ = kNoTime;
  // running sums over the partitions' current attempts
  int64_t rows_ = 0;
  double fraction_sum_ = 0.0;
  // moving averages and the baseline of the last sample
  double last_sample_at_ = kNoTime;
  double sampled_rows_ = 0.0;
  double sampled_fraction_ = 0.0;
  double ema_rows_ = 0.0;
  double ema_fraction_ = 0.0;
  double ema_time_ = 0.0;
  double next_milestone_ = 0.0;
};

}  // namespace truthound::monitor
