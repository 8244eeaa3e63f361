// Copyright 2026 The allot Authors.
//
// The handlers of `allot serve`: authorization, dispatch through the route
// table, the clock, the lifecycle and arm routes, reports and metrics. The
// router's routes are in api_traffic.cc.

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "allot/experiment_config.h"
#include "allot/report.h"

#include "absl/strings/str_cat.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "serve/api_json.h"
#include "serve/server_impl.h"

namespace allot::serve::internal {
namespace {

// Holds a mutex for a scope, exclusively (`alone`) or shared.
class EngineLock {
 public:
  EngineLock(allot::internal::Mutex& mu, bool alone) ABSL_NO_THREAD_SAFETY_ANALYSIS
      : mu_(mu),
        alone_(alone) {
    if (alone_) {
      mu_.Lock();
    } else {
      mu_.ReaderLock();
    }
  }
  ~EngineLock() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (alone_) {
      mu_.Unlock();
    } else {
      mu_.ReaderUnlock();
    }
  }
  EngineLock(const EngineLock&) = delete;
  EngineLock& operator=(const EngineLock&) = delete;

 private:
  allot::internal::Mutex& mu_;
  const bool alone_;
};

}  // namespace

ApiResponse ServerImpl::Handle(const ApiRequest& request) {
  const absl::Time began = absl::Now();
  absl::string_view path = request.target;
  if (const size_t q = path.find('?'); q != absl::string_view::npos)
    path = path.substr(0, q);
  const RouteMatch match = MatchRoute(request.method, path);
  ApiResponse response;
  std::string route_name = "unmatched";
  if (match.route == nullptr && match.allowed.empty()) {
    response = ErrorResponse(404, absl::StrCat("no route for ", SafeUtf8(path)));
  } else if (match.route == nullptr) {
    route_name = std::string(MatchRoute(match.allowed.front(), path).route->path);
    response = ErrorResponse(
        405,
        absl::StrCat("method ", SafeUtf8(request.method), " is not allowed on ",
                     route_name, " (allowed: ", absl::StrJoin(match.allowed, ", "), ")"));
    response.allow = absl::StrJoin(match.allowed, ", ");
  } else {
    route_name = std::string(match.route->path);
    bool ok = false;
    response = Authorize(*match.route, request, ok);
    if (ok) {
      const bool changes_state = match.route->method != "GET";
      // Requests share the engine; an advance (the clock route) runs
      // alone, as does a checkpoint (which swaps the journal): a request's
      // time, taken inside, is then never before an advance made meanwhile.
      const EngineLock engine_lock(engine_mu_, match.route->id == RouteId::kClock);
      const absl::Status journal_error = JournalError();
      if (changes_state && !journal_error.ok()) {
        response = ErrorResponse(
            503, absl::StrCat("the journal failed earlier (", journal_error.message(),
                              "); restart the server to recover"));
      } else {
        response = Dispatch(*match.route, match.params, request);
        // The records this request made are synced before its answer is
        // sent (AfterSync), so whatever is acknowledged is durable.
        response.needs_sync = changes_state;
      }
    }
  }
  metrics_.Record(route_name, response.status, absl::Now() - began);
  return response;
}

ApiResponse ServerImpl::Authorize(const Route& route, const ApiRequest& request,
                                  bool& ok) const {
  ok = false;
  if (route.access == Access::kPublic || config_.tokens.empty()) {
    ok = true;
    return {};
  }
  absl::string_view header = request.authorization;
  constexpr absl::string_view kBearer = "bearer ";
  if (header.size() <= kBearer.size() ||
      !absl::EqualsIgnoreCase(header.substr(0, kBearer.size()), kBearer)) {
    return ErrorResponse(401, "missing bearer token (Authorization: Bearer TOKEN)");
  }
  const absl::string_view token =
      absl::StripAsciiWhitespace(header.substr(kBearer.size()));
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  // Every configured digest is compared, in constant time, whatever matches.
  const TokenConfig* found = nullptr;
  for (const TokenConfig& t : config_.tokens) {
    if (CRYPTO_memcmp(digest, t.sha256.data(), SHA256_DIGEST_LENGTH) == 0 &&
        found == nullptr) {
      found = &t;
    }
  }
  if (found == nullptr) return ErrorResponse(401, "invalid bearer token");
  const bool allowed =
      found->role == Role::kAdmin ||
      (found->role == Role::kRouter && route.access == Access::kRouter) ||
      (found->role == Role::kViewer && route.access == Access::kViewer);
  if (!allowed) {
    return ErrorResponse(
        403, absl::StrCat("role ", RoleName(found->role), " may not call ", route.method,
                          " ", route.path));
  }
  ok = true;
  return {};
}

ApiResponse ServerImpl::Dispatch(const Route& route,
                                 const std::vector<std::string>& params,
                                 const ApiRequest& request) {
  if (replica_ != nullptr) {
    switch (route.id) {
      case RouteId::kHealthz:
      case RouteId::kMetrics:
      case RouteId::kClock:
      case RouteId::kAssign:
      case RouteId::kAssignBatch:
      case RouteId::kOutcomes:
      case RouteId::kHistory:
        break;
      default:
        return ErrorResponse(
            409, absl::StrCat("this server is a replica of a fleet ([store]): ",
                              route.method, " ", route.path,
                              " is not served here; the learner (allot learn) changes "
                              "experiments and writes the reports to the store"));
    }
  }
  switch (route.id) {
    case RouteId::kHealthz:
      return Health();
    case RouteId::kMetrics: {
      ApiResponse r = Ok(200, Metrics());
      r.content_type = "text/plain; version=0.0.4";
      return r;
    }
    case RouteId::kClock:
      return Clock(request);
    case RouteId::kCreateExperiment:
      return CreateExperiment(request);
    case RouteId::kStart:
      return StartStop(params[0], request, true);
    case RouteId::kStop:
      return StartStop(params[0], request, false);
    case RouteId::kDelete:
      return Delete(params[0]);
    case RouteId::kAddArm:
      return AddArm(params[0], request);
    case RouteId::kRetireArm:
      return RetireArm(params[0], params[1], request);
    case RouteId::kAssign:
      return Assign(params[0], request);
    case RouteId::kAssignBatch:
      return AssignBatch(params[0], request);
    case RouteId::kOutcomes:
      return Outcomes(params[0], request);
    case RouteId::kReports:
      return Reports(params[0], false);
    case RouteId::kReport:
      return Reports(params[0], true);
    case RouteId::kHistory:
      return History(params[0]);
  }
  return ErrorResponse(500, "unhandled route");
}

ApiResponse ServerImpl::Clock(const ApiRequest& request) {
  if (!options_.manual_clock) {
    return ErrorResponse(
        409,
        "the server runs on the wall clock; start it with --manual-clock "
        "to set the time");
  }
  Body body;
  ParseBody(request.body, false, body);
  if (!body.error.empty()) return ErrorResponse(400, body.error);
  if (absl::Status s = CheckKeys(body.doc, "", {"now"}); !s.ok())
    return StatusResponse(s);
  absl::StatusOr<std::optional<absl::Time>> now = OptionalTime(body.doc, "", "now");
  if (!now.ok()) return StatusResponse(now.status());
  if (!now->has_value()) return ErrorResponse(400, "missing field \"now\"");
  {
    allot::internal::MutexLock lock(&mu_);
    if (**now < now_) {
      return ErrorResponse(
          400, absl::StrCat("now ", FormatRfc3339(**now), " is before the clock's time ",
                            FormatRfc3339(now_), ": time cannot go backward"));
    }
    now_ = **now;
  }
  // The engine refuses an advance to before an earlier one (two clock
  // requests at once), so its time never goes back either.
  absl::StatusOr<std::vector<ReallocationReport>> reports = engine_->Advance(**now);
  if (!reports.ok()) return StatusResponse(reports.status());
  int64_t reallocations = 0;
  for (const ReallocationReport& r : *reports) reallocations += r.reallocated ? 1 : 0;
  return Ok(200, Json([&](JsonWriter& w) {
              w.StartObject();
              w.Key("now");
              String(w, FormatRfc3339(**now));
              w.Key("reports");
              w.Int64(static_cast<int64_t>(reports->size()));
              w.Key("reallocations");
              w.Int64(reallocations);
              w.EndObject();
            }));
}

ApiResponse ServerImpl::CreateExperiment(const ApiRequest& request) {
  const absl::string_view type = absl::StripAsciiWhitespace(
      absl::string_view(request.content_type).substr(0, request.content_type.find(';')));
  if (!absl::EqualsIgnoreCase(type, "application/toml")) {
    return ErrorResponse(415, absl::StrCat("Content-Type must be application/toml (the "
                                           "experiment file's text), got \"",
                                           SafeUtf8(request.content_type), "\""));
  }
  absl::StatusOr<ExperimentConfig> config =
      ParseExperimentToml(request.body, "request body");
  if (!config.ok()) return StatusResponse(config.status());
  if (absl::Status s = engine_->CreateExperiment(*config); !s.ok())
    return StatusResponse(s);
  {
    allot::internal::MutexLock lock(&mu_);
    experiments_.insert(config->id);
  }
  return Ok(201, Json([&](JsonWriter& w) {
              w.StartObject();
              w.Key("id");
              String(w, config->id);
              w.Key("state");
              w.String("created");
              w.EndObject();
            }));
}

ApiResponse ServerImpl::StartStop(const std::string& id, const ApiRequest& request,
                                  bool start) {
  Body body;
  ParseBody(request.body, true, body);
  if (!body.error.empty()) return ErrorResponse(400, body.error);
  if (absl::Status s = CheckKeys(body.doc, "", {"at"}); !s.ok()) return StatusResponse(s);
  absl::StatusOr<std::optional<absl::Time>> at = OptionalTime(body.doc, "", "at");
  if (!at.ok()) return StatusResponse(at.status());
  const absl::Time when = at->value_or(Now());
  const absl::Status s = start ? engine_->Start(id, when) : engine_->Stop(id, when);
  if (!s.ok()) return StatusResponse(s);
  return Ok(200, Json([&](JsonWriter& w) {
              w.StartObject();
              w.Key("id");
              String(w, id);
              w.Key("state");
              w.String(start ? "running" : "stopped");
              w.Key("at");
              String(w, FormatRfc3339(when));
              w.EndObject();
            }));
}

ApiResponse ServerImpl::Delete(const std::string& id) {
  if (absl::Status s = engine_->Delete(id); !s.ok()) return StatusResponse(s);
  {
    allot::internal::MutexLock lock(&mu_);
    experiments_.erase(id);
  }
  return Ok(200, Json([&](JsonWriter& w) {
              w.StartObject();
              w.Key("id");
              String(w, id);
              w.Key("deleted");
              w.Bool(true);
              w.EndObject();
            }));
}

ApiResponse ServerImpl::AddArm(const std::string& id, const ApiRequest& request) {
  Body body;
  ParseBody(request.body, false, body);
  if (!body.error.empty()) return ErrorResponse(400, body.error);
  if (absl::Status s = CheckKeys(body.doc, "", {"id", "config", "initial_share"});
      !s.ok()) {
    return StatusResponse(s);
  }
  absl::StatusOr<absl::string_view> arm_id = RequiredString(body.doc, "", "id");
  if (!arm_id.ok()) return StatusResponse(arm_id.status());
  ArmConfig arm{std::string(*arm_id)};
  if (const rapidjson::Value* config = Member(body.doc, "config");
      config != nullptr && !config->IsNull()) {
    if (!config->IsObject())
      return ErrorResponse(400, "\"config\" must be a JSON object");
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    config->Accept(w);
    arm.payload.assign(buffer.GetString(), buffer.GetSize());
  }
  if (const rapidjson::Value* share = Member(body.doc, "initial_share");
      share != nullptr && !share->IsNull()) {
    if (!share->IsNumber())
      return ErrorResponse(400, "\"initial_share\" must be a number");
    arm.initial_share = share->GetDouble();
  }
  const absl::Time now = Now();
  if (absl::Status s = AdvanceTo(now); !s.ok()) return StatusResponse(s);
  if (absl::Status s = engine_->AddArm(id, arm, now); !s.ok()) return StatusResponse(s);
  return Ok(201, Json([&](JsonWriter& w) {
              w.StartObject();
              w.Key("experiment");
              String(w, id);
              w.Key("arm");
              String(w, arm.id);
              w.Key("added_at");
              String(w, FormatRfc3339(now));
              w.EndObject();
            }));
}

ApiResponse ServerImpl::RetireArm(const std::string& id, const std::string& arm,
                                  const ApiRequest& request) {
  Body body;
  ParseBody(request.body, true, body);
  if (!body.error.empty()) return ErrorResponse(400, body.error);
  if (absl::Status s = CheckKeys(body.doc, "", {"mode"}); !s.ok())
    return StatusResponse(s);
  RetireMode mode = RetireMode::kDrain;
  if (const rapidjson::Value* m = Member(body.doc, "mode"); m != nullptr) {
    const absl::string_view text =
        m->IsString() ? absl::string_view(m->GetString(), m->GetStringLength()) : "";
    if (text == "drain") {
      mode = RetireMode::kDrain;
    } else if (text == "now") {
      mode = RetireMode::kNow;
    } else {
      return ErrorResponse(400, "\"mode\" must be \"drain\" or \"now\"");
    }
  }
  const absl::Time now = Now();
  if (absl::Status s = AdvanceTo(now); !s.ok()) return StatusResponse(s);
  if (absl::Status s = engine_->RetireArm(id, arm, now, mode); !s.ok()) {
    return StatusResponse(s);
  }
  return Ok(200, Json([&](JsonWriter& w) {
              w.StartObject();
              w.Key("experiment");
              String(w, id);
              w.Key("arm");
              String(w, arm);
              w.Key("mode");
              String(w, RetireModeName(mode));
              w.Key("retired_at");
              String(w, FormatRfc3339(now));
              w.EndObject();
            }));
}

ApiResponse ServerImpl::Reports(const std::string& id, bool latest) {
  absl::StatusOr<std::vector<ReallocationReport>> reports = engine_->Reports(id);
  if (!reports.ok()) return StatusResponse(reports.status());
  if (!latest) return Ok(200, ReportsToJson(*reports));
  if (reports->empty()) {
    return ErrorResponse(404,
                         absl::StrCat("experiment ", SafeUtf8(id), " has no report yet"));
  }
  // The writer makes an array; answer its one element.
  const std::string array = ReportsToJson(absl::MakeConstSpan(&reports->back(), 1));
  rapidjson::Document doc;
  doc.Parse(array.data(), array.size());
  if (doc.HasParseError() || !doc.IsArray() || doc.Size() != 1) {
    return ErrorResponse(500, "cannot write the report");
  }
  return Ok(200, Json([&](JsonWriter& w) { doc[0].Accept(w); }));
}

ApiResponse ServerImpl::Health() {
  if (replica_ == nullptr) return Ok(200, R"({"status":"ok"})");
  // A replica that lost the database still serves from the history it has:
  // it says so (200, "degraded") rather than failing a load balancer's check.
  const store::EventStoreStats events = replica_->events();
  const store::HistoryFollowerStats follower = replica_->follower();
  return Ok(200, Json([&](JsonWriter& w) {
              w.StartObject();
              w.Key("status");
              w.String(events.healthy && follower.connected ? "ok" : "degraded");
              w.Key("store");
              w.StartObject();
              w.Key("writing");
              w.Bool(events.healthy);
              w.Key("buffered_events");
              w.Int64(static_cast<int64_t>(events.buffered));
              w.Key("last_error");
              String(w, SafeUtf8(events.last_error));
              w.EndObject();
              w.Key("history");
              w.StartObject();
              w.Key("following");
              w.Bool(follower.connected);
              w.Key("last_error");
              String(w, SafeUtf8(follower.last_error));
              w.Key("epochs");
              w.StartObject();
              for (const ReplicaExperiment* e : replica_->experiments()) {
                w.Key(e->config().id.c_str(),
                      static_cast<rapidjson::SizeType>(e->config().id.size()));
                w.Int64(e->epoch());
              }
              w.EndObject();
              // When each experiment's latest epoch reached this replica.
              w.Key("received");
              w.StartObject();
              for (const ReplicaExperiment* e : replica_->experiments()) {
                if (e->epoch_received() == absl::InfinitePast()) continue;
                w.Key(e->config().id.c_str(),
                      static_cast<rapidjson::SizeType>(e->config().id.size()));
                String(w, FormatRfc3339(e->epoch_received()));
              }
              w.EndObject();
              w.EndObject();
              const auto learners = replica_->learner_states();
              if (!learners.empty()) {
                w.Key("learner");
                w.StartObject();
                for (const auto& [id, state] : learners) {
                  w.Key(id.c_str(), static_cast<rapidjson::SizeType>(id.size()));
                  String(w, SafeUtf8(state));
                }
                w.EndObject();
              }
              w.EndObject();
            }));
}

ApiResponse ServerImpl::History(const std::string& id) {
  if (replica_ != nullptr) {
    const ReplicaExperiment* experiment = replica_->Find(id);
    if (experiment == nullptr) return StatusResponse(NotServed(id));
    return Ok(200, experiment->HistoryJson());
  }
  absl::StatusOr<AllocationHistory> history = engine_->History(id);
  if (!history.ok()) return StatusResponse(history.status());
  return Ok(200, history->ToJson());
}

std::string ServerImpl::Metrics() {
  std::string out;
  metrics_.AppendPrometheus(out);
  absl::StrAppend(
      &out,
      "# HELP allot_open_units Units in the ledger (window open) per experiment.\n"
      "# TYPE allot_open_units gauge\n");
  std::string reallocations =
      "# HELP allot_reallocations_total Reallocations per experiment.\n"
      "# TYPE allot_reallocations_total counter\n";
  std::string last =
      "# HELP allot_last_reallocation_timestamp_seconds Time of the latest "
      "reallocation.\n"
      "# TYPE allot_last_reallocation_timestamp_seconds gauge\n";
  std::set<std::string> experiments;
  absl::Time last_snapshot;
  {
    allot::internal::MutexLock lock(&mu_);
    experiments = experiments_;
    last_snapshot = last_snapshot_;
  }
  for (const std::string& id : experiments) {
    const std::string label =
        absl::StrCat("{experiment=\"", PrometheusLabel(SafeUtf8(id)), "\"}");
    absl::StatusOr<int64_t> open = engine_->OpenUnits(id);
    if (open.ok()) absl::StrAppend(&out, "allot_open_units", label, " ", *open, "\n");
    absl::StatusOr<std::vector<ReallocationReport>> reports = engine_->Reports(id);
    if (!reports.ok()) continue;
    int64_t count = 0;
    std::optional<absl::Time> latest;
    for (const ReallocationReport& r : *reports) {
      if (!r.reallocated) continue;
      ++count;
      latest = r.time;
    }
    absl::StrAppend(&reallocations, "allot_reallocations_total", label, " ", count, "\n");
    if (latest.has_value()) {
      absl::StrAppend(&last, "allot_last_reallocation_timestamp_seconds", label, " ",
                      absl::ToUnixSeconds(*latest), "\n");
    }
  }
  absl::StrAppend(&out, reallocations, last);
  if (journal_ != nullptr) {
    // Records acknowledged (with flush = "interval") or waiting for their
    // answer's sync (with "sync") that are not yet on disk.
    const uint64_t written = journal_->next_sequence() - 1;
    std::error_code size_error;
    const uintmax_t bytes = std::filesystem::file_size(journal_path_, size_error);
    absl::StrAppend(
        &out,
        "# HELP allot_journal_lag_records Journal records not yet synced to disk.\n"
        "# TYPE allot_journal_lag_records gauge\n"
        "allot_journal_lag_records ",
        written - std::min(written, journal_->durable_sequence()), "\n",
        "# HELP allot_journal_bytes Size of the journal file (emptied at each "
        "snapshot).\n"
        "# TYPE allot_journal_bytes gauge\n"
        "allot_journal_bytes ",
        size_error ? 0 : bytes, "\n");
  }
  if (replica_ != nullptr) {
    const store::EventStoreStats events = replica_->events();
    const store::HistoryFollowerStats follower = replica_->follower();
    absl::StrAppend(
        &out,
        "# HELP allot_store_healthy Whether the last write of events to the store "
        "succeeded.\n# TYPE allot_store_healthy gauge\nallot_store_healthy ",
        events.healthy ? 1 : 0,
        "\n# HELP allot_store_buffered_events Events acknowledged and not yet in the "
        "store (what a crash now would lose).\n# TYPE allot_store_buffered_events "
        "gauge\nallot_store_buffered_events ",
        events.buffered,
        "\n# HELP allot_store_events_written_total Exposure and outcome rows written.\n"
        "# TYPE allot_store_events_written_total counter\n"
        "allot_store_events_written_total{kind=\"exposure\"} ",
        events.exposures_written, "\nallot_store_events_written_total{kind=\"outcome\"} ",
        events.outcomes_written,
        "\n# HELP allot_store_duplicates_dropped_total Events the store already had.\n"
        "# TYPE allot_store_duplicates_dropped_total counter\n"
        "allot_store_duplicates_dropped_total ",
        events.duplicates_dropped,
        "\n# HELP allot_store_failed_flushes_total Writes to the store that failed (and "
        "were retried).\n# TYPE allot_store_failed_flushes_total counter\n"
        "allot_store_failed_flushes_total ",
        events.failed_flushes,
        "\n# HELP allot_store_rejected_events_total Events refused: buffer full.\n"
        "# TYPE allot_store_rejected_events_total counter\n"
        "allot_store_rejected_events_total ",
        events.rejected,
        "\n# HELP allot_history_following Whether the history follower is connected.\n"
        "# TYPE allot_history_following gauge\nallot_history_following ",
        follower.connected ? 1 : 0, "\n");
    const auto learners = replica_->learner_states();
    if (!learners.empty()) {
      absl::StrAppend(&out,
                      "# HELP allot_learner_leading Whether this process's learner leads "
                      "the experiment.\n# TYPE allot_learner_leading gauge\n");
    }
    for (const auto& [id, state] : learners) {
      absl::StrAppend(&out, "allot_learner_leading{experiment=\"",
                      PrometheusLabel(SafeUtf8(id)), "\"} ", state == "leading" ? 1 : 0,
                      "\n");
    }
    absl::StrAppend(&out,
                    "# HELP allot_history_epoch The latest epoch this replica serves.\n"
                    "# TYPE allot_history_epoch gauge\n");
    for (const ReplicaExperiment* e : replica_->experiments()) {
      absl::StrAppend(&out, "allot_history_epoch{experiment=\"",
                      PrometheusLabel(SafeUtf8(e->config().id)), "\"} ", e->epoch(),
                      "\n");
    }
  }
  if (last_snapshot != absl::InfinitePast()) {
    absl::StrAppend(&out,
                    "# HELP allot_last_snapshot_timestamp_seconds Time of the latest "
                    "snapshot.\n"
                    "# TYPE allot_last_snapshot_timestamp_seconds gauge\n"
                    "allot_last_snapshot_timestamp_seconds ",
                    absl::ToUnixSeconds(last_snapshot), "\n");
  }
  return out;
}

}  // namespace allot::serve::internal
