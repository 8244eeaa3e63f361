// Copyright 2026 The allot Authors.
//
// JSON in and out for the handlers of `allot serve`: request bodies and
// their fields, answers, errors and the mapping of absl::Status codes to
// HTTP statuses. Not API.

#ifndef ALLOT_SRC_SERVE_API_JSON_H_
#define ALLOT_SRC_SERVE_API_JSON_H_

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "allot/types.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "serve/server_impl.h"

namespace allot::serve::internal {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Returns `text` with each byte that is not part of valid UTF-8 replaced by
// '?', so a message quoting caller input stays valid JSON.
std::string SafeUtf8(absl::string_view text);

// Returns what `write` writes, as compact JSON text.
std::string Json(const std::function<void(JsonWriter&)>& write);

void String(JsonWriter& w, absl::string_view s);

// NotFound 404; InvalidArgument, OutOfRange 400; FailedPrecondition,
// AlreadyExists 409; DataLoss, Unavailable 503; PermissionDenied 403;
// anything else 500.
int HttpStatus(const absl::Status& status);

// The error answer for a non-OK `status`.
ApiResponse StatusResponse(const absl::Status& status);

// A JSON answer.
ApiResponse Ok(int status, std::string body);

// A request body's JSON object, or why not.
struct Body {
  rapidjson::Document doc;
  std::string error;  // non-empty: answer 400 with this message
};

// Parses `text` as a JSON object (valid UTF-8); an empty body counts as {}
// when `empty_ok`.
void ParseBody(absl::string_view text, bool empty_ok, Body& body);

// InvalidArgument naming the first key of `object` not in `allowed`;
// `where` prefixes the message ("units[3]: ").
absl::Status CheckKeys(const rapidjson::Value& object, absl::string_view where,
                       std::initializer_list<absl::string_view> allowed);

// The member `key` of `object`, or null.
const rapidjson::Value* Member(const rapidjson::Value& object, const char* key);

// The string member `key`. Errors: InvalidArgument when missing or not a
// string.
absl::StatusOr<absl::string_view> RequiredString(const rapidjson::Value& object,
                                                 absl::string_view where,
                                                 const char* key);

// The RFC 3339 time member `key`, or nullopt when absent or null. Errors:
// InvalidArgument when not a string or not a time.
absl::StatusOr<std::optional<absl::Time>> OptionalTime(const rapidjson::Value& object,
                                                       absl::string_view where,
                                                       const char* key);

// "counted", "late", "unknown_unit" or "duplicate".
absl::string_view DispositionName(OutcomeDisposition d);

// {"arm","arm_index","epoch","propensity","holdout","new_exposure","payload"}.
void WriteAssignment(JsonWriter& w, const Assignment& a);

// Writes the assignments of a batch. Units of one arm in one epoch share
// every field but new_exposure, payload included, so each distinct object
// is rendered once and copied after that (most of a batch's answer is the
// arms' payloads).
class BatchAssignmentWriter {
 public:
  void Write(JsonWriter& w, const Assignment& a);

 private:
  struct Rendered {
    int arm;
    int64_t epoch;
    double propensity;
    bool holdout, new_exposure;
    std::string json;
  };
  // A handful in practice (arms x 2); bounded so that a batch of units
  // pinned to many epochs renders the rest directly.
  static constexpr size_t kMaxRendered = 64;
  std::vector<Rendered> rendered_;
};

// {"error": message}.
void WriteError(JsonWriter& w, absl::string_view message);

}  // namespace allot::serve::internal

#endif  // ALLOT_SRC_SERVE_API_JSON_H_
