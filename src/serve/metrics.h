// Copyright 2026 The allot Authors.
//
// Request counters and latency histograms of `allot serve`, written in the
// Prometheus text format with the engine's own figures.

#ifndef ALLOT_SRC_SERVE_METRICS_H_
#define ALLOT_SRC_SERVE_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "allot/internal/mutex.h"

namespace allot::serve {

// Latency histogram bucket bounds, in seconds.
inline constexpr std::array<double, 12> kLatencyBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5};

// Thread-safe.
class RequestMetrics {
 public:
  // Counts one request of `route` (its path template, or "unmatched").
  void Record(absl::string_view route, int status, absl::Duration latency);
  // Appends allot_http_requests_total and allot_http_request_duration_seconds.
  void AppendPrometheus(std::string& out) const;

 private:
  struct Histogram {
    std::array<int64_t, kLatencyBuckets.size()> buckets{};
    int64_t count = 0;
    double sum = 0;
  };
  mutable allot::internal::Mutex mu_;
  std::map<std::pair<std::string, int>, int64_t> requests_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Histogram> latency_ ABSL_GUARDED_BY(mu_);
};

// Returns `value` as a Prometheus label value (backslash, quote, newline
// escaped).
std::string PrometheusLabel(absl::string_view value);

}  // namespace allot::serve

#endif  // ALLOT_SRC_SERVE_METRICS_H_
