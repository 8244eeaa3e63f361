// Copyright 2026 The allot Authors.

#include "serve/metrics.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace allot::serve {

std::string PrometheusLabel(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void RequestMetrics::Record(absl::string_view route, int status, absl::Duration latency) {
  const double seconds = absl::ToDoubleSeconds(latency);
  allot::internal::MutexLock lock(&mu_);
  ++requests_[{std::string(route), status}];
  Histogram& h = latency_[std::string(route)];
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void RequestMetrics::AppendPrometheus(std::string& out) const {
  allot::internal::MutexLock lock(&mu_);
  absl::StrAppend(&out,
                  "# HELP allot_http_requests_total HTTP requests by route and status.\n"
                  "# TYPE allot_http_requests_total counter\n");
  for (const auto& [key, count] : requests_) {
    absl::StrAppend(&out, "allot_http_requests_total{route=\"",
                    PrometheusLabel(key.first), "\",status=\"", key.second, "\"} ", count,
                    "\n");
  }
  absl::StrAppend(&out,
                  "# HELP allot_http_request_duration_seconds Time to answer a request.\n"
                  "# TYPE allot_http_request_duration_seconds histogram\n");
  for (const auto& [route, h] : latency_) {
    const std::string label = PrometheusLabel(route);
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      absl::StrAppend(&out, "allot_http_request_duration_seconds_bucket{route=\"", label,
                      "\",le=\"", absl::StrFormat("%g", kLatencyBuckets[i]), "\"} ",
                      h.buckets[i], "\n");
    }
    absl::StrAppend(&out, "allot_http_request_duration_seconds_bucket{route=\"", label,
                    "\",le=\"+Inf\"} ", h.count, "\n");
    absl::StrAppend(&out, "allot_http_request_duration_seconds_sum{route=\"", label,
                    "\"} ", absl::StrFormat("%.9g", h.sum), "\n");
    absl::StrAppend(&out, "allot_http_request_duration_seconds_count{route=\"", label,
                    "\"} ", h.count, "\n");
  }
}

}  // namespace allot::serve
