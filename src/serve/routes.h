// Copyright 2026 The allot Authors.
//
// The HTTP routes of `allot serve`: method, path template and the role a
// token needs. The server dispatches through this table, and
// docs/openapi.yaml is tested against it.
//
//   for (const allot::serve::Route& r : allot::serve::Routes()) ...

#ifndef ALLOT_SRC_SERVE_ROUTES_H_
#define ALLOT_SRC_SERVE_ROUTES_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace allot::serve {

// Which tokens may call a route.
enum class Access { kPublic, kAdmin, kRouter, kViewer };

enum class RouteId {
  kHealthz,
  kMetrics,
  kClock,
  kCreateExperiment,
  kStart,
  kStop,
  kDelete,
  kAddArm,
  kRetireArm,
  kAssign,
  kAssignBatch,
  kOutcomes,
  kReports,
  kReport,
  kHistory,
};

// Immutable; safe to share.
struct Route {
  RouteId id;
  absl::string_view method;  // "GET", "POST", "DELETE"
  absl::string_view path;    // "/v1/experiments/{id}/assign"
  Access access;
};

// Every route the server answers, in a fixed order.
absl::Span<const Route> Routes();

// The result of matching a request path against the table.
struct RouteMatch {
  const Route* route = nullptr;     // null: no route for this method
  std::vector<std::string> params;  // the {..} segments, percent-decoded
  // Methods the path takes (for 405's Allow), empty when no path matches.
  std::vector<absl::string_view> allowed;
};

// Matches `method` and `path` (without query string).
RouteMatch MatchRoute(absl::string_view method, absl::string_view path);

}  // namespace allot::serve

#endif  // ALLOT_SRC_SERVE_ROUTES_H_
