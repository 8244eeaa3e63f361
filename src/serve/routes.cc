// Copyright 2026 The allot Authors.

#include "serve/routes.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"

namespace allot::serve {
namespace {

constexpr Route kRoutes[] = {
    {RouteId::kHealthz, "GET", "/healthz", Access::kPublic},
    {RouteId::kMetrics, "GET", "/metrics", Access::kViewer},
    {RouteId::kClock, "POST", "/v1/clock", Access::kAdmin},
    {RouteId::kCreateExperiment, "POST", "/v1/experiments", Access::kAdmin},
    {RouteId::kStart, "POST", "/v1/experiments/{id}/start", Access::kAdmin},
    {RouteId::kStop, "POST", "/v1/experiments/{id}/stop", Access::kAdmin},
    {RouteId::kDelete, "DELETE", "/v1/experiments/{id}", Access::kAdmin},
    {RouteId::kAddArm, "POST", "/v1/experiments/{id}/arms", Access::kAdmin},
    {RouteId::kRetireArm, "POST", "/v1/experiments/{id}/arms/{arm}/retire",
     Access::kAdmin},
    {RouteId::kAssign, "POST", "/v1/experiments/{id}/assign", Access::kRouter},
    {RouteId::kAssignBatch, "POST", "/v1/experiments/{id}/assign_batch", Access::kRouter},
    {RouteId::kOutcomes, "POST", "/v1/experiments/{id}/outcomes", Access::kRouter},
    {RouteId::kReports, "GET", "/v1/experiments/{id}/reports", Access::kViewer},
    {RouteId::kReport, "GET", "/v1/experiments/{id}/report", Access::kViewer},
    {RouteId::kHistory, "GET", "/v1/experiments/{id}/history", Access::kViewer},
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
        HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Returns whether `path` fits `pattern`, filling `params`.
bool PathFits(absl::string_view pattern, const std::vector<absl::string_view>& segments,
              std::vector<std::string>& params) {
  const std::vector<absl::string_view> want = absl::StrSplit(pattern, '/');
  if (want.size() != segments.size()) return false;
  params.clear();
  for (size_t i = 0; i < want.size(); ++i) {
    if (!want[i].empty() && want[i].front() == '{') {
      if (segments[i].empty()) return false;
      params.push_back(PercentDecode(segments[i]));
    } else if (want[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Span<const Route> Routes() { return kRoutes; }

RouteMatch MatchRoute(absl::string_view method, absl::string_view path) {
  RouteMatch match;
  const std::vector<absl::string_view> segments = absl::StrSplit(path, '/');
  std::vector<std::string> params;
  for (const Route& route : kRoutes) {
    if (!PathFits(route.path, segments, params)) continue;
    match.allowed.push_back(route.method);
    if (route.method == method && match.route == nullptr) {
      match.route = &route;
      match.params = params;
    }
  }
  return match;
}

}  // namespace allot::serve
