// Copyright 2026 The allot Authors.

#include "serve/api_json.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "allot/status_macros.h"
#include "allot/time_format.h"
#include "rapidjson/error/en.h"

namespace allot::serve::internal {

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
    case absl::StatusCode::kResourceExhausted:  // a replica's full event buffer
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

void BatchAssignmentWriter::Write(JsonWriter& w, const Assignment& a) {
  for (const Rendered& r : rendered_) {
    if (r.arm == a.arm && r.epoch == a.epoch && r.propensity == a.propensity &&
        r.holdout == a.holdout && r.new_exposure == a.new_exposure) {
      w.RawValue(r.json.data(), r.json.size(), rapidjson::kObjectType);
      return;
    }
  }
  if (rendered_.size() == kMaxRendered) return WriteAssignment(w, a);
  rapidjson::StringBuffer buffer;
  JsonWriter one(buffer);
  WriteAssignment(one, a);
  rendered_.push_back({a.arm, a.epoch, a.propensity, a.holdout, a.new_exposure,
                       std::string(buffer.GetString(), buffer.GetSize())});
  const std::string& json = rendered_.back().json;
  w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
}

void WriteError(JsonWriter& w, absl::string_view message) {
  w.StartObject();
  w.Key("error");
  String(w, SafeUtf8(message));
  w.EndObject();
}

ApiResponse Ok(int status, std::string body) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

ApiResponse ErrorResponse(int status, absl::string_view message) {
  return Ok(status, Json([&](JsonWriter& w) { WriteError(w, message); }));
}

}  // namespace allot::serve::internal
