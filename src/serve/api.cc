// Copyright 2026 The allot Authors.
//
// The routes' handlers: authorization, JSON bodies in and out, and the
// mapping of engine errors to HTTP statuses.

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "allot/experiment_config.h"
#include "allot/report.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "serve/server_impl.h"

namespace allot::serve::internal {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Replaces bytes that are not valid UTF-8 with '?', so a message quoting
// caller input stays valid JSON.
std::string SafeUtf8(absl::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t n = c < 0x80         ? 1
               : (c >> 5) == 6  ? 2
               : (c >> 4) == 14 ? 3
               : (c >> 3) == 30 ? 4
                                : 0;
    bool ok = n > 0 && i + n <= text.size();
    for (size_t k = 1; ok && k < n; ++k) {
      ok = (static_cast<unsigned char>(text[i + k]) >> 6) == 2;
    }
    if (ok) {
      out.append(text.data() + i, n);
      i += n;
    } else {
      out.push_back('?');
      ++i;
    }
  }
  return out;
}

std::string Json(const std::function<void(JsonWriter&)>& write) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  write(w);
  return std::string(buffer.GetString(), buffer.GetSize());
}

void String(JsonWriter& w, absl::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

int HttpStatus(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    default:
      return 500;
  }
}

ApiResponse StatusResponse(const absl::Status& status) {
  return ErrorResponse(HttpStatus(status), status.message());
}

// A request body's JSON object, or why not.
struct Body {
  rapidjson::Document doc;
  std::string error;  // non-empty: 400 with this message
};

// Parses `text` as a JSON object; an empty body counts as {} when
// `empty_ok`.
void ParseBody(absl::string_view text, bool empty_ok, Body& body) {
  if (text.empty() && empty_ok) {
    body.doc.SetObject();
    return;
  }
  body.doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (body.doc.HasParseError()) {
    body.error = absl::StrCat("request body is not valid JSON: ",
                              rapidjson::GetParseError_En(body.doc.GetParseError()),
                              " (at byte ", body.doc.GetErrorOffset(), ")");
  } else if (!body.doc.IsObject()) {
    body.error = "request body must be a JSON object";
  }
}

// Refuses keys of `object` not in `allowed`.
absl::Status CheckKeys(const rapidjson::Value& object, absl::string_view where,
                       std::initializer_list<absl::string_view> allowed) {
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    const absl::string_view key(it->name.GetString(), it->name.GetStringLength());
    bool known = false;
    for (absl::string_view a : allowed) known = known || a == key;
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(where, "unknown field \"",
                                                     SafeUtf8(key), "\" (expected ",
                                                     absl::StrJoin(allowed, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

const rapidjson::Value* Member(const rapidjson::Value& object, const char* key) {
  const auto it = object.FindMember(key);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

absl::StatusOr<absl::string_view> RequiredString(const rapidjson::Value& object,
                                                 absl::string_view where,
                                                 const char* key) {
  const rapidjson::Value* v = Member(object, key);
  if (v == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(where, "missing field \"", key, "\""));
  }
  if (!v->IsString()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "\"", key, "\" must be a string"));
  }
  return absl::string_view(v->GetString(), v->GetStringLength());
}

// An optional RFC 3339 time field; `fallback` when absent.
absl::StatusOr<std::optional<absl::Time>> OptionalTime(const rapidjson::Value& object,
                                                       absl::string_view where,
                                                       const char* key) {
  const rapidjson::Value* v = Member(object, key);
  if (v == nullptr || v->IsNull()) return std::optional<absl::Time>();
  if (!v->IsString()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "\"", key, "\" must be an RFC 3339 time string"));
  }
  ALLOT_ASSIGN_OR_RETURN(
      absl::Time t, ParseTime(absl::StrCat(where, key),
                              absl::string_view(v->GetString(), v->GetStringLength())));
  return std::optional<absl::Time>(t);
}

absl::string_view DispositionName(OutcomeDisposition d) {
  switch (d) {
    case OutcomeDisposition::kCounted:
      return "counted";
    case OutcomeDisposition::kLate:
      return "late";
    case OutcomeDisposition::kUnknownUnit:
      return "unknown_unit";
    case OutcomeDisposition::kDuplicate:
      return "duplicate";
  }
  return "counted";
}

void WriteAssignment(JsonWriter& w, const Assignment& a) {
  w.StartObject();
  w.Key("arm");
  String(w, a.arm_info != nullptr ? absl::string_view(a.arm_info->id) : "");
  w.Key("arm_index");
  w.Int(a.arm);
  w.Key("epoch");
  w.Int64(a.epoch);
  w.Key("propensity");
  w.Double(a.propensity);
  w.Key("holdout");
  w.Bool(a.holdout);
  w.Key("new_exposure");
  w.Bool(a.new_exposure);
  w.Key("payload");
  if (a.arm_info != nullptr && !a.arm_info->payload.empty()) {
    w.RawValue(a.arm_info->payload.data(), a.arm_info->payload.size(),
               rapidjson::kObjectType);
  } else {
    w.Null();
  }
  w.EndObject();
}

void WriteError(JsonWriter& w, absl::string_view message) {
  w.StartObject();
  w.Key("error");
  String(w, SafeUtf8(message));
  w.EndObject();
}

// The `State` as a word for answers.
ApiResponse Ok(int status, std::string body) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

ApiResponse ErrorResponse(int status, absl::string_view message) {
  return Ok(status, Json([&](JsonWriter& w) { WriteError(w, message); }));
}

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
    if (ok) response = Dispatch(*match.route, match.params, request);
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
  switch (route.id) {
    case RouteId::kHealthz:
      return Ok(200, R"({"status":"ok"})");
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
  if (**now < now_) {
    return ErrorResponse(
        400, absl::StrCat("now ", FormatRfc3339(**now), " is before the clock's time ",
                          FormatRfc3339(now_), ": time cannot go backward"));
  }
  absl::StatusOr<std::vector<ReallocationReport>> reports = engine_->Advance(**now);
  if (!reports.ok()) return StatusResponse(reports.status());
  now_ = **now;
  int64_t reallocations = 0;
  for (const ReallocationReport& r : *reports) reallocations += r.reallocated ? 1 : 0;
  return Ok(200, Json([&](JsonWriter& w) {
              w.StartObject();
              w.Key("now");
              String(w, FormatRfc3339(now_));
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
  experiments_.insert(config->id);
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
  experiments_.erase(id);
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
  absl::StatusOr<Assignment> a = engine_->Assign(id, *unit, Now(), *start);
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
  absl::StatusOr<ExperimentHandle> handle = engine_->Handle(id);
  if (!handle.ok()) return StatusResponse(handle.status());
  const absl::Time now = Now();
  // Entries that fail validation keep their error; the rest go as one batch.
  std::vector<absl::Status> entry_errors(n);
  std::vector<AssignRequest> requests;
  std::vector<int64_t> request_entry;
  for (int64_t i = 0; i < n; ++i) {
    const rapidjson::Value& entry = (*units)[static_cast<rapidjson::SizeType>(i)];
    const std::string where = absl::StrCat("units[", i, "]: ");
    if (!entry.IsObject()) {
      entry_errors[i] =
          absl::InvalidArgumentError(absl::StrCat(where, "must be an object"));
      continue;
    }
    absl::Status s = CheckKeys(entry, where, {"unit", "unit_start"});
    absl::StatusOr<absl::string_view> unit = RequiredString(entry, where, "unit");
    absl::StatusOr<std::optional<absl::Time>> start =
        OptionalTime(entry, where, "unit_start");
    if (s.ok() && !unit.ok()) s = unit.status();
    if (s.ok() && !start.ok()) s = start.status();
    if (!s.ok()) {
      entry_errors[i] = s;
      continue;
    }
    requests.push_back({*unit, now, *start});
    request_entry.push_back(i);
  }
  std::vector<absl::StatusOr<Assignment>> results(requests.size());
  if (absl::Status s = handle->AssignBatch(requests, absl::MakeSpan(results)); !s.ok()) {
    return StatusResponse(s);
  }
  size_t next = 0;
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
                  WriteAssignment(w, *r);
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
  const auto record =
      [&](const rapidjson::Value& o,
          const std::string& where) -> absl::StatusOr<OutcomeDisposition> {
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
    return engine_->RecordOutcome(id, unit, time.value_or(Now()), value->GetDouble(),
                                  metric);
  };
  const rapidjson::Value* batch = Member(body.doc, "outcomes");
  if (batch == nullptr) {
    absl::StatusOr<OutcomeDisposition> d = record(body.doc, "");
    if (!d.ok()) return StatusResponse(d.status());
    return Ok(200, Json([&](JsonWriter& w) {
                w.StartObject();
                w.Key("disposition");
                String(w, DispositionName(*d));
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
  if (absl::Status s = engine_->Handle(id).status(); !s.ok()) return StatusResponse(s);
  return Ok(200, Json([&](JsonWriter& w) {
              w.StartObject();
              w.Key("results");
              w.StartArray();
              for (rapidjson::SizeType i = 0; i < batch->Size(); ++i) {
                const absl::StatusOr<OutcomeDisposition> d =
                    record((*batch)[i], absl::StrCat("outcomes[", i, "]: "));
                if (d.ok()) {
                  w.StartObject();
                  w.Key("disposition");
                  String(w, DispositionName(*d));
                  w.EndObject();
                } else {
                  WriteError(w, d.status().message());
                }
              }
              w.EndArray();
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

ApiResponse ServerImpl::History(const std::string& id) {
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
  for (const std::string& id : experiments_) {
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
  return out;
}

}  // namespace allot::serve::internal
