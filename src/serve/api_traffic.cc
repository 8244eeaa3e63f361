// Copyright 2026 The allot Authors.
//
// The router's handlers of `allot serve`: assign, assign_batch, outcomes,
// served by the local engine or, in a fleet's replica, by the replica.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allot/field_error.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "serve/api_json.h"
#include "serve/server_impl.h"

namespace allot::serve::internal {

ApiResponse ServerImpl::Assign(const std::string& id, const ApiRequest& request) {
  Body body;
  ParseBody(request.body, false, body);
  if (!body.error.empty()) return ErrorResponse(400, body.error);
  if (absl::Status s = CheckKeys(body.doc, "", {"unit", "unit_start"}); !s.ok()) {
    return StatusResponse(s);
  }
  absl::StatusOr<absl::string_view> unit = RequiredString(body.doc, "", "unit");
  if (!unit.ok()) return StatusResponse(unit.status());
  absl::StatusOr<std::optional<absl::Time>> start =
      OptionalTime(body.doc, "", "unit_start");
  if (!start.ok()) return StatusResponse(start.status());
  absl::StatusOr<Assignment> a = replica_ != nullptr
                                     ? ReplicaAssign(id, *unit, Now(), *start)
                                     : engine_->Assign(id, *unit, Now(), *start);
  if (!a.ok()) return StatusResponse(a.status());
  return Ok(200, Json([&](JsonWriter& w) { WriteAssignment(w, *a); }));
}

ApiResponse ServerImpl::AssignBatch(const std::string& id, const ApiRequest& request) {
  Body body;
  ParseBody(request.body, false, body);
  if (!body.error.empty()) return ErrorResponse(400, body.error);
  if (absl::Status s = CheckKeys(body.doc, "", {"units"}); !s.ok())
    return StatusResponse(s);
  const rapidjson::Value* units = Member(body.doc, "units");
  if (units == nullptr) return ErrorResponse(400, "missing field \"units\"");
  if (!units->IsArray()) return ErrorResponse(400, "\"units\" must be an array");
  const int64_t n = units->Size();
  if (n > config_.max_batch) {
    return ErrorResponse(413,
                         absl::StrCat("units has ", n, " entries, more than max_batch (",
                                      config_.max_batch, ")"));
  }
  std::optional<ExperimentHandle> handle;  // the engine's; none in a replica
  if (replica_ != nullptr) {
    if (replica_->Find(id) == nullptr) return StatusResponse(NotServed(id));
  } else {
    absl::StatusOr<ExperimentHandle> h = engine_->Handle(id);
    if (!h.ok()) return StatusResponse(h.status());
    handle = *std::move(h);
  }
  const absl::Time now = Now();
  // Entries that fail validation keep their error; the rest go as one batch.
  std::vector<absl::Status> entry_errors(n);
  std::vector<AssignRequest> requests;
  requests.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    const rapidjson::Value& entry = (*units)[static_cast<rapidjson::SizeType>(i)];
    // The entry's place is named only in an error (no string per unit).
    const auto entry_error = [&](const absl::Status& s) {
      entry_errors[i] =
          absl::Status(s.code(), absl::StrCat("units[", i, "]: ", s.message()));
    };
    if (!entry.IsObject()) {
      entry_error(absl::InvalidArgumentError("must be an object"));
      continue;
    }
    absl::Status s = CheckKeys(entry, "", {"unit", "unit_start"});
    absl::StatusOr<absl::string_view> unit = RequiredString(entry, "", "unit");
    absl::StatusOr<std::optional<absl::Time>> start =
        OptionalTime(entry, "", "unit_start");
    if (s.ok() && !unit.ok()) s = unit.status();
    if (s.ok() && !start.ok()) s = start.status();
    if (!s.ok()) {
      entry_error(s);
      continue;
    }
    requests.push_back({*unit, now, *start});
  }
  std::vector<absl::StatusOr<Assignment>> results(requests.size());
  if (replica_ != nullptr) {
    for (size_t k = 0; k < requests.size(); ++k) {
      results[k] = ReplicaAssign(id, requests[k].unit, now, requests[k].unit_start);
    }
  } else if (absl::Status s = handle->AssignBatch(requests, absl::MakeSpan(results));
             !s.ok()) {
    return StatusResponse(s);
  }
  size_t next = 0;
  BatchAssignmentWriter assignments;
  return Ok(200, Json([&](JsonWriter& w) {
              w.StartObject();
              w.Key("results");
              w.StartArray();
              for (int64_t i = 0; i < n; ++i) {
                if (!entry_errors[i].ok()) {
                  WriteError(w, entry_errors[i].message());
                  continue;
                }
                const absl::StatusOr<Assignment>& r = results[next++];
                if (r.ok()) {
                  assignments.Write(w, *r);
                } else {
                  WriteError(w, absl::StrCat("units[", i, "]: ", r.status().message()));
                }
              }
              w.EndArray();
              w.EndObject();
            }));
}

ApiResponse ServerImpl::Outcomes(const std::string& id, const ApiRequest& request) {
  Body body;
  ParseBody(request.body, false, body);
  if (!body.error.empty()) return ErrorResponse(400, body.error);
  // The disposition's name: the engine's, or "queued" in a replica (the
  // learner tallies it at its grid point).
  const auto record = [&](const rapidjson::Value& o,
                          const std::string& where) -> absl::StatusOr<absl::string_view> {
    if (!o.IsObject())
      return absl::InvalidArgumentError(absl::StrCat(where, "must be an object"));
    ALLOT_RETURN_IF_ERROR(CheckKeys(o, where, {"unit", "value", "metric", "time"}));
    ALLOT_ASSIGN_OR_RETURN(absl::string_view unit, RequiredString(o, where, "unit"));
    const rapidjson::Value* value = Member(o, "value");
    if (value == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, "missing field \"value\""));
    }
    if (!value->IsNumber()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "\"value\" must be a number"));
    }
    absl::string_view metric;
    if (Member(o, "metric") != nullptr) {
      ALLOT_ASSIGN_OR_RETURN(metric, RequiredString(o, where, "metric"));
    }
    ALLOT_ASSIGN_OR_RETURN(std::optional<absl::Time> time,
                           OptionalTime(o, where, "time"));
    if (replica_ != nullptr) {
      ALLOT_RETURN_IF_ERROR(
          ReplicaOutcome(id, unit, time.value_or(Now()), value->GetDouble(), metric));
      return absl::string_view("queued");
    }
    ALLOT_ASSIGN_OR_RETURN(OutcomeDisposition d,
                           engine_->RecordOutcome(id, unit, time.value_or(Now()),
                                                  value->GetDouble(), metric));
    return DispositionName(d);
  };
  const rapidjson::Value* batch = Member(body.doc, "outcomes");
  if (batch == nullptr) {
    absl::StatusOr<absl::string_view> d = record(body.doc, "");
    if (!d.ok()) return StatusResponse(d.status());
    return Ok(200, Json([&](JsonWriter& w) {
                w.StartObject();
                w.Key("disposition");
                String(w, *d);
                w.EndObject();
              }));
  }
  if (absl::Status s = CheckKeys(body.doc, "", {"outcomes"}); !s.ok())
    return StatusResponse(s);
  if (!batch->IsArray()) return ErrorResponse(400, "\"outcomes\" must be an array");
  if (static_cast<int64_t>(batch->Size()) > config_.max_batch) {
    return ErrorResponse(
        413, absl::StrCat("outcomes has ", batch->Size(),
                          " entries, more than max_batch (", config_.max_batch, ")"));
  }
  if (replica_ != nullptr && replica_->Find(id) == nullptr) {
    return StatusResponse(NotServed(id));
  }
  if (replica_ == nullptr) {
    if (absl::Status s = engine_->Handle(id).status(); !s.ok()) return StatusResponse(s);
  }
  return Ok(200, Json([&](JsonWriter& w) {
              w.StartObject();
              w.Key("results");
              w.StartArray();
              for (rapidjson::SizeType i = 0; i < batch->Size(); ++i) {
                const absl::StatusOr<absl::string_view> d =
                    record((*batch)[i], absl::StrCat("outcomes[", i, "]: "));
                if (d.ok()) {
                  w.StartObject();
                  w.Key("disposition");
                  String(w, *d);
                  w.EndObject();
                } else {
                  WriteError(w, d.status().message());
                }
              }
              w.EndArray();
              w.EndObject();
            }));
}

absl::Status ServerImpl::NotServed(absl::string_view id) const {
  return absl::NotFoundError(
      absl::StrCat("experiment ", QuoteId(id), " is not served by this replica"));
}

absl::StatusOr<Assignment> ServerImpl::ReplicaAssign(
    absl::string_view id, absl::string_view unit, absl::Time now,
    std::optional<absl::Time> unit_start) {
  const ReplicaExperiment* experiment = replica_->Find(id);
  if (experiment == nullptr) return NotServed(id);
  ALLOT_ASSIGN_OR_RETURN(Assignment a, experiment->Assign(unit, now, unit_start));
  ALLOT_RETURN_IF_ERROR(replica_->RecordExposure(*experiment, unit, a, now, unit_start));
  // Sent to the store, which keeps a unit's first exposure.
  a.new_exposure = true;
  return a;
}

absl::Status ServerImpl::ReplicaOutcome(absl::string_view id, absl::string_view unit,
                                        absl::Time time, double value,
                                        absl::string_view metric) {
  const ReplicaExperiment* experiment = replica_->Find(id);
  if (experiment == nullptr) return NotServed(id);
  return replica_->RecordOutcome(*experiment, unit, metric, value, time);
}

}  // namespace allot::serve::internal
