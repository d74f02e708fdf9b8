// The monitoring core's binding (truthound._core.Monitor*): typed shells in
// truthound.profiler.distributed.monitoring hold these. Every method releases the GIL before it
// takes the object's mutex, and nothing under the mutex calls Python, so a thread waiting for the
// mutex never holds the GIL that the holder might need. States and statuses cross as strings.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "truthound/monitor/health.hpp"
#include "truthound/monitor/metrics.hpp"
#include "truthound/monitor/progress.hpp"
#include "truthound/monitor/task_table.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace truthound {

void bind_monitor(nb::module_& m) {
  using namespace truthound::monitor;
  using release = nb::call_guard<nb::gil_scoped_release>;

  m.def("monitor_clock", &monotonic_seconds,
        "Seconds on the engine's monotonic clock (CLOCK_MONOTONIC, as time.monotonic()).");

  // ---- tasks
  nb::class_<TaskRecord>(m, "MonitorTaskRecord", "One task of the task table (a copy).")
      .def_ro("id", &TaskRecord::id)
      .def_ro("task_type", &TaskRecord::task_type)
      .def_ro("partition_id", &TaskRecord::partition_id)
      .def_ro("attempt", &TaskRecord::attempt)
      .def_ro("worker_id", &TaskRecord::worker_id)
      .def_prop_ro("state", [](const TaskRecord& t) { return std::string(to_string(t.state)); })
      .def_ro("submitted_at", &TaskRecord::submitted_at)
      .def_ro("started_at", &TaskRecord::started_at)
      .def_ro("ended_at", &TaskRecord::ended_at)
      .def_ro("progress", &TaskRecord::progress)
      .def_ro("rows_processed", &TaskRecord::rows_processed)
      .def_ro("retry_count", &TaskRecord::retry_count)
      .def_ro("error", &TaskRecord::error)
      .def("duration_seconds", &TaskRecord::duration_seconds, "now"_a);

  nb::class_<TaskCounts>(m, "MonitorTaskCounts", "Counters of the task table.")
      .def_ro("submitted", &TaskCounts::submitted)
      .def_ro("started", &TaskCounts::started)
      .def_ro("completed", &TaskCounts::completed)
      .def_ro("failed", &TaskCounts::failed)
      .def_ro("retried", &TaskCounts::retried)
      .def_ro("timed_out", &TaskCounts::timed_out)
      .def_ro("cancelled", &TaskCounts::cancelled)
      .def_ro("pending", &TaskCounts::pending)
      .def_ro("running", &TaskCounts::running)
      .def_ro("completed_seconds", &TaskCounts::completed_seconds)
      .def_ro("rows_completed", &TaskCounts::rows_completed)
      .def_ro("rows_in_flight", &TaskCounts::rows_in_flight)
      .def_prop_ro("average_duration", &TaskCounts::average_duration);

  nb::class_<TaskTable>(m, "MonitorTaskTable", "The task table (thread-safe).")
      .def(
          "__init__",
          [](TaskTable* self, size_t max_history_size, double timeout_seconds, int max_retries,
             bool enable_progress_tracking) {
            TaskTableConfig c;
            c.max_history_size = max_history_size;
            c.timeout_seconds = timeout_seconds;
            c.max_retries = max_retries;
            c.enable_progress_tracking = enable_progress_tracking;
            new (self) TaskTable(c);
          },
          "max_history_size"_a, "timeout_seconds"_a, "max_retries"_a, "enable_progress_tracking"_a)
      .def("submit", &TaskTable::submit, "task_type"_a, "partition_id"_a, "attempt"_a, "now"_a,
           release())
      .def("start", &TaskTable::start, "id"_a, "worker_id"_a, "now"_a, release())
      .def("update_progress", &TaskTable::update_progress, "id"_a, "progress"_a, "rows"_a, "now"_a,
           release())
      .def("complete", &TaskTable::complete, "id"_a, "rows"_a, "duration"_a, "now"_a, release())
      .def("fail", &TaskTable::fail, "id"_a, "error"_a, "now"_a, release())
      .def("retry", &TaskTable::retry, "id"_a, "error"_a, "now"_a, "force"_a = false, release())
      .def("resubmit", &TaskTable::resubmit, "id"_a, "attempt"_a, "now"_a, release())
      .def("cancel", &TaskTable::cancel, "id"_a, "now"_a, release())
      .def("check_timeouts", &TaskTable::check_timeouts, "now"_a, release())
      .def("get", &TaskTable::get, "id"_a, release())
      .def("active", &TaskTable::active, release())
      .def("history", &TaskTable::history, release())
      .def("counts", &TaskTable::counts, release());

  // ---- progress
  nb::class_<PartitionProgress>(m, "MonitorPartitionProgress", "One partition's progress.")
      .def_ro("partition", &PartitionProgress::partition)
      .def_ro("attempt", &PartitionProgress::attempt)
      .def_prop_ro("state",
                   [](const PartitionProgress& p) { return std::string(to_string(p.state)); })
      .def_ro("total_rows", &PartitionProgress::total_rows)
      .def_ro("rows", &PartitionProgress::rows)
      .def_ro("progress", &PartitionProgress::progress)
      .def_ro("started_at", &PartitionProgress::started_at)
      .def_ro("updated_at", &PartitionProgress::updated_at)
      .def_ro("ended_at", &PartitionProgress::ended_at);

  nb::class_<ProgressSnapshot>(m, "MonitorProgressSnapshot", "Aggregated progress of a run.")
      .def_ro("total_partitions", &ProgressSnapshot::total_partitions)
      .def_ro("completed_partitions", &ProgressSnapshot::completed_partitions)
      .def_ro("failed_partitions", &ProgressSnapshot::failed_partitions)
      .def_ro("running_partitions", &ProgressSnapshot::running_partitions)
      .def_ro("rows_processed", &ProgressSnapshot::rows_processed)
      .def_ro("total_rows", &ProgressSnapshot::total_rows)
      .def_ro("fraction", &ProgressSnapshot::fraction)
      .def_ro("percent", &ProgressSnapshot::percent)
      .def_ro("rows_per_second", &ProgressSnapshot::rows_per_second)
      .def_ro("average_rows_per_second", &ProgressSnapshot::average_rows_per_second)
      .def_ro("elapsed_seconds", &ProgressSnapshot::elapsed_seconds)
      .def_ro("estimated_remaining_seconds", &ProgressSnapshot::estimated_remaining_seconds)
      .def_ro("interpolated", &ProgressSnapshot::interpolated);

  auto update = [](const ProgressUpdate& u) { return std::make_pair(u.accepted, u.milestones); };
  nb::class_<ProgressAggregator>(m, "MonitorProgress", "Progress aggregation (thread-safe).")
      .def(
          "__init__",
          [](ProgressAggregator* self, double milestone_interval, double smoothing) {
            ProgressConfig c;
            c.milestone_interval = milestone_interval;
            c.smoothing = smoothing;
            new (self) ProgressAggregator(c);
          },
          "milestone_interval"_a, "smoothing"_a)
      .def("reset", &ProgressAggregator::reset, release())
      .def("set_total_partitions", &ProgressAggregator::set_total_partitions, "n"_a, release())
      .def("start", &ProgressAggregator::start, "now"_a, release())
      .def(
          "start_partition",
          [update](ProgressAggregator& a, int64_t p, int64_t attempt, int64_t total, double now) {
            return update(a.start_partition(p, attempt, total, now));
          },
          "partition"_a, "attempt"_a, "total_rows"_a, "now"_a, release(),
          "(accepted, milestones crossed)")
      .def(
          "update_partition",
          [update](ProgressAggregator& a, int64_t p, int64_t attempt, double progress, int64_t rows,
                   int64_t total, double now) {
            return update(a.update_partition(p, attempt, progress, rows, total, now));
          },
          "partition"_a, "attempt"_a, "progress"_a, "rows"_a, "total_rows"_a, "now"_a, release(),
          "(accepted, milestones crossed)")
      .def(
          "complete_partition",
          [update](ProgressAggregator& a, int64_t p, int64_t attempt, int64_t rows, double now) {
            return update(a.complete_partition(p, attempt, rows, now));
          },
          "partition"_a, "attempt"_a, "rows"_a, "now"_a, release(),
          "(accepted, milestones crossed)")
      .def(
          "fail_partition",
          [update](ProgressAggregator& a, int64_t p, int64_t attempt, double now) {
            return update(a.fail_partition(p, attempt, now));
          },
          "partition"_a, "attempt"_a, "now"_a, release(), "(accepted, milestones crossed)")
      .def("snapshot", &ProgressAggregator::snapshot, "now"_a, release())
      .def("interpolate", &ProgressAggregator::interpolate, "now"_a, release())
      .def("partition", &ProgressAggregator::partition, "partition"_a, release())
      .def("partitions", &ProgressAggregator::partitions, release());

  // ---- health
  nb::class_<WorkerRecord>(m, "MonitorWorkerRecord", "One worker's health (a copy).")
      .def_ro("worker_id", &WorkerRecord::worker_id)
      .def_prop_ro("status", [](const WorkerRecord& r) { return std::string(to_string(r.status)); })
      .def_ro("reason", &WorkerRecord::reason)
      .def_ro("stalled", &WorkerRecord::stalled)
      .def_ro("registered_at", &WorkerRecord::registered_at)
      .def_ro("last_heartbeat", &WorkerRecord::last_heartbeat)
      .def_ro("last_activity", &WorkerRecord::last_activity)
      .def_ro("cpu_percent", &WorkerRecord::cpu_percent)
      .def_ro("memory_percent", &WorkerRecord::memory_percent)
      .def_ro("active_tasks", &WorkerRecord::active_tasks)
      .def_ro("tasks_completed", &WorkerRecord::tasks_completed)
      .def_ro("tasks_failed", &WorkerRecord::tasks_failed)
      .def_ro("total_task_seconds", &WorkerRecord::total_task_seconds)
      .def_ro("error_rate", &WorkerRecord::error_rate)
      .def_ro("avg_task_seconds", &WorkerRecord::avg_task_seconds);

  nb::class_<HealthTransition>(m, "MonitorHealthTransition", "A worker's status change.")
      .def_ro("worker_id", &HealthTransition::worker_id)
      .def_prop_ro("from_status",
                   [](const HealthTransition& t) { return std::string(to_string(t.from)); })
      .def_prop_ro("to_status",
                   [](const HealthTransition& t) { return std::string(to_string(t.to)); })
      .def_ro("stalled", &HealthTransition::stalled)
      .def_ro("recovered", &HealthTransition::recovered)
      .def_ro("reason", &HealthTransition::reason);

  nb::class_<HealthRules>(m, "MonitorHealth", "Worker health rules (thread-safe).")
      .def(
          "__init__",
          [](HealthRules* self, double heartbeat_timeout, double stall_threshold,
             double memory_warning, double memory_critical, double cpu_warning,
             double error_rate_warning, double error_rate_critical, int error_window,
             int error_rate_min_tasks, double slow_task_factor) {
            HealthConfig c;
            c.heartbeat_timeout_seconds = heartbeat_timeout;
            c.stall_threshold_seconds = stall_threshold;
            c.memory_warning_percent = memory_warning;
            c.memory_critical_percent = memory_critical;
            c.cpu_warning_percent = cpu_warning;
            c.error_rate_warning = error_rate_warning;
            c.error_rate_critical = error_rate_critical;
            c.error_window = error_window;
            c.error_rate_min_tasks = error_rate_min_tasks;
            c.slow_task_factor = slow_task_factor;
            new (self) HealthRules(c);
          },
          "heartbeat_timeout_seconds"_a, "stall_threshold_seconds"_a, "memory_warning_percent"_a,
          "memory_critical_percent"_a, "cpu_warning_percent"_a, "error_rate_warning"_a,
          "error_rate_critical"_a, "error_window"_a, "error_rate_min_tasks"_a, "slow_task_factor"_a)
      .def("register_worker", &HealthRules::register_worker, "worker"_a, "now"_a, release())
      .def("unregister_worker", &HealthRules::unregister_worker, "worker"_a, release())
      .def("heartbeat", &HealthRules::heartbeat, "worker"_a, "cpu_percent"_a, "memory_percent"_a,
           "active_tasks"_a, "now"_a, release())
      .def("task_started", &HealthRules::task_started, "worker"_a, "now"_a, release())
      .def("task_progress", &HealthRules::task_progress, "worker"_a, "now"_a, release())
      .def("task_finished", &HealthRules::task_finished, "worker"_a, "duration_seconds"_a,
           "success"_a, "now"_a, release())
      .def("evaluate", &HealthRules::evaluate, "now"_a, release())
      .def("get", &HealthRules::get, "worker"_a, release())
      .def("contains", &HealthRules::contains, "worker"_a, release())
      .def("workers", &HealthRules::workers, release())
      .def(
          "overall", [](const HealthRules& h) { return std::string(to_string(h.overall())); },
          release());

  // ---- metrics
  nb::class_<DurationSummary>(m, "MonitorDurationSummary", "Task durations of one task type.")
      .def_ro("task_type", &DurationSummary::task_type)
      .def_ro("count", &DurationSummary::count)
      .def_ro("sum", &DurationSummary::sum)
      .def_ro("min", &DurationSummary::min)
      .def_ro("max", &DurationSummary::max)
      .def_ro("mean", &DurationSummary::mean)
      .def_ro("quantiles", &DurationSummary::quantiles);

  nb::class_<MetricsSnapshot>(m, "MonitorMetricsSnapshot", "Every metric at one instant.")
      .def_ro("counters", &MetricsSnapshot::counters)
      .def_ro("gauges", &MetricsSnapshot::gauges)
      .def_ro("all", &MetricsSnapshot::all)
      .def_ro("by_type", &MetricsSnapshot::by_type)
      .def_ro("workers", &MetricsSnapshot::workers)
      .def_ro("partition_progress", &MetricsSnapshot::partition_progress);

  nb::class_<MetricsRegistry>(m, "MonitorMetrics", "Metric series (thread-safe).")
      .def(
          "__init__",
          [](MetricsRegistry* self, std::vector<double> percentiles, bool enable_percentiles,
             size_t max_samples, std::string prefix,
             std::vector<std::pair<std::string, std::string>> labels) {
            MetricsConfig c;
            c.percentiles = std::move(percentiles);
            c.enable_percentiles = enable_percentiles;
            c.max_samples = max_samples;
            c.prefix = std::move(prefix);
            c.labels = std::move(labels);
            new (self) MetricsRegistry(std::move(c));
          },
          "percentiles"_a, "enable_percentiles"_a, "max_samples"_a, "prefix"_a, "labels"_a)
      .def("record_task_duration", &MetricsRegistry::record_task_duration, "task_type"_a,
           "seconds"_a, release())
      .def("record_partition_progress", &MetricsRegistry::record_partition_progress, "partition"_a,
           "fraction"_a, release())
      .def("record_worker_metric", &MetricsRegistry::record_worker_metric, "worker"_a, "name"_a,
           "value"_a, release())
      .def("remove_worker", &MetricsRegistry::remove_worker, "worker"_a, release())
      .def("increment_counter", &MetricsRegistry::increment_counter, "name"_a, "by"_a = 1.0,
           release())
      .def("set_gauge", &MetricsRegistry::set_gauge, "name"_a, "value"_a, release())
      .def("counter", &MetricsRegistry::counter, "name"_a, release())
      .def("reset", &MetricsRegistry::reset, release())
      .def("snapshot", &MetricsRegistry::snapshot, release())
      .def("export_prometheus", &MetricsRegistry::export_prometheus, release())
      .def("duration_quantiles", &MetricsRegistry::duration_quantiles, "qs"_a, release());
}

}  // namespace truthound
