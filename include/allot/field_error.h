// Copyright 2026 The allot Authors.
//
// Validation errors that carry the path of the field they are about
// ("policy.epsilon", "arms[1].weight") as a Status payload, beside the
// message. A file reader maps the path to the line that set the field; a
// server can name it in a JSON error. The message always starts with the
// path too, for people.
//
//   absl::Status s = allot::FieldError("policy.epsilon", "must be in [0, 1], got 1.5");
//   allot::ErrorField(s);  // "policy.epsilon"

#ifndef ALLOT_FIELD_ERROR_H_
#define ALLOT_FIELD_ERROR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace allot {

// Returns InvalidArgument "FIELD WHAT" carrying `field` as its field path.
absl::Status FieldError(absl::string_view field, absl::string_view what);

// Returns the field path `status` carries, or "" when it carries none.
std::string ErrorField(const absl::Status& status);

// Returns `status` with its field path's leading `from` replaced by `to`, in
// the path and at the start of the message ("policy.epsilon" becomes
// "policies[2].epsilon"; with `from` empty, `to` is a prefix). A status
// whose path does not start with `from` is returned as it is.
absl::Status RenameField(const absl::Status& status, absl::string_view from,
                         absl::string_view to);

}  // namespace allot

#endif  // ALLOT_FIELD_ERROR_H_
